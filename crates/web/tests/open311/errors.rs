use casework_app::Features;
use casework_web::on_both_databases;
use casework_web::testing::TestDatabase;

use crate::helpers::{json, missed_bin, spawn_app_with, with, with_query, xml};

/// The descriptions of a JSON error list, after checking each has the status as its code.
fn descriptions(status: u16, body: &serde_json::Value) -> Vec<String> {
    body.as_array()
        .unwrap_or_else(|| panic!("errors are a list: {body}"))
        .iter()
        .map(|e| {
            assert_eq!(e["code"], status, "{body}");
            e["description"].as_str().unwrap().to_owned()
        })
        .collect()
}

on_both_databases! {
    async fn a_missing_wrong_or_other_scope_key_is_refused_with_403(app: TestApp) {
        let (status, body) = json(app.post_as("requests.json", &missed_bin()).await).await;
        assert_eq!(status, 403);
        assert!(descriptions(403, &body)[0].contains("api_key"));
        let (status, root) = xml(app.post_as("requests.xml", &missed_bin()).await).await;
        assert_eq!(status, 403);
        assert_eq!(root.name, "errors");
        assert_eq!(root.child("error").text_of("code"), "403");
        let wrong = with(missed_bin(), "api_key", Some("cw_not-a-real-key"));
        let (status, _) = json(app.post_as("requests.json", &wrong).await).await;
        assert_eq!(status, 403);
        let api_only = with(missed_bin(), "api_key", Some(&app.api_key));
        let (status, body) = json(app.post_as("requests.json", &api_only).await).await;
        assert_eq!(status, 403);
        assert!(descriptions(403, &body)[0].contains("not for Open311"), "{body}");
        for path in ["requests.json", "requests/CW-000001.json", "tokens/abc.json", "servicerequestupdates.json"] {
            let (status, _) = json(app.get(path).await).await;
            assert_eq!(status, 403, "{path}");
        }
        assert_eq!(app.case_count().await, 0, "nothing was made");
    }

    async fn an_open311_key_is_refused_by_the_json_api(app: TestApp) {
        let response = app
            .client
            .get(format!("{}/api/v1/cases", app.address))
            .bearer_auth(&app.key)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "forbidden");
        let response = app
            .client
            .get(format!("{}/api/v1/cases", app.address))
            .bearer_auth(&app.api_key)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "the JSON API key still works there");
    }

    async fn unknown_services_requests_tokens_and_resources_are_404(app: TestApp) {
        for path in ["services/parking.json", "requests/CW-999999.json", "requests/nonsense.json", "tokens/nope.json", "widgets.json"] {
            let (status, body) = if path.starts_with("services/") {
                json(app.get(path).await).await
            } else {
                json(app.get_with_key(path, &[]).await).await
            };
            assert_eq!(status, 404, "{path}");
            descriptions(404, &body);
        }
        let (status, root) = xml(app.get("services/parking.xml").await).await;
        assert_eq!(status, 404);
        assert!(root.child("error").text_of("description").contains("parking"));
        let (status, root) = xml(app.get("services").await).await;
        assert_eq!(status, 404, "a resource needs its format");
        assert_eq!(root.name, "errors");
        let other = app.app.create_scoped_api_key("another-client", casework_app::domain::service::Role::Lead, &[casework_app::store::KeyScope::Open311]).await.unwrap().secret;
        let id = app.report(&missed_bin()).await;
        let url = with_query(&app.url(&format!("requests/{id}.json")), &[("api_key", other.as_str())]);
        let response = app.client.get(url).send().await.unwrap();
        assert_eq!(response.status(), 404, "a key sees only the requests it reported");
    }

    async fn missing_and_wrong_arguments_are_400_naming_each(app: TestApp) {
        let (status, body) = json(app.post("requests.json", &with(missed_bin(), "service_code", None)).await).await;
        assert_eq!(status, 400);
        assert!(descriptions(400, &body)[0].starts_with("service_code:"), "{body}");
        let (status, body) = json(app.post("requests.json", &with(missed_bin(), "service_code", Some("parking"))).await).await;
        assert_eq!(status, 400);
        assert!(descriptions(400, &body)[0].contains("parking"));
        let bad = with(with(missed_bin(), "attribute[bin_type]", Some("purple")), "attribute[crew]", Some("Round 4"));
        let bad = with(with(bad, "lat", Some("north")), "email", Some("not-an-email"));
        let (status, body) = json(app.post("requests.json", &bad).await).await;
        assert_eq!(status, 400);
        let problems = descriptions(400, &body);
        assert!(problems.iter().any(|p| p.starts_with("lat:")), "{problems:?}");
        let (status, body) = json(app.post("requests.json", &with(bad, "lat", Some("52.05"))).await).await;
        assert_eq!(status, 400);
        let problems = descriptions(400, &body);
        assert!(problems.iter().any(|p| p.starts_with("attribute[crew]:")), "{problems:?}");
        let missing = with(missed_bin(), "attribute[bin_type]", None);
        let (status, root) = xml(app.post("requests.xml", &missing).await).await;
        assert_eq!(status, 400);
        let problems: Vec<&str> = root.all("error").iter().map(|e| e.text_of("description")).collect();
        assert_eq!(problems, ["attribute[bin_type]: Select which bin was missed"]);
        let nowhere = with(with(with(missed_bin(), "lat", None), "long", None), "address_string", None);
        let (status, body) = json(app.post("requests.json", &nowhere).await).await;
        assert_eq!(status, 400);
        assert!(descriptions(400, &body)[0].contains("location"), "{body}");
        let (status, body) = json(app.post("requests.json", &with(missed_bin(), "email", Some("nope"))).await).await;
        assert_eq!(status, 400);
        assert!(descriptions(400, &body)[0].starts_with("email:"), "{body}");
        assert_eq!(app.case_count().await, 0, "nothing was made");

        let (status, body) = json(app.get_with_key("requests.json", &[("status", "pending")]).await).await;
        assert_eq!(status, 400);
        assert!(descriptions(400, &body)[0].starts_with("status:"));
        let (status, body) = json(app.get_with_key("requests.json", &[("start_date", "yesterday")]).await).await;
        assert_eq!(status, 400);
        assert!(descriptions(400, &body)[0].starts_with("start_date:"));
        let (status, body) = json(app.get_with_key("requests.json", &[("start_date", "2026-01-01T00:00:00Z"), ("end_date", "2026-06-01T00:00:00Z")]).await).await;
        assert_eq!(status, 400);
        assert!(descriptions(400, &body)[0].contains("90 days"), "{body}");
        let (status, _) = json(app.get_with_key("requests.json", &[("service_request_id", "42")]).await).await;
        assert_eq!(status, 400);
    }
}

#[tokio::test]
async fn switched_off_open311_serves_nothing() {
    let features: Features = "api,worktray".parse().unwrap();
    let app = spawn_app_with(TestDatabase::sqlite(), features).await;
    let response = app
        .client
        .get(app.url("services.xml"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}
