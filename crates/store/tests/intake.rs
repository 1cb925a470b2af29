//! The request form's duplicate guard, on SQLite and on PostgreSQL alike.

use std::sync::Arc;

use casework_domain::case::{Actor, Channel, Contact, Language, NewCase, Reference};
use casework_domain::plan::Plan;
use casework_store::testing::TestDatabase;
use casework_store::{Store, backend_tests};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

backend_tests!(
    finds_the_newest_recent_case_by_email_or_phone,
    ignores_other_services_older_cases_and_other_people,
    without_contact_details_nothing_matches,
);

const T0: OffsetDateTime = datetime!(2026-12-07 10:00 UTC);

async fn report(
    store: &Arc<dyn Store>,
    service: &str,
    email: Option<&str>,
    phone: Option<&str>,
    at: OffsetDateTime,
) -> Reference {
    let case = NewCase {
        service: service.into(),
        state: "reported".into(),
        priority: "standard".into(),
        priority_rank: 0,
        team: "waste".into(),
        contact: Contact {
            name: "Sam Resident".into(),
            email: email.map(str::to_owned),
            phone: phone.map(str::to_owned),
            preferred_channel: Channel::Email,
            language: Language::En,
        },
        answers: Default::default(),
        description: None,
        location: None,
        external: None,
        sla_due_at: at + Duration::days(2),
        created_at: at,
        closed_at: None,
        plan: Plan::default(),
    };
    store
        .insert_case(&case, &Actor::Resident, &[], &[], None)
        .await
        .unwrap()
        .reference
}

async fn finds_the_newest_recent_case_by_email_or_phone(db: &TestDatabase) {
    let store = db.store().await;
    let by_email = report(&store, "missed-bin", Some("sam@example.com"), None, T0).await;
    let by_phone = report(
        &store,
        "missed-bin",
        None,
        Some("07700900123"),
        T0 + Duration::hours(1),
    )
    .await;
    let since = T0 - Duration::hours(24);
    let found = |email, phone| store.recent_case_from_contact("missed-bin", email, phone, since);
    assert_eq!(
        found(Some("sam@example.com"), None).await.unwrap(),
        Some(by_email)
    );
    assert_eq!(
        found(None, Some("07700900123")).await.unwrap(),
        Some(by_phone)
    );
    // Either detail matches; the newer case wins.
    assert_eq!(
        found(Some("sam@example.com"), Some("07700900123"))
            .await
            .unwrap(),
        Some(by_phone)
    );
    assert_eq!(
        found(Some("sam@example.com"), Some("07700900999"))
            .await
            .unwrap(),
        Some(by_email)
    );
}

async fn ignores_other_services_older_cases_and_other_people(db: &TestDatabase) {
    let store = db.store().await;
    report(&store, "noise-complaint", Some("sam@example.com"), None, T0).await;
    report(
        &store,
        "missed-bin",
        Some("sam@example.com"),
        None,
        T0 - Duration::hours(25),
    )
    .await;
    report(&store, "missed-bin", Some("jo@example.com"), None, T0).await;
    let since = T0 - Duration::hours(24);
    assert_eq!(
        store
            .recent_case_from_contact("missed-bin", Some("sam@example.com"), None, since)
            .await
            .unwrap(),
        None
    );
    // Exactly at the start of the window still counts.
    let at_edge = report(&store, "missed-bin", Some("sam@example.com"), None, since).await;
    assert_eq!(
        store
            .recent_case_from_contact("missed-bin", Some("sam@example.com"), None, since)
            .await
            .unwrap(),
        Some(at_edge)
    );
}

async fn without_contact_details_nothing_matches(db: &TestDatabase) {
    let store = db.store().await;
    report(&store, "missed-bin", None, None, T0).await;
    assert_eq!(
        store
            .recent_case_from_contact("missed-bin", None, None, T0 - Duration::hours(24))
            .await
            .unwrap(),
        None
    );
}
