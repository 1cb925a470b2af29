//! Messages and the outbox, on SQLite and on PostgreSQL alike.

use std::sync::Arc;

use casework_domain::case::{Actor, Case, Channel, Contact, EventKind, Language, NewCase};
use casework_domain::inbound::{Attachment, Candidate, Reply, UnmatchedReply};
use casework_domain::message::{Direction, Message, MessageChannel, MessageId, MessageStatus};
use casework_domain::plan::Plan;
use casework_store::testing::TestDatabase;
use casework_store::{CaseFilter, NewJob, StatusChange, Store, backend_tests};
use serde_json::json;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

backend_tests!(
    a_message_is_stored_with_its_event_and_its_job,
    status_changes_only_from_the_status_expected,
    receipts_find_a_message_by_the_providers_id,
    a_reply_is_filed_once_with_its_attachments,
    waiting_replies_are_filed_once,
    replies_find_the_cases_with_the_residents_details,
    reply_tokens_and_opt_outs_are_kept,
    each_member_of_staff_reads_replies_for_themselves,
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
        original: None,
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

fn reply(n: u128, channel: MessageChannel, provider_id: &str, at: OffsetDateTime) -> Reply {
    Reply {
        id: MessageId::new(Uuid::from_u128(n)),
        channel,
        from: "+447700900123".into(),
        to: Some("07700900000".into()),
        subject: None,
        body: "Thanks, Tuesday is fine.".into(),
        original: None,
        provider_id: Some(provider_id.into()),
        received_at: at,
    }
}

fn photo() -> (Attachment, Vec<u8>) {
    let attachment = Attachment {
        position: 1,
        filename: "bin.jpg".into(),
        content_type: "image/jpeg".into(),
        size: 4,
    };
    (attachment, vec![0xff, 0xd8, 0xff, 0xe0])
}

async fn a_reply_is_filed_once_with_its_attachments(db: &TestDatabase) {
    let store = db.store().await;
    let case = a_case(&store).await;
    let (message, event) =
        reply(1, MessageChannel::Email, "<m1@example.org>", T0).file_on(case.reference);
    assert!(
        store
            .insert_reply(&message, &event, &[photo()])
            .await
            .unwrap()
    );
    // The provider repeats its callback with the same id: nothing more is stored.
    let (again, again_event) =
        reply(2, MessageChannel::Email, "<m1@example.org>", T0).file_on(case.reference);
    assert!(
        !store
            .insert_reply(&again, &again_event, &[photo()])
            .await
            .unwrap()
    );

    let thread = store.messages(case.reference).await.unwrap();
    assert_eq!(thread.len(), 1);
    assert_eq!(thread[0].id, message.id);
    assert_eq!(thread[0].status, MessageStatus::Received);
    let received: Vec<_> = store
        .events(case.reference)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind.name() == "message_received")
        .collect();
    assert_eq!(received.len(), 1);
    assert_eq!(
        store.attachment(message.id, 1).await.unwrap(),
        Some(photo())
    );
    assert_eq!(store.attachment(message.id, 2).await.unwrap(), None);
    assert_eq!(
        store.attachments_of(&[again.id, message.id]).await.unwrap(),
        [(message.id, photo().0)],
        "read at once, only the messages that have any"
    );
    assert_eq!(store.attachments_of(&[]).await.unwrap(), []);
}

async fn waiting_replies_are_filed_once(db: &TestDatabase) {
    let store = db.store().await;
    let case = a_case(&store).await;
    let waiting = UnmatchedReply {
        reply: reply(1, MessageChannel::Sms, "notify-in-1", T0),
        reason: "No case has this resident's contact details.".into(),
    };
    assert!(store.insert_unmatched(&waiting, &[photo()]).await.unwrap());
    assert!(
        !store.insert_unmatched(&waiting, &[]).await.unwrap(),
        "repeated callback"
    );
    assert_eq!(store.count_unmatched().await.unwrap(), 1);
    let listed = store.unmatched_replies(10).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].reply.received_at, micros(T0));
    assert_eq!(listed[0].reason, waiting.reason);
    let id = waiting.reply.id;
    assert!(store.unmatched_reply(id).await.unwrap().is_some());

    let amy = Actor::Staff("amy@council.example".into());
    let (message, event) = waiting.reply.file_on(case.reference);
    let at = T0 + Duration::hours(1);
    assert!(
        store
            .file_unmatched(&message, &event, &amy, at)
            .await
            .unwrap()
    );
    assert!(
        !store
            .file_unmatched(&message, &event, &amy, at)
            .await
            .unwrap(),
        "filed already"
    );
    assert_eq!(store.count_unmatched().await.unwrap(), 0);
    assert_eq!(store.unmatched_reply(id).await.unwrap(), None);
    let thread = store.messages(case.reference).await.unwrap();
    assert_eq!(thread.len(), 1);
    assert_eq!(thread[0].author, Actor::Resident, "the resident wrote it");
    let last = store.events(case.reference).await.unwrap().pop().unwrap();
    assert_eq!(last.actor, amy, "staff filed it");
    assert_eq!(last.kind, event);
    assert_eq!(
        store.attachments_of(&[id]).await.unwrap(),
        [(id, photo().0)],
        "the files follow it"
    );
}

async fn replies_find_the_cases_with_the_residents_details(db: &TestDatabase) {
    let store = db.store().await;
    let case = a_case(&store).await;
    let numbers = ["+447700900123".to_owned(), "07700900123".to_owned()];
    let found = store
        .reply_candidates(MessageChannel::Sms, &numbers)
        .await
        .unwrap();
    assert_eq!(
        found,
        [Candidate {
            case: case.reference,
            open: true,
            last_written_at: None
        }]
    );
    let text = message(&case, 1);
    store
        .insert_message(&text, &sent_event(&text), &[])
        .await
        .unwrap();
    let found = store
        .reply_candidates(MessageChannel::Sms, &numbers)
        .await
        .unwrap();
    assert_eq!(found[0].last_written_at, Some(micros(T0)));
    let by_email = store
        .reply_candidates(MessageChannel::Email, &["sam@example.com".to_owned()])
        .await
        .unwrap();
    assert_eq!(by_email.len(), 1);
    assert_eq!(by_email[0].last_written_at, None, "no email was written");
    assert_eq!(
        store
            .reply_candidates(MessageChannel::Sms, &["+447700900999".to_owned()])
            .await
            .unwrap(),
        []
    );
}

async fn reply_tokens_and_opt_outs_are_kept(db: &TestDatabase) {
    let store = db.store().await;
    let case = a_case(&store).await;
    let email = message(&case, 1);
    store
        .insert_message(&email, &sent_event(&email), &[])
        .await
        .unwrap();
    store
        .set_reply_token(email.id, "hash-of-token")
        .await
        .unwrap();
    let found = store.message_by_reply_token("hash-of-token").await.unwrap();
    assert_eq!(found.map(|m| m.id), Some(email.id));
    assert_eq!(store.message_by_reply_token("other").await.unwrap(), None);

    let forms = ["+447700900123".to_owned(), "07700900123".to_owned()];
    assert_eq!(store.sms_opt_out(&forms).await.unwrap(), None);
    store
        .set_sms_opt_out("+447700900123", Some(T0))
        .await
        .unwrap();
    store
        .set_sms_opt_out("+447700900123", Some(T0 + Duration::days(1)))
        .await
        .unwrap();
    assert_eq!(
        store.sms_opt_out(&forms).await.unwrap(),
        Some(micros(T0)),
        "the first STOP"
    );
    store.set_sms_opt_out("+447700900123", None).await.unwrap();
    assert_eq!(store.sms_opt_out(&forms).await.unwrap(), None);
}

async fn each_member_of_staff_reads_replies_for_themselves(db: &TestDatabase) {
    let store = db.store().await;
    let case = a_case(&store).await;
    let other = a_case(&store).await;
    let cases = [case.reference, other.reference];
    let unread = |reader: &'static str| {
        let store = store.clone();
        async move {
            let listed = store
                .count_cases(&CaseFilter {
                    unread_by: Some(reader.into()),
                    ..Default::default()
                })
                .await
                .unwrap();
            let marked = store.unread_cases(reader, &cases).await.unwrap();
            (listed, marked)
        }
    };
    assert_eq!(unread("amy").await, (0, vec![]));
    let (first, event) = reply(1, MessageChannel::Sms, "in-1", T0).file_on(case.reference);
    store.insert_reply(&first, &event, &[]).await.unwrap();
    assert_eq!(unread("amy").await, (1, vec![case.reference]));

    store
        .mark_replies_read("amy", case.reference, T0)
        .await
        .unwrap();
    assert_eq!(unread("amy").await, (0, vec![]));
    assert_eq!(
        unread("ben").await,
        (1, vec![case.reference]),
        "Ben has not read it"
    );

    let later = T0 + Duration::minutes(10);
    let (second, event) = reply(2, MessageChannel::Sms, "in-2", later).file_on(case.reference);
    store.insert_reply(&second, &event, &[]).await.unwrap();
    assert_eq!(
        unread("amy").await,
        (1, vec![case.reference]),
        "a newer reply"
    );
    // Marking read up to an older time never unreads what was read.
    store
        .mark_replies_read("amy", case.reference, later)
        .await
        .unwrap();
    store
        .mark_replies_read("amy", case.reference, T0)
        .await
        .unwrap();
    assert_eq!(unread("amy").await, (0, vec![]));
}
