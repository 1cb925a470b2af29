//! Staff use cases against a real database, with a clock the tests move: adding staff, signing
//! in and its limits, deactivating, and one-time set-password links.

use std::net::IpAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use casework_app::domain::case::Actor;
use casework_app::domain::service::Role;
use casework_app::store::SessionRecord;
use casework_app::{
    App, AppError, Caller, Features, NewStaffMember, SignIn, StaffMember, load_calendar,
    load_services,
};
use casework_store::testing::TestDatabase;
use serde_json::json;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const START: OffsetDateTime = datetime!(2026-12-07 09:00 UTC);
const PASSWORD: &str = "correct horse battery";

/// An app whose clock the test moves.
async fn app_at(database: &TestDatabase) -> (App, Arc<Mutex<OffsetDateTime>>) {
    let services =
        load_services(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../services")).unwrap();
    let store = database.store().await;
    let now = Arc::new(Mutex::new(START));
    let clock = now.clone();
    let app = App::new(
        store,
        services,
        load_calendar(None).unwrap(),
        Features::default(),
    )
    .with_clock(Arc::new(move || *clock.lock().unwrap()));
    (app, now)
}

fn admin() -> Caller {
    Caller {
        actor: Actor::System,
        role: Role::Admin,
        api_key_id: None,
        teams: None,
    }
}

fn new_member(email: &str, role: Role, password: Option<&str>) -> NewStaffMember {
    NewStaffMember {
        email: email.into(),
        name: "Jo Bloggs".into(),
        role,
        teams: vec!["waste".into()],
        password: password.map(Into::into),
    }
}

async fn add(app: &App, email: &str, role: Role) -> StaffMember {
    app.add_staff(&admin(), new_member(email, role, Some(PASSWORD)))
        .await
        .unwrap()
}

fn fields(error: AppError) -> Vec<String> {
    match error {
        AppError::Invalid(fields) => fields.into_iter().map(|f| f.field).collect(),
        other => panic!("expected invalid fields, got {other:?}"),
    }
}

fn ip(text: &str) -> Option<IpAddr> {
    Some(text.parse().unwrap())
}

async fn session_of(app: &App, id: &str, staff: &StaffMember) {
    let record = SessionRecord {
        id: id.into(),
        staff_id: Some(staff.id),
        data: json!({}),
        expires_at: START + Duration::hours(8),
    };
    assert!(app.store().insert_session(&record).await.unwrap());
}

async fn has_session(app: &App, id: &str) -> bool {
    app.store().session(id, START).await.unwrap().is_some()
}

async fn staff_are_added_checked_and_unique(database: TestDatabase) {
    let (app, _) = app_at(&database).await;
    let mut new = new_member("  Jo.Bloggs@Example.com ", Role::Lead, Some(PASSWORD));
    new.teams = vec![
        "environmental-health".into(),
        "waste".into(),
        "waste".into(),
    ];
    let jo = app.add_staff(&admin(), new).await.unwrap();
    assert_eq!(jo.email, "jo.bloggs@example.com");
    assert_eq!(jo.teams, vec!["environmental-health", "waste"]);
    assert!(jo.active);
    // The services' teams are made as they get their first member.
    let teams: Vec<(String, String)> = app
        .list_teams()
        .await
        .unwrap()
        .into_iter()
        .map(|t| (t.code, t.name))
        .collect();
    assert_eq!(
        teams,
        vec![
            ("environmental-health".into(), "Environmental health".into()),
            ("waste".into(), "Waste".into())
        ]
    );

    let again = app
        .add_staff(
            &admin(),
            new_member("JO.BLOGGS@example.com", Role::Agent, None),
        )
        .await
        .unwrap_err();
    assert_eq!(fields(again), vec!["email"]);

    let mut wrong = new_member("not an email", Role::Agent, Some("short"));
    wrong.name = " ".into();
    wrong.teams = vec!["parks".into()];
    let mut named = fields(app.add_staff(&admin(), wrong).await.unwrap_err());
    named.sort();
    assert_eq!(named, vec!["email", "name", "password", "teams"]);

    let mut teamless = new_member("sam@example.com", Role::Agent, None);
    teamless.teams.clear();
    assert_eq!(
        fields(app.add_staff(&admin(), teamless.clone()).await.unwrap_err()),
        vec!["teams"]
    );
    teamless.role = Role::Admin;
    assert!(
        app.add_staff(&admin(), teamless).await.is_ok(),
        "an admin needs no team"
    );

    let lead = jo.caller();
    assert!(matches!(
        app.add_staff(&lead, new_member("kim@example.com", Role::Agent, None))
            .await,
        Err(AppError::AdminOnly)
    ));
    assert!(matches!(
        app.create_team(&lead, "parks", "Parks").await,
        Err(AppError::AdminOnly)
    ));
    let parks = app
        .create_team(&admin(), "parks", "Parks and open spaces")
        .await
        .unwrap();
    assert_eq!(parks.name, "Parks and open spaces");
    assert_eq!(
        fields(
            app.create_team(&admin(), "parks", "Again")
                .await
                .unwrap_err()
        ),
        vec!["code"]
    );
    assert_eq!(
        fields(app.create_team(&admin(), "Parks!", "").await.unwrap_err()),
        vec!["code", "name"]
    );
    assert_eq!(app.list_staff().await.unwrap().len(), 2);
}

async fn signing_in_checks_the_password(database: TestDatabase) {
    let (app, _) = app_at(&database).await;
    let jo = add(&app, "jo@example.com", Role::Agent).await;
    assert_eq!(
        app.authenticate(" JO@example.com", PASSWORD, None)
            .await
            .unwrap(),
        SignIn::Staff(jo.clone())
    );
    assert_eq!(
        app.authenticate("jo@example.com", "Correct horse battery", None)
            .await
            .unwrap(),
        SignIn::Refused
    );
    assert_eq!(
        app.authenticate("nobody@example.com", PASSWORD, None)
            .await
            .unwrap(),
        SignIn::Refused
    );
    // Without a password yet, nothing signs in.
    let kim = app
        .add_staff(&admin(), new_member("kim@example.com", Role::Agent, None))
        .await
        .unwrap();
    assert_eq!(
        app.authenticate(&kim.email, "", None).await.unwrap(),
        SignIn::Refused
    );
}

async fn failed_sign_ins_are_limited_per_email_for_fifteen_minutes(database: TestDatabase) {
    let (app, now) = app_at(&database).await;
    let jo = add(&app, "jo@example.com", Role::Agent).await;
    // A success clears the count: four failures, a success, four more are still allowed.
    for _ in 0..4 {
        let refused = app
            .authenticate("jo@example.com", "wrong password!", ip("192.0.2.1"))
            .await;
        assert_eq!(refused.unwrap(), SignIn::Refused);
    }
    assert!(matches!(
        app.authenticate("jo@example.com", PASSWORD, ip("192.0.2.1"))
            .await
            .unwrap(),
        SignIn::Staff(_)
    ));
    for _ in 0..5 {
        let refused = app
            .authenticate("Jo@Example.com", "wrong password!", ip("192.0.2.1"))
            .await;
        assert_eq!(refused.unwrap(), SignIn::Refused);
    }
    // Locked, even with the right password and from another address.
    assert_eq!(
        app.authenticate("jo@example.com", PASSWORD, ip("198.51.100.7"))
            .await
            .unwrap(),
        SignIn::TooManyAttempts
    );
    *now.lock().unwrap() += Duration::minutes(14);
    assert_eq!(
        app.authenticate("jo@example.com", PASSWORD, None)
            .await
            .unwrap(),
        SignIn::TooManyAttempts
    );
    *now.lock().unwrap() += Duration::minutes(2);
    assert_eq!(
        app.authenticate("jo@example.com", PASSWORD, None)
            .await
            .unwrap(),
        SignIn::Staff(jo)
    );
}

async fn failed_sign_ins_are_limited_per_client(database: TestDatabase) {
    let (app, _) = app_at(&database).await;
    add(&app, "jo@example.com", Role::Agent).await;
    // Guessing at many addresses from one place.
    for n in 0..50 {
        let refused = app
            .authenticate(
                &format!("guess{n}@example.com"),
                "a guess",
                ip("203.0.113.9"),
            )
            .await;
        assert_eq!(refused.unwrap(), SignIn::Refused, "attempt {n}");
    }
    assert_eq!(
        app.authenticate("jo@example.com", PASSWORD, ip("203.0.113.9"))
            .await
            .unwrap(),
        SignIn::TooManyAttempts
    );
    assert!(matches!(
        app.authenticate("jo@example.com", PASSWORD, ip("203.0.113.10"))
            .await
            .unwrap(),
        SignIn::Staff(_)
    ));
}

async fn deactivated_staff_cannot_sign_in_and_their_sessions_end(database: TestDatabase) {
    let (app, _) = app_at(&database).await;
    let jo = add(&app, "jo@example.com", Role::Agent).await;
    let ada = add(&app, "ada@example.com", Role::Admin).await;
    session_of(&app, "jo-session", &jo).await;
    session_of(&app, "ada-session", &ada).await;

    assert!(matches!(
        app.deactivate_staff(&ada.caller(), ada.id).await,
        Err(AppError::Invalid(_))
    ));
    assert!(matches!(
        app.deactivate_staff(&jo.caller(), ada.id).await,
        Err(AppError::AdminOnly)
    ));
    app.deactivate_staff(&ada.caller(), jo.id).await.unwrap();
    assert!(!has_session(&app, "jo-session").await);
    assert!(has_session(&app, "ada-session").await);
    assert_eq!(
        app.authenticate("jo@example.com", PASSWORD, None)
            .await
            .unwrap(),
        SignIn::Refused
    );
    assert_eq!(app.active_staff_member(jo.id).await.unwrap(), None);
    let listed = app.list_staff().await.unwrap();
    assert!(listed.iter().any(|m| m.id == jo.id && !m.active));
    assert!(matches!(
        app.deactivate_staff(&admin(), jo.id + 100).await,
        Err(AppError::StaffNotFound(_))
    ));
}

async fn a_new_password_ends_sessions(database: TestDatabase) {
    let (app, _) = app_at(&database).await;
    let jo = add(&app, "jo@example.com", Role::Agent).await;
    session_of(&app, "jo-session", &jo).await;
    assert_eq!(
        fields(
            app.set_password(&admin(), jo.id, "too short")
                .await
                .unwrap_err()
        ),
        vec!["password"]
    );
    assert!(has_session(&app, "jo-session").await);
    app.set_password(&admin(), jo.id, "a brand new passphrase")
        .await
        .unwrap();
    assert!(!has_session(&app, "jo-session").await);
    assert_eq!(
        app.authenticate("jo@example.com", PASSWORD, None)
            .await
            .unwrap(),
        SignIn::Refused
    );
    assert_eq!(
        app.authenticate("jo@example.com", "a brand new passphrase", None)
            .await
            .unwrap(),
        SignIn::Staff(jo)
    );
}

async fn set_password_links_work_once_for_a_day(database: TestDatabase) {
    let (app, now) = app_at(&database).await;
    let kim = app
        .add_staff(&admin(), new_member("kim@example.com", Role::Agent, None))
        .await
        .unwrap();
    let link = app
        .create_set_password_link(&admin(), kim.id)
        .await
        .unwrap();
    assert_eq!(link.expires_at, START + Duration::hours(24));
    assert!(link.token.len() >= 43, "256 random bits");
    assert_eq!(
        app.set_password_link_holder(&link.token).await.unwrap(),
        Some(kim.clone())
    );
    assert_eq!(app.set_password_link_holder("made-up").await.unwrap(), None);

    assert_eq!(
        fields(
            app.set_password_with_link(&link.token, "short")
                .await
                .unwrap_err()
        ),
        vec!["password"]
    );
    assert_eq!(
        app.set_password_with_link(&link.token, PASSWORD)
            .await
            .unwrap(),
        Some(kim.clone())
    );
    assert_eq!(
        app.authenticate("kim@example.com", PASSWORD, None)
            .await
            .unwrap(),
        SignIn::Staff(kim.clone())
    );
    assert_eq!(
        app.set_password_link_holder(&link.token).await.unwrap(),
        None
    );
    assert_eq!(
        app.set_password_with_link(&link.token, "someone else's choice")
            .await
            .unwrap(),
        None,
        "a link works once"
    );

    let late = app
        .create_set_password_link(&admin(), kim.id)
        .await
        .unwrap();
    *now.lock().unwrap() += Duration::hours(24);
    assert_eq!(
        app.set_password_link_holder(&late.token).await.unwrap(),
        None
    );
    assert_eq!(
        app.set_password_with_link(&late.token, "too late for this")
            .await
            .unwrap(),
        None
    );
    assert!(matches!(
        app.create_set_password_link(&kim.caller(), kim.id).await,
        Err(AppError::AdminOnly)
    ));
}

async fn demo_staff_get_new_passwords_each_time(database: TestDatabase) {
    let (app, _) = app_at(&database).await;
    let first = app.prepare_demo_staff().await.unwrap();
    let roles: Vec<Role> = first.iter().map(|(m, _)| m.role).collect();
    assert_eq!(roles, vec![Role::Agent, Role::Lead, Role::Admin]);
    for (member, password) in &first {
        assert_eq!(member.teams.len(), 4, "every service's team");
        assert_eq!(
            app.authenticate(&member.email, password, None)
                .await
                .unwrap(),
            SignIn::Staff(member.clone())
        );
    }
    let second = app.prepare_demo_staff().await.unwrap();
    assert_eq!(app.list_staff().await.unwrap().len(), 3);
    let (agent, old) = &first[0];
    assert_ne!(&second[0].1, old);
    assert_eq!(
        app.authenticate(&agent.email, old, None).await.unwrap(),
        SignIn::Refused
    );
}

macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {$(
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

on_both_databases!(
    staff_are_added_checked_and_unique,
    signing_in_checks_the_password,
    failed_sign_ins_are_limited_per_email_for_fifteen_minutes,
    failed_sign_ins_are_limited_per_client,
    deactivated_staff_cannot_sign_in_and_their_sessions_end,
    a_new_password_ends_sessions,
    set_password_links_work_once_for_a_day,
    demo_staff_get_new_passwords_each_time,
);
