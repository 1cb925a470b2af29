//! Webhook endpoints through the API: admin keys only, the secret in the answer that made the
//! endpoint and nowhere after, every mistake named by its field.

use casework_app::domain::service::Role;
use serde_json::json;

use crate::helpers::{TestApp, answer, error_fields};
use casework_web::on_both_databases;

async fn admin_key(app: &TestApp) -> String {
    app.app
        .create_api_key("integrations", Role::Admin)
        .await
        .unwrap()
        .secret
}

on_both_databases! {
    async fn an_admin_key_registers_lists_and_removes_endpoints(app: TestApp) {
        let key = admin_key(&app).await;
        let body = json!({
            "url": "http://127.0.0.1:9/hook",
            "description": "Test CRM",
            "service": "missed-bin",
            "events": ["case.created", "case.closed"],
            "allow_private": true
        });
        let made = app.client.post(app.url("/webhooks")).bearer_auth(&key).json(&body).send().await.unwrap();
        let (status, made) = answer(made).await;
        assert_eq!(status, 201, "{made}");
        assert!(made["secret"].as_str().unwrap().starts_with("whsec_"));
        assert_eq!(made["webhook"]["events"], json!(["case.created", "case.closed"]));
        assert_eq!(made["webhook"]["enabled"], true);
        let id = made["webhook"]["id"].as_i64().unwrap();

        app.create(&crate::helpers::missed_bin()).await;
        let (status, list) = answer(app.client.get(app.url("/webhooks")).bearer_auth(&key).send().await.unwrap()).await;
        assert_eq!(status, 200);
        assert_eq!(list["webhooks"].as_array().unwrap().len(), 1);
        assert!(!list.to_string().contains(made["secret"].as_str().unwrap()));
        let (status, detail) = answer(app.client.get(app.url(&format!("/webhooks/{id}"))).bearer_auth(&key).send().await.unwrap()).await;
        assert_eq!(status, 200);
        assert_eq!(detail["deliveries"][0]["type"], "case.created");
        assert_eq!(detail["deliveries"][0]["status"], "pending");
        let delivery = detail["deliveries"][0]["id"].as_i64().unwrap();
        let resend = app.client.post(app.url(&format!("/webhooks/{id}/deliveries/{delivery}/resend"))).bearer_auth(&key).send().await.unwrap();
        assert_eq!(resend.status(), 202);

        let removed = app.client.delete(app.url(&format!("/webhooks/{id}"))).bearer_auth(&key).send().await.unwrap();
        assert_eq!(removed.status(), 204);
        let (status, gone) = answer(app.client.get(app.url(&format!("/webhooks/{id}"))).bearer_auth(&key).send().await.unwrap()).await;
        assert_eq!((status, gone["error"]["code"].as_str()), (404, Some("not_found")));
    }

    async fn mistakes_are_named_and_other_roles_refused(app: TestApp) {
        let key = admin_key(&app).await;
        let bad = json!({"url": "https://192.168.1.20/hook", "service": "no-such", "events": ["case.deleted"]});
        let (status, body) = answer(app.client.post(app.url("/webhooks")).bearer_auth(&key).json(&bad).send().await.unwrap()).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(error_fields(&body), ["url", "service", "events"]);
        let (status, _) = answer(app.client.post(app.url("/webhooks")).bearer_auth(&key).json(&json!({"url": "https://example.org/", "events": [], "secret": "mine"})).send().await.unwrap()).await;
        assert_eq!(status, 400, "unknown fields are refused");

        // The test client's key is a lead's.
        let (status, body) = answer(app.get("/webhooks").send().await.unwrap()).await;
        assert_eq!((status, body["error"]["code"].as_str()), (403, Some("forbidden")));
        let good = json!({"url": "https://example.org/hook", "events": ["case.created"]});
        let (status, _) = answer(app.post("/webhooks", &good).send().await.unwrap()).await;
        assert_eq!(status, 403);
        assert!(app.app.webhooks(&casework_web::testing::system()).await.unwrap().is_empty());
    }
}
