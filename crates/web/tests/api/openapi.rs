use serde_json::Value;

use casework_web::on_both_databases;

on_both_databases! {
    async fn the_document_is_served_without_a_key(app: TestApp) {
        let response = app.client.get(app.url("/openapi.json")).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let doc: Value = response.json().await.unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
        assert_eq!(doc["components"]["securitySchemes"]["api_key"]["scheme"], "bearer");
        assert_eq!(doc, serde_json::to_value(casework_web::openapi()).unwrap());
    }

    async fn every_documented_operation_is_served(app: TestApp) {
        let doc = serde_json::to_value(casework_web::openapi()).unwrap();
        let paths = doc["paths"].as_object().unwrap();
        let case = app.create(&crate::helpers::missed_bin()).await;
        let reference = case["reference"].as_str().unwrap();
        let mut operations = 0;
        for (path, item) in paths {
            let concrete = path
                .replace("{reference}", reference)
                .replace("{code}", "missed-bin");
            for method in item.as_object().unwrap().keys() {
                let method: reqwest::Method = method.to_uppercase().parse().unwrap();
                let response = app
                    .client
                    .request(method.clone(), app.url(&concrete))
                    .bearer_auth(&app.key)
                    .json(&serde_json::json!({}))
                    .send()
                    .await
                    .unwrap();
                let status = response.status().as_u16();
                let documented = item[method.as_str().to_lowercase()]["responses"]
                    .as_object()
                    .unwrap()
                    .contains_key(&status.to_string());
                assert!(documented, "{method} {path} answered {status}, which its entry does not list");
                let body: Value = response.json().await.unwrap();
                assert!(body.is_object(), "{method} {path}");
                operations += 1;
            }
        }
        assert_eq!(operations, 10);
    }

    async fn unknown_api_paths_answer_json(app: TestApp) {
        let response = app.get("/widgets").send().await.unwrap();
        assert_eq!(response.status(), 404);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "not_found");
    }
}

#[tokio::test]
async fn the_api_is_gone_when_its_feature_is_off() {
    let features = "plan,messaging".parse().unwrap();
    let app =
        crate::helpers::spawn_app_with(casework_store::testing::TestDatabase::sqlite(), features)
            .await;
    for path in ["/cases", "/services", "/openapi.json"] {
        let response = app.get(path).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
    }
    let health = app
        .client
        .get(format!("{}/healthz", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200, "the rest keeps working");
}
