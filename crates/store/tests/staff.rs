//! Staff, teams, sessions, failed sign-ins and set-password tokens, on SQLite and on PostgreSQL
//! alike.

use casework_domain::service::Role;
use casework_store::testing::TestDatabase;
use casework_store::{NewStaff, SessionRecord, Store, StoreError, Team, backend_tests};
use serde_json::json;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

backend_tests!(
    teams_are_added_once,
    staff_round_trip_with_their_teams,
    emails_are_unique_in_any_case,
    passwords_are_set_and_staff_deactivated,
    sessions_are_stored_updated_and_expire,
    ending_someones_sessions_leaves_the_others,
    a_deleted_session_is_not_brought_back_by_a_save,
    sign_in_failures_are_counted_by_key_and_forgotten,
    set_password_tokens_work_once_until_they_expire,
);

/// Nanoseconds on purpose: the store keeps microseconds.
const T0: OffsetDateTime = datetime!(2026-03-02 09:00:00.123456789 UTC);

fn micros(at: OffsetDateTime) -> OffsetDateTime {
    at.replace_nanosecond(at.nanosecond() / 1_000 * 1_000)
        .unwrap()
}

fn team(code: &str, name: &str) -> Team {
    Team {
        code: code.into(),
        name: name.into(),
    }
}

async fn with_teams(store: &dyn Store) {
    store
        .ensure_teams(&[team("waste", "Waste"), team("repairs", "Repairs")])
        .await
        .unwrap();
}

fn new_staff(email: &str, teams: &[&str]) -> NewStaff {
    NewStaff {
        email: email.into(),
        name: "Jo Bloggs".into(),
        role: Role::Agent,
        teams: teams.iter().map(|t| (*t).to_owned()).collect(),
        password_hash: Some("$argon2id$hash".into()),
        created_at: T0,
    }
}

fn session(id: &str, staff_id: Option<i64>, expires_at: OffsetDateTime) -> SessionRecord {
    SessionRecord {
        id: id.into(),
        staff_id,
        data: json!({"casework.staff_id": staff_id, "nested": {"a": [1, 2]}}),
        expires_at,
    }
}

async fn teams_are_added_once(db: &TestDatabase) {
    let store = db.store().await;
    assert_eq!(store.teams().await.unwrap(), vec![]);
    let added = store
        .insert_team(&team("waste", "Waste and recycling"))
        .await
        .unwrap();
    assert_eq!(added, team("waste", "Waste and recycling"));
    assert!(matches!(
        store.insert_team(&team("waste", "Another")).await,
        Err(StoreError::Taken(_))
    ));
    // Ensuring leaves an existing team's name alone and adds the rest.
    store
        .ensure_teams(&[team("waste", "Waste"), team("repairs", "Repairs")])
        .await
        .unwrap();
    store.ensure_teams(&[]).await.unwrap();
    assert_eq!(
        store.teams().await.unwrap(),
        vec![
            team("repairs", "Repairs"),
            team("waste", "Waste and recycling")
        ]
    );
}

async fn staff_round_trip_with_their_teams(db: &TestDatabase) {
    let store = db.store().await;
    with_teams(&*store).await;
    let mut new = new_staff("jo@example.com", &["waste", "repairs", "waste"]);
    new.role = Role::Lead;
    let staff = store.insert_staff(&new).await.unwrap();
    assert_eq!(staff.email, "jo@example.com");
    assert_eq!(staff.name, "Jo Bloggs");
    assert_eq!(staff.role, Role::Lead);
    assert_eq!(staff.teams, vec!["repairs", "waste"]);
    assert_eq!(staff.password_hash.as_deref(), Some("$argon2id$hash"));
    assert!(staff.active);
    assert_eq!(staff.created_at, micros(T0));
    assert_eq!(staff.deactivated_at, None);

    assert_eq!(
        store.staff_by_id(staff.id).await.unwrap(),
        Some(staff.clone())
    );
    assert_eq!(
        store.staff_by_email("JO@Example.com").await.unwrap(),
        Some(staff.clone())
    );
    assert_eq!(store.staff_by_email("jo@example.org").await.unwrap(), None);
    assert_eq!(store.staff_by_id(staff.id + 1).await.unwrap(), None);

    let mut admin = new_staff("ada@example.com", &[]);
    admin.name = "Ada Admin".into();
    admin.role = Role::Admin;
    admin.password_hash = None;
    let admin = store.insert_staff(&admin).await.unwrap();
    assert_eq!((admin.teams.len(), admin.password_hash), (0, None));
    let names: Vec<(String, Vec<String>)> = store
        .list_staff()
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.name, s.teams))
        .collect();
    assert_eq!(
        names,
        vec![
            ("Ada Admin".to_owned(), vec![]),
            (
                "Jo Bloggs".to_owned(),
                vec!["repairs".to_owned(), "waste".to_owned()]
            ),
        ]
    );

    // A team that does not exist: nothing of the member of staff is kept.
    let unknown = store
        .insert_staff(&new_staff("sam@example.com", &["parks"]))
        .await;
    assert!(
        matches!(unknown, Err(StoreError::Database(_))),
        "{unknown:?}"
    );
    assert_eq!(store.staff_by_email("sam@example.com").await.unwrap(), None);
}

async fn emails_are_unique_in_any_case(db: &TestDatabase) {
    let store = db.store().await;
    with_teams(&*store).await;
    store
        .insert_staff(&new_staff("jo@example.com", &["waste"]))
        .await
        .unwrap();
    let again = store
        .insert_staff(&new_staff("Jo@Example.COM", &["repairs"]))
        .await;
    assert!(matches!(again, Err(StoreError::Taken(_))), "{again:?}");
    assert_eq!(store.list_staff().await.unwrap().len(), 1);
}

async fn passwords_are_set_and_staff_deactivated(db: &TestDatabase) {
    let store = db.store().await;
    with_teams(&*store).await;
    let staff = store
        .insert_staff(&new_staff("jo@example.com", &["waste"]))
        .await
        .unwrap();
    store
        .set_staff_password(staff.id, "$argon2id$new")
        .await
        .unwrap();
    let read = store.staff_by_id(staff.id).await.unwrap().unwrap();
    assert_eq!(read.password_hash.as_deref(), Some("$argon2id$new"));

    store
        .deactivate_staff(staff.id, T0 + Duration::days(1))
        .await
        .unwrap();
    store
        .deactivate_staff(staff.id, T0 + Duration::days(2))
        .await
        .unwrap();
    let read = store.staff_by_id(staff.id).await.unwrap().unwrap();
    assert!(!read.active);
    assert_eq!(read.deactivated_at, Some(micros(T0 + Duration::days(1))));

    assert!(matches!(
        store.set_staff_password(staff.id + 1, "h").await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.deactivate_staff(staff.id + 1, T0).await,
        Err(StoreError::NotFound)
    ));
}

async fn sessions_are_stored_updated_and_expire(db: &TestDatabase) {
    let store = db.store().await;
    with_teams(&*store).await;
    let staff = store
        .insert_staff(&new_staff("jo@example.com", &["waste"]))
        .await
        .unwrap();
    let first = session("hash-1", None, T0 + Duration::hours(8));
    assert!(store.insert_session(&first).await.unwrap());
    assert!(
        !store
            .insert_session(&session("hash-1", None, T0))
            .await
            .unwrap(),
        "a taken id is refused, and the session kept"
    );
    let mut read = store.session("hash-1", T0).await.unwrap().unwrap();
    assert_eq!(
        read,
        SessionRecord {
            expires_at: micros(first.expires_at),
            ..first
        }
    );

    read.staff_id = Some(staff.id);
    read.data = json!({"casework.staff_id": staff.id});
    read.expires_at = micros(T0 + Duration::hours(9));
    store.update_session(&read).await.unwrap();
    assert_eq!(
        store.session("hash-1", T0).await.unwrap(),
        Some(read.clone())
    );

    // Expired: not found, then swept away.
    assert_eq!(
        store
            .session("hash-1", T0 + Duration::hours(9))
            .await
            .unwrap(),
        None
    );
    store
        .insert_session(&session("hash-2", None, T0 + Duration::hours(20)))
        .await
        .unwrap();
    store
        .delete_expired_sessions(T0 + Duration::hours(10))
        .await
        .unwrap();
    assert_eq!(store.session("hash-1", T0).await.unwrap(), None);
    assert!(store.session("hash-2", T0).await.unwrap().is_some());

    store.delete_session("hash-2").await.unwrap();
    assert_eq!(store.session("hash-2", T0).await.unwrap(), None);
    store.delete_session("hash-2").await.unwrap();
}

async fn ending_someones_sessions_leaves_the_others(db: &TestDatabase) {
    let store = db.store().await;
    with_teams(&*store).await;
    let jo = store
        .insert_staff(&new_staff("jo@example.com", &["waste"]))
        .await
        .unwrap();
    let sam = store
        .insert_staff(&new_staff("sam@example.com", &["waste"]))
        .await
        .unwrap();
    let later = T0 + Duration::hours(8);
    for (id, staff) in [
        ("jo-1", Some(jo.id)),
        ("jo-2", Some(jo.id)),
        ("sam", Some(sam.id)),
        ("anon", None),
    ] {
        store
            .insert_session(&session(id, staff, later))
            .await
            .unwrap();
    }
    store.delete_staff_sessions(jo.id).await.unwrap();
    let left = |id: &'static str| {
        let store = store.clone();
        async move { store.session(id, T0).await.unwrap().is_some() }
    };
    assert!(!left("jo-1").await && !left("jo-2").await);
    assert!(left("sam").await && left("anon").await);
}

async fn a_deleted_session_is_not_brought_back_by_a_save(db: &TestDatabase) {
    let store = db.store().await;
    let record = session("hash", None, T0 + Duration::hours(8));
    store.insert_session(&record).await.unwrap();
    store.delete_session("hash").await.unwrap();
    // A request that loaded the session before it ended saves it as it finishes.
    store.update_session(&record).await.unwrap();
    assert_eq!(store.session("hash", T0).await.unwrap(), None);
}

async fn sign_in_failures_are_counted_by_key_and_forgotten(db: &TestDatabase) {
    let store = db.store().await;
    let keys = ["email-a".to_owned(), "client-1".to_owned()];
    for minute in 0..3 {
        let at = T0 + Duration::minutes(minute);
        store
            .record_sign_in_failure(&keys, at, at - Duration::minutes(15))
            .await
            .unwrap();
    }
    store
        .record_sign_in_failure(&["email-b".to_owned()], T0, T0 - Duration::minutes(15))
        .await
        .unwrap();
    assert_eq!(store.sign_in_failures("email-a", T0).await.unwrap(), 3);
    assert_eq!(store.sign_in_failures("client-1", T0).await.unwrap(), 3);
    assert_eq!(
        store
            .sign_in_failures("email-a", T0 + Duration::minutes(1))
            .await
            .unwrap(),
        2,
        "only those since the time asked"
    );
    assert_eq!(store.sign_in_failures("email-c", T0).await.unwrap(), 0);

    store.clear_sign_in_failures("email-a").await.unwrap();
    assert_eq!(store.sign_in_failures("email-a", T0).await.unwrap(), 0);
    assert_eq!(store.sign_in_failures("client-1", T0).await.unwrap(), 3);

    // Recording a failure forgets those before the window.
    let later = T0 + Duration::hours(1);
    store
        .record_sign_in_failure(
            &["email-b".to_owned()],
            later,
            later - Duration::minutes(15),
        )
        .await
        .unwrap();
    assert_eq!(store.sign_in_failures("client-1", T0).await.unwrap(), 0);
    assert_eq!(store.sign_in_failures("email-b", T0).await.unwrap(), 1);
}

async fn set_password_tokens_work_once_until_they_expire(db: &TestDatabase) {
    let store = db.store().await;
    with_teams(&*store).await;
    let mut new = new_staff("jo@example.com", &["waste"]);
    new.password_hash = None;
    let jo = store.insert_staff(&new).await.unwrap();
    let expires = T0 + Duration::hours(24);
    store
        .insert_set_password_token(jo.id, "token-1", expires, T0)
        .await
        .unwrap();
    assert_eq!(
        store.set_password_token_staff("token-1", T0).await.unwrap(),
        Some(jo.id)
    );
    assert_eq!(
        store
            .set_password_token_staff("token-1", expires)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store.set_password_token_staff("other", T0).await.unwrap(),
        None
    );

    // A new link replaces the old.
    store
        .insert_set_password_token(jo.id, "token-2", expires, T0)
        .await
        .unwrap();
    assert_eq!(
        store.set_password_token_staff("token-1", T0).await.unwrap(),
        None
    );

    // Expired: refused, and the password stays unset.
    assert_eq!(
        store
            .set_password_with_token("token-2", "$argon2id$late", expires)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .staff_by_id(jo.id)
            .await
            .unwrap()
            .unwrap()
            .password_hash,
        None
    );

    assert_eq!(
        store
            .set_password_with_token("token-2", "$argon2id$set", T0)
            .await
            .unwrap(),
        Some(jo.id)
    );
    assert_eq!(
        store
            .staff_by_id(jo.id)
            .await
            .unwrap()
            .unwrap()
            .password_hash
            .as_deref(),
        Some("$argon2id$set")
    );
    assert_eq!(
        store
            .set_password_with_token("token-2", "$argon2id$again", T0)
            .await
            .unwrap(),
        None,
        "a token works once"
    );

    // A deactivated member of staff's link does not work.
    store
        .insert_set_password_token(jo.id, "token-3", expires, T0)
        .await
        .unwrap();
    store.deactivate_staff(jo.id, T0).await.unwrap();
    assert_eq!(
        store.set_password_token_staff("token-3", T0).await.unwrap(),
        None
    );
    assert_eq!(
        store
            .set_password_with_token("token-3", "$argon2id$gone", T0)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .staff_by_id(jo.id)
            .await
            .unwrap()
            .unwrap()
            .password_hash
            .as_deref(),
        Some("$argon2id$set")
    );
}
