//! Messages and the outbox, on SQLite and on PostgreSQL alike.

use std::sync::Arc;

use casework_domain::case::{Actor, Case, Channel, Contact, EventKind, Language, NewCase};
use casework_domain::message::{Direction, Message, MessageChannel, MessageId, MessageStatus};
use casework_domain::plan::Plan;
use casework_store::testing::TestDatabase;
use casework_store::{NewJob, StatusChange, Store, backend_tests};
use serde_json::json;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

backend_tests!(
    a_message_is_stored_with_its_event_and_its_job,
    status_changes_only_from_the_status_expected,
    receipts_find_a_message_by_the_providers_id,
);

/// Nanoseconds on purpose: the store keeps microseconds.
const T0: OffsetDateTime = datetime!(2026-12-04 09:00:00.123456789 UTC);

fn micros(at: OffsetDateTime) -> OffsetDateTime {
    at.replace_nanosecond(at.nanosecond() / 1_000 * 1_000)
        .unwrap()
}

async fn a_case(store: &Arc<dyn Store>) -> Case {
    let case = NewCase {
        service: "bins".into(),
        state: "new".into(),
        priority: "normal".into(),
        priority_rank: 0,
        team: "waste".into(),
        contact: Contact {
            name: "Sam Resident".into(),
            email: Some("sam@example.com".into()),
            phone: Some("07700900123".into()),
            preferred_channel: Channel::Sms,
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
    };
    store
        .insert_case(&case, &Actor::System, &[], &[], None)
        .await
        .unwrap()
}

fn message(case: &Case, n: u128) -> Message {
    Message {
        id: MessageId::new(Uuid::from_u128(n)),
        case: case.reference,
        direction: Direction::Outbound,
        channel: MessageChannel::Sms,
        to: Some("07700900123".into()),
        from: None,
        subject: None,
        body: "We will come back on Tuesday. Reply to this message if you need to.".into(),
        template: Some("acknowledgement_sms".into()),
        author: Actor::Staff("amy@council.example".into()),
        status: MessageStatus::Queued,
        provider_id: None,
        sender: None,
        error: None,
        created_at: T0,
        status_at: T0,
    }
}

fn sent_event(message: &Message) -> EventKind {
    EventKind::MessageSent {
        message: message.id,
        channel: message.channel,
        template: message.template.clone(),
    }
}

fn send_job(message: &Message) -> NewJob {
    NewJob {
        kind: "send_message".into(),
        payload: json!({ "message": message.id }),
        run_at: T0,
        key: None,
    }
}

async fn a_message_is_stored_with_its_event_and_its_job(db: &TestDatabase) {
    let store = db.store().await;
    let case = a_case(&store).await;
    let first = message(&case, 1);
    store
        .insert_message(&first, &sent_event(&first), &[send_job(&first)])
        .await
        .unwrap();
    let stored = store.message(first.id).await.unwrap().unwrap();
    let expected = Message {
        created_at: micros(T0),
        status_at: micros(T0),
        ..first.clone()
    };
    assert_eq!(stored, expected);

    let mut reply = message(&case, 2);
    reply.direction = Direction::Inbound;
    reply.status = MessageStatus::Received;
    reply.author = Actor::Resident;
    reply.from = Some("07700900123".into());
    reply.to = None;
    reply.created_at = T0 + Duration::minutes(5);
    let received = EventKind::MessageReceived {
        message: reply.id,
        channel: reply.channel,
    };
    store.insert_message(&reply, &received, &[]).await.unwrap();

    let thread: Vec<MessageId> = store
        .messages(case.reference)
        .await
        .unwrap()
        .iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(thread, [first.id, reply.id], "oldest first");

    let events: Vec<(String, &'static str)> = store
        .events(case.reference)
        .await
        .unwrap()
        .iter()
        .map(|e| (e.actor.to_string(), e.kind.name()))
        .collect();
    assert_eq!(
        events,
        [
            ("staff:amy@council.example".to_owned(), "message_sent"),
            ("resident".to_owned(), "message_received"),
        ]
    );
    assert_eq!(
        store.pending_job_count().await.unwrap(),
        1,
        "the outbox job"
    );
}

async fn status_changes_only_from_the_status_expected(db: &TestDatabase) {
    let store = db.store().await;
    let case = a_case(&store).await;
    let queued = message(&case, 1);
    store
        .insert_message(&queued, &sent_event(&queued), &[])
        .await
        .unwrap();
    let sent = StatusChange {
        status: MessageStatus::Sent,
        provider_id: Some("notify-1".into()),
        sender: Some("notify".into()),
        error: None,
        at: T0 + Duration::seconds(3),
    };
    assert!(
        store
            .change_message_status(queued.id, MessageStatus::Queued, &sent, None)
            .await
            .unwrap()
    );
    // A second worker that sent it too finds it already sent.
    assert!(
        !store
            .change_message_status(queued.id, MessageStatus::Queued, &sent, None)
            .await
            .unwrap()
    );
    let failed = StatusChange {
        status: MessageStatus::PermanentFailure,
        provider_id: None,
        sender: None,
        error: Some("Not a real mobile number".into()),
        at: T0 + Duration::minutes(1),
    };
    let event = EventKind::MessageFailed {
        message: queued.id,
        channel: MessageChannel::Sms,
        status: MessageStatus::PermanentFailure,
        reason: "Not a real mobile number".into(),
    };
    assert!(
        store
            .change_message_status(queued.id, MessageStatus::Sent, &failed, Some(&event))
            .await
            .unwrap()
    );
    let stored = store.message(queued.id).await.unwrap().unwrap();
    assert_eq!(stored.status, MessageStatus::PermanentFailure);
    assert_eq!(stored.provider_id.as_deref(), Some("notify-1"), "kept");
    assert_eq!(stored.sender.as_deref(), Some("notify"), "kept");
    assert_eq!(stored.error.as_deref(), Some("Not a real mobile number"));
    assert_eq!(stored.status_at, micros(T0 + Duration::minutes(1)));
    let last = store.events(case.reference).await.unwrap().pop().unwrap();
    assert_eq!(last.kind, event);
    assert_eq!(last.actor, Actor::System);
}

async fn receipts_find_a_message_by_the_providers_id(db: &TestDatabase) {
    let store = db.store().await;
    let case = a_case(&store).await;
    let one = message(&case, 1);
    store
        .insert_message(&one, &sent_event(&one), &[])
        .await
        .unwrap();
    assert_eq!(
        store.message_by_provider_id("notify-9").await.unwrap(),
        None
    );
    let sent = StatusChange {
        status: MessageStatus::Sent,
        provider_id: Some("notify-9".into()),
        sender: Some("dev".into()),
        error: None,
        at: T0,
    };
    store
        .change_message_status(one.id, MessageStatus::Queued, &sent, None)
        .await
        .unwrap();
    let found = store
        .message_by_provider_id("notify-9")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, one.id);
    assert_eq!(
        store
            .message(MessageId::new(Uuid::from_u128(99)))
            .await
            .unwrap(),
        None
    );
}
