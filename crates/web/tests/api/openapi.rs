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
                .replace("{code}", "missed-bin")
                .replace("{id}", "0193a5c4-0000-7000-8000-000000000000");
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
        assert_eq!(operations, 28);
    }

    async fn the_plan_is_described(app: TestApp) {
        let (status, doc) = crate::helpers::answer(app.get("/openapi.json").send().await.unwrap()).await;
        assert_eq!(status, 200);
        let operations = [
            ("get", "/cases/{reference}/plan"),
            ("put", "/cases/{reference}/plan/goal"),
            ("post", "/cases/{reference}/plan/actions"),
            ("get", "/cases/{reference}/plan/actions/{id}"),
            ("patch", "/cases/{reference}/plan/actions/{id}"),
            ("delete", "/cases/{reference}/plan/actions/{id}"),
            ("post", "/cases/{reference}/plan/actions/{id}/complete"),
            ("post", "/cases/{reference}/plan/actions/{id}/reopen"),
            ("post", "/cases/{reference}/plan/links"),
            ("get", "/cases/{reference}/plan/links"),
            ("post", "/cases/{reference}/plan/links/{id}/revoke"),
        ];
        for (method, path) in operations {
            let operation = &doc["paths"][path][method];
            assert!(operation.is_object(), "{method} {path} is not described");
            assert_eq!(operation["tags"][0], "plan", "{method} {path}");
        }
        let schemas = &doc["components"]["schemas"];
        for schema in ["PlanBody", "ActionBody", "GoalBody", "NewActionBody", "ActionChangeBody", "NewLinkBody", "LinkBody", "LinkList"] {
            assert!(schemas[schema].is_object(), "{schema}");
        }
        assert!(schemas["ErrorBody"]["properties"]["current_plan"].is_object());
        assert_eq!(schemas["ActionBody"]["properties"]["due_on"]["format"], "date");
        let delete = &doc["paths"]["/cases/{reference}/plan/actions/{id}"]["delete"]["parameters"];
        assert!(delete.as_array().unwrap().iter().any(|p| p["name"] == "version" && p["in"] == "query"));
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
