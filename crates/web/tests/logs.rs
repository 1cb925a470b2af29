//! What the logs say about a request: its id on every line, and no personal data. Alone in its
//! test binary, because it installs the process's log subscriber to read what is written.

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use casework_app::domain::case::{Actor, Reference};
use casework_app::domain::service::Role;
use casework_app::{App, Caller, Features, NewStaffMember, load_calendar, load_services};
use casework_store::testing::TestDatabase;
use casework_web::WebConfig;
use reqwest::header::CONTENT_TYPE;
use reqwest::redirect::Policy;
use serde_json::{Value, json};
use tracing_subscriber::fmt::MakeWriter;

const EMAIL: &str = "Priya.Sharma@example.com";
const PASSWORD: &str = "plum tree lantern 58";
const RESIDENT: &str = "Amira Khan";
const RESIDENT_EMAIL: &str = "Amira.Khan@example.com";
const RESIDENT_PHONE: &str = "07700 900123";

/// Everything the subscriber writes, kept for the test to read.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    /// What was written from the `from`th byte on.
    fn text_from(&self, from: usize) -> String {
        String::from_utf8(self.0.lock().unwrap()[from..].to_vec()).unwrap()
    }

    fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }
}

impl Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Logs {
    type Writer = Logs;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

fn operator() -> Caller {
    Caller {
        actor: Actor::System,
        role: Role::Admin,
        api_key_id: None,
        teams: None,
    }
}

fn request_id(response: &reqwest::Response) -> String {
    response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_logs_carry_the_request_id_and_no_personal_data() {
    let logs = Logs::default();
    // Debug, more than production logs, so that nothing slips through a quieter level.
    tracing_subscriber::fmt()
        .json()
        .with_env_filter("debug")
        .with_writer(logs.clone())
        .init();

    let database = TestDatabase::sqlite();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let services = load_services(&root.join("services")).unwrap();
    let app = App::new(
        database.store().await,
        services,
        load_calendar(None).unwrap(),
        Features::default(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let router = casework_web::router_with(app.clone(), &WebConfig::default())
        .into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, router).await });
    let client = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    // From here: the requests' logs. Before, the migrations' text, whose comments give
    // example numbers and addresses.
    let requests_from = logs.len();

    let member = app
        .add_staff(
            &operator(),
            NewStaffMember {
                email: EMAIL.into(),
                name: "Priya Sharma".into(),
                role: Role::Admin,
                teams: vec!["waste".into()],
                password: Some(PASSWORD.into()),
            },
        )
        .await
        .unwrap();
    let form = serde_urlencoded::to_string([("email", EMAIL), ("password", PASSWORD)]).unwrap();
    let signed_in = client
        .post(format!("{address}/staff/sign-in"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("x-request-id", "sign-in-0001")
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303);
    assert_eq!(request_id(&signed_in), "sign-in-0001");

    let set_password = app
        .create_set_password_link(&operator(), member.id)
        .await
        .unwrap()
        .token;
    let page = client
        .get(format!("{address}/staff/set-password/{set_password}"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);

    let key = app
        .create_api_key("logs-test", Role::Lead)
        .await
        .unwrap()
        .secret;
    let report = json!({
        "service": "missed-bin",
        "contact": {
            "name": RESIDENT,
            "email": RESIDENT_EMAIL,
            "phone": RESIDENT_PHONE,
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
    });
    // An odd id from the client is replaced by one of ours.
    let created = client
        .post(format!("{address}/api/v1/cases"))
        .bearer_auth(&key)
        .header("x-request-id", "not a sane id")
        .json(&report)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let made_id = request_id(&created);
    assert_ne!(made_id, "not a sane id");
    assert!(uuid::Uuid::parse_str(&made_id).is_ok(), "{made_id}");
    let case: Value = created.json().await.unwrap();
    let reference: Reference = case["reference"].as_str().unwrap().parse().unwrap();

    let search = client
        .get(format!(
            "{address}/api/v1/cases?{}",
            serde_urlencoded::to_string([("q", RESIDENT)]).unwrap()
        ))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(search.status(), 200);

    let token = app.share_plan(&operator(), reference).await.unwrap().token;
    let plan = client
        .get(format!("{address}/plan/{token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(plan.status(), 200);
    let plan_id = request_id(&plan);
    let unknown = client
        .get(format!("{address}/plan/{token}x"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);

    let text = logs.text_from(requests_from);
    let lower = text.to_lowercase();
    for secret in [
        PASSWORD,
        EMAIL,
        "Priya Sharma",
        RESIDENT,
        RESIDENT_EMAIL,
        RESIDENT_PHONE,
        // The number in every stored form; not a shorter part of it, which the digits of
        // timestamps and latencies could hold by chance.
        "7700900123",
        &set_password,
        &token,
        &key,
    ] {
        assert!(
            !lower.contains(&secret.to_lowercase()),
            "the logs hold {secret:?}:\n{text}"
        );
    }
    for id in ["sign-in-0001", &made_id, &plan_id] {
        assert!(text.contains(id), "no request id {id} in the logs:\n{text}");
    }
    assert!(text.contains("/plan/{token}"), "{text}");

    // Every line written inside a request, however deep in other spans, carries its id.
    let request_span = |line: &Value| -> Option<Value> {
        line["spans"]
            .as_array()?
            .iter()
            .find(|span| span["name"] == "request")
            .cloned()
    };
    let in_requests: Vec<(Value, Value)> = text
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .filter_map(|line| request_span(&line).map(|span| (line, span)))
        .collect();
    assert!(in_requests.len() >= 6, "{text}");
    for (line, span) in &in_requests {
        assert!(
            span["request_id"].as_str().is_some_and(|id| !id.is_empty()),
            "{line}"
        );
    }
    assert!(
        in_requests
            .iter()
            .any(|(line, span)| span["request_id"] == "sign-in-0001"
                && line["fields"]["message"] == "signed in"),
        "{text}"
    );
}
