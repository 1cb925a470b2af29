//! Shared plans, access links and reminders, on SQLite and on PostgreSQL alike.

use std::sync::Arc;

use casework_domain::case::{Actor, Case, Channel, Contact, EventKind, Language, NewCase};
use casework_domain::plan::{ActionDraft, ActionId, Plan, PlanAction, Reminder};
use casework_domain::service::ActionOwner;
use casework_store::testing::TestDatabase;
use casework_store::{NewAccessLink, Store, StoreError, backend_tests};
use time::macros::{date, datetime};
use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;

backend_tests!(
    a_new_case_starts_with_its_plan,
    a_case_without_a_plan_has_an_empty_one,
    saving_checks_the_version_and_keeps_order_and_ticks,
    plan_events_land_on_the_case_timeline,
    links_are_found_by_hash_revoked_once_and_count_uses,
    a_link_of_one_case_cannot_be_revoked_through_another,
    reminders_are_recorded_once_per_action_and_due_date,
    reminders_skip_done_actions_closed_cases_and_other_services,
);

const T0: OffsetDateTime = datetime!(2026-12-04 09:00 UTC);

fn id(n: u128) -> ActionId {
    ActionId::new(Uuid::from_u128(n))
}

fn action(n: u128, owner: ActionOwner, due_on: Option<Date>) -> PlanAction {
    PlanAction {
        id: id(n),
        owner,
        title: format!("Action {n}"),
        details: Some("Some *details*".into()),
        due_on,
        completed_at: None,
        completed_by: None,
    }
}

fn new_case(service: &str, plan: Plan) -> NewCase {
    NewCase {
        service: service.into(),
        state: "new".into(),
        priority: "normal".into(),
        priority_rank: 0,
        team: "waste".into(),
        contact: Contact {
            name: "Sam Resident".into(),
            email: None,
            phone: None,
            preferred_channel: Channel::Post,
            language: Language::Cy,
        },
        answers: Default::default(),
        description: None,
        location: None,
        external: None,
        sla_due_at: T0 + Duration::days(5),
        created_at: T0,
        closed_at: None,
        plan,
    }
}

fn template_plan() -> Plan {
    Plan {
        goal: Some("Keep your home".into()),
        actions: vec![
            action(1, ActionOwner::Resident, Some(date!(2026 - 12 - 08))),
            action(2, ActionOwner::Council, None),
        ],
        version: 0,
    }
}

async fn insert(store: &Arc<dyn Store>, case: NewCase) -> Case {
    store
        .insert_case(&case, &Actor::System, &[], &[], None)
        .await
        .expect("insert case")
}

fn staff() -> Actor {
    Actor::Staff("amy@council.example".into())
}

async fn a_new_case_starts_with_its_plan(db: &TestDatabase) {
    let store = db.store().await;
    let case = insert(&store, new_case("bins", template_plan())).await;
    let plan = store.plan(case.reference).await.unwrap();
    assert_eq!(plan.version, 1);
    assert_eq!(plan.goal.as_deref(), Some("Keep your home"));
    assert_eq!(plan.actions, template_plan().actions);

    // An import writes many cases' plans to a statement: more actions than one statement
    // holds, and cases without a plan among them.
    let imported: Vec<Plan> = (0..1_000u128)
        .map(|n| {
            if n % 10 == 3 {
                return Plan::default();
            }
            let mut plan = template_plan();
            plan.goal = Some(format!("Goal {n}"));
            plan.actions = (0..5)
                .map(|a| action(1_000 + n * 5 + a, ActionOwner::Council, None))
                .collect();
            plan
        })
        .collect();
    let cases: Vec<NewCase> = imported
        .iter()
        .map(|plan| new_case("bins", plan.clone()))
        .collect();
    store.import_cases(&cases, &Actor::System).await.unwrap();
    for (n, plan) in (1..).zip(&imported) {
        let reference = casework_domain::case::Reference::new(case.reference.number() + n);
        let stored = store.plan(reference).await.unwrap();
        assert_eq!((&stored.goal, &stored.actions), (&plan.goal, &plan.actions));
        assert_eq!(stored.version, i64::from(plan.goal.is_some()));
    }
}

async fn a_case_without_a_plan_has_an_empty_one(db: &TestDatabase) {
    let store = db.store().await;
    let case = insert(&store, new_case("bins", Plan::default())).await;
    assert_eq!(store.plan(case.reference).await.unwrap(), Plan::default());

    let mut plan = Plan::default();
    plan.actions.push(action(5, ActionOwner::Council, None));
    let saved = store
        .save_plan(case.reference, &plan, &staff(), &[], T0)
        .await
        .unwrap();
    assert_eq!(saved.version, 1);
    assert_eq!(saved.actions, plan.actions);
    // A second first save is stale.
    assert!(matches!(
        store.save_plan(case.reference, &plan, &staff(), &[], T0).await,
        Err(StoreError::PlanConflict { expected: 0, current }) if current.version == 1
    ));
}

async fn saving_checks_the_version_and_keeps_order_and_ticks(db: &TestDatabase) {
    let store = db.store().await;
    let case = insert(&store, new_case("bins", template_plan())).await;
    let mut plan = store.plan(case.reference).await.unwrap();
    plan.goal = None;
    plan.actions.reverse();
    plan.actions.push(action(3, ActionOwner::Resident, None));
    // Nanoseconds on purpose: the store keeps microseconds.
    plan.actions[1].completed_at = Some(datetime!(2026-12-05 10:11:12.123456789 UTC));
    plan.actions[1].completed_by = Some(Actor::Resident);
    let saved = store
        .save_plan(case.reference, &plan, &staff(), &[], T0)
        .await
        .unwrap();
    assert_eq!(saved.version, 2);
    assert_eq!(saved.goal, None);
    let ids: Vec<ActionId> = saved.actions.iter().map(|a| a.id).collect();
    assert_eq!(ids, [id(2), id(1), id(3)]);
    assert_eq!(
        saved.actions[1].completed_at,
        Some(datetime!(2026-12-05 10:11:12.123456 UTC))
    );
    assert_eq!(saved.actions[1].completed_by, Some(Actor::Resident));
    assert_eq!(store.plan(case.reference).await.unwrap(), saved);

    // The version read before that save is stale now, and nothing of it is written.
    let mut stale = plan.clone();
    stale.actions.clear();
    let Err(StoreError::PlanConflict { expected, current }) = store
        .save_plan(case.reference, &stale, &staff(), &[], T0)
        .await
    else {
        panic!("expected a conflict");
    };
    assert_eq!(expected, 1);
    assert_eq!(*current, saved);
    assert_eq!(store.plan(case.reference).await.unwrap(), saved);
}

async fn plan_events_land_on_the_case_timeline(db: &TestDatabase) {
    let store = db.store().await;
    let case = insert(&store, new_case("bins", template_plan())).await;
    let plan = store.plan(case.reference).await.unwrap();
    let events = [
        EventKind::PlanActionChanged {
            action: id(1),
            from: ActionDraft {
                owner: ActionOwner::Resident,
                title: "Action 1".into(),
                details: None,
                due_on: Some(date!(2026 - 12 - 08)),
            },
            to: ActionDraft {
                owner: ActionOwner::Resident,
                title: "Send it".into(),
                details: None,
                due_on: None,
            },
        },
        EventKind::PlanActionCompleted {
            action: id(2),
            owner: ActionOwner::Council,
            title: "Action 2".into(),
        },
    ];
    store
        .save_plan(case.reference, &plan, &staff(), &events, T0)
        .await
        .unwrap();
    let timeline = store.events(case.reference).await.unwrap();
    let kinds: Vec<&EventKind> = timeline.iter().map(|e| &e.kind).collect();
    assert_eq!(kinds, events.iter().collect::<Vec<_>>());
    assert!(timeline.iter().all(|e| e.actor == staff()));
}

async fn links_are_found_by_hash_revoked_once_and_count_uses(db: &TestDatabase) {
    let store = db.store().await;
    let case = insert(&store, new_case("bins", template_plan())).await;
    let link = store
        .insert_access_link(&NewAccessLink {
            case: case.reference,
            token_hash: "hash-a".into(),
            created_at: T0,
            created_by: staff(),
            expires_at: T0 + Duration::days(90),
        })
        .await
        .unwrap();
    assert_eq!(link.case, case.reference);
    assert_eq!(link.uses, 0);
    assert_eq!(link.revoked_at, None);
    assert_eq!(
        store.access_link_by_hash("hash-a").await.unwrap(),
        Some(link.clone())
    );
    assert_eq!(store.access_link_by_hash("hash-b").await.unwrap(), None);

    let viewed = EventKind::PlanViewed { link: link.id };
    store
        .record_access_link_use(&link, T0 + Duration::hours(1), Some(&viewed))
        .await
        .unwrap();
    store
        .record_access_link_use(&link, T0 + Duration::hours(2), None)
        .await
        .unwrap();
    let used = store.access_link_by_hash("hash-a").await.unwrap().unwrap();
    assert_eq!(used.uses, 2);
    assert_eq!(used.last_used_at, Some(T0 + Duration::hours(2)));

    assert!(
        store
            .revoke_access_link(case.reference, link.id, &staff(), T0 + Duration::days(1))
            .await
            .unwrap()
    );
    assert!(
        !store
            .revoke_access_link(case.reference, link.id, &staff(), T0 + Duration::days(2))
            .await
            .unwrap()
    );
    let revoked = store.access_links(case.reference).await.unwrap();
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0].revoked_at, Some(T0 + Duration::days(1)));
    assert_eq!(revoked[0].revoked_by, Some(staff()));

    let kinds: Vec<String> = store
        .events(case.reference)
        .await
        .unwrap()
        .iter()
        .map(|e| format!("{} {}", e.actor, e.kind.name()))
        .collect();
    assert_eq!(
        kinds,
        [
            "staff:amy@council.example plan_shared",
            "resident plan_viewed",
            "staff:amy@council.example plan_link_revoked",
        ]
    );
}

async fn a_link_of_one_case_cannot_be_revoked_through_another(db: &TestDatabase) {
    let store = db.store().await;
    let a = insert(&store, new_case("bins", template_plan())).await;
    let mut other = template_plan();
    other.actions[0].id = id(21);
    other.actions[1].id = id(22);
    let b = insert(&store, new_case("bins", other)).await;
    let link = store
        .insert_access_link(&NewAccessLink {
            case: a.reference,
            token_hash: "hash-a".into(),
            created_at: T0,
            created_by: staff(),
            expires_at: T0 + Duration::days(90),
        })
        .await
        .unwrap();
    assert!(
        !store
            .revoke_access_link(b.reference, link.id, &staff(), T0)
            .await
            .unwrap()
    );
    assert!(store.access_links(b.reference).await.unwrap().is_empty());
    assert_eq!(
        store.access_links(a.reference).await.unwrap()[0].revoked_at,
        None
    );
}

async fn reminders_are_recorded_once_per_action_and_due_date(db: &TestDatabase) {
    let store = db.store().await;
    let case = insert(&store, new_case("bins", template_plan())).await;
    let today = date!(2026 - 12 - 04);
    let until = date!(2026 - 12 - 08);
    let due = store
        .unreminded_actions("bins", today, until, 10)
        .await
        .unwrap();
    assert_eq!(
        due.len(),
        1,
        "only the resident's action, not the council's"
    );
    assert_eq!(due[0].case, case.reference);
    assert_eq!(due[0].action.id, id(1));

    let event = EventKind::PlanReminder {
        action: id(1),
        title: "Action 1".into(),
        due_on: date!(2026 - 12 - 08),
        reminder: Reminder::DueSoon,
    };
    assert!(
        store
            .record_reminder(&due[0], Reminder::DueSoon, &event, T0)
            .await
            .unwrap()
    );
    assert!(
        !store
            .record_reminder(&due[0], Reminder::DueSoon, &event, T0)
            .await
            .unwrap(),
        "never twice"
    );
    assert!(
        store
            .unreminded_actions("bins", today, until, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // On the day, the on-the-day reminder is owed.
    let on_the_day = store
        .unreminded_actions("bins", until, until, 10)
        .await
        .unwrap();
    assert_eq!(on_the_day.len(), 1);

    // A new due date re-arms the reminder.
    let mut plan = store.plan(case.reference).await.unwrap();
    plan.actions[0].due_on = Some(date!(2026 - 12 - 07));
    store
        .save_plan(case.reference, &plan, &staff(), &[], T0)
        .await
        .unwrap();
    assert_eq!(
        store
            .unreminded_actions("bins", today, until, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    let reminders = store
        .events(case.reference)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind.name() == "plan_reminder")
        .count();
    assert_eq!(reminders, 1);
}

async fn reminders_skip_done_actions_closed_cases_and_other_services(db: &TestDatabase) {
    let store = db.store().await;
    let mut done = template_plan();
    done.actions[0].completed_at = Some(T0);
    done.actions[0].completed_by = Some(Actor::Resident);
    insert(&store, new_case("bins", done)).await;

    let mut closed = template_plan();
    closed.actions[0].id = id(31);
    closed.actions[1].id = id(32);
    let mut closed_case = new_case("bins", closed);
    closed_case.closed_at = Some(T0);
    store
        .import_cases(&[closed_case], &Actor::System)
        .await
        .unwrap();

    let mut elsewhere = template_plan();
    elsewhere.actions[0].id = id(41);
    elsewhere.actions[1].id = id(42);
    insert(&store, new_case("repairs", elsewhere)).await;

    let today = date!(2026 - 12 - 04);
    let until = date!(2026 - 12 - 08);
    assert!(
        store
            .unreminded_actions("bins", today, until, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let repairs = store
        .unreminded_actions("repairs", today, until, 10)
        .await
        .unwrap();
    assert_eq!(repairs.len(), 1);
    assert_eq!(repairs[0].action.id, id(41));
    // Out of the window.
    assert!(
        store
            .unreminded_actions("repairs", today, date!(2026 - 12 - 07), 10)
            .await
            .unwrap()
            .is_empty()
    );
}
