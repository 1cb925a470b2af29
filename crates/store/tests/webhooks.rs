//! Webhook endpoints and their deliveries, on SQLite and on PostgreSQL alike: deliveries are
//! added with the events that cause them, in the same transaction, for the endpoints that
//! subscribe.

use std::sync::Arc;

use casework_domain::case::{Actor, Case, Channel, Contact, EventKind, Language, NewCase};
use casework_domain::message::{Direction, Message, MessageChannel, MessageId, MessageStatus};
use casework_domain::plan::Plan;
use casework_domain::webhook::WebhookEvent;
use casework_store::testing::TestDatabase;
use casework_store::{
    DELIVERY_JOB, DeliveryAttempt, DeliveryStatus, NewWebhookEndpoint, Store, StoreError,
    WebhookDelivery, backend_tests,
};
use serde_json::json;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

backend_tests!(
    endpoints_are_listed_disabled_and_removed,
    events_add_deliveries_for_the_endpoints_that_subscribe,
    an_event_that_is_not_committed_has_no_delivery,
    attempts_are_counted_and_a_resend_queues_the_delivery_again,
);

const T0: OffsetDateTime = datetime!(2026-12-04 09:00 UTC);

fn new_case(service: &str) -> NewCase {
    NewCase {
        service: service.into(),
        state: "new".into(),
        priority: "normal".into(),
        priority_rank: 0,
        team: "waste".into(),
        contact: Contact {
            name: "Sam Resident".into(),
            email: Some("sam@example.com".into()),
            phone: None,
            preferred_channel: Channel::Email,
            language: Language::En,
        },
        answers: Default::default(),
        description: None,
        location: None,
        external: None,
        sla_due_at: T0 + Duration::days(5),
        created_at: T0,
        closed_at: None,
        plan: Plan::default(),
    }
}

fn created() -> EventKind {
    EventKind::Created {
        state: "new".into(),
        priority: "normal".into(),
        external: None,
        via: None,
    }
}

async fn report(store: &Arc<dyn Store>, service: &str) -> Case {
    store
        .insert_case(&new_case(service), &Actor::System, &[created()], &[], None)
        .await
        .unwrap()
}

fn endpoint(url: &str, service: Option<&str>, events: &[WebhookEvent]) -> NewWebhookEndpoint {
    NewWebhookEndpoint {
        url: url.into(),
        description: format!("Receiver at {url}"),
        service: service.map(Into::into),
        events: events.to_vec(),
        secret: "whsec_test".into(),
        allow_private: false,
        created_at: T0,
    }
}

/// `(case number, event)` of each of an endpoint's deliveries, sorted: one statement adds an
/// event's deliveries in no particular order.
async fn deliveries(store: &Arc<dyn Store>, endpoint: i64) -> Vec<(i64, WebhookEvent)> {
    let list: Vec<WebhookDelivery> = store.webhook_deliveries(endpoint, 100).await.unwrap();
    let mut pairs: Vec<_> = list.iter().map(|d| (d.case.number(), d.event)).collect();
    pairs.sort();
    pairs
}

async fn endpoints_are_listed_disabled_and_removed(db: &TestDatabase) {
    let store = db.store().await;
    let all = store
        .insert_webhook_endpoint(&endpoint(
            "https://crm.example.org/hooks",
            None,
            &[WebhookEvent::CaseClosed, WebhookEvent::CaseCreated],
        ))
        .await
        .unwrap();
    assert_eq!(
        all.events,
        [WebhookEvent::CaseCreated, WebhookEvent::CaseClosed]
    );
    assert!(all.enabled);
    assert_eq!(all.created_at, T0);
    let bins = store
        .insert_webhook_endpoint(&endpoint(
            "https://bins.example.org/",
            Some("bins"),
            &[WebhookEvent::MessageReceived],
        ))
        .await
        .unwrap();
    assert_eq!(bins.service.as_deref(), Some("bins"));

    store
        .set_webhook_endpoint_enabled(all.id, false)
        .await
        .unwrap();
    let listed = store.webhook_endpoints().await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(!listed[0].enabled);
    assert_eq!(listed[1], bins);
    assert_eq!(
        store.webhook_endpoint(bins.id).await.unwrap(),
        Some(bins.clone())
    );

    // Removing one takes its deliveries and their jobs with it.
    store
        .set_webhook_endpoint_enabled(all.id, true)
        .await
        .unwrap();
    report(&store, "bins").await;
    assert_eq!(store.pending_job_count().await.unwrap(), 1);
    store.delete_webhook_endpoint(all.id).await.unwrap();
    assert_eq!(store.pending_job_count().await.unwrap(), 0);
    assert_eq!(store.webhook_endpoint(all.id).await.unwrap(), None);
    assert!(matches!(
        store.delete_webhook_endpoint(all.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.set_webhook_endpoint_enabled(all.id, true).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.webhook_endpoints().await.unwrap(), [bins]);
}

async fn events_add_deliveries_for_the_endpoints_that_subscribe(db: &TestDatabase) {
    let store = db.store().await;
    let everything = store
        .insert_webhook_endpoint(&endpoint(
            "https://all.example.org/",
            None,
            &WebhookEvent::ALL,
        ))
        .await
        .unwrap();
    let closures = store
        .insert_webhook_endpoint(&endpoint(
            "https://closed.example.org/",
            Some("bins"),
            &[WebhookEvent::CaseClosed],
        ))
        .await
        .unwrap();
    let disabled = store
        .insert_webhook_endpoint(&endpoint(
            "https://off.example.org/",
            None,
            &WebhookEvent::ALL,
        ))
        .await
        .unwrap();
    store
        .set_webhook_endpoint_enabled(disabled.id, false)
        .await
        .unwrap();

    let bins = report(&store, "bins").await;
    let noise = report(&store, "noise").await;
    // A transition that leaves the case open, then one that closes it, with a note between.
    let mut triaged = bins.clone();
    triaged.state = "triaged".into();
    let triaged = store
        .update_case(
            &triaged,
            &Actor::System,
            &[
                EventKind::Transitioned {
                    transition: "triage".into(),
                    from: "new".into(),
                    to: "triaged".into(),
                },
                EventKind::NoteAdded {
                    text: "Crew told".into(),
                },
            ],
            &[],
        )
        .await
        .unwrap();
    let close = |case: &Case| {
        let mut closed = case.clone();
        closed.state = "closed".into();
        closed.closed_at = Some(T0 + Duration::hours(1));
        closed
    };
    let transitioned = EventKind::Transitioned {
        transition: "close".into(),
        from: "triaged".into(),
        to: "closed".into(),
    };
    store
        .update_case(
            &close(&triaged),
            &Actor::System,
            std::slice::from_ref(&transitioned),
            &[],
        )
        .await
        .unwrap();
    store
        .update_case(&close(&noise), &Actor::System, &[transitioned], &[])
        .await
        .unwrap();
    let reply = Message {
        id: MessageId::new(Uuid::from_u128(1)),
        case: noise.reference,
        direction: Direction::Inbound,
        channel: MessageChannel::Email,
        to: None,
        from: Some("sam@example.com".into()),
        subject: None,
        body: "Thanks".into(),
        original: None,
        template: None,
        author: Actor::Resident,
        status: MessageStatus::Received,
        provider_id: None,
        sender: None,
        error: None,
        created_at: T0,
        status_at: T0,
    };
    let received = EventKind::MessageReceived {
        message: reply.id,
        channel: reply.channel,
    };
    store.insert_message(&reply, &received, &[]).await.unwrap();

    let (b, n) = (bins.reference.number(), noise.reference.number());
    assert_eq!(
        deliveries(&store, everything.id).await,
        [
            (b, WebhookEvent::CaseCreated),
            (b, WebhookEvent::CaseTransitioned),
            (b, WebhookEvent::CaseTransitioned),
            (b, WebhookEvent::CaseClosed),
            (n, WebhookEvent::CaseCreated),
            (n, WebhookEvent::CaseTransitioned),
            (n, WebhookEvent::CaseClosed),
            (n, WebhookEvent::MessageReceived),
        ]
    );
    assert_eq!(
        deliveries(&store, closures.id).await,
        [(b, WebhookEvent::CaseClosed)],
        "only the bins service's closures"
    );
    assert!(deliveries(&store, disabled.id).await.is_empty());

    // Each delivery has its job, which names it.
    let jobs = store
        .claim_jobs("w", T0 + Duration::days(1), T0 + Duration::days(2), 100)
        .await
        .unwrap();
    let mut delivered: Vec<i64> = jobs
        .iter()
        .map(|job| {
            assert_eq!(job.kind, DELIVERY_JOB);
            job.payload["delivery"].as_i64().unwrap()
        })
        .collect();
    delivered.sort_unstable();
    let mut expected = Vec::new();
    for endpoint in [everything.id, closures.id] {
        for delivery in store.webhook_deliveries(endpoint, 100).await.unwrap() {
            expected.push(delivery.id);
        }
    }
    expected.sort_unstable();
    assert_eq!(delivered, expected);

    // What the worker needs to post one: the case as it was just after the event.
    let first_close = store.webhook_deliveries(closures.id, 1).await.unwrap()[0].id;
    let work = store
        .webhook_delivery_work(first_close)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(work.url, "https://closed.example.org/");
    assert_eq!(work.secret, "whsec_test");
    assert_eq!(work.service, "bins");
    assert_eq!(work.case_state, "closed");
    assert_eq!(work.delivery.status, DeliveryStatus::Pending);
    assert_eq!(work.delivery.attempts, 0);
    assert!(matches!(work.kind, EventKind::Transitioned { ref to, .. } if to == "closed"));
    assert_eq!(store.webhook_delivery_work(-1).await.unwrap(), None);
}

async fn an_event_that_is_not_committed_has_no_delivery(db: &TestDatabase) {
    let store = db.store().await;
    let hook = store
        .insert_webhook_endpoint(&endpoint(
            "https://all.example.org/",
            None,
            &WebhookEvent::ALL,
        ))
        .await
        .unwrap();
    let case = report(&store, "bins").await;
    let mut stale = case.clone();
    stale.version -= 1;
    stale.state = "closed".into();
    stale.closed_at = Some(T0);
    let refused = store
        .update_case(
            &stale,
            &Actor::System,
            &[EventKind::Transitioned {
                transition: "close".into(),
                from: "new".into(),
                to: "closed".into(),
            }],
            &[],
        )
        .await;
    assert!(matches!(refused, Err(StoreError::Conflict { .. })));
    // A second case with the first one's external reference is refused too.
    let mut external = new_case("bins");
    external.external = Some(casework_domain::case::ExternalReference {
        system: "crm".into(),
        reference: "A1".into(),
    });
    store
        .insert_case(&external, &Actor::System, &[created()], &[], None)
        .await
        .unwrap();
    let duplicate = store
        .insert_case(&external, &Actor::System, &[created()], &[], None)
        .await;
    assert!(matches!(duplicate, Err(StoreError::DuplicateExternal(_))));

    assert_eq!(
        deliveries(&store, hook.id).await.len(),
        2,
        "the two cases that were created, and nothing else"
    );
    assert_eq!(store.pending_job_count().await.unwrap(), 2);
    assert_eq!(store.events(case.reference).await.unwrap().len(), 1);
}

async fn attempts_are_counted_and_a_resend_queues_the_delivery_again(db: &TestDatabase) {
    let store = db.store().await;
    let hook = store
        .insert_webhook_endpoint(&endpoint(
            "https://all.example.org/",
            None,
            &[WebhookEvent::CaseCreated],
        ))
        .await
        .unwrap();
    report(&store, "bins").await;
    let id = store.webhook_deliveries(hook.id, 10).await.unwrap()[0].id;
    let later = T0 + Duration::minutes(3);
    let attempt = DeliveryAttempt {
        status: DeliveryStatus::Pending,
        http_status: Some(500),
        error: Some("the endpoint answered 500".into()),
        at: later,
    };
    store.record_webhook_attempt(id, &attempt).await.unwrap();
    let failed = DeliveryAttempt {
        status: DeliveryStatus::Failed,
        http_status: None,
        error: Some("timed out".into()),
        at: later + Duration::minutes(1),
    };
    store.record_webhook_attempt(id, &failed).await.unwrap();
    let delivery = store
        .webhook_deliveries(hook.id, 10)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(delivery.status, DeliveryStatus::Failed);
    assert_eq!(delivery.attempts, 2);
    assert_eq!(delivery.last_status, None);
    assert_eq!(delivery.last_error.as_deref(), Some("timed out"));
    assert_eq!(delivery.last_attempt_at, Some(later + Duration::minutes(1)));

    // The job ran out of attempts and was kept as failed; a resend brings it back at once.
    let claimed = store
        .claim_jobs("w", later, later + Duration::minutes(5), 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    store
        .fail_job(claimed[0].id, "gave up", later)
        .await
        .unwrap();
    assert_eq!(store.pending_job_count().await.unwrap(), 0);
    let resent_at = later + Duration::hours(1);
    store
        .resend_webhook_delivery(hook.id, id, resent_at)
        .await
        .unwrap();
    assert_eq!(
        store.webhook_deliveries(hook.id, 10).await.unwrap()[0].status,
        DeliveryStatus::Pending
    );
    let again = store
        .claim_jobs("w", resent_at, resent_at + Duration::minutes(5), 10)
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].attempts, 1, "a fresh run of attempts");
    assert_eq!(again[0].payload, json!({ "delivery": id }));
    assert!(store.failed_jobs(10).await.unwrap().is_empty());

    assert!(matches!(
        store
            .resend_webhook_delivery(hook.id + 1, id, resent_at)
            .await,
        Err(StoreError::NotFound)
    ));
}
