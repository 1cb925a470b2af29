//! Starts the real server with its hooks switched on, on a random port against a fresh database.

use casework_app::domain::case::{Case, CaseDraft, Channel, Contact, Language};
use casework_app::{App, Features, NewCaseRequest, Senders};
use casework_web::testing::{self, TestDatabase, system};
use casework_web::{HookTokens, WebConfig};
use reqwest::{Client, Response};
use serde_json::{Value, json};

pub const NOTIFY_TOKEN: &str = "notify-callback-token-for-tests";
pub const EMAIL_TOKEN: &str = "inbound-email-token-for-tests";

pub struct TestApp {
    pub address: String,
    pub client: Client,
    pub app: App,
    _database: TestDatabase,
}

pub async fn spawn_app(database: TestDatabase) -> TestApp {
    let app = testing::app(&database, Features::default())
        .await
        .with_senders(Senders::dev());
    let config = WebConfig {
        hooks: HookTokens {
            notify: Some(NOTIFY_TOKEN.into()),
            inbound_email: Some(EMAIL_TOKEN.into()),
        },
        ..WebConfig::default()
    };
    let address = testing::serve(casework_web::router_with(app.clone(), &config)).await;
    TestApp {
        address,
        client: Client::new(),
        app,
        _database: database,
    }
}

/// Notify's received-text callback body.
pub fn received_text(number: &str, message: &str) -> Value {
    json!({
        "id": uuid::Uuid::now_v7().to_string(),
        "source_number": number,
        "destination_number": "07700900000",
        "message": message,
        "date_received": "2026-12-07T10:00:00.000000Z"
    })
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Posts `body` as GOV.UK Notify posts a callback.
    pub async fn notify(&self, path: &str, body: &str) -> Response {
        self.client
            .post(self.url(path))
            .bearer_auth(NOTIFY_TOKEN)
            .header("Content-Type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .unwrap()
    }

    /// Posts a raw email as a mail gateway does.
    pub async fn email(&self, raw: Vec<u8>) -> Response {
        self.client
            .post(self.url("/hooks/email/inbound"))
            .bearer_auth(EMAIL_TOKEN)
            .header("Content-Type", "message/rfc822")
            .body(raw)
            .send()
            .await
            .unwrap()
    }

    /// A missed bin whose resident prefers texts, at 07700 900123 and sam@example.com.
    pub async fn texting_case(&self) -> Case {
        let draft = CaseDraft {
            contact: Some(Contact {
                name: "Sam Resident".into(),
                email: Some("sam@example.com".into()),
                phone: Some("07700 900123".into()),
                preferred_channel: Channel::Sms,
                language: Language::En,
            }),
            answers: serde_json::from_value(json!({
                "address": "12 Mill Lane\nNewtown\nNT1 3AB",
                "bin_type": "recycling",
                "collection_date": "2026-12-01",
                "bin_out_by_7am": true
            }))
            .unwrap(),
            ..CaseDraft::default()
        };
        let request = NewCaseRequest {
            service: "missed-bin".into(),
            draft,
            idempotency: None,
        };
        self.app.create_case(&system(), request).await.unwrap().0
    }

    /// The case's messages, oldest first, as JSON.
    pub async fn thread(&self, reference: &str) -> Vec<Value> {
        let messages = self
            .app
            .messages(&system(), reference.parse().unwrap())
            .await
            .unwrap();
        messages
            .iter()
            .map(|m| serde_json::to_value(m).unwrap())
            .collect()
    }

    /// Runs the jobs due now, as the worker would.
    pub async fn run_jobs(&self) {
        let now = self.app.now();
        let jobs = self
            .app
            .store()
            .claim_jobs("test", now, now + time::Duration::minutes(5), 100)
            .await
            .unwrap();
        for job in jobs {
            self.app.run_job(&job).await;
            self.app.store().complete_job(job.id).await.unwrap();
        }
    }
}
