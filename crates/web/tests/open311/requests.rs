use std::sync::Arc;

use casework_app::domain::case::{Actor, Channel, Reference};
use casework_app::domain::open311::{AttributeAnswer, Reporter};
use casework_app::{KeyCheck, Open311Report};
use casework_web::on_both_databases;
use serde_json::json;
use time::Duration;

use crate::helpers::{json, missed_bin, with, xml};

on_both_databases! {
    async fn a_report_makes_a_case_with_who_made_it_its_location_contact_and_answers(app: TestApp) {
        let (status, body) = json(app.post("requests.json", &missed_bin()).await).await;
        assert_eq!(status, 200, "{body}");
        let id = body[0]["service_request_id"].as_str().unwrap();
        assert!(id.starts_with("CW-"), "{id}");
        assert!(!body[0]["token"].as_str().unwrap().is_empty());
        assert_eq!(body[0]["account_id"], "fms-user-9");
        assert!(body[0]["service_notice"].as_str().unwrap().contains(id));
        let reference: Reference = id.parse().unwrap();
        let case = app.app.store().case(reference).await.unwrap().unwrap();
        assert_eq!(case.service, "missed-bin");
        assert_eq!(case.contact.name, "Amira Khan");
        assert_eq!(case.contact.email.as_deref(), Some("amira@example.com"));
        assert_eq!(case.contact.preferred_channel, Channel::Email);
        assert_eq!(case.answers["bin_type"], json!("recycling"));
        assert_eq!(case.answers["collection_date"], json!("2026-12-01"));
        assert_eq!(case.answers["bin_out_by_7am"], json!(true));
        assert_eq!(case.answers["address"], json!("12 Mill Lane, Newtown NT1 3AB"), "from address_string");
        let location = case.location.unwrap();
        assert_eq!((location.lat, location.long), (Some(52.05), Some(-1.3)));
        assert_eq!(case.description.as_deref(), Some("Recycling missed again"));
        let events = app.app.store().events(reference).await.unwrap();
        assert_eq!(events[0].actor, Actor::ApiClient("fixmystreet".into()));
    }

    async fn a_request_reads_back_by_id_and_by_token_in_both_formats(app: TestApp) {
        let (status, root) = xml(app.post("requests.xml", &missed_bin()).await).await;
        assert_eq!(status, 200);
        assert_eq!(root.name, "service_requests");
        let receipt = root.child("request");
        let id = receipt.text_of("service_request_id").to_owned();
        let token = receipt.text_of("token").to_owned();
        let (status, root) = xml(app.get_with_key(&format!("requests/{id}.xml"), &[]).await).await;
        assert_eq!(status, 200);
        let request = root.child("request");
        assert_eq!(request.text_of("service_request_id"), id);
        assert_eq!(request.text_of("status"), "open");
        assert_eq!(request.text_of("status_notes"), "Reported");
        assert_eq!(request.text_of("service_code"), "missed-bin");
        assert_eq!(request.text_of("agency_responsible"), "waste");
        assert_eq!(request.text_of("lat"), "52.05");
        assert_eq!(request.text_of("media_url"), "https://fms.example.com/photo/1.jpeg");
        let (status, body) = json(app.get_with_key(&format!("requests/{id}.json"), &[]).await).await;
        assert_eq!(status, 200);
        assert_eq!(body[0]["address"], "12 Mill Lane, Newtown NT1 3AB");
        assert_eq!(body[0]["long"], -1.3);
        let (status, body) = json(app.get_with_key(&format!("tokens/{token}.json"), &[]).await).await;
        assert_eq!(status, 200);
        assert_eq!(body, json!([{"service_request_id": id, "token": token}]));
        let (status, root) = xml(app.get_with_key(&format!("tokens/{token}.xml"), &[]).await).await;
        assert_eq!(status, 200);
        assert_eq!(root.child("request").text_of("service_request_id"), id);
    }

    async fn an_address_id_alone_locates_a_request(app: TestApp) {
        let form = with(with(with(missed_bin(), "lat", None), "long", None), "address_string", None);
        let form = with(form, "address_id", Some("100023336956"));
        let form = with(form, "attribute[address]", Some("10 Downing Street"));
        let id = app.report(&form).await;
        let (_, body) = json(app.get_with_key(&format!("requests/{id}.json"), &[]).await).await;
        assert_eq!(body[0]["address_id"], "100023336956");
        assert_eq!(body[0]["lat"], serde_json::Value::Null);
    }

    async fn the_list_filters_by_id_service_status_and_dates(app: TestApp) {
        let first = app.report(&missed_bin()).await;
        let second = app.report(&missed_bin()).await;
        let other = app.app.services().get("noise-complaint").unwrap();
        let noise: Vec<(String, String)> = {
            let mut form = with(missed_bin(), "service_code", Some("noise-complaint"));
            form.retain(|(k, _)| !k.starts_with("attribute["));
            for field in other.fields.iter().filter(|f| f.required && !f.staff_only) {
                let value = match field.kind {
                    casework_app::domain::service::FieldKind::SingleChoice => field.choices[0].code.clone(),
                    casework_app::domain::service::FieldKind::Date => "2026-12-01".into(),
                    casework_app::domain::service::FieldKind::YesNo => "no".into(),
                    casework_app::domain::service::FieldKind::Number => "2".into(),
                    casework_app::domain::service::FieldKind::MultipleChoice => field.choices[0].code.clone(),
                    _ => "Loud music every night".into(),
                };
                form.push((format!("attribute[{}]", field.code), value));
            }
            form
        };
        let third = app.report(&noise).await;
        let ids = |body: &serde_json::Value| -> Vec<String> {
            body.as_array().unwrap().iter().map(|r| r["service_request_id"].as_str().unwrap().to_owned()).collect()
        };
        let (status, body) = json(app.get_with_key("requests.json", &[]).await).await;
        assert_eq!(status, 200);
        assert_eq!(ids(&body), [third.clone(), second.clone(), first.clone()], "newest first");
        let wanted = format!("{first},{third}");
        let (_, body) = json(app.get_with_key("requests.json", &[("service_request_id", &wanted)]).await).await;
        assert_eq!(ids(&body), [third.clone(), first.clone()]);
        let (_, body) = json(app.get_with_key("requests.json", &[("service_code", "noise-complaint")]).await).await;
        assert_eq!(ids(&body), [third.as_str()]);

        let system = casework_web::testing::system();
        let reference: Reference = second.parse().unwrap();
        let case = app.app.case(&system, reference).await.unwrap();
        app.app
            .transition_case(&system, reference, case.version, "collect", &Default::default())
            .await
            .unwrap();
        let (_, body) = json(app.get_with_key("requests.json", &[("status", "closed")]).await).await;
        assert_eq!(ids(&body), [second.as_str()]);
        assert_eq!(body[0]["status"], "closed");
        let (_, body) = json(app.get_with_key("requests.json", &[("status", "open"), ("service_code", "missed-bin")]).await).await;
        assert_eq!(ids(&body), [first.as_str()]);
        let (_, body) = json(app.get_with_key("requests.json", &[("status", "open,closed")]).await).await;
        assert_eq!(ids(&body).len(), 3);

        let now = time::OffsetDateTime::now_utc();
        let rfc = |at: time::OffsetDateTime| at.format(&time::format_description::well_known::Rfc3339).unwrap();
        let later = rfc(now + Duration::hours(1));
        let (_, body) = json(app.get_with_key("requests.json", &[("start_date", &later)]).await).await;
        assert_eq!(ids(&body).len(), 0, "nothing made after now");
        let earlier = rfc(now - Duration::hours(1));
        let (_, body) = json(app.get_with_key("requests.json", &[("start_date", &earlier), ("end_date", &later)]).await).await;
        assert_eq!(ids(&body).len(), 3);
        let (_, body) = json(app.get_with_key("requests.json", &[("end_date", &earlier)]).await).await;
        assert_eq!(ids(&body).len(), 0);
        let (_, root) = xml(app.get_with_key("requests.xml", &[("service_code", "missed-bin")]).await).await;
        assert_eq!(root.all("request").len(), 2);
    }

    async fn the_default_window_is_the_last_ninety_days(app: TestApp) {
        let KeyCheck::Allowed(caller) = app.app.authenticate_key(&app.key, casework_app::store::KeyScope::Open311).await.unwrap() else {
            panic!("the test key is an Open311 key");
        };
        let long_ago = time::OffsetDateTime::now_utc() - Duration::days(100);
        let past = app.app.clone().with_clock(Arc::new(move || long_ago));
        let report = Open311Report {
            service_code: "missed-bin".into(),
            address_string: Some("1 Old Road".into()),
            reporter: Reporter {
                first_name: Some("Old".into()),
                last_name: Some("Report".into()),
                email: Some("old@example.com".into()),
                phone: None,
            },
            attributes: vec![
                AttributeAnswer { code: "bin_type".into(), values: vec!["general".into()] },
                AttributeAnswer { code: "collection_date".into(), values: vec!["2026-08-01".into()] },
                AttributeAnswer { code: "bin_out_by_7am".into(), values: vec!["yes".into()] },
            ],
            ..Open311Report::default()
        };
        let old = past.open311_report(&caller, report).await.unwrap().request.case.reference.to_string();
        let recent = app.report(&missed_bin()).await;
        let ids = |body: serde_json::Value| -> Vec<String> {
            body.as_array().unwrap().iter().map(|r| r["service_request_id"].as_str().unwrap().to_owned()).collect()
        };
        let (_, body) = json(app.get_with_key("requests.json", &[]).await).await;
        assert_eq!(ids(body), [recent.as_str()], "older than 90 days is left out");
        let (_, body) = json(app.get_with_key("requests.json", &[("service_request_id", &old)]).await).await;
        assert_eq!(ids(body), [old.as_str()], "an id finds it whenever it was made");
        let start = (long_ago - Duration::days(1)).format(&time::format_description::well_known::Rfc3339).unwrap();
        let (_, body) = json(app.get_with_key("requests.json", &[("start_date", &start)]).await).await;
        assert_eq!(ids(body), [old], "90 days from the start");
    }
}
