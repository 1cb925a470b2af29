//! Messages' use cases against a real database: templates filled from the case, sending into
//! the outbox, and delivery receipts that arrive in any order.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use casework_app::domain::case::{
    Actor, CaseDraft, Channel, Contact, EventKind, Language, Reference,
};
use casework_app::domain::inbound::PlanReplyProblem;
use casework_app::domain::message::{
    Direction, Message, MessageChannel, MessageDraft, MessageError, MessageStatus,
};
use casework_app::domain::service::Role;
use casework_app::store::Job;
use casework_app::{
    App, AppError, Caller, Features, Filed, JobOutcome, NewCaseRequest, ReplyAddress, Senders,
    load_calendar, load_services,
};
use casework_channels::notify::{ApiKey, NotifyConfig, NotifySender, ReceivedText};
use casework_channels::testing::{
    EMAIL_TEMPLATE, NotifyAnswer, NotifyStandIn, SMS_TEMPLATE, notify_api_key,
};
use casework_channels::{Outgoing, SendError, Sender, Sent};
use casework_store::backend_tests;
use casework_store::testing::TestDatabase;
use serde_json::json;
use time::OffsetDateTime;
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2026-12-04 09:00 UTC);

async fn app(database: &TestDatabase) -> App {
    let services =
        load_services(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../services")).unwrap();
    App::new(
        database.store().await,
        services,
        load_calendar(None).unwrap(),
        Features::default(),
    )
    .with_clock(Arc::new(|| NOW))
}

fn agent() -> Caller {
    Caller {
        actor: Actor::Staff("agent@waste.example".into()),
        role: Role::Agent,
        api_key_id: None,
        teams: Some(vec!["waste".into()]),
    }
}

async fn missed_bin(app: &App, channel: Channel) -> casework_app::domain::case::Case {
    let draft = CaseDraft {
        contact: Some(Contact {
            name: "Sam Resident".into(),
            email: Some("sam@example.com".into()),
            phone: Some("07700 900123".into()),
            preferred_channel: channel,
            language: Language::En,
        }),
        answers: [
            ("address".to_owned(), json!("1 High Street")),
            ("bin_type".to_owned(), json!("general")),
            ("collection_date".to_owned(), json!("2026-12-03")),
            ("bin_out_by_7am".to_owned(), json!(true)),
        ]
        .into_iter()
        .collect(),
        ..CaseDraft::default()
    };
    app.create_case(
        &agent(),
        NewCaseRequest {
            service: "missed-bin".into(),
            draft,
            idempotency: None,
        },
    )
    .await
    .unwrap()
    .0
}

backend_tests!(
    a_template_is_filled_from_the_case,
    a_message_goes_into_the_outbox_with_its_event,
    receipts_move_a_message_on_but_never_back,
    without_a_sender_a_message_fails_for_staff_to_see,
    texts_find_their_case_or_wait_for_staff,
    stop_opts_a_number_out_of_texts_and_start_back_in,
    emails_find_their_case_by_reply_address_thread_or_sender,
    residents_reply_on_their_plan_page,
    a_retry_finds_what_notify_took_instead_of_sending_again,
);

async fn a_template_is_filled_from_the_case(database: &TestDatabase) {
    let app = app(database).await;
    let case = missed_bin(&app, Channel::Email).await;
    let preview = app
        .preview_template(&agent(), case.reference, "acknowledgement")
        .await
        .unwrap();
    assert_eq!(
        preview.subject.as_deref(),
        Some(format!("We have your missed bin report {}", case.reference).as_str())
    );
    assert!(
        preview.body.starts_with("Dear Sam Resident,"),
        "{}",
        preview.body
    );
    assert!(preview.body.contains("1 High Street"));
    assert!(preview.body.contains("8 December 2026"), "{}", preview.body);
    assert_eq!(preview.missing, ["plan_link", "council"]);
    assert!(matches!(
        app.preview_template(&agent(), case.reference, "nonsense")
            .await,
        Err(AppError::UnknownTemplate(_))
    ));
}

async fn a_message_goes_into_the_outbox_with_its_event(database: &TestDatabase) {
    let app = app(database).await;
    let case = missed_bin(&app, Channel::Sms).await;
    let sent = app
        .send_message(
            &agent(),
            case.reference,
            MessageDraft {
                body: "We will be back on Tuesday.".into(),
                ..MessageDraft::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(sent.channel, MessageChannel::Sms);
    assert_eq!(sent.to.as_deref(), Some("07700900123"));
    assert_eq!(sent.status, MessageStatus::Queued);
    assert_eq!(
        app.messages(&agent(), case.reference).await.unwrap(),
        std::slice::from_ref(&sent)
    );
    assert_eq!(
        app.store().pending_job_count().await.unwrap(),
        1,
        "its send job"
    );
    let last = app
        .events(&agent(), case.reference)
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(
        last.kind,
        EventKind::MessageSent {
            message: sent.id,
            channel: MessageChannel::Sms,
            template: None
        }
    );

    let refused = app
        .send_message(
            &agent(),
            case.reference,
            MessageDraft {
                body: " ".into(),
                ..MessageDraft::default()
            },
        )
        .await;
    assert!(matches!(refused, Err(AppError::Message(_))));
    let outsider = Caller {
        teams: Some(vec!["repairs".into()]),
        ..agent()
    };
    assert!(matches!(
        app.send_message(&outsider, case.reference, MessageDraft::default())
            .await,
        Err(AppError::CaseNotFound(_))
    ));
}

fn send_job(message: &Message) -> Job {
    attempt(message, 1)
}

/// The job as claimed for the `attempts`th time.
fn attempt(message: &Message, attempts: i32) -> Job {
    Job {
        id: 0,
        kind: "send_message".into(),
        payload: json!({ "message": message.id }),
        run_at: NOW,
        attempts,
        last_error: None,
    }
}

/// Writes `body` to the case's resident by their preferred channel, and runs the job that sends
/// it, as the worker would.
async fn send_now(app: &App, case: Reference, body: &str) -> Message {
    let message = app
        .send_message(
            &agent(),
            case,
            MessageDraft {
                body: body.into(),
                ..MessageDraft::default()
            },
        )
        .await
        .unwrap();
    assert!(matches!(
        app.run_job(&send_job(&message)).await,
        JobOutcome::Done
    ));
    message
}

async fn receipts_move_a_message_on_but_never_back(database: &TestDatabase) {
    let app = app(database).await.with_senders(Senders::dev());
    let case = missed_bin(&app, Channel::Sms).await;
    let message = send_now(&app, case.reference, "Hello").await;
    let sent = app
        .messages(&agent(), case.reference)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(sent.status, MessageStatus::Sent);
    assert_eq!(sent.sender.as_deref(), Some("dev"));
    let provider_id = sent.provider_id.clone().unwrap();
    // The dev outbox shows it, to those who may see the case.
    assert_eq!(
        app.dev_outbox(&agent()).await.unwrap(),
        std::slice::from_ref(&sent)
    );
    let outsider = Caller {
        teams: Some(vec!["repairs".into()]),
        ..agent()
    };
    assert!(app.dev_outbox(&outsider).await.unwrap().is_empty());
    // A second run (two workers, or a lost outcome) sends nothing more.
    assert!(matches!(
        app.run_job(&send_job(&message)).await,
        JobOutcome::Done
    ));
    assert_eq!(
        app.messages(&agent(), case.reference).await.unwrap()[0],
        sent
    );

    assert!(
        !app.record_delivery("unknown", MessageStatus::Delivered, None, NOW)
            .await
            .unwrap()
    );
    assert!(
        app.record_delivery(&provider_id, MessageStatus::PermanentFailure, None, NOW)
            .await
            .unwrap()
    );
    // A late "delivered" does not undo the failure.
    assert!(
        !app.record_delivery(&provider_id, MessageStatus::Delivered, None, NOW)
            .await
            .unwrap()
    );
    let stored = &app.messages(&agent(), case.reference).await.unwrap()[0];
    assert_eq!(stored.status, MessageStatus::PermanentFailure);
    assert!(stored.error.as_deref().unwrap().contains("does not exist"));
    let last = app
        .events(&agent(), case.reference)
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(last.kind.name(), "message_failed");
}

async fn without_a_sender_a_message_fails_for_staff_to_see(database: &TestDatabase) {
    let app = app(database).await;
    let case = missed_bin(&app, Channel::Email).await;
    send_now(&app, case.reference, "Hello").await;
    let failed = &app.messages(&agent(), case.reference).await.unwrap()[0];
    assert_eq!(failed.status, MessageStatus::PermanentFailure);
    assert_eq!(
        failed.error.as_deref(),
        Some("No way of sending email is set up.")
    );
    let on_the_plan = app
        .send_message(
            &agent(),
            case.reference,
            MessageDraft {
                channel: Some(MessageChannel::Plan),
                body: "See your plan".into(),
                ..MessageDraft::default()
            },
        )
        .await
        .unwrap();
    app.run_job(&send_job(&on_the_plan)).await;
    let shown = &app.messages(&agent(), case.reference).await.unwrap()[1];
    assert_eq!(
        shown.status,
        MessageStatus::Sent,
        "on the plan page at once"
    );
}

/// GOV.UK Notify's received-text callback as it would parse.
fn text_from(number: &str, id: &str, message: &str) -> ReceivedText {
    ReceivedText {
        id: id.into(),
        source_number: number.into(),
        destination_number: "07700900000".into(),
        message: message.into(),
        date_received: NOW,
    }
}

async fn texts_find_their_case_or_wait_for_staff(database: &TestDatabase) {
    let app = app(database).await;
    let case = missed_bin(&app, Channel::Sms).await;
    let filed = app
        .receive_text(text_from("447700900123", "in-1", "Thanks, that's fine"))
        .await
        .unwrap();
    assert_eq!(
        filed,
        Filed::Case(case.reference),
        "the resident's only open case"
    );
    let again = app
        .receive_text(text_from("447700900123", "in-1", "Thanks, that's fine"))
        .await
        .unwrap();
    assert_eq!(again, Filed::Repeated, "Notify repeated its callback");
    let thread = app.messages(&agent(), case.reference).await.unwrap();
    assert_eq!(thread.len(), 1);
    assert_eq!(thread[0].direction, Direction::Inbound);
    assert_eq!(thread[0].from.as_deref(), Some("+447700900123"));
    assert_eq!(thread[0].body, "Thanks, that's fine");
    assert_eq!(
        app.unread_cases(&agent(), &[case.reference]).await.unwrap(),
        [case.reference]
    );
    app.mark_replies_read(&agent(), case.reference, NOW)
        .await
        .unwrap();
    assert_eq!(
        app.unread_cases(&agent(), &[case.reference]).await.unwrap(),
        []
    );

    let stranger = app
        .receive_text(text_from("447700900999", "in-2", "Is this the council?"))
        .await
        .unwrap();
    assert_eq!(stranger, Filed::Waiting);
    let waiting = app.unmatched_replies(&agent()).await.unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!(
        waiting[0].reason,
        "No case has this resident's contact details."
    );
    let resident = Caller {
        actor: Actor::Resident,
        ..agent()
    };
    assert!(matches!(
        app.unmatched_replies(&resident).await,
        Err(AppError::StaffOnly)
    ));
    let id = waiting[0].reply.id;
    assert!(app.file_reply(&agent(), id, case.reference).await.unwrap());
    assert!(
        !app.file_reply(&agent(), id, case.reference).await.unwrap(),
        "filed once"
    );
    assert_eq!(app.count_unmatched_replies(&agent()).await.unwrap(), 0);
    assert_eq!(
        app.messages(&agent(), case.reference).await.unwrap().len(),
        2
    );

    // A second open case for the same number, never written to: the text waits for staff.
    missed_bin(&app, Channel::Sms).await;
    assert_eq!(
        app.receive_text(text_from("447700900123", "in-3", "Which one?"))
            .await
            .unwrap(),
        Filed::Waiting
    );
}

async fn stop_opts_a_number_out_of_texts_and_start_back_in(database: &TestDatabase) {
    let app = app(database).await.with_senders(Senders::dev());
    let case = missed_bin(&app, Channel::Sms).await;
    let text = |body: &str| MessageDraft {
        channel: Some(MessageChannel::Sms),
        body: body.into(),
        ..MessageDraft::default()
    };
    let queued = app
        .send_message(&agent(), case.reference, text("Before the STOP"))
        .await
        .unwrap();
    app.receive_text(text_from("447700900123", "in-1", " Stop "))
        .await
        .unwrap();
    assert_eq!(
        app.sms_opted_out(&agent(), case.reference).await.unwrap(),
        Some(NOW)
    );
    match app
        .send_message(&agent(), case.reference, text("After the STOP"))
        .await
    {
        Err(AppError::Message(MessageError::Invalid(fields))) => {
            assert_eq!(fields[0].field, "channel");
        }
        other => panic!("expected the channel refused, got {other:?}"),
    }
    // The text written before the STOP is not sent either.
    assert!(matches!(
        app.run_job(&send_job(&queued)).await,
        JobOutcome::Done
    ));
    let failed = app.store().message(queued.id).await.unwrap().unwrap();
    assert_eq!(failed.status, MessageStatus::PermanentFailure);
    assert!(failed.error.unwrap().contains("STOP"));

    app.receive_text(text_from("447700900123", "in-2", "START"))
        .await
        .unwrap();
    assert_eq!(
        app.sms_opted_out(&agent(), case.reference).await.unwrap(),
        None
    );
    app.send_message(&agent(), case.reference, text("Welcome back"))
        .await
        .unwrap();
    let texts = app.messages(&agent(), case.reference).await.unwrap();
    assert_eq!(
        texts
            .iter()
            .filter(|m| m.direction == Direction::Inbound)
            .count(),
        2,
        "STOP and START are on the case for staff to see"
    );
}

/// Takes what would go to the email provider, as a provider's test inbox would.
#[derive(Default)]
struct Inbox(Mutex<Vec<Outgoing>>);

#[async_trait::async_trait]
impl Sender for Inbox {
    async fn send(&self, message: &Outgoing) -> Result<Sent, SendError> {
        self.0.lock().unwrap().push(message.clone());
        Ok(Sent {
            provider_id: Some(format!("inbox-{}", message.reference)),
        })
    }

    fn name(&self) -> &'static str {
        "inbox"
    }
}

fn email(to: &str, headers: &str, body: &str) -> Vec<u8> {
    format!(
        "From: Sam Resident <Sam@Example.com>\r\nTo: {to}\r\nSubject: Re: your request\r\n\
         Message-ID: <{}@mail.example.com>\r\n{headers}\r\n{body}",
        uuid::Uuid::now_v7()
    )
    .into_bytes()
}

async fn emails_find_their_case_by_reply_address_thread_or_sender(database: &TestDatabase) {
    let inbox = Arc::new(Inbox::default());
    let app = app(database)
        .await
        .with_senders(Senders {
            email: Some(inbox.clone()),
            sms: None,
        })
        .with_reply_address(ReplyAddress::parse("replies@council.example").unwrap());
    let first = missed_bin(&app, Channel::Email).await;
    let second = missed_bin(&app, Channel::Email).await;
    let sent = send_now(&app, first.reference, "When did you put the bin out?").await;
    let reply_to = inbox.0.lock().unwrap()[0].reply_to.clone().unwrap();
    assert!(reply_to.starts_with("replies+") && reply_to.ends_with("@council.example"));
    // The token is kept only as a hash.
    let token = reply_to
        .trim_start_matches("replies+")
        .trim_end_matches("@council.example");
    let stored = app.store().message(sent.id).await.unwrap().unwrap();
    assert!(!format!("{stored:?}").contains(token));

    // Both cases have Sam's address; the reply address names the first.
    let answer = email(
        &reply_to,
        "",
        "Before 7am.\r\n\r\nOn Fri, 4 Dec 2026, Council wrote:\r\n> When did you put the bin out?\r\n",
    );
    assert_eq!(
        app.receive_email(&answer).await.unwrap(),
        Filed::Case(first.reference)
    );
    let reply = app
        .messages(&agent(), first.reference)
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(reply.body, "Before 7am.");
    assert!(
        reply
            .original
            .unwrap()
            .contains("> When did you put the bin out?")
    );
    assert_eq!(reply.from.as_deref(), Some("sam@example.com"));

    // Our Message-ID names the message it answers.
    let threaded = email(
        "council@council.example",
        &format!("In-Reply-To: <{}@council.example>\r\n", sent.id),
        "Also, the lid is broken.\r\n",
    );
    assert_eq!(
        app.receive_email(&threaded).await.unwrap(),
        Filed::Case(first.reference)
    );
    // By address alone: the case last written to by email.
    let plain = email("council@council.example", "", "One more thing.\r\n");
    assert_eq!(
        app.receive_email(&plain).await.unwrap(),
        Filed::Case(first.reference)
    );
    assert!(
        app.messages(&agent(), second.reference)
            .await
            .unwrap()
            .is_empty(),
        "nothing went on the other case"
    );
    assert!(matches!(
        app.receive_email(b"not an email at all").await,
        Err(AppError::Invalid(_))
    ));
}

async fn residents_reply_on_their_plan_page(database: &TestDatabase) {
    let app = app(database).await;
    let case = missed_bin(&app, Channel::Email).await;
    let shared = app.share_plan(&agent(), case.reference).await.unwrap();
    let message = app
        .reply_on_plan(&shared.token, "  I will be in all day Tuesday.  ")
        .await
        .unwrap();
    assert_eq!(message.channel, MessageChannel::Plan);
    assert_eq!(message.direction, Direction::Inbound);
    assert_eq!(message.body, "I will be in all day Tuesday.");
    assert_eq!(
        app.resident_plan(&shared.token).await.unwrap().messages,
        std::slice::from_ref(&message)
    );
    assert_eq!(
        app.messages(&agent(), case.reference).await.unwrap(),
        [message]
    );
    for (text, problem) in [
        (" ".to_owned(), PlanReplyProblem::Empty),
        ("x".repeat(5_001), PlanReplyProblem::TooLong),
    ] {
        match app.reply_on_plan(&shared.token, &text).await {
            Err(AppError::PlanReply(refused)) => assert_eq!(refused, problem),
            other => panic!("expected the reply refused, got {other:?}"),
        }
    }
    assert!(matches!(
        app.reply_on_plan("not-a-token", "Hello").await,
        Err(AppError::Link(_))
    ));
}

/// Notify takes the message but its answer is lost (here: it comes after the sender's timeout,
/// as after a crash it would never come). The retry asks Notify first and records what it
/// finds; a message Notify never got is sent on its retry as usual.
async fn a_retry_finds_what_notify_took_instead_of_sending_again(database: &TestDatabase) {
    let notify = NotifyStandIn::start(NotifyAnswer::Accept).await;
    let mut config = NotifyConfig::new(
        ApiKey::parse(&notify_api_key()).unwrap(),
        SMS_TEMPLATE.into(),
        EMAIL_TEMPLATE.into(),
    );
    config.base_url = notify.url.clone();
    config.timeout = Duration::from_millis(300);
    let sender: Arc<dyn Sender> = Arc::new(NotifySender::new(config).unwrap());
    let app = app(database).await.with_senders(Senders {
        email: Some(sender.clone()),
        sms: Some(sender),
    });
    let case = missed_bin(&app, Channel::Sms).await;
    let draft = || MessageDraft {
        body: "Hello".into(),
        ..MessageDraft::default()
    };
    let taken = app
        .send_message(&agent(), case.reference, draft())
        .await
        .unwrap();
    notify.set_delay(Duration::from_secs(1));
    let first = app.run_job(&attempt(&taken, 1)).await;
    assert!(matches!(first, JobOutcome::Retry(_)), "{first:?}");
    notify.set_delay(Duration::ZERO);
    assert!(matches!(
        app.run_job(&attempt(&taken, 2)).await,
        JobOutcome::Done
    ));
    let never_sent = app
        .send_message(&agent(), case.reference, draft())
        .await
        .unwrap();
    assert!(matches!(
        app.run_job(&attempt(&never_sent, 2)).await,
        JobOutcome::Done
    ));

    let accepted = notify.accepted_by_reference();
    assert_eq!(
        accepted.get(&taken.id.to_string()),
        Some(&1),
        "{accepted:?}"
    );
    assert_eq!(accepted.get(&never_sent.id.to_string()), Some(&1));
    assert_eq!(notify.lookups(), 2);
    let stored = app.messages(&agent(), case.reference).await.unwrap();
    let notify_ids: Vec<Option<String>> = notify.received().into_iter().map(|r| r.id).collect();
    for message in &stored {
        assert_eq!(message.status, MessageStatus::Sent);
        assert_eq!(message.sender.as_deref(), Some("notify"));
        assert!(notify_ids.contains(&message.provider_id), "{message:?}");
    }
}
