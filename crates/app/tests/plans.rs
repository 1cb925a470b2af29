//! The shared plan's use cases against a real database, with a clock the tests move: staff
//! edits with versions, links scoped to one case that expire and can be revoked, residents
//! ticking only their own actions, and reminders given once.

use std::path::Path;
use std::sync::{Arc, Mutex};

use casework_app::domain::case::{Actor, CaseDraft, Channel, Contact, EventKind, Language};
use casework_app::domain::plan::{ActionDraft, PlanError, Reminder};
use casework_app::domain::service::{ActionOwner, Role};
use casework_app::store::Job;
use casework_app::{
    App, AppError, Caller, Features, JobOutcome, LinkProblem, NewCaseRequest, load_calendar,
    load_services,
};
use casework_store::backend_tests;
use casework_store::testing::TestDatabase;
use serde_json::json;
use time::macros::{date, datetime};
use time::{Duration, OffsetDateTime};

/// A Friday morning.
const START: OffsetDateTime = datetime!(2026-12-04 09:00 UTC);

async fn app_at(database: &TestDatabase) -> (App, Arc<Mutex<OffsetDateTime>>) {
    let services =
        load_services(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../services")).unwrap();
    let now = Arc::new(Mutex::new(START));
    let clock = now.clone();
    let app = App::new(
        database.store().await,
        services,
        load_calendar(None).unwrap(),
        Features::default(),
    )
    .with_clock(Arc::new(move || *clock.lock().unwrap()));
    (app, now)
}

fn agent(team: &str) -> Caller {
    Caller {
        actor: Actor::Staff(format!("agent@{team}.example")),
        role: Role::Agent,
        api_key_id: None,
        teams: Some(vec![team.into()]),
    }
}

/// A missed bin report: its plan has the resident's "Leave your bin out", due today, and the
/// council's "Come back and empty your bin".
async fn missed_bin(app: &App) -> casework_app::domain::case::Case {
    let draft = CaseDraft {
        contact: Some(Contact {
            name: "Sam Resident".into(),
            email: Some("sam@example.com".into()),
            phone: None,
            preferred_channel: Channel::Email,
            language: Language::Cy,
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
    let (case, _) = app
        .create_case(
            &agent("waste"),
            NewCaseRequest {
                service: "missed-bin".into(),
                draft,
                idempotency: None,
            },
        )
        .await
        .unwrap();
    case
}

async fn a_case_starts_with_its_services_plan(database: &TestDatabase) {
    let (app, _) = app_at(database).await;
    let case = missed_bin(&app).await;
    let (_, plan) = app.plan(&agent("waste"), case.reference).await.unwrap();
    assert_eq!(plan.goal.as_deref(), Some("Empty your missed bin"));
    let titles: Vec<(&str, ActionOwner)> = plan
        .actions
        .iter()
        .map(|a| (a.title.as_str(), a.owner))
        .collect();
    assert_eq!(
        titles,
        [
            ("Leave your bin out", ActionOwner::Resident),
            ("Come back and empty your bin", ActionOwner::Council),
        ]
    );
    assert_eq!(plan.actions[0].due_on, Some(date!(2026 - 12 - 04)));
    // Friday plus two working days.
    assert_eq!(plan.actions[1].due_on, Some(date!(2026 - 12 - 08)));
    // Another team's member cannot see it.
    assert!(matches!(
        app.plan(&agent("repairs"), case.reference).await,
        Err(AppError::CaseNotFound(_))
    ));
}

async fn staff_edits_need_the_version_they_read(database: &TestDatabase) {
    let (app, _) = app_at(database).await;
    let case = missed_bin(&app).await;
    let staff = agent("waste");
    let (_, plan) = app.plan(&staff, case.reference).await.unwrap();
    let (added, id) = app
        .add_plan_action(
            &staff,
            case.reference,
            plan.version,
            ActionDraft {
                owner: ActionOwner::Resident,
                title: "Put a note on the bin".into(),
                details: None,
                due_on: Some(date!(2026 - 12 - 07)),
            },
        )
        .await
        .unwrap();
    assert_eq!(added.version, plan.version + 1);
    assert_eq!(added.actions[2].id, id);

    // A second edit from the page read before the first is refused with the plan as it is.
    let stale = app
        .set_plan_goal(&staff, case.reference, plan.version, Some("Another goal"))
        .await;
    assert!(matches!(
        stale,
        Err(AppError::PlanConflict { expected, current }) if expected == plan.version && *current == added
    ));
    let moved = app
        .move_plan_action(&staff, case.reference, added.version, id, 0)
        .await
        .unwrap();
    assert_eq!(moved.actions[0].id, id);
    let removed = app
        .remove_plan_action(&staff, case.reference, moved.version, id)
        .await
        .unwrap();
    assert_eq!(removed.actions.len(), 2);

    // Ticking needs no version, and twice is once.
    let council_action = removed.actions[1].id;
    app.complete_plan_action(&staff, case.reference, council_action)
        .await
        .unwrap();
    let done = app
        .complete_plan_action(&staff, case.reference, council_action)
        .await
        .unwrap();
    assert_eq!(done.actions[1].completed_by, Some(staff.actor.clone()));
    let completions = app
        .events(&staff, case.reference)
        .await
        .unwrap()
        .iter()
        .filter(|e| matches!(e.kind, EventKind::PlanActionCompleted { .. }))
        .count();
    assert_eq!(completions, 1);
}

async fn a_link_opens_one_plan_and_lets_the_resident_tick_only_their_own(database: &TestDatabase) {
    let (app, _) = app_at(database).await;
    let staff = agent("waste");
    let a = missed_bin(&app).await;
    let b = missed_bin(&app).await;
    let shared = app.share_plan(&staff, a.reference).await.unwrap();
    assert_eq!(shared.token.len(), 43);
    assert_eq!(shared.link.expires_at, START + Duration::days(90));

    let opened = app.resident_plan(&shared.token).await.unwrap();
    assert_eq!(opened.reference, a.reference);
    assert_eq!(opened.service_name, "Report a missed bin collection");
    assert_eq!(opened.language, Language::Cy);
    let own = opened.plan.actions[0].id;
    let council = opened.plan.actions[1].id;

    let ticked = app
        .resident_complete_action(&shared.token, own)
        .await
        .unwrap();
    assert_eq!(ticked.plan.actions[0].completed_by, Some(Actor::Resident));
    // Not the council's action on their own case…
    assert!(matches!(
        app.resident_complete_action(&shared.token, council).await,
        Err(AppError::Plan(PlanError::NotYours))
    ));
    // …and nothing on another case, even naming its actions.
    let (_, plan_b) = app.plan(&staff, b.reference).await.unwrap();
    for action in &plan_b.actions {
        assert!(matches!(
            app.resident_complete_action(&shared.token, action.id).await,
            Err(AppError::Plan(PlanError::UnknownAction))
        ));
    }
    let (_, plan_b_after) = app.plan(&staff, b.reference).await.unwrap();
    assert_eq!(plan_b_after, plan_b);

    let undone = app
        .resident_reopen_action(&shared.token, own)
        .await
        .unwrap();
    assert_eq!(undone.plan.actions[0].completed_at, None);

    // Staff see the resident's ticks and views on the timeline, by the resident.
    let events = app.events(&staff, a.reference).await.unwrap();
    let by_resident: Vec<&str> = events
        .iter()
        .filter(|e| e.actor == Actor::Resident)
        .map(|e| e.kind.name())
        .collect();
    assert_eq!(
        by_resident,
        [
            "plan_viewed",
            "plan_action_completed",
            "plan_action_reopened"
        ]
    );
    let links = app.access_links(&staff, a.reference).await.unwrap();
    assert_eq!(links[0].uses, 3);
}

async fn links_expire_can_be_revoked_and_garbage_is_unknown(database: &TestDatabase) {
    let (app, now) = app_at(database).await;
    let staff = agent("waste");
    let case = missed_bin(&app).await;
    let first = app.share_plan(&staff, case.reference).await.unwrap();
    let second = app.share_plan(&staff, case.reference).await.unwrap();

    app.revoke_access_link(&staff, case.reference, first.link.id)
        .await
        .unwrap();
    assert!(matches!(
        app.resident_plan(&first.token).await,
        Err(AppError::Link(LinkProblem::Revoked))
    ));
    assert!(app.resident_plan(&second.token).await.is_ok());

    *now.lock().unwrap() = START + Duration::days(90);
    assert!(matches!(
        app.resident_plan(&second.token).await,
        Err(AppError::Link(LinkProblem::Expired))
    ));
    let own = app.plan(&staff, case.reference).await.unwrap().1.actions[0].id;
    assert!(matches!(
        app.resident_complete_action(&second.token, own).await,
        Err(AppError::Link(LinkProblem::Expired))
    ));

    for garbage in [
        "",
        "x",
        &"A".repeat(43),
        &first.token[..42],
        "../../etc/passwd",
    ] {
        assert!(matches!(
            app.resident_plan(garbage).await,
            Err(AppError::Link(LinkProblem::Unknown))
        ));
    }
    // A link can only be revoked through its own case.
    let other = missed_bin(&app).await;
    assert!(matches!(
        app.revoke_access_link(&staff, other.reference, second.link.id)
            .await,
        Err(AppError::LinkNotFound(_))
    ));
    // And only by someone who works the case.
    assert!(matches!(
        app.share_plan(&agent("repairs"), case.reference).await,
        Err(AppError::CaseNotFound(_))
    ));
}

async fn a_closed_case_plan_no_longer_changes(database: &TestDatabase) {
    let (app, _) = app_at(database).await;
    let staff = agent("waste");
    let case = missed_bin(&app).await;
    let shared = app.share_plan(&staff, case.reference).await.unwrap();
    let lead = Caller {
        role: Role::Lead,
        ..agent("waste")
    };
    let closed = app
        .transition_case(
            &lead,
            case.reference,
            case.version,
            "collect",
            &Default::default(),
        )
        .await
        .unwrap();
    assert!(!closed.is_open());
    let view = app.resident_plan(&shared.token).await.unwrap();
    assert!(!view.open);
    assert!(matches!(
        app.resident_complete_action(&shared.token, view.plan.actions[0].id)
            .await,
        Err(AppError::Plan(PlanError::Closed))
    ));
    assert!(matches!(
        app.set_plan_goal(&staff, case.reference, view.plan.version, None)
            .await,
        Err(AppError::Plan(PlanError::Closed))
    ));
}

fn reminders_job() -> Job {
    Job {
        id: 0,
        kind: "plan_reminders".into(),
        payload: json!({}),
        run_at: START,
        attempts: 1,
        last_error: None,
    }
}

async fn reminders(app: &App, reference: casework_app::domain::case::Reference) -> Vec<Reminder> {
    app.events(&agent("waste"), reference)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::PlanReminder { reminder, .. } => Some(reminder),
            _ => None,
        })
        .collect()
}

async fn residents_are_reminded_once_in_the_day(database: &TestDatabase) {
    let (app, now) = app_at(database).await;
    let staff = agent("waste");
    let case = missed_bin(&app).await;
    let (_, plan) = app.plan(&staff, case.reference).await.unwrap();
    // Due Wednesday: reminded within two working days' notice (from Monday), and on the day.
    let due_wednesday = app
        .change_plan_action(
            &staff,
            case.reference,
            plan.version,
            plan.actions[0].id,
            ActionDraft {
                owner: ActionOwner::Resident,
                title: "Leave your bin out".into(),
                details: None,
                due_on: Some(date!(2026 - 12 - 09)),
            },
        )
        .await
        .unwrap();

    // Friday is three working days before: nothing yet.
    assert!(matches!(
        app.run_job(&reminders_job()).await,
        JobOutcome::Later(at) if at == START + Duration::minutes(15)
    ));
    assert!(reminders(&app, case.reference).await.is_empty());

    // Monday 22:00 UK time: within the notice, but at night.
    *now.lock().unwrap() = datetime!(2026-12-07 22:00 UTC);
    app.run_job(&reminders_job()).await;
    assert!(reminders(&app, case.reference).await.is_empty());

    // Tuesday morning, twice: reminded once.
    *now.lock().unwrap() = datetime!(2026-12-08 09:00 UTC);
    app.run_job(&reminders_job()).await;
    app.run_job(&reminders_job()).await;
    assert_eq!(reminders(&app, case.reference).await, [Reminder::DueSoon]);

    // Wednesday: the on-the-day reminder, once.
    *now.lock().unwrap() = datetime!(2026-12-09 10:00 UTC);
    app.run_job(&reminders_job()).await;
    app.run_job(&reminders_job()).await;
    assert_eq!(
        reminders(&app, case.reference).await,
        [Reminder::DueSoon, Reminder::DueToday]
    );

    // A new due date re-arms the reminders; a done action is not reminded.
    let moved = app
        .change_plan_action(
            &staff,
            case.reference,
            due_wednesday.version,
            plan.actions[0].id,
            ActionDraft {
                owner: ActionOwner::Resident,
                title: "Leave your bin out".into(),
                details: None,
                due_on: Some(date!(2026 - 12 - 10)),
            },
        )
        .await
        .unwrap();
    app.run_job(&reminders_job()).await;
    assert_eq!(reminders(&app, case.reference).await.len(), 3);
    app.complete_plan_action(&staff, case.reference, moved.actions[0].id)
        .await
        .unwrap();
    *now.lock().unwrap() = datetime!(2026-12-10 10:00 UTC);
    app.run_job(&reminders_job()).await;
    assert_eq!(reminders(&app, case.reference).await.len(), 3);
    assert!(app.store().plan(case.reference).await.unwrap().actions[0].is_done());
}

backend_tests!(
    a_case_starts_with_its_services_plan,
    staff_edits_need_the_version_they_read,
    a_link_opens_one_plan_and_lets_the_resident_tick_only_their_own,
    links_expire_can_be_revoked_and_garbage_is_unknown,
    a_closed_case_plan_no_longer_changes,
    residents_are_reminded_once_in_the_day,
);
