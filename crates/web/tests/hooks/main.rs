//! The inbound hooks over HTTP: GOV.UK Notify's callbacks and inbound email, each behind its
//! bearer token, on SQLite and on PostgreSQL.

mod helpers;

use casework_app::domain::message::{MessageDraft, MessageStatus};
use casework_web::on_both_databases;
use serde_json::json;

use crate::helpers::{EMAIL_TOKEN, NOTIFY_TOKEN, received_text};

on_both_databases! {
    async fn hooks_refuse_callers_without_their_token(app: TestApp) {
        for (path, good) in [
            ("/hooks/notify/received-text", NOTIFY_TOKEN),
            ("/hooks/notify/delivery-status", NOTIFY_TOKEN),
            ("/hooks/email/inbound", EMAIL_TOKEN),
        ] {
            let other = if good == NOTIFY_TOKEN { EMAIL_TOKEN } else { NOTIFY_TOKEN };
            for token in [None, Some("wrong-token-wrong-token-wrong"), Some(other)] {
                let mut request = app.client.post(app.url(path)).body(received_text("447700900123", "x").to_string());
                if let Some(token) = token {
                    request = request.bearer_auth(token);
                }
                let response = request.send().await.unwrap();
                assert_eq!(response.status(), 401, "{path} with {token:?}");
                let body: serde_json::Value = response.json().await.unwrap();
                assert_eq!(body["error"]["code"], "unauthorized");
            }
        }
        assert_eq!(app.app.count_unmatched_replies(&casework_web::testing::system()).await.unwrap(), 0);
    }

    async fn malformed_calls_get_400_naming_the_problem(app: TestApp) {
        let response = app.notify("/hooks/notify/received-text", "{\"id\": 1}").await;
        assert_eq!(response.status(), 400);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "malformed");
        assert!(body["error"]["message"].as_str().unwrap().contains("received text"));

        let response = app.notify("/hooks/notify/delivery-status", "not json").await;
        assert_eq!(response.status(), 400);

        let response = app.email(b"no headers, no sender".to_vec()).await;
        assert_eq!(response.status(), 400);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"]["fields"][0]["field"], "message");
    }

    async fn a_received_text_lands_on_its_case_once(app: TestApp) {
        let case = app.texting_case().await;
        let body = received_text("447700900123", "Thanks, Tuesday is fine").to_string();
        let response = app.notify("/hooks/notify/received-text", &body).await;
        assert_eq!(response.status(), 201);
        assert_eq!(response.json::<serde_json::Value>().await.unwrap(), json!({ "filed": "case" }));
        let again = app.notify("/hooks/notify/received-text", &body).await;
        assert_eq!(again.status(), 200, "Notify repeated its callback");
        assert_eq!(again.json::<serde_json::Value>().await.unwrap(), json!({ "filed": "repeated" }));

        let thread = app.thread(&case.reference.to_string()).await;
        let replies: Vec<&serde_json::Value> =
            thread.iter().filter(|m| m["direction"] == "inbound").collect();
        assert_eq!(replies.len(), 1);
        assert_eq!(replies[0]["body"], "Thanks, Tuesday is fine");

        let stranger = received_text("447700900555", "Who is this?").to_string();
        let response = app.notify("/hooks/notify/received-text", &stranger).await;
        assert_eq!(response.json::<serde_json::Value>().await.unwrap(), json!({ "filed": "waiting" }));

        // Counted by channel; other tests in this process count too.
        let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
        let received = metrics
            .lines()
            .find(|line| line.starts_with("casework_messages_total{") && line.contains("channel=\"sms\"") && line.contains("outcome=\"received\""))
            .and_then(|line| line.rsplit(' ').next())
            .and_then(|n| n.parse::<f64>().ok());
        assert!(received.is_some_and(|n| n >= 2.0), "{metrics}");
    }

    async fn delivery_receipts_update_the_message(app: TestApp) {
        let case = app.texting_case().await;
        let system = casework_web::testing::system();
        let sent = app
            .app
            .send_message(&system, case.reference, MessageDraft { body: "On Tuesday.".into(), ..MessageDraft::default() })
            .await
            .unwrap();
        app.run_jobs().await;
        let provider_id = app.app.store().message(sent.id).await.unwrap().unwrap().provider_id.unwrap();
        let receipt = json!({
            "id": provider_id,
            "reference": sent.id.to_string(),
            "to": "07700900123",
            "status": "delivered",
            "created_at": "2026-12-07T10:00:00.000000Z",
            "completed_at": "2026-12-07T10:00:05.000000Z",
            "sent_at": "2026-12-07T10:00:01.000000Z",
            "notification_type": "sms"
        });
        let response = app.notify("/hooks/notify/delivery-status", &receipt.to_string()).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.json::<serde_json::Value>().await.unwrap(), json!({ "changed": true }));
        let stored = app.app.store().message(sent.id).await.unwrap().unwrap();
        assert_eq!(stored.status, MessageStatus::Delivered);
        // A late "sending" never moves it back.
        let mut sending = receipt.clone();
        sending["status"] = json!("sending");
        let response = app.notify("/hooks/notify/delivery-status", &sending.to_string()).await;
        assert_eq!(response.json::<serde_json::Value>().await.unwrap(), json!({ "changed": false }));
    }

    async fn inbound_email_is_taken_in_beyond_the_usual_body_limit(app: TestApp) {
        let case = app.texting_case().await;
        let photo = "A".repeat(2 * 1024 * 1024);
        let raw = format!(
            "From: Sam <sam@example.com>\r\nTo: council@council.example\r\nSubject: Photo\r\n\
             MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
             --b\r\nContent-Type: text/plain\r\n\r\nThe bin, as promised.\r\n\
             --b\r\nContent-Type: image/jpeg; name=\"bin.jpg\"\r\n\
             Content-Disposition: attachment; filename=\"bin.jpg\"\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{photo}\r\n--b--\r\n"
        );
        let response = app.email(raw.into_bytes()).await;
        assert_eq!(response.status(), 201);
        let thread = app.thread(&case.reference.to_string()).await;
        assert_eq!(thread.last().unwrap()["body"], "The bin, as promised.");
    }
}

mod switched_off {
    use casework_web::testing::{self, TestDatabase};

    #[tokio::test]
    async fn hooks_without_a_token_are_not_served() {
        let database = TestDatabase::sqlite();
        let app = testing::app(&database, Default::default()).await;
        let address = testing::serve(casework_web::router(app)).await;
        for path in [
            "/hooks/notify/received-text",
            "/hooks/notify/delivery-status",
            "/hooks/email/inbound",
        ] {
            let response = reqwest::Client::new()
                .post(format!("{address}{path}"))
                .body("{}")
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 404, "{path}");
        }
    }
}
