use crate::helpers::answer;
use casework_web::on_both_databases;

on_both_databases! {
    async fn lists_the_shipped_services(app: TestApp) {
        let (status, body) = answer(app.get("/services").send().await.unwrap()).await;
        assert_eq!(status, 200);
        let codes: Vec<&str> = body["services"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["code"].as_str().unwrap())
            .collect();
        for code in ["missed-bin", "housing-repair", "noise-complaint", "homelessness-prevention"] {
            assert!(codes.contains(&code), "{code} missing from {codes:?}");
        }
    }

    async fn shows_one_definition(app: TestApp) {
        let (status, body) = answer(app.get("/services/housing-repair").send().await.unwrap()).await;
        assert_eq!(status, 200);
        let priorities: Vec<(&str, u64)> = body["priorities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["code"].as_str().unwrap(), p["working_days"].as_u64().unwrap()))
            .collect();
        assert!(priorities.contains(&("emergency", 1)), "{priorities:?}");
        assert_eq!(body["initial_state"], "reported");
        assert!(body["states"].as_array().unwrap().iter().any(|s| s["closed"] == true));
        assert!(body["fields"].as_array().unwrap().iter().any(|f| f["kind"] == "single_choice"));
    }

    async fn an_unknown_service_is_not_found(app: TestApp) {
        let (status, body) = answer(app.get("/services/parking").send().await.unwrap()).await;
        assert_eq!(status, 404);
        assert_eq!(body["error"]["code"], "not_found");
    }

    async fn no_key_or_a_wrong_key_is_refused(app: TestApp) {
        let none = app.client.get(app.url("/services")).send().await.unwrap();
        let (status, body) = answer(none).await;
        assert_eq!(status, 401);
        assert_eq!(body["error"]["code"], "unauthorized");
        let wrong = app
            .client
            .get(app.url("/cases"))
            .bearer_auth("cw_not-a-real-key")
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), 401);
        let not_bearer = app
            .client
            .get(app.url("/cases"))
            .header("Authorization", format!("Basic {}", app.key))
            .send()
            .await
            .unwrap();
        assert_eq!(not_bearer.status(), 401);
    }
}
