use casework_app::{AppError, LinkProblem};
use serde_json::{Value, json};

use crate::helpers::{TestApp, answer, error_fields, missed_bin};
use casework_web::on_both_databases;

/// An action id that no plan holds.
const UNKNOWN_ACTION: &str = "0193a5c4-0000-7000-8000-000000000000";
/// A due date that stays in the future for as long as these tests are run.
const LATER: &str = "2099-03-02";

async fn new_case(app: &TestApp) -> String {
    app.create(&missed_bin()).await["reference"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn plan(app: &TestApp, reference: &str) -> Value {
    let (status, plan) = answer(
        app.get(&format!("/cases/{reference}/plan"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{plan}");
    plan
}

fn action_path(reference: &str, id: &Value) -> String {
    format!("/cases/{reference}/plan/actions/{}", id.as_str().unwrap())
}

fn is_iso_date(value: &Value) -> bool {
    value.as_str().is_some_and(|s| {
        s.len() == 10
            && s.char_indices().all(|(i, c)| {
                if i == 4 || i == 7 {
                    c == '-'
                } else {
                    c.is_ascii_digit()
                }
            })
    })
}

/// A plan change that must be refused as stale, with the plan as it is now.
async fn assert_stale(response: reqwest::Response, current: &Value) {
    let (status, error) = answer(response).await;
    assert_eq!(status, 409, "{error}");
    assert_eq!(error["error"]["code"], "conflict");
    assert_eq!(error_fields(&error), vec!["version"]);
    assert_eq!(&error["current_plan"], current);
    assert!(error.get("current").is_none(), "{error}");
}

on_both_databases! {
    async fn a_new_case_has_its_services_plan(app: TestApp) {
        let reference = new_case(&app).await;
        let response = app.get(&format!("/cases/{reference}/plan")).send().await.unwrap();
        let etag = response.headers()["etag"].to_str().unwrap().to_owned();
        let (status, plan) = answer(response).await;
        assert_eq!(status, 200, "{plan}");
        assert_eq!(etag, format!("\"{}\"", plan["version"]));
        assert_eq!(plan["goal"], "Empty your missed bin");
        let actions = plan["actions"].as_array().unwrap();
        let owners: Vec<&str> = actions.iter().map(|a| a["owner"].as_str().unwrap()).collect();
        assert_eq!(owners, ["resident", "council"]);
        for action in actions {
            assert_eq!(action["id"].as_str().unwrap().len(), 36, "{action}");
            assert!(is_iso_date(&action["due_on"]), "{action}");
            assert_eq!(action["done"], false);
            assert!(action["completed_at"].is_null());
            assert!(action["completed_by"].is_null());
            assert!(action["details"].is_string());
        }
    }

    async fn unknown_cases_and_actions_are_not_found(app: TestApp) {
        let reference = new_case(&app).await;
        for path in [
            "/cases/CW-999999/plan".to_owned(),
            "/cases/nonsense/plan".to_owned(),
            "/cases/CW-999999/plan/links".to_owned(),
            format!("/cases/{reference}/plan/actions/{UNKNOWN_ACTION}"),
        ] {
            let (status, error) = answer(app.get(&path).send().await.unwrap()).await;
            assert_eq!(status, 404, "{path}: {error}");
            assert_eq!(error["error"]["code"], "not_found");
        }
        let writes = [
            app.post("/cases/CW-999999/plan/actions", &json!({"version": 1, "owner": "council", "title": "Call"})),
            app.post("/cases/CW-999999/plan/links", &json!({})),
            app.post(&format!("/cases/{reference}/plan/actions/{UNKNOWN_ACTION}/complete"), &json!({})),
            app.post(&format!("/cases/{reference}/plan/actions/{UNKNOWN_ACTION}/reopen"), &json!({})),
            app.patch(&format!("/cases/{reference}/plan/actions/{UNKNOWN_ACTION}"), &json!({"version": 1, "title": "x"})),
            app.patch(&format!("/cases/{reference}/plan/actions/{UNKNOWN_ACTION}"), &json!({"version": 1, "position": 1})),
            app.client
                .delete(app.url(&format!("/cases/{reference}/plan/actions/{UNKNOWN_ACTION}?version=1")))
                .bearer_auth(&app.key),
        ];
        for request in writes {
            let (status, error) = answer(request.send().await.unwrap()).await;
            assert_eq!(status, 404, "{error}");
        }
        let (status, error) = answer(
            app.get(&format!("/cases/{reference}/plan/actions/not-a-uuid")).send().await.unwrap(),
        )
        .await;
        assert_eq!(status, 400, "{error}");
        assert_eq!(error_fields(&error), vec!["id"]);
        let unread = app.client.get(app.url(&format!("/cases/{reference}/plan"))).send().await.unwrap();
        assert_eq!(unread.status(), 401);
    }

    async fn the_goal_is_set_and_cleared(app: TestApp) {
        let reference = new_case(&app).await;
        let path = format!("/cases/{reference}/plan/goal");
        let version = plan(&app, &reference).await["version"].as_i64().unwrap();
        let response = app
            .client
            .put(app.url(&path))
            .bearer_auth(&app.key)
            .json(&json!({"version": version, "goal": "  Get the bin emptied this week "}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["etag"], format!("\"{}\"", version + 1).as_str());
        let (status, set) = answer(response).await;
        assert_eq!(status, 200, "{set}");
        assert_eq!(set["goal"], "Get the bin emptied this week");
        assert_eq!(set["version"], version + 1);

        let put = |body: Value| app.client.put(app.url(&path)).bearer_auth(&app.key).json(&body);
        assert_stale(put(json!({"version": version, "goal": "Other"})).send().await.unwrap(), &set).await;

        let (status, cleared) = answer(
            put(json!({"goal": null})).header("If-Match", format!("\"{}\"", version + 1)).send().await.unwrap(),
        )
        .await;
        assert_eq!(status, 200, "{cleared}");
        assert!(cleared["goal"].is_null());

        let (status, error) = answer(put(json!({"goal": "No version"})).send().await.unwrap()).await;
        assert_eq!(status, 422);
        assert_eq!(error_fields(&error), vec!["version"]);
        let (status, error) = answer(
            put(json!({"version": version + 2, "goal": "x".repeat(501)})).send().await.unwrap(),
        )
        .await;
        assert_eq!(status, 422);
        assert_eq!(error_fields(&error), vec!["goal"]);
        let (status, error) = answer(put(json!({"version": "two", "goal": "x"})).send().await.unwrap()).await;
        assert_eq!(status, 400);
        assert_eq!(error_fields(&error), vec!["version"]);

        let case = app.get(&format!("/cases/{reference}")).send().await.unwrap();
        let (_, case) = answer(case).await;
        assert_eq!(case["version"], 1, "the plan's changes leave the case's version alone");
    }

    async fn an_action_is_added_at_the_end(app: TestApp) {
        let reference = new_case(&app).await;
        let before = plan(&app, &reference).await;
        let version = before["version"].as_i64().unwrap();
        let path = format!("/cases/{reference}/plan/actions");
        let response = app
            .post(&path, &json!({
                "version": version,
                "owner": "resident",
                "title": "Tell us if the bin is damaged",
                "details": "Send a **photo** if you can.",
                "due_on": LATER
            }))
            .send()
            .await
            .unwrap();
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        let (status, added) = answer(response).await;
        assert_eq!(status, 201, "{added}");
        assert_eq!(added["version"], version + 1);
        let actions = added["actions"].as_array().unwrap();
        assert_eq!(actions.len(), 3);
        let new = &actions[2];
        assert_eq!(location, format!("/api/v1{}", action_path(&reference, &new["id"])));
        assert_eq!(new["owner"], "resident");
        assert_eq!(new["title"], "Tell us if the bin is damaged");
        assert_eq!(new["details"], "Send a **photo** if you can.");
        assert_eq!(new["due_on"], LATER);

        let response = app.client.get(format!("{}{location}", app.address)).bearer_auth(&app.key).send().await.unwrap();
        assert_eq!(response.headers()["etag"], format!("\"{}\"", version + 1).as_str());
        let (status, shown) = answer(response).await;
        assert_eq!(status, 200);
        assert_eq!(&shown, new);

        assert_stale(
            app.post(&path, &json!({"version": version, "owner": "council", "title": "Late"})).send().await.unwrap(),
            &added,
        )
        .await;
        let (status, timeline) = answer(app.get(&format!("/cases/{reference}/events")).send().await.unwrap()).await;
        assert_eq!(status, 200);
        assert!(timeline["events"].as_array().unwrap().iter().any(|e| e["kind"] == "plan_action_added"));
    }

    async fn bad_actions_are_refused_naming_the_field(app: TestApp) {
        let reference = new_case(&app).await;
        let version = plan(&app, &reference).await["version"].as_i64().unwrap();
        let path = format!("/cases/{reference}/plan/actions");
        let cases = [
            (json!({"version": version, "owner": "resident", "title": "  ", "due_on": "2020-01-06"}), 422, vec!["title", "due_on"]),
            (json!({"version": version, "owner": "council", "title": "x".repeat(201)}), 422, vec!["title"]),
            (json!({"version": version, "owner": "council", "title": "Call", "details": "d".repeat(5_001)}), 422, vec!["details"]),
            (json!({"version": version, "owner": "landlord", "title": "Call"}), 400, vec!["owner"]),
            (json!({"version": version, "title": "Call"}), 400, vec!["owner"]),
            (json!({"version": version, "owner": "council"}), 400, vec!["title"]),
            (json!({"version": version, "owner": "council", "title": "Call", "due_on": "next week"}), 400, vec!["due_on"]),
            (json!({"version": version, "owner": "council", "title": "Call", "due_on": "2099-02-30"}), 400, vec!["due_on"]),
            (json!({"version": "1", "owner": "council", "title": "Call"}), 400, vec!["version"]),
            (json!({"owner": "council", "title": "Call"}), 422, vec!["version"]),
        ];
        for (body, expected_status, expected_fields) in cases {
            let (status, error) = answer(app.post(&path, &body).send().await.unwrap()).await;
            assert_eq!(status, expected_status, "{body}: {error}");
            assert_eq!(error_fields(&error), expected_fields, "{body}");
        }
        let (status, error) = answer(
            app.post(&path, &json!({"version": version, "owner": "council", "title": "Call", "colour": "red"})).send().await.unwrap(),
        )
        .await;
        assert_eq!(status, 400);
        assert!(error["error"]["message"].as_str().unwrap().contains("colour"), "{error}");
        assert_eq!(plan(&app, &reference).await["version"], version, "nothing was saved");
    }

    async fn an_action_changes_only_what_is_sent_and_moves(app: TestApp) {
        let reference = new_case(&app).await;
        let before = plan(&app, &reference).await;
        let version = before["version"].as_i64().unwrap();
        let first = before["actions"][0].clone();
        let second = before["actions"][1].clone();
        let path = action_path(&reference, &second["id"]);

        let (status, changed) = answer(
            app.patch(&path, &json!({"version": version, "title": "Empty your bin", "due_on": LATER})).send().await.unwrap(),
        )
        .await;
        assert_eq!(status, 200, "{changed}");
        assert_eq!(changed["version"], version + 1);
        let action = &changed["actions"][1];
        assert_eq!(action["title"], "Empty your bin");
        assert_eq!(action["due_on"], LATER);
        assert_eq!(action["owner"], second["owner"]);
        assert_eq!(action["details"], second["details"]);

        let (status, cleared) = answer(
            app.patch(&path, &json!({"details": null, "due_on": null, "owner": "resident"}))
                .header("If-Match", format!("\"{}\"", version + 1))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200, "{cleared}");
        let action = &cleared["actions"][1];
        assert!(action["details"].is_null() && action["due_on"].is_null(), "{action}");
        assert_eq!(action["owner"], "resident");
        assert_eq!(action["title"], "Empty your bin");

        let (status, moved) = answer(
            app.patch(&path, &json!({"version": version + 2, "position": 1})).send().await.unwrap(),
        )
        .await;
        assert_eq!(status, 200, "{moved}");
        assert_eq!(moved["version"], version + 3);
        assert_eq!(moved["actions"][0]["id"], second["id"]);
        assert_eq!(moved["actions"][1]["id"], first["id"]);

        let (status, both) = answer(
            app.patch(&path, &json!({"version": version + 3, "title": "Empty it", "position": 99})).send().await.unwrap(),
        )
        .await;
        assert_eq!(status, 200, "{both}");
        assert_eq!(both["actions"][1]["id"], second["id"], "past the end is last");
        assert_eq!(both["actions"][1]["title"], "Empty it");
        let current = both["version"].as_i64().unwrap();

        assert_stale(
            app.patch(&path, &json!({"version": version, "title": "Stale"})).send().await.unwrap(),
            &both,
        )
        .await;
        let refused = [
            (json!({"version": current, "position": 0}), 422, "position"),
            (json!({"version": current, "position": -1}), 400, "position"),
            (json!({"version": current, "title": ""}), 422, "title"),
            (json!({"version": current, "due_on": "2020-01-06"}), 422, "due_on"),
            (json!({"version": current, "due_on": "06/01/2099"}), 400, "due_on"),
            (json!({"version": current, "owner": "nobody"}), 400, "owner"),
            (json!({"title": "No version"}), 422, "version"),
        ];
        for (body, expected_status, field) in refused {
            let (status, error) = answer(app.patch(&path, &body).send().await.unwrap()).await;
            assert_eq!(status, expected_status, "{body}: {error}");
            assert_eq!(error_fields(&error), vec![field], "{body}");
        }
        assert_eq!(plan(&app, &reference).await, both, "nothing refused was saved");
        let (status, error) = answer(
            app.patch(&format!("/cases/{reference}/plan/actions/42"), &json!({"version": current})).send().await.unwrap(),
        )
        .await;
        assert_eq!(status, 400);
        assert_eq!(error_fields(&error), vec!["id"]);
    }

    async fn an_action_is_removed_against_a_version(app: TestApp) {
        let reference = new_case(&app).await;
        let before = plan(&app, &reference).await;
        let version = before["version"].as_i64().unwrap();
        let path = action_path(&reference, &before["actions"][0]["id"]);
        let delete = |query: String| app.client.delete(app.url(&format!("{path}{query}"))).bearer_auth(&app.key);

        let (status, error) = answer(delete(String::new()).send().await.unwrap()).await;
        assert_eq!(status, 422);
        assert_eq!(error_fields(&error), vec!["version"]);
        let (status, error) = answer(delete("?version=latest".into()).send().await.unwrap()).await;
        assert_eq!(status, 400);
        assert_eq!(error_fields(&error), vec!["version"]);
        let (status, _) = answer(delete(format!("?version={version}&force=true")).send().await.unwrap()).await;
        assert_eq!(status, 400);

        let (status, removed) = answer(delete(format!("?version={version}")).send().await.unwrap()).await;
        assert_eq!(status, 200, "{removed}");
        assert_eq!(removed["version"], version + 1);
        assert_eq!(removed["actions"].as_array().unwrap().len(), 1);
        assert_eq!(removed["actions"][0]["id"], before["actions"][1]["id"]);

        let other = action_path(&reference, &before["actions"][1]["id"]);
        assert_stale(
            app.client.delete(app.url(&other)).bearer_auth(&app.key).header("If-Match", format!("\"{version}\"")).send().await.unwrap(),
            &removed,
        )
        .await;
        let (status, emptied) = answer(
            app.client.delete(app.url(&other)).bearer_auth(&app.key).header("If-Match", format!("W/\"{}\"", version + 1)).send().await.unwrap(),
        )
        .await;
        assert_eq!(status, 200, "{emptied}");
        assert_eq!(emptied["actions"], json!([]));
        let (status, _) = answer(delete(format!("?version={}", version + 2)).send().await.unwrap()).await;
        assert_eq!(status, 404, "already removed");
    }

    async fn actions_are_ticked_off_and_reopened_without_a_version(app: TestApp) {
        let reference = new_case(&app).await;
        let before = plan(&app, &reference).await;
        let version = before["version"].as_i64().unwrap();
        let path = action_path(&reference, &before["actions"][0]["id"]);

        let (status, done) = answer(app.post(&format!("{path}/complete"), &json!({})).send().await.unwrap()).await;
        assert_eq!(status, 200, "{done}");
        let action = &done["actions"][0];
        assert_eq!(action["done"], true);
        assert_eq!(action["completed_by"], "api:test-client");
        assert!(action["completed_at"].as_str().unwrap().contains('T'), "{action}");
        assert_eq!(done["version"], version + 1);

        let (status, again) = answer(app.post(&format!("{path}/complete"), &json!({})).send().await.unwrap()).await;
        assert_eq!(status, 200);
        assert_eq!(again, done, "ticking twice records it once");

        let (status, reopened) = answer(app.post(&format!("{path}/reopen"), &json!({})).send().await.unwrap()).await;
        assert_eq!(status, 200, "{reopened}");
        assert_eq!(reopened["actions"][0]["done"], false);
        assert!(reopened["actions"][0]["completed_by"].is_null());
        assert_eq!(reopened["version"], version + 2);

        let (_, timeline) = answer(app.get(&format!("/cases/{reference}/events")).send().await.unwrap()).await;
        let kinds: Vec<&str> = timeline["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].as_str().unwrap())
            .filter(|k| k.starts_with("plan_"))
            .collect();
        assert_eq!(kinds, ["plan_action_completed", "plan_action_reopened"]);
    }

    async fn links_are_made_listed_and_revoked(app: TestApp) {
        let reference = new_case(&app).await;
        let links = format!("/cases/{reference}/plan/links");
        let (status, first) = answer(app.post(&links, &json!({})).send().await.unwrap()).await;
        assert_eq!(status, 201, "{first}");
        let token = first["token"].as_str().unwrap().to_owned();
        assert_eq!(token.len(), 43, "{token}");
        assert!(token.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'), "{token}");
        assert_eq!(first["url"], format!("http://127.0.0.1:8080/plan/{token}"));
        assert!(first["expires_at"].as_str().unwrap().contains('T'));
        let (status, second) = answer(app.client.post(app.url(&links)).bearer_auth(&app.key).send().await.unwrap()).await;
        assert_eq!(status, 201, "a link needs no body: {second}");
        assert_ne!(second["token"], first["token"]);
        assert_ne!(second["id"], first["id"]);

        let opened = app.app.resident_plan(&token).await.expect("the link opens the plan");
        assert_eq!(opened.reference.to_string(), reference);

        let (status, listed) = answer(app.get(&links).send().await.unwrap()).await;
        assert_eq!(status, 200);
        let listed = listed["links"].as_array().unwrap();
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[0]["id"], second["id"], "newest first");
        for link in listed {
            assert!(link.get("token").is_none() && link.get("url").is_none(), "{link}");
            assert_eq!(link["created_by"], "api:test-client");
            assert!(link["revoked_at"].is_null());
        }
        assert_eq!(listed[1]["uses"], 1);
        assert!(listed[1]["last_used_at"].is_string());

        let revoke = format!("{links}/{}/revoke", first["id"]);
        for _ in 0..2 {
            let response = app.client.post(app.url(&revoke)).bearer_auth(&app.key).send().await.unwrap();
            assert_eq!(response.status(), 204);
        }
        assert!(matches!(
            app.app.resident_plan(&token).await,
            Err(AppError::Link(LinkProblem::Revoked))
        ));
        let (_, listed) = answer(app.get(&links).send().await.unwrap()).await;
        let revoked = &listed["links"][1];
        assert!(revoked["revoked_at"].is_string(), "{revoked}");
        assert_eq!(revoked["revoked_by"], "api:test-client");
        assert!(listed["links"][0]["revoked_at"].is_null());

        let (status, _) = answer(app.post(&format!("{links}/999999/revoke"), &json!({})).send().await.unwrap()).await;
        assert_eq!(status, 404);
        let (status, error) = answer(app.post(&format!("{links}/first/revoke"), &json!({})).send().await.unwrap()).await;
        assert_eq!(status, 400);
        assert_eq!(error_fields(&error), vec!["id"]);
        let other = new_case(&app).await;
        let (status, _) = answer(
            app.post(&format!("/cases/{other}/plan/links/{}/revoke", second["id"]), &json!({})).send().await.unwrap(),
        )
        .await;
        assert_eq!(status, 404, "a link is revoked only through its own case");
    }

    async fn a_closed_cases_plan_no_longer_changes(app: TestApp) {
        let reference = new_case(&app).await;
        let before = plan(&app, &reference).await;
        let version = before["version"].as_i64().unwrap();
        let (status, closed) = answer(
            app.post(&format!("/cases/{reference}/transitions"), &json!({"version": 1, "transition": "collect"})).send().await.unwrap(),
        )
        .await;
        assert_eq!(status, 200, "{closed}");
        let attempts = [
            app.client.put(app.url(&format!("/cases/{reference}/plan/goal"))).bearer_auth(&app.key).json(&json!({"version": version, "goal": "x"})),
            app.post(&format!("/cases/{reference}/plan/actions"), &json!({"version": version, "owner": "council", "title": "Call"})),
            app.post(&format!("{}/complete", action_path(&reference, &before["actions"][0]["id"])), &json!({})),
            app.post(&format!("/cases/{reference}/plan/links"), &json!({})),
        ];
        for request in attempts {
            let (status, error) = answer(request.send().await.unwrap()).await;
            assert_eq!(status, 409, "{error}");
            assert_eq!(error["error"]["code"], "conflict");
        }
        assert_eq!(plan(&app, &reference).await, before);
    }
}

#[tokio::test]
async fn the_plan_api_is_gone_when_its_feature_is_off() {
    let features = "api,worktray,messaging".parse().unwrap();
    let app =
        crate::helpers::spawn_app_with(casework_store::testing::TestDatabase::sqlite(), features)
            .await;
    let reference = new_case(&app).await;
    let (status, _) = answer(
        app.get(&format!("/cases/{reference}/plan"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 404);
    let (status, doc) = answer(app.get("/openapi.json").send().await.unwrap()).await;
    assert_eq!(status, 200);
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.contains_key("/cases/{reference}"));
    assert!(!paths.keys().any(|p| p.contains("/plan")), "{paths:?}");
}
