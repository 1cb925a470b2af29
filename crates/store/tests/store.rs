//! Every `Store` method, on SQLite and on PostgreSQL alike.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use casework_domain::case::{
    Actor, Case, Channel, Contact, EventKind, ExternalReference, Language, Location, NewCase,
    Reference,
};
use casework_domain::plan::Plan;
use casework_domain::service::Role;
use casework_store::testing::TestDatabase;
use casework_store::{
    Assignee, CaseFilter, CaseQuery, CaseSort, IdempotencyClaim, KeyScope, NewJob, PriorityRank,
    SchemaStatus, Store, StoreError, backend_tests,
};
use serde_json::json;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

backend_tests!(
    schema_status_compares_applied_migrations_with_the_build,
    round_trips_every_field,
    numbers_increase_and_are_never_reused,
    idempotency_keys_replay_the_first_case,
    external_references_are_unique,
    updates_save_every_field_and_refuse_stale_versions,
    events_come_back_in_order_with_their_actors,
    filters_work_alone_and_together,
    team_priority_and_date_filters,
    search_finds_references_and_text,
    keyset_paging_has_no_gaps_or_duplicates,
    priorities_are_ranked_from_the_service_definitions,
    overdue_means_open_and_past_due,
    imports_many_cases_with_created_events,
    claims_respect_run_at_and_leases,
    concurrent_claimers_never_share_a_job,
    a_job_key_replaces_the_pending_job,
    retried_and_failed_jobs,
    api_keys_are_found_by_hash_until_revoked,
    migrating_again_is_a_no_op,
);

/// Nanoseconds on purpose: the store keeps microseconds.
const T0: OffsetDateTime = datetime!(2026-03-02 09:00:00.123456789 UTC);

fn micros(at: OffsetDateTime) -> OffsetDateTime {
    at.replace_nanosecond(at.nanosecond() / 1_000 * 1_000)
        .unwrap()
}

fn new_case(name: &str) -> NewCase {
    NewCase {
        service: "bins".into(),
        state: "new".into(),
        priority: "normal".into(),
        priority_rank: 0,
        team: "waste".into(),
        contact: Contact {
            name: name.into(),
            email: None,
            phone: None,
            preferred_channel: Channel::Post,
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

fn with_external(mut case: NewCase, system: &str, reference: &str) -> NewCase {
    case.external = Some(ExternalReference {
        system: system.into(),
        reference: reference.into(),
    });
    case
}

fn created(case: &NewCase) -> EventKind {
    EventKind::Created {
        state: case.state.clone(),
        priority: case.priority.clone(),
        external: case.external.clone(),
        via: None,
    }
}

/// The case as the store should give it back.
fn stored(case: &NewCase, reference: Reference) -> Case {
    Case {
        reference,
        service: case.service.clone(),
        state: case.state.clone(),
        priority: case.priority.clone(),
        priority_rank: case.priority_rank,
        team: case.team.clone(),
        assignee: None,
        contact: case.contact.clone(),
        answers: case.answers.clone(),
        description: case.description.clone(),
        location: case.location.clone(),
        external: case.external.clone(),
        sla_due_at: micros(case.sla_due_at),
        sla_breached_at: None,
        created_at: micros(case.created_at),
        updated_at: micros(case.created_at),
        closed_at: case.closed_at.map(micros),
        version: 1,
    }
}

/// Runs `sql` with `bind` on `db` directly, to put the migrations table in states that only
/// other releases or failures leave behind.
async fn tamper(db: &TestDatabase, sql: &'static str, bind: i64) {
    use sqlx::Connection;
    if db.backend() == "sqlite" {
        let mut conn = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
        sqlx::query(sql)
            .bind(bind)
            .execute(&mut conn)
            .await
            .unwrap();
    } else {
        let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
        sqlx::query(sql)
            .bind(bind)
            .execute(&mut conn)
            .await
            .unwrap();
    }
}

async fn schema_status_compares_applied_migrations_with_the_build(db: &TestDatabase) {
    let store = casework_store::connect(&db.url).await.unwrap();
    let fresh = store.schema_status().await.unwrap();
    assert!(!fresh.is_current(), "{fresh:?}");
    assert!(fresh.pending.len() >= 3, "{fresh:?}");
    let (first, last) = (fresh.pending[0], *fresh.pending.last().unwrap());

    store.migrate().await.unwrap();
    assert_eq!(
        store.schema_status().await.unwrap(),
        SchemaStatus::default()
    );

    let later = 99_991_231_000_000;
    tamper(
        db,
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         SELECT $1, 'a later release', TRUE, checksum, 0 FROM _sqlx_migrations LIMIT 1",
        later,
    )
    .await;
    let status = store.schema_status().await.unwrap();
    assert!(status.is_current(), "{status:?}");
    assert_eq!(status.newer, vec![later]);

    tamper(
        db,
        "UPDATE _sqlx_migrations SET success = FALSE WHERE version = $1",
        later,
    )
    .await;
    let status = store.schema_status().await.unwrap();
    assert_eq!(status.failed, Some(later));
    assert!(!status.is_current());

    tamper(db, "DELETE FROM _sqlx_migrations WHERE version = $1", later).await;
    tamper(
        db,
        "UPDATE _sqlx_migrations SET checksum = substr(checksum, 2) WHERE version = $1",
        first,
    )
    .await;
    let status = store.schema_status().await.unwrap();
    assert_eq!(status.changed, vec![first]);
    assert!(!status.is_current());

    tamper(db, "DELETE FROM _sqlx_migrations WHERE version = $1", last).await;
    let status = store.schema_status().await.unwrap();
    assert_eq!(status.pending, vec![last]);
}

async fn insert(store: &Arc<dyn Store>, case: &NewCase) -> Case {
    store
        .insert_case(case, &Actor::System, &[created(case)], &[], None)
        .await
        .expect("insert case")
}

async fn save(store: &Arc<dyn Store>, case: &Case) -> Case {
    store
        .update_case(case, &Actor::System, &[], &[])
        .await
        .expect("update case")
}

fn numbers(cases: &[Case]) -> Vec<i64> {
    cases.iter().map(|c| c.reference.number()).collect()
}

async fn round_trips_every_field(db: &TestDatabase) {
    let store = db.store().await;
    let mut full = with_external(new_case("Ffion Ó Ceallaigh"), "crm", "CRM/42");
    full.contact = Contact {
        name: "Ffion Ó Ceallaigh".into(),
        email: Some("ffion@example.org".into()),
        phone: Some("07700 900982".into()),
        preferred_channel: Channel::Sms,
        language: Language::Cy,
    };
    full.answers = [
        ("bin".to_owned(), json!("green")),
        ("count".to_owned(), json!(3)),
        (
            "nested".to_owned(),
            json!({"a": [1, 2.5, null, true], "b": "ü"}),
        ),
    ]
    .into_iter()
    .collect();
    full.description = Some("Left out since Tuesday\nand again today".into());
    full.location = Some(Location {
        lat: Some(52.057_123_456_789),
        long: Some(-1.339_876_543_21),
        address: Some("1 High Street, Banbury".into()),
    });
    full.sla_due_at = datetime!(2026-03-09 17:00:00.999999999 +01:00);

    let inserted = insert(&store, &full).await;
    assert_eq!(inserted, stored(&full, inserted.reference));
    assert_eq!(
        store.case(inserted.reference).await.unwrap(),
        Some(inserted.clone())
    );

    let mut bare = new_case("Bare");
    bare.location = Some(Location {
        lat: None,
        long: None,
        address: Some("Only an address".into()),
    });
    let bare_stored = insert(&store, &bare).await;
    assert_eq!(bare_stored, stored(&bare, bare_stored.reference));
    assert_eq!(store.case(Reference::new(999_999)).await.unwrap(), None);
    store.ping().await.unwrap();
}

async fn numbers_increase_and_are_never_reused(db: &TestDatabase) {
    let store = db.store().await;
    let first = insert(&store, &with_external(new_case("A"), "crm", "1")).await;
    // Rolled back: the external reference is taken.
    let refused = store
        .insert_case(
            &with_external(new_case("B"), "crm", "1"),
            &Actor::System,
            &[],
            &[],
            None,
        )
        .await;
    assert!(matches!(refused, Err(StoreError::DuplicateExternal(_))));
    // Rolled back after the case row was written: no API key 999 for the idempotency key.
    let unknown_key = IdempotencyClaim {
        api_key_id: 999,
        key: "k".into(),
        request_hash: "h".into(),
    };
    let failed = store
        .insert_case(&new_case("B"), &Actor::System, &[], &[], Some(&unknown_key))
        .await;
    assert!(matches!(failed, Err(StoreError::Database(_))), "{failed:?}");
    let second = insert(&store, &new_case("C")).await;
    let third = insert(&store, &new_case("D")).await;
    assert!(first.reference < second.reference && second.reference < third.reference);
    assert_eq!(
        store
            .case(first.reference)
            .await
            .unwrap()
            .unwrap()
            .contact
            .name,
        "A"
    );
    assert_eq!(store.count_cases(&CaseFilter::default()).await.unwrap(), 3);
}

async fn idempotency_keys_replay_the_first_case(db: &TestDatabase) {
    let store = db.store().await;
    let key = store
        .insert_api_key("crm", Role::Agent, &[KeyScope::Api], "cw_abc", "hash-1", T0)
        .await
        .unwrap();
    let claim = |request_hash: &str| IdempotencyClaim {
        api_key_id: key.id,
        key: "req-1".into(),
        request_hash: request_hash.into(),
    };
    let case = new_case("A");
    let first = store
        .insert_case(
            &case,
            &Actor::ApiClient("crm".into()),
            &[],
            &[],
            Some(&claim("h1")),
        )
        .await
        .unwrap();

    for hash in ["h1", "h2"] {
        let again = store
            .insert_case(
                &case,
                &Actor::ApiClient("crm".into()),
                &[],
                &[],
                Some(&claim(hash)),
            )
            .await;
        match again {
            Err(StoreError::IdempotencyReplay {
                reference,
                request_hash,
            }) => assert_eq!((reference, request_hash.as_str()), (first.reference, "h1")),
            other => panic!("expected a replay, got {other:?}"),
        }
    }
    assert_eq!(
        store.idempotent_case(key.id, "req-1").await.unwrap(),
        Some(("h1".to_owned(), first.reference))
    );
    assert_eq!(store.idempotent_case(key.id, "req-2").await.unwrap(), None);

    // The same external reference under the same key is a replay too, not a duplicate.
    let external = with_external(new_case("B"), "crm", "X");
    let mut other_key = claim("h3");
    other_key.key = "req-2".into();
    let made = store
        .insert_case(&external, &Actor::System, &[], &[], Some(&other_key))
        .await
        .unwrap();
    let replayed = store
        .insert_case(&external, &Actor::System, &[], &[], Some(&other_key))
        .await;
    let replayed_reference = match replayed {
        Err(StoreError::IdempotencyReplay { reference, .. }) => reference,
        other => panic!("expected a replay, got {other:?}"),
    };
    assert_eq!(replayed_reference, made.reference);
    assert_eq!(store.count_cases(&CaseFilter::default()).await.unwrap(), 2);

    // Retries racing each other: one makes the case, the others replay it.
    let racing = (0..6).map(|_| {
        let store = store.clone();
        let mut claim = claim("h4");
        claim.key = "req-3".into();
        tokio::spawn(async move {
            let case = with_external(new_case("C"), "crm", "Y");
            store
                .insert_case(&case, &Actor::System, &[], &[], Some(&claim))
                .await
        })
    });
    let mut made = Vec::new();
    let mut replayed = Vec::new();
    for attempt in racing.collect::<Vec<_>>() {
        match attempt.await.unwrap() {
            Ok(case) => made.push(case.reference),
            Err(StoreError::IdempotencyReplay { reference, .. }) => replayed.push(reference),
            Err(other) => panic!("expected a case or a replay, got {other:?}"),
        }
    }
    assert_eq!((made.len(), replayed.len()), (1, 5));
    assert!(replayed.iter().all(|r| *r == made[0]));
    assert_eq!(store.count_cases(&CaseFilter::default()).await.unwrap(), 3);
}

async fn external_references_are_unique(db: &TestDatabase) {
    let store = db.store().await;
    let first = insert(&store, &with_external(new_case("A"), "crm", "R-1")).await;
    let again = store
        .insert_case(
            &with_external(new_case("B"), "crm", "R-1"),
            &Actor::System,
            &[],
            &[],
            None,
        )
        .await;
    assert!(matches!(again, Err(StoreError::DuplicateExternal(r)) if r == first.reference));
    // The same reference in another system, and cases without one, are fine.
    insert(&store, &with_external(new_case("C"), "uniform", "R-1")).await;
    insert(&store, &new_case("D")).await;
    insert(&store, &new_case("E")).await;
    let filter = CaseFilter {
        external: Some(("crm".into(), "R-1".into())),
        ..Default::default()
    };
    let found = list(&store, filter, CaseSort::Due).await;
    assert_eq!(numbers(&found), [first.reference.number()]);
}

async fn updates_save_every_field_and_refuse_stale_versions(db: &TestDatabase) {
    let store = db.store().await;
    let original = insert(&store, &new_case("A")).await;
    let t1 = T0 + Duration::hours(3) + Duration::nanoseconds(777);
    let mut changed = original.clone();
    changed.state = "closed".into();
    changed.priority = "urgent".into();
    changed.team = "env".into();
    changed.assignee = Some("amy@council.example".into());
    changed.contact.email = Some("a@example.com".into());
    changed.contact.preferred_channel = Channel::Email;
    changed
        .answers
        .insert("colour".into(), json!(["red", "blue"]));
    changed.description = Some("Updated".into());
    changed.location = Some(Location {
        lat: Some(51.5),
        long: Some(-0.1),
        address: None,
    });
    changed.sla_due_at = T0 + Duration::days(2);
    changed.sla_breached_at = Some(t1);
    changed.updated_at = t1;
    changed.closed_at = Some(t1);

    let saved = save(&store, &changed).await;
    let mut expected = changed.clone();
    expected.version = 2;
    expected.sla_due_at = micros(changed.sla_due_at);
    expected.sla_breached_at = Some(micros(t1));
    expected.updated_at = micros(t1);
    expected.closed_at = Some(micros(t1));
    assert_eq!(saved, expected);
    assert_eq!(
        store.case(original.reference).await.unwrap(),
        Some(expected.clone())
    );

    let stale = store.update_case(&original, &Actor::System, &[], &[]).await;
    match stale {
        Err(StoreError::Conflict {
            expected: v,
            current,
        }) => {
            assert_eq!((v, *current), (1, expected));
        }
        other => panic!("expected a conflict, got {other:?}"),
    }

    let mut missing = original.clone();
    missing.reference = Reference::new(424_242);
    let gone = store.update_case(&missing, &Actor::System, &[], &[]).await;
    assert!(matches!(gone, Err(StoreError::NotFound)));
}

async fn events_come_back_in_order_with_their_actors(db: &TestDatabase) {
    let store = db.store().await;
    let case = new_case("A");
    let staff = Actor::Staff("amy@council.example".into());
    let first = store
        .insert_case(&case, &staff, &[created(&case)], &[], None)
        .await
        .unwrap();
    let mut changed = first.clone();
    changed.updated_at = T0 + Duration::minutes(5);
    let note = EventKind::NoteAdded {
        text: "Called the resident".into(),
    };
    let assigned = EventKind::Assigned {
        from_team: "waste".into(),
        to_team: "env".into(),
        from_assignee: None,
        to_assignee: Some("ben".into()),
    };
    let changed = store
        .update_case(
            &changed,
            &Actor::ApiClient("crm".into()),
            &[note.clone(), assigned.clone()],
            &[],
        )
        .await
        .unwrap();
    let mut breached = changed.clone();
    breached.updated_at = T0 + Duration::days(6);
    let breach = EventKind::SlaBreached {
        due_at: micros(case.sla_due_at),
    };
    store
        .update_case(
            &breached,
            &Actor::System,
            std::slice::from_ref(&breach),
            &[],
        )
        .await
        .unwrap();
    insert(&store, &new_case("Other")).await;

    let events = store.events(first.reference).await.unwrap();
    let seen: Vec<_> = events
        .iter()
        .map(|e| (e.case, e.at, e.actor.clone(), e.kind.clone()))
        .collect();
    assert_eq!(
        seen,
        [
            (first.reference, micros(T0), staff, created(&case)),
            (
                first.reference,
                micros(T0 + Duration::minutes(5)),
                Actor::ApiClient("crm".into()),
                note
            ),
            (
                first.reference,
                micros(T0 + Duration::minutes(5)),
                Actor::ApiClient("crm".into()),
                assigned
            ),
            (
                first.reference,
                micros(T0 + Duration::days(6)),
                Actor::System,
                breach
            ),
        ]
    );
    assert!(events.windows(2).all(|w| w[0].id < w[1].id));
}

/// Six cases across services, teams, states, assignees and open or closed.
async fn worktray(store: &Arc<dyn Store>) -> Vec<Case> {
    let specs: [(&str, &str, &str, Option<&str>); 6] = [
        ("bins", "waste", "new", None),
        ("bins", "waste", "assigned", Some("amy")),
        ("noise", "env", "new", Some("amy")),
        ("noise", "env", "closed", None),
        ("bins", "env", "closed", Some("ben")),
        ("potholes", "highways", "new", None),
    ];
    let mut cases = Vec::new();
    for (i, (service, team, state, assignee)) in specs.into_iter().enumerate() {
        let mut case = new_case(&format!("Resident {i}"));
        case.service = service.into();
        if i == 5 {
            case = with_external(case, "crm", "X-1");
        }
        let mut stored = insert(store, &case).await;
        stored.team = team.into();
        stored.state = state.into();
        stored.assignee = assignee.map(Into::into);
        if state == "closed" {
            stored.closed_at = Some(T0 + Duration::hours(1));
        }
        cases.push(save(store, &stored).await);
    }
    cases
}

async fn list(store: &Arc<dyn Store>, filter: CaseFilter, sort: CaseSort) -> Vec<Case> {
    let query = CaseQuery {
        filter,
        sort,
        after: None,
        limit: 10_000,
    };
    let page = store.list_cases(&query).await.unwrap();
    assert_eq!(page.next, None);
    page.cases
}

/// The references (as indexes into `cases`) that `filter` lists, checking that its count agrees.
async fn listed(store: &Arc<dyn Store>, cases: &[Case], filter: CaseFilter) -> Vec<usize> {
    let found = list(store, filter.clone(), CaseSort::Created).await;
    let total = found.len() as i64;
    assert_eq!(
        store.count_cases(&filter).await.unwrap(),
        total,
        "count of {filter:?}"
    );
    for limit in [1, 2, total + 1] {
        assert_eq!(
            store.count_cases_up_to(&filter, limit).await.unwrap(),
            total.min(limit),
            "count up to {limit} of {filter:?}"
        );
    }
    let mut indexes: Vec<usize> = found
        .iter()
        .map(|f| {
            cases
                .iter()
                .position(|c| c.reference == f.reference)
                .unwrap()
        })
        .collect();
    indexes.sort_unstable();
    indexes
}

async fn filters_work_alone_and_together(db: &TestDatabase) {
    let store = db.store().await;
    let cases = worktray(&store).await;
    let f = CaseFilter::default;
    let text = |s: &str| Some(s.to_owned());
    let check = async |filter: CaseFilter, expected: &[usize]| {
        assert_eq!(
            listed(&store, &cases, filter.clone()).await,
            expected,
            "{filter:?}"
        );
    };
    check(f(), &[0, 1, 2, 3, 4, 5]).await;
    check(
        CaseFilter {
            service: text("bins"),
            ..f()
        },
        &[0, 1, 4],
    )
    .await;
    check(
        CaseFilter {
            state: text("new"),
            ..f()
        },
        &[0, 2, 5],
    )
    .await;
    check(
        CaseFilter {
            team: text("env"),
            ..f()
        },
        &[2, 3, 4],
    )
    .await;
    check(
        CaseFilter {
            assignee: Some(Assignee::Nobody),
            ..f()
        },
        &[0, 3, 5],
    )
    .await;
    check(
        CaseFilter {
            assignee: Some(Assignee::Person("amy".into())),
            ..f()
        },
        &[1, 2],
    )
    .await;
    check(
        CaseFilter {
            open: Some(true),
            ..f()
        },
        &[0, 1, 2, 5],
    )
    .await;
    check(
        CaseFilter {
            open: Some(false),
            ..f()
        },
        &[3, 4],
    )
    .await;
    check(
        CaseFilter {
            external: Some(("crm".into(), "X-1".into())),
            ..f()
        },
        &[5],
    )
    .await;
    check(
        CaseFilter {
            external: Some(("crm".into(), "X-2".into())),
            ..f()
        },
        &[],
    )
    .await;
    check(
        CaseFilter {
            service: text("bins"),
            team: text("waste"),
            open: Some(true),
            ..f()
        },
        &[0, 1],
    )
    .await;
    check(
        CaseFilter {
            team: text("env"),
            assignee: Some(Assignee::Person("amy".into())),
            open: Some(true),
            ..f()
        },
        &[2],
    )
    .await;
    check(
        CaseFilter {
            service: text("noise"),
            state: text("closed"),
            q: text("Resident 3"),
            ..f()
        },
        &[3],
    )
    .await;
}

/// Four cases a day apart, each in its own team with its own priority, due a day after it
/// was made; the last two closed, a day apart.
async fn team_priority_and_date_filters(db: &TestDatabase) {
    let store = db.store().await;
    let specs = [
        ("waste", "low", None),
        ("env", "normal", None),
        ("highways", "high", Some(4)),
        ("repairs", "normal", Some(5)),
    ];
    let day = |n: i64| micros(T0 + Duration::days(n));
    let mut cases = Vec::new();
    for (i, (team, priority, closed_on)) in specs.into_iter().enumerate() {
        let mut case = new_case(&format!("Resident {i}"));
        case.team = team.into();
        case.priority = priority.into();
        case.created_at = day(i as i64);
        case.sla_due_at = day(i as i64 + 1);
        let mut stored = insert(&store, &case).await;
        if let Some(n) = closed_on {
            stored.closed_at = Some(day(n));
            stored = save(&store, &stored).await;
        }
        cases.push(stored);
    }
    let f = CaseFilter::default;
    let check = async |filter: CaseFilter, expected: &[usize]| {
        assert_eq!(
            listed(&store, &cases, filter.clone()).await,
            expected,
            "{filter:?}"
        );
    };
    check(
        CaseFilter {
            teams: vec!["env".into(), "repairs".into(), "nobody".into()],
            ..f()
        },
        &[1, 3],
    )
    .await;
    check(
        CaseFilter {
            teams: vec!["waste".into()],
            ..f()
        },
        &[0],
    )
    .await;
    check(
        CaseFilter {
            priority: Some("normal".into()),
            ..f()
        },
        &[1, 3],
    )
    .await;
    // Created between: the start is in, the end is out.
    check(
        CaseFilter {
            created_from: Some(day(1)),
            created_before: Some(day(3)),
            ..f()
        },
        &[1, 2],
    )
    .await;
    check(
        CaseFilter {
            created_before: Some(day(1)),
            ..f()
        },
        &[0],
    )
    .await;
    // Due from now until a bound: open, not yet overdue.
    check(
        CaseFilter {
            due_from: Some(day(2)),
            overdue_at: Some(day(4)),
            ..f()
        },
        &[1],
    )
    .await;
    check(
        CaseFilter {
            due_from: Some(day(3)),
            ..f()
        },
        &[2, 3],
    )
    .await;
    check(
        CaseFilter {
            closed_since: Some(day(5)),
            ..f()
        },
        &[3],
    )
    .await;
    check(
        CaseFilter {
            closed_since: Some(day(4)),
            teams: vec!["highways".into(), "waste".into()],
            priority: Some("high".into()),
            ..f()
        },
        &[2],
    )
    .await;
}

async fn search_finds_references_and_text(db: &TestDatabase) {
    let store = db.store().await;
    let mut a = new_case("Alice Jones");
    a.contact.email = Some("alice@example.com".into());
    a.contact.phone = Some("07700 900001".into());
    a.description = Some("Overflowing bin on Mill Lane".into());
    let mut b = new_case("Bob O'Brien");
    b.service = "flytipping".into();
    b.contact.email = Some("BOB@Example.org".into());
    b.contact.phone = Some("01632 960002".into());
    b.description = Some("Fly-tipping 100% blocked_path".into());
    let c = new_case("Carol");
    let all = [
        insert(&store, &a).await,
        insert(&store, &b).await,
        insert(&store, &c).await,
    ];

    let search = async |q: &str| {
        let filter = CaseFilter {
            q: Some(q.to_owned()),
            ..Default::default()
        };
        listed(&store, &all, filter).await
    };
    for (q, expected) in [
        ("alice", &[0][..]),
        ("ALICE", &[0]),
        ("  jones ", &[0]),
        ("example.com", &[0]),
        ("EXAMPLE", &[0, 1]),
        ("07700 9", &[0]),
        ("900001", &[0]),
        ("mill lane", &[0]),
        ("o'b", &[1]),
        ("100%", &[1]),
        ("_", &[1]),
        ("%", &[1]),
        ("Bo", &[1]),
        ("a", &[0, 1, 2]),
        ("zzz", &[]),
        ("CW-999999", &[]),
        ("   ", &[0, 1, 2]),
    ] {
        assert_eq!(search(q).await, expected, "searching {q:?}");
    }
    let carol = all[2].reference;
    assert_eq!(search(&carol.to_string()).await, [2]);
    assert_eq!(search(&carol.to_string().to_lowercase()).await, [2]);
    assert!(search(&carol.number().to_string()).await.contains(&2));

    let combined = CaseFilter {
        q: Some("example".into()),
        service: Some("flytipping".into()),
        ..Default::default()
    };
    assert_eq!(listed(&store, &all, combined).await, [1]);
}

async fn keyset_paging_has_no_gaps_or_duplicates(db: &TestDatabase) {
    let store = db.store().await;
    let mut cases = Vec::new();
    for i in 0..30_i64 {
        let mut case = new_case(&format!("Resident {i}"));
        // Repeated keys, so that the reference has to break ties.
        case.sla_due_at = T0 + Duration::hours(i % 4);
        case.created_at = T0 + Duration::minutes(i % 5);
        let mut stored = insert(&store, &case).await;
        stored.updated_at = T0 + Duration::seconds(i % 3);
        stored.priority_rank = i32::try_from(i % 3).unwrap();
        if i % 2 == 1 {
            stored.team = "env".into();
        }
        cases.push(save(&store, &stored).await);
    }
    let sorts = [
        CaseSort::Due,
        CaseSort::Updated,
        CaseSort::Created,
        CaseSort::Priority,
    ];
    for sort in sorts {
        for team in [None, Some("env")] {
            let mut expected: Vec<&Case> = cases
                .iter()
                .filter(|c| team.is_none_or(|t| c.team == t))
                .collect();
            expected.sort_by_key(|c| match sort {
                CaseSort::Due => (0, c.sla_due_at, c.reference),
                CaseSort::Updated => (0, c.updated_at, c.reference),
                CaseSort::Created => (0, c.created_at, c.reference),
                CaseSort::Priority => (c.priority_rank, c.sla_due_at, c.reference),
            });
            if matches!(sort, CaseSort::Updated | CaseSort::Created) {
                expected.reverse();
            }
            let expected: Vec<i64> = expected.iter().map(|c| c.reference.number()).collect();

            let filter = CaseFilter {
                team: team.map(Into::into),
                ..Default::default()
            };
            let mut query = CaseQuery {
                filter,
                sort,
                after: None,
                limit: 7,
            };
            let mut seen = Vec::new();
            loop {
                let page = store.list_cases(&query).await.unwrap();
                assert!(page.cases.len() <= 7);
                seen.extend(numbers(&page.cases));
                match page.next {
                    Some(next) => {
                        assert_eq!(next.rank.is_some(), sort == CaseSort::Priority);
                        query.after = Some(next);
                    }
                    None => break,
                }
            }
            assert_eq!(seen, expected, "{sort:?} {team:?}");
        }
    }
}

async fn priorities_are_ranked_from_the_service_definitions(db: &TestDatabase) {
    let store = db.store().await;
    let mut cases = Vec::new();
    for (service, priority) in [
        ("repairs", "routine"),
        ("repairs", "emergency"),
        ("bins", "normal"),
        ("repairs", "urgent"),
    ] {
        let mut case = new_case(priority);
        case.service = service.into();
        case.priority = priority.into();
        cases.push(insert(&store, &case).await);
    }
    let rank = |service: &str, priority: &str, rank| PriorityRank {
        service: service.into(),
        priority: priority.into(),
        rank,
    };
    let ranks = [
        rank("repairs", "emergency", 0),
        rank("repairs", "urgent", 1),
        rank("repairs", "routine", 2),
        rank("bins", "normal", 0),
        rank("noise", "normal", 0),
    ];
    // Every case was stored at rank 0: only those whose rank moves are written.
    assert_eq!(store.rank_priorities(&ranks).await.unwrap(), 2);
    assert_eq!(store.rank_priorities(&ranks).await.unwrap(), 0);
    let ranked = list(&store, CaseFilter::default(), CaseSort::Priority).await;
    let order: Vec<(&str, i32)> = ranked
        .iter()
        .map(|c| (c.priority.as_str(), c.priority_rank))
        .collect();
    // Equal ranks (and equal due times) fall back to the reference.
    assert_eq!(
        order,
        [
            ("emergency", 0),
            ("normal", 0),
            ("urgent", 1),
            ("routine", 2)
        ]
    );
    let ranking_is_not_a_change = store.case(cases[0].reference).await.unwrap().unwrap();
    assert_eq!(ranking_is_not_a_change.version, cases[0].version);

    // A definition that reorders its priorities re-ranks its cases, and only those.
    let reordered = [
        rank("repairs", "routine", 0),
        rank("repairs", "urgent", 1),
        rank("repairs", "emergency", 2),
        rank("bins", "normal", 0),
    ];
    assert_eq!(store.rank_priorities(&reordered).await.unwrap(), 2);
    let ranked = list(&store, CaseFilter::default(), CaseSort::Priority).await;
    let order: Vec<&str> = ranked.iter().map(|c| c.priority.as_str()).collect();
    assert_eq!(order, ["routine", "normal", "urgent", "emergency"]);
}

async fn overdue_means_open_and_past_due(db: &TestDatabase) {
    let store = db.store().await;
    let now = T0 + Duration::days(3);
    let mut due_before = new_case("Overdue");
    due_before.sla_due_at = now - Duration::hours(1);
    let mut closed = due_before.clone();
    closed.contact.name = "Closed".into();
    let mut due_after = new_case("Not yet");
    due_after.sla_due_at = now + Duration::hours(1);
    let overdue = insert(&store, &due_before).await;
    let mut done = insert(&store, &closed).await;
    done.closed_at = Some(now - Duration::hours(2));
    save(&store, &done).await;
    insert(&store, &due_after).await;

    let filter = CaseFilter {
        overdue_at: Some(now),
        ..Default::default()
    };
    let found = list(&store, filter.clone(), CaseSort::Due).await;
    assert_eq!(numbers(&found), [overdue.reference.number()]);
    assert_eq!(store.count_cases(&filter).await.unwrap(), 1);

    // The SLA sweep's question: overdue and not yet marked.
    let unmarked = CaseFilter {
        sla_breached: Some(false),
        ..filter
    };
    assert_eq!(
        numbers(&list(&store, unmarked.clone(), CaseSort::Due).await),
        [overdue.reference.number()]
    );
    let mut marked = found[0].clone();
    marked.sla_breached_at = Some(now);
    save(&store, &marked).await;
    assert!(list(&store, unmarked, CaseSort::Due).await.is_empty());
    let breached = CaseFilter {
        sla_breached: Some(true),
        ..Default::default()
    };
    assert_eq!(
        numbers(&list(&store, breached, CaseSort::Due).await),
        [overdue.reference.number()]
    );
}

async fn imports_many_cases_with_created_events(db: &TestDatabase) {
    let store = db.store().await;
    let before = insert(&store, &new_case("Before")).await;
    // More than one batch of multi-row inserts.
    let cases: Vec<NewCase> = (0..3_500)
        .map(|i| {
            let mut case = new_case(&format!("Imported {i}"));
            case.state = ["new", "assigned"][i % 2].into();
            case.answers.insert("i".into(), json!(i));
            case.created_at = T0 + Duration::seconds(i as i64);
            if i % 100 == 0 {
                case = with_external(case, "legacy", &i.to_string());
            }
            if i % 7 == 0 {
                case.closed_at = Some(case.created_at + Duration::days(1));
            }
            case
        })
        .collect();
    let started = Instant::now();
    store.import_cases(&cases, &Actor::System).await.unwrap();
    eprintln!(
        "{}: imported {} cases in {:?}",
        db.backend(),
        cases.len(),
        started.elapsed()
    );

    let all = list(&store, CaseFilter::default(), CaseSort::Created).await;
    assert_eq!(all.len(), cases.len() + 1);
    let closed = CaseFilter {
        open: Some(false),
        ..Default::default()
    };
    assert_eq!(store.count_cases(&closed).await.unwrap(), 500);
    let mut imported: Vec<&Case> = all
        .iter()
        .filter(|c| c.reference != before.reference)
        .collect();
    imported.sort_by_key(|c| c.reference);
    for (case, stored_case) in cases.iter().zip(&imported) {
        assert_eq!(**stored_case, stored(case, stored_case.reference));
    }
    for i in [0, 1, 1_999, 3_499] {
        let events = store.events(imported[i].reference).await.unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, created(&cases[i]));
        assert_eq!(
            (events[0].at, &events[0].actor),
            (micros(cases[i].created_at), &Actor::System)
        );
    }
}

fn job(kind: &str, run_at: OffsetDateTime, key: Option<&str>) -> NewJob {
    NewJob {
        kind: kind.into(),
        payload: json!({ "kind": kind }),
        run_at,
        key: key.map(Into::into),
    }
}

async fn claims_respect_run_at_and_leases(db: &TestDatabase) {
    let store = db.store().await;
    let now = T0;
    store
        .enqueue_jobs(&[
            job("later", now + Duration::hours(1), None),
            job("second", now - Duration::minutes(1), None),
            job("first", now - Duration::minutes(2), None),
        ])
        .await
        .unwrap();
    let lease = now + Duration::seconds(30);
    let claimed = store.claim_jobs("w1", now, lease, 10).await.unwrap();
    let kinds: Vec<_> = claimed.iter().map(|j| j.kind.as_str()).collect();
    assert_eq!(kinds, ["first", "second"]);
    assert!(
        claimed
            .iter()
            .all(|j| j.attempts == 1 && j.last_error.is_none())
    );
    assert_eq!(claimed[0].payload, json!({ "kind": "first" }));
    assert_eq!(claimed[0].run_at, micros(now - Duration::minutes(2)));

    let during = store
        .claim_jobs(
            "w2",
            now + Duration::seconds(10),
            now + Duration::minutes(1),
            10,
        )
        .await
        .unwrap();
    assert!(during.is_empty(), "a leased job was claimed again");

    let after = now + Duration::seconds(31);
    let reclaimed = store
        .claim_jobs("w2", after, after + Duration::seconds(30), 1)
        .await
        .unwrap();
    assert_eq!((reclaimed.len(), reclaimed[0].kind.as_str()), (1, "first"));
    assert_eq!(reclaimed[0].attempts, 2);

    store.complete_job(reclaimed[0].id).await.unwrap();
    assert_eq!(store.pending_job_count().await.unwrap(), 2);

    // Rescheduled, the job does not count an attempt.
    let second = claimed[1].id;
    store
        .reschedule_job(second, now + Duration::hours(2))
        .await
        .unwrap();
    let at = now + Duration::hours(2);
    let claimed = store
        .claim_jobs("w3", at, at + Duration::minutes(1), 10)
        .await
        .unwrap();
    let got: Vec<_> = claimed
        .iter()
        .map(|j| (j.kind.as_str(), j.attempts))
        .collect();
    assert_eq!(got, [("later", 1), ("second", 1)]);
}

async fn concurrent_claimers_never_share_a_job(db: &TestDatabase) {
    let store = db.store().await;
    let jobs: Vec<NewJob> = (0..200)
        .map(|i| job("work", T0 - Duration::seconds(i), None))
        .collect();
    store.enqueue_jobs(&jobs).await.unwrap();

    let claimers = (0..4).map(|w| {
        let store = store.clone();
        tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let worker = format!("worker-{w}");
                let claimed = store
                    .claim_jobs(&worker, T0, T0 + Duration::hours(1), 3)
                    .await
                    .unwrap();
                if claimed.is_empty() {
                    return mine;
                }
                for job in claimed {
                    mine.push(job.id);
                    store.complete_job(job.id).await.unwrap();
                }
            }
        })
    });
    let mut all = Vec::new();
    for claimer in claimers.collect::<Vec<_>>() {
        all.extend(claimer.await.unwrap());
    }
    let distinct: BTreeSet<i64> = all.iter().copied().collect();
    assert_eq!((all.len(), distinct.len()), (200, 200));
    assert_eq!(store.pending_job_count().await.unwrap(), 0);
}

async fn a_job_key_replaces_the_pending_job(db: &TestDatabase) {
    let store = db.store().await;
    let mut first = job("sla_check", T0 + Duration::hours(1), Some("sla:1"));
    first.payload = json!({ "v": 1 });
    let mut second = job("sla_check", T0 + Duration::hours(2), Some("sla:1"));
    second.payload = json!({ "v": 2 });
    store.enqueue_jobs(&[first]).await.unwrap();
    store.enqueue_jobs(&[second]).await.unwrap();
    assert_eq!(store.pending_job_count().await.unwrap(), 1);

    let at = T0 + Duration::hours(1);
    assert!(
        store
            .claim_jobs("w", at, at + Duration::minutes(1), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let at = T0 + Duration::hours(2);
    let running = store
        .claim_jobs("w", at, at + Duration::minutes(1), 10)
        .await
        .unwrap();
    assert_eq!(running[0].payload, json!({ "v": 2 }));

    // Rescheduled while it runs: the old run's outcome must not undo the new schedule.
    let mut third = job("sla_check", T0 + Duration::hours(5), Some("sla:1"));
    third.payload = json!({ "v": 3 });
    let case = insert(&store, &new_case("A")).await;
    store
        .update_case(&case, &Actor::System, &[], &[third])
        .await
        .unwrap();
    store.complete_job(running[0].id).await.unwrap();
    store.retry_job(running[0].id, "late", T0).await.unwrap();
    assert_eq!(store.pending_job_count().await.unwrap(), 1);
    let at = T0 + Duration::hours(5);
    let rerun = store
        .claim_jobs("w", at, at + Duration::minutes(1), 10)
        .await
        .unwrap();
    assert_eq!(rerun.len(), 1);
    assert_eq!(
        (rerun[0].payload.clone(), rerun[0].attempts),
        (json!({ "v": 3 }), 1)
    );
    assert_eq!(rerun[0].run_at, micros(at));
}

async fn retried_and_failed_jobs(db: &TestDatabase) {
    let store = db.store().await;
    store
        .enqueue_jobs(&[job("send", T0, None), job("other", T0, Some("k"))])
        .await
        .unwrap();
    assert_eq!(store.pending_job_count().await.unwrap(), 2);
    let claimed = store
        .claim_jobs("w", T0, T0 + Duration::minutes(1), 1)
        .await
        .unwrap();
    let id = claimed[0].id;
    let retry_at = T0 + Duration::minutes(2);
    store.retry_job(id, "timeout", retry_at).await.unwrap();

    let early = store
        .claim_jobs(
            "w",
            T0 + Duration::minutes(1),
            T0 + Duration::minutes(3),
            10,
        )
        .await
        .unwrap();
    assert!(early.iter().all(|j| j.id != id), "retried before its time");
    let again = store
        .claim_jobs("w", retry_at, retry_at + Duration::minutes(1), 10)
        .await
        .unwrap();
    let retried = again.iter().find(|j| j.id == id).unwrap();
    assert_eq!(
        (retried.attempts, retried.last_error.as_deref()),
        (2, Some("timeout"))
    );

    let failed_at = retry_at + Duration::seconds(1) + Duration::nanoseconds(5);
    store.fail_job(id, "bounced", failed_at).await.unwrap();
    assert_eq!(store.pending_job_count().await.unwrap(), 1);
    let failed = store.failed_jobs(10).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(
        (failed[0].id, failed[0].kind.as_str(), failed[0].attempts),
        (id, "send", 2)
    );
    assert_eq!(failed[0].last_error.as_deref(), Some("bounced"));
    assert_eq!(failed[0].failed_at, micros(failed_at));
    assert_eq!(failed[0].payload, json!({ "kind": "send" }));
    let far = T0 + Duration::days(365);
    let never = store.claim_jobs("w", far, far, 10).await.unwrap();
    assert!(never.iter().all(|j| j.id != id), "a failed job was claimed");
}

async fn api_keys_are_found_by_hash_until_revoked(db: &TestDatabase) {
    let store = db.store().await;
    let key = store
        .insert_api_key(
            "FixMyStreet",
            Role::Lead,
            &[KeyScope::Api],
            "cw_AbCdEfG",
            "h-abc",
            T0,
        )
        .await
        .unwrap();
    assert_eq!(
        (
            key.name.as_str(),
            key.role,
            key.prefix.as_str(),
            key.created_at,
            key.revoked_at
        ),
        ("FixMyStreet", Role::Lead, "cw_AbCdEfG", micros(T0), None)
    );
    assert_eq!(
        store.api_key_by_hash("h-abc").await.unwrap(),
        Some(key.clone())
    );
    assert_eq!(store.api_key_by_hash("h-other").await.unwrap(), None);

    store
        .revoke_api_key(key.id, T0 + Duration::days(1))
        .await
        .unwrap();
    assert_eq!(store.api_key_by_hash("h-abc").await.unwrap(), None);
    store
        .revoke_api_key(key.id, T0 + Duration::days(2))
        .await
        .unwrap();
    assert!(matches!(
        store.revoke_api_key(key.id + 1_000, T0).await,
        Err(StoreError::NotFound)
    ));
}

async fn migrating_again_is_a_no_op(db: &TestDatabase) {
    let store = db.store().await;
    let case = insert(&store, &new_case("Kept")).await;
    store.migrate().await.unwrap();
    assert_eq!(store.case(case.reference).await.unwrap(), Some(case));

    // Several processes migrating one new database at once.
    let fresh = match db.backend() {
        "sqlite" => TestDatabase::sqlite(),
        _ => TestDatabase::postgres().await,
    };
    let (a, b) = (
        casework_store::connect(&fresh.url).await.unwrap(),
        casework_store::connect(&fresh.url).await.unwrap(),
    );
    let (ra, rb) = tokio::join!(a.migrate(), b.migrate());
    ra.unwrap();
    rb.unwrap();
    assert_eq!(a.count_cases(&CaseFilter::default()).await.unwrap(), 0);
}

#[tokio::test]
async fn connect_explains_bad_urls() {
    let error = |result: Result<Arc<dyn Store>, StoreError>| match result {
        Ok(_) => panic!("connected to a bad URL"),
        Err(e) => e,
    };
    let unknown = error(casework_store::connect("mysql://root:secret@db/casework").await);
    let message = unknown.to_string();
    assert!(
        message.contains("sqlite:") && message.contains("postgres://"),
        "{message}"
    );
    assert!(
        !message.contains("secret"),
        "the message shows the password: {message}"
    );

    let memory = error(casework_store::connect("sqlite::memory:").await);
    assert!(memory.to_string().contains("in-memory"), "{memory}");

    let started = Instant::now();
    let dead = error(casework_store::connect("postgres://postgres@127.0.0.1:1/none").await);
    assert!(matches!(dead, StoreError::Unavailable(_)), "{dead:?}");
    assert!(started.elapsed() < StdDuration::from_secs(10));
}
