//! The worker against a real database: the SLA sweep marks a case once, failing jobs are kept.

use std::path::Path;
use std::sync::{Arc, Mutex};

use casework_app::domain::case::{Actor, CaseDraft, Channel, Contact, Language};
use casework_app::domain::message::MessageDraft;
use casework_app::domain::service::Role;
use casework_app::store::{Job, NewJob};
use casework_app::{
    App, Caller, Features, JobOutcome, NewCaseRequest, Senders, load_calendar, load_services,
};
use casework_channels::Sender;
use casework_channels::notify::{ApiKey, NotifyConfig, NotifySender};
use casework_channels::testing::{
    EMAIL_TEMPLATE, NotifyAnswer, NotifyStandIn, SMS_TEMPLATE, notify_api_key,
};
use casework_store::testing::TestDatabase;
use casework_worker::{Worker, WorkerConfig};
use serde_json::json;
use time::OffsetDateTime;
use time::macros::datetime;

/// An app whose clock the test moves. These tests count runs of the SLA sweep, so the plan
/// (whose reminders are another recurring job) is switched off.
async fn app_at(
    database: &TestDatabase,
    start: OffsetDateTime,
) -> (App, Arc<Mutex<OffsetDateTime>>) {
    let services =
        load_services(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../services")).unwrap();
    let store = database.store().await;
    let now = Arc::new(Mutex::new(start));
    let clock = now.clone();
    let app = App::new(
        store,
        services,
        load_calendar(None).unwrap(),
        "api,worktray".parse::<Features>().unwrap(),
    )
    .with_clock(Arc::new(move || *clock.lock().unwrap()));
    (app, now)
}

fn worker(app: &App, id: &str) -> Worker {
    Worker::new(app.clone(), id, WorkerConfig::default())
}

fn system() -> Caller {
    Caller {
        actor: Actor::System,
        role: Role::Admin,
        api_key_id: None,
        teams: None,
    }
}

async fn report(app: &App) -> casework_app::domain::case::Case {
    let caller = system();
    let draft = CaseDraft {
        contact: Some(Contact {
            name: "Ben Okafor".into(),
            email: Some("ben@example.com".into()),
            phone: None,
            preferred_channel: Channel::Email,
            language: Language::En,
        }),
        answers: [
            ("address", json!("3 Mill Lane")),
            ("bin_type", json!("general")),
            ("collection_date", json!("2026-12-07")),
            ("bin_out_by_7am", json!(true)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect(),
        ..Default::default()
    };
    let request = NewCaseRequest {
        service: "missed-bin".into(),
        draft,
        idempotency: None,
    };
    app.create_case(&caller, request).await.unwrap().0
}

async fn sla_breaches(app: &App, case: &casework_app::domain::case::Case) -> usize {
    app.events(&system(), case.reference)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.kind.name() == "sla_breached")
        .count()
}

async fn sla_fires_once_with_two_workers(database: TestDatabase) {
    let (app, now) = app_at(&database, datetime!(2026-12-07 10:00 UTC)).await;
    app.schedule_recurring_jobs().await.unwrap();
    let case = report(&app).await;
    let (first, second) = (worker(&app, "worker-a"), worker(&app, "worker-b"));

    assert_eq!(first.run_due().await.unwrap(), 1, "the sweep runs");
    assert_eq!(
        sla_breaches(&app, &case).await,
        0,
        "nothing is due on the day it is reported"
    );

    *now.lock().unwrap() = case.sla_due_at + time::Duration::minutes(1);
    let (a, b) = tokio::join!(first.run_due(), second.run_due());
    assert_eq!(
        a.unwrap() + b.unwrap(),
        1,
        "one sweep, claimed by one worker"
    );
    assert_eq!(sla_breaches(&app, &case).await, 1);
    assert!(
        app.case(&system(), case.reference)
            .await
            .unwrap()
            .sla_breached_at
            .is_some()
    );

    *now.lock().unwrap() += time::Duration::minutes(2);
    let (a, b) = tokio::join!(first.run_due(), second.run_due());
    assert_eq!(a.unwrap() + b.unwrap(), 1, "the sweep recurs");
    assert_eq!(sla_breaches(&app, &case).await, 1, "exactly once");
    assert_eq!(app.store().pending_job_count().await.unwrap(), 1);
}

async fn two_sweeps_at_once_breach_a_case_once(database: TestDatabase) {
    let (app, now) = app_at(&database, datetime!(2026-12-07 10:00 UTC)).await;
    let cases = [report(&app).await, report(&app).await, report(&app).await];
    *now.lock().unwrap() = cases[0].sla_due_at + time::Duration::hours(1);
    let sweep = Job {
        id: 0,
        kind: "sla_sweep".into(),
        payload: json!({}),
        run_at: datetime!(2026-12-07 10:00 UTC),
        attempts: 1,
        last_error: None,
    };
    let (a, b) = tokio::join!(app.run_job(&sweep), app.run_job(&sweep));
    assert!(
        matches!(a, JobOutcome::Later(_)) && matches!(b, JobOutcome::Later(_)),
        "{a:?} {b:?}"
    );
    for case in &cases {
        assert_eq!(sla_breaches(&app, case).await, 1, "{}", case.reference);
    }
}

async fn a_closed_case_is_never_breached(database: TestDatabase) {
    let (app, now) = app_at(&database, datetime!(2026-12-07 10:00 UTC)).await;
    let case = report(&app).await;
    let caller = system();
    app.transition_case(
        &caller,
        case.reference,
        case.version,
        "collect",
        &Default::default(),
    )
    .await
    .unwrap();
    app.schedule_recurring_jobs().await.unwrap();
    *now.lock().unwrap() = case.sla_due_at + time::Duration::days(3);
    assert_eq!(worker(&app, "w").run_due().await.unwrap(), 1);
    assert_eq!(sla_breaches(&app, &case).await, 0);
}

async fn a_job_that_cannot_run_is_kept_as_failed(database: TestDatabase) {
    let (app, _) = app_at(&database, datetime!(2026-12-07 10:00 UTC)).await;
    app.store()
        .enqueue_jobs(&[NewJob {
            kind: "fax_the_mayor".into(),
            payload: json!({}),
            run_at: datetime!(2026-12-07 09:00 UTC),
            key: None,
        }])
        .await
        .unwrap();
    assert_eq!(worker(&app, "w").run_due().await.unwrap(), 1);
    let failed = app.store().failed_jobs(10).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].kind, "fax_the_mayor");
    assert!(
        failed[0]
            .last_error
            .as_deref()
            .unwrap()
            .contains("fax_the_mayor")
    );
    assert_eq!(
        worker(&app, "w").run_due().await.unwrap(),
        0,
        "a failed job is not run again"
    );
}

macro_rules! on_both_databases {
    ($($name:ident),*) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::$name(casework_store::testing::TestDatabase::sqlite()).await
            }
            #[tokio::test]
            async fn postgres() {
                super::$name(casework_store::testing::TestDatabase::postgres().await).await
            }
        }
    )*};
}

/// A batch that takes longer than half the lease is cut short: the jobs not started are
/// handed back, unclaimed and with no attempt counted, for any worker to take at once.
async fn no_job_starts_after_half_the_lease(database: TestDatabase) {
    let notify = NotifyStandIn::start(NotifyAnswer::Accept).await;
    notify.set_delay(std::time::Duration::from_millis(300));
    let mut config = NotifyConfig::new(
        ApiKey::parse(&notify_api_key()).unwrap(),
        SMS_TEMPLATE.into(),
        EMAIL_TEMPLATE.into(),
    );
    config.base_url = notify.url.clone();
    let sender: Arc<dyn Sender> = Arc::new(NotifySender::new(config).unwrap());
    let services =
        load_services(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../services")).unwrap();
    // The real clock: the sends take real time.
    let app = App::new(
        database.store().await,
        services,
        load_calendar(None).unwrap(),
        "api,worktray,messaging".parse::<Features>().unwrap(),
    )
    .with_senders(Senders {
        email: Some(sender.clone()),
        sms: Some(sender),
    });
    let case = report(&app).await;
    for _ in 0..6 {
        app.send_message(
            &system(),
            case.reference,
            MessageDraft {
                body: "Hello".into(),
                ..MessageDraft::default()
            },
        )
        .await
        .unwrap();
    }
    let short_lease = WorkerConfig {
        lease: std::time::Duration::from_secs(1),
        ..WorkerConfig::default()
    };
    let first = Worker::new(app.clone(), "first", short_lease);
    let ran = first.run_due().await.unwrap();
    // 300 ms a send: the first two or three start within half a second, the rest are handed back.
    assert!((1..6).contains(&ran), "{ran} ran");
    let second = Worker::new(app.clone(), "second", WorkerConfig::default());
    assert_eq!(
        second.run_due().await.unwrap(),
        6 - ran,
        "the rest are free at once, not after the lease"
    );
    assert_eq!(notify.accepted_by_reference().len(), 6);
    assert!(notify.accepted_by_reference().values().all(|n| *n == 1));
    assert_eq!(notify.lookups(), 0, "a handed-back job counts no attempt");
}

on_both_databases!(
    sla_fires_once_with_two_workers,
    two_sweeps_at_once_breach_a_case_once,
    a_closed_case_is_never_breached,
    a_job_that_cannot_run_is_kept_as_failed,
    no_job_starts_after_half_the_lease
);
