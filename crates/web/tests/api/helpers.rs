//! Starts the real server on a random port against a fresh database, as a client would meet it.

use casework_app::domain::service::Role;
use casework_app::{App, Features};
use casework_web::testing::{self, TestDatabase};
use reqwest::{Client, RequestBuilder, Response};
use serde_json::{Value, json};

pub struct TestApp {
    pub address: String,
    pub client: Client,
    /// An API key with the `lead` role.
    pub key: String,
    pub app: App,
    _database: TestDatabase,
}

pub async fn spawn_app(database: TestDatabase) -> TestApp {
    spawn_app_with(database, Features::default()).await
}

pub async fn spawn_app_with(database: TestDatabase, features: Features) -> TestApp {
    let app = testing::app(&database, features).await;
    let key = app
        .create_api_key("test-client", Role::Lead)
        .await
        .expect("an API key is made")
        .secret;
    let address = testing::serve(casework_web::router(app.clone())).await;
    TestApp {
        address,
        client: Client::new(),
        key,
        app,
        _database: database,
    }
}

/// A valid missed-bin report; tests change what they need.
pub fn missed_bin() -> Value {
    json!({
        "service": "missed-bin",
        "contact": {
            "name": "Amira Khan",
            "email": "Amira.Khan@example.com",
            "phone": "07700 900123",
            "preferred_channel": "sms"
        },
        "answers": {
            "address": "12 Mill Lane\nNewtown\nNT1 3AB",
            "bin_type": "recycling",
            "collection_date": "2026-12-01",
            "bin_out_by_7am": true
        },
        "description": "Recycling missed again, the whole street.",
        "location": { "lat": 52.05, "long": -1.3 }
    })
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.address)
    }

    pub fn get(&self, path: &str) -> RequestBuilder {
        self.client.get(self.url(path)).bearer_auth(&self.key)
    }

    pub fn post(&self, path: &str, body: &Value) -> RequestBuilder {
        self.client
            .post(self.url(path))
            .bearer_auth(&self.key)
            .json(body)
    }

    pub fn patch(&self, path: &str, body: &Value) -> RequestBuilder {
        self.client
            .patch(self.url(path))
            .bearer_auth(&self.key)
            .json(body)
    }

    /// Reports a case and returns it as the API answered.
    pub async fn create(&self, body: &Value) -> Value {
        let response = self.post("/cases", body).send().await.unwrap();
        assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
        response.json().await.unwrap()
    }

    pub async fn case_count(&self) -> i64 {
        self.app
            .store()
            .count_cases(&Default::default())
            .await
            .unwrap()
    }
}

/// The status and JSON body of a response.
pub async fn answer(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let body =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
    (status, body)
}

/// The field paths an error body names.
pub fn error_fields(body: &Value) -> Vec<String> {
    body["error"]["fields"]
        .as_array()
        .map(|fields| {
            fields
                .iter()
                .map(|f| f["field"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}
