//! API key scopes, cases reported through Open311 and the updates clients post, on SQLite and on
//! PostgreSQL alike.

use std::sync::Arc;

use casework_domain::case::{
    Actor, Case, Channel, Contact, EventKind, Language, Location, NewCase, Reference,
};
use casework_domain::plan::Plan;
use casework_domain::service::Role;
use casework_store::testing::TestDatabase;
use casework_store::{
    ApiKey, KeyScope, NewOpen311Request, Open311Filter, Store, StoreError, backend_tests,
};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

backend_tests!(
    keys_keep_their_scopes,
    a_key_finds_only_the_requests_it_reported,
    requests_filter_by_reference_service_status_and_time,
    tokens_find_their_case_for_their_key_only,
    transitions_are_listed_by_time_for_the_reporting_key,
    a_client_update_is_saved_once_and_refuses_a_stale_case,
);

const T0: OffsetDateTime = datetime!(2026-12-04 09:00 UTC);

async fn key(store: &Arc<dyn Store>, name: &str, scopes: &[KeyScope]) -> ApiKey {
    store
        .insert_api_key(
            name,
            Role::Agent,
            scopes,
            "cw_x",
            &format!("hash-{name}"),
            T0,
        )
        .await
        .unwrap()
}

fn new_case(service: &str, created_at: OffsetDateTime) -> NewCase {
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
        description: Some("Bin not emptied".into()),
        location: Some(Location {
            lat: Some(52.05),
            long: Some(-1.3),
            address: Some("1 High Street".into()),
        }),
        external: None,
        sla_due_at: created_at + Duration::days(2),
        created_at,
        closed_at: None,
        plan: Plan::default(),
    }
}

async fn report(
    store: &Arc<dyn Store>,
    key: &ApiKey,
    service: &str,
    created_at: OffsetDateTime,
    token: &str,
) -> Case {
    let case = new_case(service, created_at);
    let created = EventKind::Created {
        state: case.state.clone(),
        priority: case.priority.clone(),
        external: None,
        via: None,
    };
    let request = NewOpen311Request {
        api_key_id: key.id,
        token_hash: token.into(),
        device_id: Some("device-1".into()),
        account_id: None,
        address_id: Some("UPRN 100".into()),
        media_urls: vec![
            "https://example.com/a.jpeg".into(),
            "https://example.com/b.jpeg".into(),
        ],
    };
    store
        .insert_open311_case(
            &case,
            &Actor::ApiClient(key.name.clone()),
            &[created],
            &request,
        )
        .await
        .unwrap()
}

fn references(requests: &[casework_store::Open311Request]) -> Vec<Reference> {
    requests.iter().map(|r| r.case.reference).collect()
}

async fn keys_keep_their_scopes(db: &TestDatabase) {
    let store = db.store().await;
    let both = key(
        &store,
        "both",
        &[KeyScope::Open311, KeyScope::Api, KeyScope::Open311],
    )
    .await;
    assert_eq!(both.scopes, [KeyScope::Api, KeyScope::Open311]);
    let open311 = key(&store, "open311", &[KeyScope::Open311]).await;
    let found = store
        .api_key_by_hash("hash-open311")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, open311);
    assert_eq!(found.scopes, [KeyScope::Open311]);
    assert_eq!("open311".parse(), Ok(KeyScope::Open311));
    assert!("everything".parse::<KeyScope>().is_err());
}

async fn a_key_finds_only_the_requests_it_reported(db: &TestDatabase) {
    let store = db.store().await;
    let fms = key(&store, "fms", &[KeyScope::Open311]).await;
    let app = key(&store, "app", &[KeyScope::Open311]).await;
    let mine = report(&store, &fms, "bins", T0, "t1").await;
    let theirs = report(&store, &app, "bins", T0, "t2").await;
    let filter = Open311Filter {
        limit: 1000,
        ..Open311Filter::default()
    };
    let found = store.open311_requests(fms.id, &filter).await.unwrap();
    assert_eq!(references(&found), [mine.reference]);
    let request = &found[0];
    assert_eq!(request.case, mine);
    assert_eq!(request.device_id.as_deref(), Some("device-1"));
    assert_eq!(request.address_id.as_deref(), Some("UPRN 100"));
    assert_eq!(request.account_id, None);
    assert_eq!(request.media_urls.len(), 2);
    let found = store.open311_requests(app.id, &filter).await.unwrap();
    assert_eq!(references(&found), [theirs.reference]);
    assert_eq!(
        store.events(mine.reference).await.unwrap()[0].actor,
        Actor::ApiClient("fms".into())
    );
}

async fn requests_filter_by_reference_service_status_and_time(db: &TestDatabase) {
    let store = db.store().await;
    let fms = key(&store, "fms", &[KeyScope::Open311]).await;
    let hour = Duration::hours(1);
    let first = report(&store, &fms, "bins", T0, "t1").await;
    let second = report(&store, &fms, "potholes", T0 + hour, "t2").await;
    let third = report(&store, &fms, "bins", T0 + 2 * hour, "t3").await;
    let mut closed = third.clone();
    closed.state = "done".into();
    closed.closed_at = Some(T0 + 3 * hour);
    closed.updated_at = T0 + 3 * hour;
    let closed = store
        .update_case(&closed, &Actor::System, &[], &[])
        .await
        .unwrap();
    let find = |filter: Open311Filter| {
        let store = store.clone();
        async move {
            let filter = Open311Filter {
                limit: 1000,
                ..filter
            };
            references(&store.open311_requests(fms.id, &filter).await.unwrap())
        }
    };
    assert_eq!(
        find(Open311Filter::default()).await,
        [closed.reference, second.reference, first.reference],
        "newest first"
    );
    assert_eq!(
        find(Open311Filter {
            references: vec![first.reference, closed.reference, Reference::new(999)],
            ..Open311Filter::default()
        })
        .await,
        [closed.reference, first.reference]
    );
    assert_eq!(
        find(Open311Filter {
            service: Some("bins".into()),
            open: Some(true),
            ..Open311Filter::default()
        })
        .await,
        [first.reference]
    );
    assert_eq!(
        find(Open311Filter {
            open: Some(false),
            ..Open311Filter::default()
        })
        .await,
        [closed.reference]
    );
    assert_eq!(
        find(Open311Filter {
            created_from: Some(T0 + hour),
            created_before: Some(T0 + 2 * hour),
            ..Open311Filter::default()
        })
        .await,
        [second.reference]
    );
    let one = store
        .open311_requests(
            fms.id,
            &Open311Filter {
                limit: 1,
                ..Open311Filter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(references(&one), [closed.reference]);
}

async fn tokens_find_their_case_for_their_key_only(db: &TestDatabase) {
    let store = db.store().await;
    let fms = key(&store, "fms", &[KeyScope::Open311]).await;
    let app = key(&store, "app", &[KeyScope::Open311]).await;
    let case = report(&store, &fms, "bins", T0, "token-hash").await;
    assert_eq!(
        store.open311_token(fms.id, "token-hash").await.unwrap(),
        Some(case.reference)
    );
    assert_eq!(
        store.open311_token(app.id, "token-hash").await.unwrap(),
        None
    );
    assert_eq!(store.open311_token(fms.id, "other").await.unwrap(), None);
}

async fn transitions_are_listed_by_time_for_the_reporting_key(db: &TestDatabase) {
    let store = db.store().await;
    let fms = key(&store, "fms", &[KeyScope::Open311]).await;
    let app = key(&store, "app", &[KeyScope::Open311]).await;
    let case = report(&store, &fms, "bins", T0, "t1").await;
    let hour = Duration::hours(1);
    let mut moved = case.clone();
    moved.state = "scheduled".into();
    moved.updated_at = T0 + hour;
    let transition = EventKind::Transitioned {
        transition: "schedule".into(),
        from: "new".into(),
        to: "scheduled".into(),
    };
    let note = EventKind::NoteAdded {
        text: "Crew told".into(),
    };
    let actor = Actor::Staff("sam@council.example".into());
    store
        .update_case(&moved, &actor, &[transition.clone(), note], &[])
        .await
        .unwrap();
    let found = store
        .open311_transitions(fms.id, T0, T0 + 2 * hour, 1000)
        .await
        .unwrap();
    assert_eq!(found.len(), 1, "notes are not updates: {found:?}");
    assert_eq!(found[0].kind, transition);
    assert_eq!(found[0].case, case.reference);
    assert_eq!(found[0].at, T0 + hour);
    assert!(
        store
            .open311_transitions(fms.id, T0 + 2 * hour, T0 + 3 * hour, 1000)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .open311_transitions(app.id, T0, T0 + 2 * hour, 1000)
            .await
            .unwrap()
            .is_empty(),
        "another key's cases are not listed"
    );
}

async fn a_client_update_is_saved_once_and_refuses_a_stale_case(db: &TestDatabase) {
    let store = db.store().await;
    let fms = key(&store, "fms", &[KeyScope::Open311]).await;
    let case = report(&store, &fms, "bins", T0, "t1").await;
    let actor = Actor::ApiClient("fms".into());
    let mut noted = case.clone();
    noted.updated_at = T0 + Duration::hours(1);
    let note = EventKind::NoteAdded {
        text: "Update from fms (status OPEN)".into(),
    };
    let id = store
        .save_open311_update(
            &noted,
            &actor,
            std::slice::from_ref(&note),
            fms.id,
            Some("fms-42"),
        )
        .await
        .unwrap();
    let events = store.events(case.reference).await.unwrap();
    assert_eq!(events.last().unwrap().id, id);
    assert_eq!(events.last().unwrap().kind, note);
    assert_eq!(
        store.open311_update_event(fms.id, "fms-42").await.unwrap(),
        Some(id)
    );
    let again = store
        .save_open311_update(
            &noted,
            &actor,
            std::slice::from_ref(&note),
            fms.id,
            Some("fms-42"),
        )
        .await
        .unwrap();
    assert_eq!(again, id, "a retried update is the same update");
    assert_eq!(
        store.events(case.reference).await.unwrap().len(),
        events.len()
    );
    let stale = store
        .save_open311_update(&noted, &actor, &[note], fms.id, Some("fms-43"))
        .await;
    assert!(
        matches!(stale, Err(StoreError::Conflict { expected: 1, .. })),
        "{stale:?}"
    );
    assert_eq!(
        store.open311_update_event(fms.id, "fms-43").await.unwrap(),
        None
    );
}
