use serde_json::json;

use crate::helpers::{answer, error_fields, missed_bin};
use casework_web::on_both_databases;

on_both_databases! {
    async fn a_message_is_queued_and_listed(app: TestApp) {
        let case = app.create(&missed_bin()).await;
        let reference = case["reference"].as_str().unwrap();
        let path = format!("/cases/{reference}/messages");

        let (status, empty) = answer(app.get(&path).send().await.unwrap()).await;
        assert_eq!(status, 200, "{empty}");
        assert_eq!(empty, json!({ "messages": [] }));

        let (status, sent) = answer(
            app.post(&path, &json!({ "body": "We will be back on Tuesday.", "subject": "Your bin", "channel": "email" }))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 202, "{sent}");
        assert_eq!(sent["status"], "queued");
        assert_eq!(sent["direction"], "outbound");
        assert_eq!(sent["subject"], "Your bin");
        assert!(sent["author"].as_str().unwrap().starts_with("api:"));

        let (_, listed) = answer(app.get(&path).send().await.unwrap()).await;
        assert_eq!(listed["messages"].as_array().unwrap().len(), 1);
        assert_eq!(listed["messages"][0]["id"], sent["id"]);
    }

    async fn replies_are_listed_with_their_whole_text(app: TestApp) {
        let case = app.create(&missed_bin()).await;
        let reference = case["reference"].as_str().unwrap();
        let raw = "From: amira.khan@example.com\r\nTo: council@council.example\r\nSubject: Re: bin\r\n\r\n\
                   Still not emptied.\r\n\r\nOn Monday the council wrote:\r\n> We will come back\r\n";
        app.app.receive_email(raw.as_bytes()).await.unwrap();
        let (status, listed) = answer(app.get(&format!("/cases/{reference}/messages")).send().await.unwrap()).await;
        assert_eq!(status, 200, "{listed}");
        let reply = &listed["messages"][0];
        assert_eq!(reply["direction"], "inbound");
        assert_eq!(reply["status"], "received");
        assert_eq!(reply["author"], "resident");
        assert_eq!(reply["body"], "Still not emptied.");
        assert!(reply["original"].as_str().unwrap().contains("> We will come back"));
    }

    async fn bad_messages_name_their_field(app: TestApp) {
        let case = app.create(&missed_bin()).await;
        let path = format!("/cases/{}/messages", case["reference"].as_str().unwrap());
        let (status, body) = answer(app.post(&path, &json!({ "body": "  " })).send().await.unwrap()).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(error_fields(&body), ["body"]);
        let (status, body) = answer(
            app.post(&path, &json!({ "body": "Hi", "channel": "pigeon" })).send().await.unwrap(),
        )
        .await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(error_fields(&body), ["channel"]);
        let (status, _) = answer(
            app.post("/cases/CW-999999/messages", &json!({ "body": "Hi" })).send().await.unwrap(),
        )
        .await;
        assert_eq!(status, 404);
    }
}
