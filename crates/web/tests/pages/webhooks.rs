//! Outbound webhooks end to end: the admin pages, and deliveries posted by the real worker to a
//! real receiver (axum on a random port) that checks each signature, fails when told to, and
//! records what it got.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use casework_app::domain::service::Role;
use casework_app::domain::webhook::{MAX_ATTEMPTS, verify_signature};
use casework_app::store::{DELIVERY_JOB, DeliveryStatus, NewWebhookEndpoint, WebhookDelivery};
use casework_app::{App, NewWebhookRequest};
use casework_worker::{Worker, WorkerConfig, backoff};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::helpers::{MONDAY, Page, TestApp, system};
use casework_web::on_both_databases;

const ADMIN: &str = "admin@example.com";
/// How long the receiver is given to answer; it hangs for longer when told to time out.
const TIMEOUT: Duration = Duration::from_millis(300);

#[derive(Debug, Clone, Copy)]
enum Answer {
    Status(u16),
    Hang,
}

/// What the receiver got: the event header, the signature header and the raw body.
#[derive(Debug, Clone)]
struct Received {
    event: String,
    signature: String,
    body: Bytes,
}

#[derive(Clone, Default)]
struct Script {
    /// Answers to give in turn; then `otherwise`.
    answers: Arc<Mutex<VecDeque<Answer>>>,
    otherwise: Arc<Mutex<Option<Answer>>>,
    received: Arc<Mutex<Vec<Received>>>,
}

struct Receiver {
    url: String,
    script: Script,
}

impl Receiver {
    async fn start(answers: &[Answer], otherwise: Answer) -> Self {
        let script = Script::default();
        script.answers.lock().unwrap().extend(answers);
        *script.otherwise.lock().unwrap() = Some(otherwise);
        let router = Router::new()
            .route("/hook", post(receive))
            .with_state(script.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { url, script }
    }

    fn received(&self) -> Vec<Received> {
        self.script.received.lock().unwrap().clone()
    }

    fn answer_from_now(&self, answer: Answer) {
        *self.script.otherwise.lock().unwrap() = Some(answer);
    }
}

async fn receive(State(script): State<Script>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    script.received.lock().unwrap().push(Received {
        event: header("casework-event"),
        signature: header("casework-signature"),
        body,
    });
    let next = script.answers.lock().unwrap().pop_front();
    let answer = next.or(*script.otherwise.lock().unwrap()).unwrap();
    match answer {
        Answer::Status(code) => StatusCode::from_u16(code).unwrap(),
        Answer::Hang => {
            tokio::time::sleep(TIMEOUT * 10).await;
            StatusCode::OK
        }
    }
}

/// Checks a received delivery's signature as docs/webhooks.md tells integrators to, with the
/// app's clock as theirs.
fn signed(received: &Received, secret: &str, now: OffsetDateTime) -> bool {
    verify_signature(secret, &received.signature, &received.body, now, 300)
}

fn worker(app: &TestApp) -> Worker {
    let app: App = app.app.clone().with_webhook_timeout(TIMEOUT);
    Worker::new(app, "test-worker", WorkerConfig::default())
}

/// Registers the receiver for missed bins' `events`, as an admin would.
async fn register(app: &TestApp, receiver: &Receiver, events: &[&str]) -> (i64, String) {
    let added = app
        .app
        .add_webhook(
            &system(),
            NewWebhookRequest {
                url: receiver.url.clone(),
                description: "The CRM".into(),
                service: Some("missed-bin".into()),
                events: events.iter().map(|e| (*e).to_owned()).collect(),
                allow_private: true,
            },
        )
        .await
        .unwrap();
    (added.endpoint.id, added.secret)
}

async fn deliveries(app: &TestApp, endpoint: i64) -> Vec<WebhookDelivery> {
    app.app.webhook(&system(), endpoint).await.unwrap().1
}

/// How many delivery jobs are kept as failed, for an operator.
async fn failed_deliveries(app: &TestApp) -> usize {
    let failed = app.app.store().failed_jobs(100).await.unwrap();
    failed.iter().filter(|job| job.kind == DELIVERY_JOB).count()
}

on_both_databases! {
    async fn an_admin_adds_an_endpoint_and_sees_its_secret_once(app: TestApp) {
        let admin = app.sign_in(ADMIN, Role::Admin).await;
        let empty = admin.page("/staff/admin/webhooks").await;
        assert_eq!(empty.title(), "Webhooks – Casework");
        assert_eq!(empty.text("#no-endpoints"), "No endpoints have been added.");

        // Mistakes are named, and what was typed is kept.
        let response = admin
            .post(
                "/staff/admin/webhooks/new",
                &[("url", "http://crm.example.org/hook"), ("description", "The CRM"), ("service", "missed-bin")],
            )
            .await;
        let page = Page::of(response).await;
        assert_eq!(page.status, 422);
        assert_eq!(page.title(), "Error: Add a webhook endpoint – Casework");
        assert_eq!(
            page.errors(),
            [
                ("The address must start with https://".to_owned(), "#url".to_owned()),
                ("Choose at least one event to send".to_owned(), "#events".to_owned()),
            ]
        );
        assert_eq!(page.value("url"), "http://crm.example.org/hook");
        assert_eq!(page.value("description"), "The CRM");
        assert_eq!(page.attr("#service option[selected]", "value").as_deref(), Some("missed-bin"));

        // Addresses on this machine or a private network need the admin's allowance.
        for url in ["https://127.0.0.1/hook", "https://localhost/hook", "https://[::1]/", "https://10.0.0.7/"] {
            let page = Page::of(
                admin
                    .post("/staff/admin/webhooks/new", &[("url", url), ("events", "case.created")])
                    .await,
            )
            .await;
            assert_eq!(page.status, 422, "{url}");
            assert_eq!(
                page.errors(),
                [("The address must be on the public internet, not a local or private network".to_owned(), "#url".to_owned())],
                "{url}"
            );
            let ticked = page.attrs("input[name=events][checked]", "value");
            assert_eq!(ticked, ["case.created"]);
        }
        let added = admin
            .post(
                "/staff/admin/webhooks/new",
                &[
                    ("url", "http://127.0.0.1:9/hook"),
                    ("description", "Test CRM"),
                    ("service", ""),
                    ("events", "case.created"),
                    ("events", "plan_action.completed"),
                    ("allow_private", "yes"),
                ],
            )
            .await;
        let added = Page::of(added).await;
        assert_eq!(added.status, 200);
        assert_eq!(added.text("h1"), "Webhook endpoint added");
        let secret = added.text("#secret");
        assert!(secret.starts_with("whsec_") && secret.len() > 40, "{secret}");

        let list = admin.page("/staff/admin/webhooks").await;
        assert_eq!(
            list.texts("#endpoints tbody tr"),
            ["http://127.0.0.1:9/hook Test CRM All services Case created, Plan action completed On"]
        );
        // The secret is not shown again, on any page.
        let href = list.attr("#endpoints tbody a", "href").unwrap();
        let endpoint = admin.page(&href).await;
        assert_eq!(endpoint.text("h1"), "http://127.0.0.1:9/hook");
        assert_eq!(endpoint.text("#no-deliveries"), "Nothing has been sent to this endpoint yet.");
        let raw = admin.get(&href).await.text().await.unwrap();
        assert!(!raw.contains(&secret));
        assert!(!list.html.html().contains(&secret));
    }

    async fn an_admin_stops_starts_and_removes_an_endpoint(app: TestApp) {
        let receiver = Receiver::start(&[], Answer::Status(204)).await;
        let (id, _) = register(&app, &receiver, &["case.created"]).await;
        let admin = app.sign_in(ADMIN, Role::Admin).await;
        let path = format!("/staff/admin/webhooks/{id}");

        let stopped = admin.submit(&format!("{path}/enabled"), &[("enabled", "false")]).await;
        assert_eq!(stopped.text(".govuk-notification-banner__heading"), "Deliveries to this endpoint have stopped");
        assert!(stopped.text("#endpoint").contains("Stopped"));
        // A stopped endpoint gets nothing: no delivery is even queued.
        app.report("Amira Khan").await;
        assert!(deliveries(&app, id).await.is_empty());
        worker(&app).run_due().await.unwrap();
        assert!(receiver.received().is_empty());

        let started = admin.submit(&format!("{path}/enabled"), &[("enabled", "true")]).await;
        assert_eq!(started.text(".govuk-notification-banner__heading"), "Deliveries to this endpoint have started again");
        // A delivery queued, then the endpoint stopped before its turn: it is not sent.
        app.report("Ben Okafor").await;
        admin.submit(&format!("{path}/enabled"), &[("enabled", "false")]).await;
        worker(&app).run_due().await.unwrap();
        assert!(receiver.received().is_empty());
        let page = admin.page(&path).await;
        assert_eq!(
            page.texts("#deliveries tbody tr td:nth-child(5)"),
            ["The endpoint was disabled before this was sent"]
        );

        let confirm = admin.page(&format!("{path}/remove")).await;
        assert_eq!(confirm.text("h1"), format!("Remove {}", receiver.url));
        let list = admin.submit(&format!("{path}/remove"), &[]).await;
        assert_eq!(list.text(".govuk-notification-banner__heading"), "The webhook endpoint has been removed");
        assert_eq!(list.text("#no-endpoints"), "No endpoints have been added.");
        assert_eq!(admin.get(&path).await.status(), 404);
        assert_eq!(admin.post(&format!("{path}/remove"), &[]).await.status(), 404);
    }

    async fn agents_and_leads_may_not_see_or_change_webhooks(app: TestApp) {
        let receiver = Receiver::start(&[], Answer::Status(200)).await;
        let (id, _) = register(&app, &receiver, &["case.created"]).await;
        app.report("Amira Khan").await;
        let delivery = deliveries(&app, id).await[0].id;
        for (email, role) in [("agent@example.com", Role::Agent), ("lead@example.com", Role::Lead)] {
            let browser = app.sign_in(email, role).await;
            for path in [
                "/staff/admin/webhooks".to_owned(),
                "/staff/admin/webhooks/new".to_owned(),
                format!("/staff/admin/webhooks/{id}"),
                format!("/staff/admin/webhooks/{id}/remove"),
            ] {
                assert_eq!(browser.get(&path).await.status(), 403, "{role:?} GET {path}");
            }
            for (path, form) in [
                ("/staff/admin/webhooks/new".to_owned(), vec![("url", "https://example.org/"), ("events", "case.created")]),
                (format!("/staff/admin/webhooks/{id}/enabled"), vec![("enabled", "false")]),
                (format!("/staff/admin/webhooks/{id}/remove"), vec![]),
                (format!("/staff/admin/webhooks/{id}/deliveries/{delivery}/resend"), vec![]),
            ] {
                assert_eq!(browser.post(&path, &form).await.status(), 403, "{role:?} POST {path}");
            }
        }
        // Nothing changed.
        let (endpoint, list) = app.app.webhook(&system(), id).await.unwrap();
        assert!(endpoint.enabled);
        assert_eq!(app.app.webhooks(&system()).await.unwrap().len(), 1);
        assert_eq!(list.len(), 1);
        // Signed out, the pages ask for sign-in.
        let out = app.signed_out().get("/staff/admin/webhooks").await;
        assert_eq!(out.status(), 303);
    }

    async fn deliveries_are_signed_retried_and_then_delivered(app: TestApp) {
        // A server error, then no answer in time, then accepted.
        let receiver = Receiver::start(&[Answer::Status(500), Answer::Hang], Answer::Status(202)).await;
        let (id, secret) = register(&app, &receiver, &["case.created", "case.closed"]).await;
        let case = app.report("Amira Khan").await;
        // Another service's case, and an event not subscribed to, send nothing.
        app.report_repair("Ben Okafor", "routine").await;
        app.app
            .add_note(&system(), case.reference, case.version, "Crew told")
            .await
            .unwrap();
        let list = deliveries(&app, id).await;
        assert_eq!(list.len(), 1);
        let worker = worker(&app);

        let mut now = MONDAY;
        let mut attempts_at = Vec::new();
        for (attempt, status, outcome) in [
            (1, DeliveryStatus::Pending, "The endpoint answered 500"),
            (2, DeliveryStatus::Pending, "the endpoint did not answer in time"),
            (3, DeliveryStatus::Delivered, ""),
        ] {
            worker.run_due().await.unwrap();
            assert_eq!(receiver.received().len(), attempt as usize);
            attempts_at.push(now);
            let delivery = deliveries(&app, id).await.remove(0);
            assert_eq!((delivery.attempts, delivery.status), (attempt, status));
            assert_eq!(delivery.last_error.as_deref().unwrap_or_default(), outcome);
            assert_eq!(delivery.last_attempt_at, Some(now));
            // Nothing is tried again until the job system's backoff has passed.
            worker.run_due().await.unwrap();
            assert_eq!(receiver.received().len(), attempt as usize);
            now += backoff(attempt);
            app.set_now(now);
        }
        let delivered = deliveries(&app, id).await.remove(0);
        assert_eq!(delivered.last_status, Some(202));

        let received = receiver.received();
        assert_eq!(received.len(), 3);
        for (got, at) in received.iter().zip(&attempts_at) {
            assert!(signed(got, &secret, *at), "{got:?}");
            assert!(!signed(got, "whsec_someone-else", *at));
            assert_eq!(got.body, received[0].body, "the same body in every attempt");
            assert_eq!(got.event, "case.created");
        }
        let body: Value = serde_json::from_slice(&received[0].body).unwrap();
        assert_eq!(
            body,
            json!({
                "id": delivered.event_id,
                "type": "case.created",
                "occurred_at": "2026-12-07T10:00:00Z",
                "case": {"reference": case.reference.to_string(), "service": "missed-bin", "state": case.state},
                "details": {"state": case.state, "priority": case.priority, "external": null}
            })
        );
        assert!(!String::from_utf8_lossy(&received[0].body).contains("Amira"));

        // The admin sees how it went.
        let admin = app.sign_in(ADMIN, Role::Admin).await;
        let page = admin.page(&format!("/staff/admin/webhooks/{id}")).await;
        let row = page.text("#deliveries tbody tr");
        assert!(row.starts_with(&format!("Case created event {} {} Delivered 3 Answered 202", delivered.event_id, case.reference)), "{row}");
    }

    async fn a_delivery_fails_after_the_last_attempt_and_can_be_resent(app: TestApp) {
        let receiver = Receiver::start(&[], Answer::Status(503)).await;
        let (id, secret) = register(&app, &receiver, &["case.created"]).await;
        app.report("Amira Khan").await;
        let worker = worker(&app);
        let mut now = MONDAY;
        for attempt in 1..=MAX_ATTEMPTS {
            worker.run_due().await.unwrap();
            assert_eq!(receiver.received().len(), attempt as usize);
            now += backoff(attempt);
            app.set_now(now);
        }
        worker.run_due().await.unwrap();
        assert_eq!(receiver.received().len(), MAX_ATTEMPTS as usize, "no attempt after the last");
        let failed = deliveries(&app, id).await.remove(0);
        assert_eq!(failed.status, DeliveryStatus::Failed);
        assert_eq!(failed.attempts, MAX_ATTEMPTS);
        assert_eq!(failed.last_status, Some(503));
        assert_eq!(failed_deliveries(&app).await, 1, "kept for an operator too");

        // The receiver is mended; the admin sends the delivery again.
        receiver.answer_from_now(Answer::Status(200));
        let admin = app.sign_in(ADMIN, Role::Admin).await;
        let page = admin.page(&format!("/staff/admin/webhooks/{id}")).await;
        assert!(page.text("#deliveries tbody tr").contains("Failed 8 The endpoint answered 503"));
        let action = page.attr("#deliveries form", "action").unwrap();
        let resent = admin.submit(&action, &[]).await;
        assert_eq!(resent.text(".govuk-notification-banner__heading"), "The delivery will be sent again shortly");
        worker.run_due().await.unwrap();
        let delivered = deliveries(&app, id).await.remove(0);
        assert_eq!(delivered.status, DeliveryStatus::Delivered);
        assert_eq!(delivered.attempts, MAX_ATTEMPTS + 1);
        let last = receiver.received().pop().unwrap();
        assert!(signed(&last, &secret, now));
        assert_eq!(receiver.received().len(), MAX_ATTEMPTS as usize + 1);
        assert_eq!(failed_deliveries(&app).await, 0);
        // Another endpoint's number, or a delivery that is not there, is not found.
        assert_eq!(admin.post(&format!("/staff/admin/webhooks/{}/deliveries/{}/resend", id + 1, delivered.id), &[]).await.status(), 404);
    }

    async fn private_addresses_are_refused_again_at_delivery(app: TestApp) {
        let receiver = Receiver::start(&[], Answer::Status(200)).await;
        // As if the address had passed the check when registered: it is checked again before
        // each attempt, and nothing is sent to it.
        let stored = app
            .app
            .store()
            .insert_webhook_endpoint(&NewWebhookEndpoint {
                url: receiver.url.replace("http://", "https://"),
                description: String::new(),
                service: None,
                events: vec![casework_app::domain::webhook::WebhookEvent::CaseCreated],
                secret: "whsec_test".into(),
                allow_private: false,
                created_at: MONDAY,
            })
            .await
            .unwrap();
        app.report("Amira Khan").await;
        worker(&app).run_due().await.unwrap();
        assert!(receiver.received().is_empty());
        let refused = deliveries(&app, stored.id).await.remove(0);
        assert_eq!(refused.status, DeliveryStatus::Failed);
        assert_eq!(
            refused.last_error.as_deref(),
            Some("The address must be on the public internet, not a local or private network")
        );
    }
}
