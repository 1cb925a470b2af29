use serde_json::{Value, json};

use crate::helpers::{answer, error_fields, missed_bin};
use casework_web::on_both_databases;

on_both_databases! {
    async fn a_report_becomes_a_case_with_a_reference(app: TestApp) {
        let response = app.post("/cases", &missed_bin()).send().await.unwrap();
        assert_eq!(response.status(), 201);
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        let etag = response.headers()["etag"].to_str().unwrap().to_owned();
        let case: Value = response.json().await.unwrap();
        let reference = case["reference"].as_str().unwrap();
        assert!(reference.starts_with("CW-") && reference.len() == 9, "{reference}");
        assert_eq!(location, format!("/api/v1/cases/{reference}"));
        assert_eq!(etag, "\"1\"");
        assert_eq!(case["state"], "reported");
        assert_eq!(case["open"], true);
        assert_eq!(case["priority"], "standard");
        assert_eq!(case["team"], "waste");
        assert_eq!(case["contact"]["email"], "amira.khan@example.com");
        assert_eq!(case["contact"]["phone"], "07700900123");
        assert_eq!(case["answers"]["bin_type"], "recycling");
        assert_eq!(case["version"], 1);
        assert!(case["sla_due_at"].as_str().unwrap() > case["created_at"].as_str().unwrap());

        let (status, read) = answer(app.get(&format!("/cases/{reference}")).send().await.unwrap()).await;
        assert_eq!(status, 200);
        assert_eq!(read, case);

        let (_, events) = answer(app.get(&format!("/cases/{reference}/events")).send().await.unwrap()).await;
        let events = events["events"].as_array().unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0]["kind"], "created");
        assert_eq!(events[0]["actor"], "api:test-client");
        assert_eq!(events[0]["data"]["state"], "reported");
    }

    async fn references_are_never_reused(app: TestApp) {
        let first = app.create(&missed_bin()).await;
        let second = app.create(&missed_bin()).await;
        assert_ne!(first["reference"], second["reference"]);
        assert!(second["reference"].as_str() > first["reference"].as_str());
    }

    async fn bad_fields_are_named_and_nothing_is_stored(app: TestApp) {
        let mut body = missed_bin();
        body["contact"]["email"] = json!("not an email");
        body["answers"]["bin_type"] = json!("purple");
        body["answers"]["colour"] = json!("red");
        body["location"] = json!({ "lat": 0.0, "long": 0.0 });
        body["priority"] = json!("whenever");
        let (status, error) = answer(app.post("/cases", &body).send().await.unwrap()).await;
        assert_eq!(status, 422, "{error}");
        assert_eq!(error["error"]["code"], "invalid");
        let fields = error_fields(&error);
        for field in ["contact.email", "answers.bin_type", "answers.colour", "location.lat", "priority"] {
            assert!(fields.contains(&field.to_owned()), "{field} not in {fields:?}");
        }
        assert_eq!(app.case_count().await, 0);
    }

    async fn required_answers_and_contact_are_asked_for(app: TestApp) {
        let mut body = missed_bin();
        body["answers"].as_object_mut().unwrap().remove("bin_type");
        body["contact"]["name"] = json!("  ");
        let (status, error) = answer(app.post("/cases", &body).send().await.unwrap()).await;
        assert_eq!(status, 422);
        let fields = error_fields(&error);
        assert!(fields.contains(&"answers.bin_type".to_owned()), "{fields:?}");
        assert!(fields.contains(&"contact.name".to_owned()), "{fields:?}");
        assert_eq!(app.case_count().await, 0);
    }

    async fn an_unknown_service_names_the_field(app: TestApp) {
        let mut body = missed_bin();
        body["service"] = json!("parking-permit");
        let (status, error) = answer(app.post("/cases", &body).send().await.unwrap()).await;
        assert_eq!(status, 422);
        assert_eq!(error_fields(&error), vec!["service"]);
    }

    async fn unreadable_bodies_are_400_with_the_field(app: TestApp) {
        let send_raw = |body: &'static str, content_type: &'static str| {
            app.client
                .post(app.url("/cases"))
                .bearer_auth(&app.key)
                .header("content-type", content_type)
                .body(body)
                .send()
        };
        let (status, error) = answer(send_raw("{\"service\": ", "application/json").await.unwrap()).await;
        assert_eq!(status, 400);
        assert_eq!(error["error"]["code"], "malformed");

        let (status, _) = answer(send_raw("service=missed-bin", "application/x-www-form-urlencoded").await.unwrap()).await;
        assert_eq!(status, 400);

        let mut no_contact = missed_bin();
        no_contact.as_object_mut().unwrap().remove("contact");
        let (status, error) = answer(app.post("/cases", &no_contact).send().await.unwrap()).await;
        assert_eq!(status, 400);
        assert_eq!(error_fields(&error), vec!["contact"]);

        let mut wrong_type = missed_bin();
        wrong_type["contact"]["name"] = json!(42);
        let (status, error) = answer(app.post("/cases", &wrong_type).send().await.unwrap()).await;
        assert_eq!(status, 400);
        assert_eq!(error_fields(&error), vec!["contact.name"]);

        let mut unknown = missed_bin();
        unknown["colour"] = json!("red");
        let (status, error) = answer(app.post("/cases", &unknown).send().await.unwrap()).await;
        assert_eq!(status, 400);
        assert!(error["error"]["message"].as_str().unwrap().contains("colour"), "{error}");
        assert_eq!(app.case_count().await, 0);
    }

    async fn no_input_causes_a_server_error(app: TestApp) {
        let bodies = [
            json!(null), json!([]), json!("text"), json!(1e308), json!({}),
            json!({"service": null}), json!({"service": "missed-bin", "contact": {}}),
            json!({"service": "missed-bin", "contact": {"name": "A"}, "answers": []}),
            json!({"service": "missed-bin", "contact": {"name": "A"}, "answers": {"bin_type": {"a": [1]}}}),
            json!({"service": "missed-bin", "contact": {"name": "A", "preferred_channel": "pigeon"}}),
            json!({"service": "missed-bin", "contact": {"name": "A"}, "location": {"lat": "north"}}),
            json!({"service": "x".repeat(100_000), "contact": {"name": "A"}}),
            json!({"service": "missed-bin", "contact": {"name": "\u{0000}\u{202e}"}, "description": "\u{0000}"}),
        ];
        for body in bodies {
            let response = app.post("/cases", &body).send().await.unwrap();
            let status = response.status().as_u16();
            assert!((400..500).contains(&status), "{status} for {body}");
            let error: Value = response.json().await.unwrap();
            assert!(error["error"]["message"].is_string());
        }
        let huge = "x".repeat(2 * 1024 * 1024);
        let response = app
            .client
            .post(app.url("/cases"))
            .bearer_auth(&app.key)
            .header("content-type", "application/json")
            .body(huge)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_client_error(), "{}", response.status());
        assert_eq!(app.case_count().await, 0);
    }

    async fn a_retried_create_returns_the_first_case(app: TestApp) {
        let body = missed_bin();
        let send = || app.post("/cases", &body).header("Idempotency-Key", "order-7431").send();
        let first = send().await.unwrap();
        assert_eq!(first.status(), 201);
        let first: Value = first.json().await.unwrap();
        let again = send().await.unwrap();
        assert_eq!(again.status(), 200);
        assert_eq!(again.headers()["idempotent-replayed"], "true");
        let again: Value = again.json().await.unwrap();
        assert_eq!(again["reference"], first["reference"]);
        assert_eq!(app.case_count().await, 1);

        let mut different = missed_bin();
        different["description"] = json!("Something else");
        let (status, error) = answer(
            app.post("/cases", &different).header("Idempotency-Key", "order-7431").send().await.unwrap(),
        )
        .await;
        assert_eq!(status, 422, "{error}");
        assert_eq!(app.case_count().await, 1);
    }

    async fn concurrent_retries_make_one_case(app: TestApp) {
        let body = missed_bin();
        let requests = (0..8).map(|_| {
            app.post("/cases", &body).header("Idempotency-Key", "same-key").send()
        });
        let responses = futures_join_all(requests).await;
        let mut references = Vec::new();
        for response in responses {
            let response = response.unwrap();
            assert!(matches!(response.status().as_u16(), 200 | 201), "{}", response.status());
            let case: Value = response.json().await.unwrap();
            references.push(case["reference"].as_str().unwrap().to_owned());
        }
        references.dedup();
        assert_eq!(references.len(), 1, "{references:?}");
        assert_eq!(app.case_count().await, 1);
    }

    async fn another_system_finds_its_case_by_its_own_reference(app: TestApp) {
        let mut body = missed_bin();
        body["external"] = json!({ "system": "civica", "reference": "WST/2026/0042" });
        let case = app.create(&body).await;
        assert_eq!(case["external"]["reference"], "WST/2026/0042");
        let (status, found) = answer(
            app.get("/cases?external_system=civica&external_reference=WST%2F2026%2F0042")
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200);
        let found = found["cases"].as_array().unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0]["reference"], case["reference"]);

        let (status, error) = answer(app.post("/cases", &body).send().await.unwrap()).await;
        assert_eq!(status, 409);
        assert!(error["error"]["message"].as_str().unwrap().contains(case["reference"].as_str().unwrap()));
        assert_eq!(app.case_count().await, 1);
    }
}

/// Sends every request at once and waits for all of them.
async fn futures_join_all<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.unwrap());
    }
    out
}
