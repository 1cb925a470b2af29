use casework_app::domain::case::{EventKind, Reference};
use casework_web::on_both_databases;
use casework_web::testing::system;

use crate::helpers::{json, missed_bin, xml};

fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

on_both_databases! {
    async fn staff_moving_a_request_is_an_update_with_a_finer_status(app: TestApp) {
        let id = app.report(&missed_bin()).await;
        let reference: Reference = id.parse().unwrap();
        let (status, body) = json(app.get_with_key("servicerequestupdates.json", &[]).await).await;
        assert_eq!(status, 200);
        assert_eq!(body, serde_json::json!([]), "a new request has no updates yet");
        let answers = [
            ("crew".to_owned(), serde_json::json!("Round 4")),
            ("return_date".to_owned(), serde_json::json!("2026-12-09")),
        ]
        .into_iter()
        .collect();
        let case = app.app.case(&system(), reference).await.unwrap();
        let case = app.app.transition_case(&system(), reference, case.version, "schedule", &answers).await.unwrap();
        app.app.add_note(&system(), reference, case.version, "Internal: crew short-staffed").await.unwrap();
        let case = app.app.case(&system(), reference).await.unwrap();
        app.app.transition_case(&system(), reference, case.version, "collect", &Default::default()).await.unwrap();
        let (status, body) = json(app.get_with_key("servicerequestupdates.json", &[]).await).await;
        assert_eq!(status, 200);
        let updates = body.as_array().unwrap();
        assert_eq!(updates.len(), 2, "transitions only, not internal notes: {body}");
        assert_eq!(updates[0]["service_request_id"], id.as_str());
        assert_eq!(updates[0]["status"], "action_scheduled");
        assert_eq!(updates[0]["description"], "Return scheduled");
        assert_eq!(updates[1]["status"], "fixed");
        assert_ne!(updates[0]["update_id"], updates[1]["update_id"]);
        let (status, root) = xml(app.get_with_key("servicerequestupdates.xml", &[]).await).await;
        assert_eq!(status, 200);
        assert_eq!(root.name, "service_request_updates");
        let updates = root.all("request_update");
        assert_eq!(updates.len(), 2);
        assert_eq!(updates[1].text_of("status"), "fixed");
        assert!(!updates[1].text_of("updated_datetime").is_empty());
        let after = (time::OffsetDateTime::now_utc() + time::Duration::minutes(1))
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap();
        let (_, body) = json(app.get_with_key("servicerequestupdates.json", &[("start_date", &after)]).await).await;
        assert_eq!(body, serde_json::json!([]));
    }

    async fn a_client_update_is_noted_once_and_closes_nothing(app: TestApp) {
        let id = app.report(&missed_bin()).await;
        let reference: Reference = id.parse().unwrap();
        let update = form(&[
            ("service_request_id", &id),
            ("update_id", "fms-501"),
            ("status", "FIXED"),
            ("description", "The bin has been emptied now, thanks"),
            ("updated_datetime", "2026-12-04T10:00:00+00:00"),
            ("first_name", "Amira"),
            ("last_name", "Khan"),
            ("email", "amira@example.com"),
        ]);
        let (status, body) = json(app.post("servicerequestupdates.json", &update).await).await;
        assert_eq!(status, 200, "{body}");
        let update_id = body[0]["update_id"].as_str().unwrap().to_owned();
        let (status, root) = xml(app.post("servicerequestupdates.xml", &update).await).await;
        assert_eq!(status, 200);
        assert_eq!(root.child("request_update").text_of("update_id"), update_id, "a retry is the same update");
        let case = app.app.case(&system(), reference).await.unwrap();
        assert!(case.is_open(), "a client cannot close a case");
        let notes: Vec<String> = app.app.events(&system(), reference).await.unwrap().into_iter().filter_map(|e| match e.kind {
            EventKind::NoteAdded { text } => Some(text),
            _ => None,
        }).collect();
        assert_eq!(notes, ["Update from fixmystreet by Amira Khan (status FIXED):\n\nThe bin has been emptied now, thanks"]);
    }

    async fn a_client_update_reopens_a_closed_request_as_the_workflow_allows(app: TestApp) {
        let id = app.report(&missed_bin()).await;
        let reference: Reference = id.parse().unwrap();
        let case = app.app.case(&system(), reference).await.unwrap();
        app.app.transition_case(&system(), reference, case.version, "collect", &Default::default()).await.unwrap();
        let update = form(&[
            ("service_request_id", &id),
            ("update_id_ext", "fms-77"),
            ("status", "REOPEN"),
            ("description", "Still not emptied"),
        ]);
        let (status, body) = json(app.post("servicerequestupdates.json", &update).await).await;
        assert_eq!(status, 200, "{body}");
        let case = app.app.case(&system(), reference).await.unwrap();
        assert!(case.is_open());
        assert_eq!(case.state, "reported");
        let (_, body) = json(app.get_with_key(&format!("requests/{id}.json"), &[]).await).await;
        assert_eq!(body[0]["status"], "open");
    }

    async fn bad_updates_are_refused(app: TestApp) {
        let id = app.report(&missed_bin()).await;
        let (status, body) = json(app.post("servicerequestupdates.json", &form(&[("service_request_id", &id), ("description", "x")])).await).await;
        assert_eq!(status, 400);
        assert!(body[0]["description"].as_str().unwrap().starts_with("status:"), "{body}");
        let (status, body) = json(app.post("servicerequestupdates.json", &form(&[("service_request_id", &id), ("status", "MENDED")])).await).await;
        assert_eq!(status, 400);
        assert!(body[0]["description"].as_str().unwrap().starts_with("status:"), "{body}");
        let (status, _) = json(app.post("servicerequestupdates.json", &form(&[("service_request_id", "CW-999999"), ("status", "OPEN")])).await).await;
        assert_eq!(status, 404);
        let (status, _) = json(app.post_as("servicerequestupdates.json", &form(&[("service_request_id", &id), ("status", "OPEN")])).await).await;
        assert_eq!(status, 403);
        let (status, body) = json(app.get_with_key("servicerequestupdates.json", &[("end_date", "soon")]).await).await;
        assert_eq!(status, 400);
        assert!(body[0]["description"].as_str().unwrap().starts_with("end_date:"));
    }
}
