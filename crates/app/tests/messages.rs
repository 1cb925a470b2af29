//! Messages' use cases against a real database: templates filled from the case, sending into
//! the outbox, and delivery receipts that arrive in any order.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use casework_app::domain::case::{Actor, CaseDraft, Channel, Contact, EventKind, Language};
use casework_app::domain::message::{MessageChannel, MessageDraft, MessageStatus};
use casework_app::domain::service::Role;
use casework_app::store::Job;
use casework_app::{
    App, AppError, Caller, Features, JobOutcome, NewCaseRequest, Senders, load_calendar,
    load_services,
};
use casework_channels::Sender;
use casework_channels::notify::{ApiKey, NotifyConfig, NotifySender};
use casework_channels::testing::{
    EMAIL_TEMPLATE, NotifyAnswer, NotifyStandIn, SMS_TEMPLATE, notify_api_key,
};
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

fn send_job(message: &casework_app::domain::message::Message) -> Job {
    attempt(message, 1)
}

/// The job as claimed for the `attempts`th time.
fn attempt(message: &casework_app::domain::message::Message, attempts: i32) -> Job {
    Job {
        id: 0,
        kind: "send_message".into(),
        payload: json!({ "message": message.id }),
        run_at: NOW,
        attempts,
        last_error: None,
    }
}

async fn receipts_move_a_message_on_but_never_back(database: &TestDatabase) {
    let app = app(database).await.with_senders(Senders::dev());
    let case = missed_bin(&app, Channel::Sms).await;
    let message = app
        .send_message(
            &agent(),
            case.reference,
            MessageDraft {
                body: "Hello".into(),
                ..MessageDraft::default()
            },
        )
        .await
        .unwrap();
    assert!(matches!(
        app.run_job(&send_job(&message)).await,
        JobOutcome::Done
    ));
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
    let message = app
        .send_message(
            &agent(),
            case.reference,
            MessageDraft {
                body: "Hello".into(),
                ..MessageDraft::default()
            },
        )
        .await
        .unwrap();
    assert!(matches!(
        app.run_job(&send_job(&message)).await,
        JobOutcome::Done
    ));
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
