use serde_json::{Value, json};

use crate::helpers::{TestApp, answer, error_fields, missed_bin};
use casework_web::on_both_databases;

async fn events(app: &TestApp, reference: &str) -> Vec<Value> {
    let (_, body) = answer(
        app.get(&format!("/cases/{reference}/events"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    body["events"].as_array().unwrap().clone()
}

on_both_databases! {
    async fn changing_answers_records_each_change(app: TestApp) {
        let case = app.create(&missed_bin()).await;
        let reference = case["reference"].as_str().unwrap();
        let (status, changed) = answer(
            app.patch(&format!("/cases/{reference}"), &json!({
                "version": 1,
                "answers": { "bin_type": "garden", "access_notes": "Gate code 1234", "bin_out_by_7am": true }
            }))
            .send()
            .await
            .unwrap(),
        )
        .await;
        assert_eq!(status, 200, "{changed}");
        assert_eq!(changed["version"], 2);
        assert_eq!(changed["answers"]["bin_type"], "garden");
        let kinds: Vec<(String, String)> = events(&app, reference)
            .await
            .iter()
            .filter(|e| e["kind"] == "field_changed")
            .map(|e| (e["data"]["field"].as_str().unwrap().to_owned(), e["data"]["to"].to_string()))
            .collect();
        // bin_out_by_7am did not change, so it has no event.
        assert_eq!(kinds, vec![
            ("access_notes".to_owned(), "\"Gate code 1234\"".to_owned()),
            ("bin_type".to_owned(), "\"garden\"".to_owned()),
        ]);
    }

    async fn a_stale_version_is_refused_with_the_current_case(app: TestApp) {
        let case = app.create(&missed_bin()).await;
        let reference = case["reference"].as_str().unwrap();
        let path = format!("/cases/{reference}");
        let first = app.patch(&path, &json!({"version": 1, "answers": {"bin_type": "food"}})).send().await.unwrap();
        assert_eq!(first.status(), 200);
        let (status, error) = answer(
            app.patch(&path, &json!({"version": 1, "answers": {"bin_type": "glass"}})).send().await.unwrap(),
        )
        .await;
        assert_eq!(status, 409);
        assert_eq!(error["error"]["code"], "conflict");
        assert_eq!(error["current"]["version"], 2);
        assert_eq!(error["current"]["answers"]["bin_type"], "food");
        let (_, now) = answer(app.get(&path).send().await.unwrap()).await;
        assert_eq!(now["answers"]["bin_type"], "food");
    }

    async fn if_match_carries_the_version(app: TestApp) {
        let case = app.create(&missed_bin()).await;
        let path = format!("/cases/{}", case["reference"].as_str().unwrap());
        let ok = app
            .patch(&path, &json!({"answers": {"bin_type": "food"}}))
            .header("If-Match", "\"1\"")
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), 200);
        assert_eq!(ok.headers()["etag"], "\"2\"");
        let stale = app
            .patch(&path, &json!({"answers": {"bin_type": "glass"}}))
            .header("If-Match", "\"1\"")
            .send()
            .await
            .unwrap();
        assert_eq!(stale.status(), 409);
        let (status, error) = answer(app.patch(&path, &json!({"answers": {}})).send().await.unwrap()).await;
        assert_eq!(status, 422);
        assert_eq!(error_fields(&error), vec!["version"]);
    }

    async fn a_new_priority_moves_the_sla(app: TestApp) {
        let mut body = missed_bin();
        body["service"] = json!("housing-repair");
        body["priority"] = json!("routine");
        body["answers"] = json!({
            "repair_type": "heating",
            "danger_now": false,
            "description": "No heating",
            "address": "1 Park View\nNewtown",
            "location_in_home": "kitchen",
            "vulnerable_occupant": false
        });
        let response = app.post("/cases", &body).send().await.unwrap();
        let (status, case) = answer(response).await;
        assert_eq!(status, 201, "{case}");
        let reference = case["reference"].as_str().unwrap();
        let (status, changed) = answer(
            app.patch(&format!("/cases/{reference}"), &json!({"version": 1, "priority": "emergency"}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200, "{changed}");
        assert!(changed["sla_due_at"].as_str() < case["sla_due_at"].as_str());
        assert!(events(&app, reference).await.iter().any(|e| e["kind"] == "priority_changed"));
    }

    async fn a_case_moves_through_its_workflow_to_closed_and_back(app: TestApp) {
        let case = app.create(&missed_bin()).await;
        let reference = case["reference"].as_str().unwrap();
        let transitions = format!("/cases/{reference}/transitions");

        let (status, error) = answer(
            app.post(&transitions, &json!({"version": 1, "transition": "schedule"})).send().await.unwrap(),
        )
        .await;
        assert_eq!(status, 422, "{error}");
        let mut fields = error_fields(&error);
        fields.sort();
        assert_eq!(fields, vec!["answers.crew", "answers.return_date"]);

        let (status, scheduled) = answer(
            app.post(&transitions, &json!({
                "version": 1, "transition": "schedule",
                "answers": {"crew": "Round 4", "return_date": "2026-12-08"}
            }))
            .send()
            .await
            .unwrap(),
        )
        .await;
        assert_eq!(status, 200, "{scheduled}");
        assert_eq!(scheduled["state"], "scheduled");
        assert_eq!(scheduled["answers"]["crew"], "Round 4");

        let (status, error) = answer(
            app.post(&transitions, &json!({"version": 2, "transition": "schedule"})).send().await.unwrap(),
        )
        .await;
        assert_eq!(status, 422);
        assert_eq!(error_fields(&error), vec!["transition"]);
        let (status, _) = answer(
            app.post(&transitions, &json!({"version": 2, "transition": "teleport"})).send().await.unwrap(),
        )
        .await;
        assert_eq!(status, 422);

        let (status, closed) = answer(
            app.post(&transitions, &json!({"version": 2, "transition": "collect"})).send().await.unwrap(),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(closed["open"], false);
        assert!(closed["closed_at"].is_string());

        let (status, error) = answer(
            app.patch(&format!("/cases/{reference}"), &json!({"version": 3, "answers": {"bin_type": "food"}}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 409, "a closed case's answers stay as they were: {error}");

        let (status, reopened) = answer(
            app.post(&transitions, &json!({"version": 3, "transition": "reopen"})).send().await.unwrap(),
        )
        .await;
        assert_eq!(status, 200, "{reopened}");
        assert_eq!(reopened["open"], true);
        assert_eq!(reopened["state"], "reported");
        assert!(reopened["closed_at"].is_null());

        let moves: Vec<String> = events(&app, reference)
            .await
            .iter()
            .filter(|e| e["kind"] == "transitioned")
            .map(|e| format!("{}->{}", e["data"]["from"].as_str().unwrap(), e["data"]["to"].as_str().unwrap()))
            .collect();
        assert_eq!(moves, vec!["reported->scheduled", "scheduled->collected", "collected->reported"]);
    }

    async fn a_transition_needs_its_role(app: TestApp) {
        let agent = app
            .app
            .create_api_key("agent-client", casework_app::domain::service::Role::Agent)
            .await
            .unwrap()
            .secret;
        let case = app.create(&missed_bin()).await;
        let reference = case["reference"].as_str().unwrap();
        let transitions = app.url(&format!("/cases/{reference}/transitions"));
        let collected = app.client.post(&transitions).bearer_auth(&agent)
            .json(&json!({"version": 1, "transition": "collect"})).send().await.unwrap();
        assert_eq!(collected.status(), 200, "an agent may close");
        let (status, error) = answer(
            app.client.post(&transitions).bearer_auth(&agent)
                .json(&json!({"version": 2, "transition": "reopen"})).send().await.unwrap(),
        )
        .await;
        assert_eq!(status, 403, "only a lead may reopen: {error}");
        assert_eq!(error["error"]["code"], "forbidden");
    }

    async fn assigning_and_notes_go_on_the_timeline(app: TestApp) {
        let case = app.create(&missed_bin()).await;
        let reference = case["reference"].as_str().unwrap();
        let (status, assigned) = answer(
            app.post(&format!("/cases/{reference}/assignment"), &json!({
                "version": 1, "team": "waste-north", "assignee": "sam.taylor@example.com"
            }))
            .send()
            .await
            .unwrap(),
        )
        .await;
        assert_eq!(status, 200, "{assigned}");
        assert_eq!(assigned["team"], "waste-north");
        assert_eq!(assigned["assignee"], "sam.taylor@example.com");

        let (status, noted) = answer(
            app.post(&format!("/cases/{reference}/notes"), &json!({"version": 2, "text": "Crew says the bin was blocked by a van."}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(noted["version"], 3);
        let (status, error) = answer(
            app.post(&format!("/cases/{reference}/notes"), &json!({"version": 3, "text": "  "})).send().await.unwrap(),
        )
        .await;
        assert_eq!(status, 422);
        assert_eq!(error_fields(&error), vec!["text"]);

        let timeline = events(&app, reference).await;
        let kinds: Vec<&str> = timeline.iter().map(|e| e["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, vec!["created", "assigned", "note_added"]);
        assert_eq!(timeline[1]["data"]["to_assignee"], "sam.taylor@example.com");
        assert_eq!(timeline[2]["data"]["text"], "Crew says the bin was blocked by a van.");
    }

    async fn unknown_cases_are_not_found(app: TestApp) {
        for path in ["/cases/CW-999999", "/cases/nonsense", "/cases/CW-000001/events"] {
            let (status, error) = answer(app.get(path).send().await.unwrap()).await;
            assert_eq!(status, 404, "{path}");
            assert_eq!(error["error"]["code"], "not_found");
        }
        let (status, _) = answer(
            app.post("/cases/CW-424242/notes", &json!({"version": 1, "text": "hello"})).send().await.unwrap(),
        )
        .await;
        assert_eq!(status, 404);
    }
}
