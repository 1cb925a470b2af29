//! The request form's use case against a real database: the case made by the resident and
//! recorded as come in by the web form, its confirmation in the outbox, the duplicate guard,
//! the limit per client address and the limit on the answers' size.

use std::net::IpAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use casework_app::domain::case::{Actor, Channel, Contact, EventKind, Language, ReportedVia};
use casework_app::domain::message::{MessageChannel, MessageStatus};
use casework_app::domain::service::Answers;
use casework_app::{
    App, AppError, Features, MAX_REQUESTS_PER_CLIENT, RequestOutcome, ResidentRequest,
    load_calendar, load_services,
};
use casework_store::backend_tests;
use casework_store::testing::TestDatabase;
use serde_json::json;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

backend_tests!(
    a_request_is_made_by_the_resident_and_confirmed,
    the_same_person_and_service_within_a_day_is_asked_about,
    too_many_requests_from_one_address_are_refused,
    answers_too_large_together_are_refused,
);

const NOW: OffsetDateTime = datetime!(2026-12-07 10:00 UTC);

async fn app(database: &TestDatabase) -> (App, Arc<Mutex<OffsetDateTime>>) {
    let services =
        load_services(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../services")).unwrap();
    let now = Arc::new(Mutex::new(NOW));
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

fn answers() -> Answers {
    serde_json::from_value(json!({
        "address": "12 Mill Lane\nNewtown\nNT1 3AB",
        "bin_type": "recycling",
        "collection_date": "2026-12-04",
        "bin_out_by_7am": true
    }))
    .unwrap()
}

fn request(email: &str, channel: Channel) -> ResidentRequest {
    ResidentRequest {
        service: "missed-bin".into(),
        answers: answers(),
        contact: Contact {
            name: "Sam Resident".into(),
            email: Some(email.into()),
            phone: Some("07700 900 982".into()),
            preferred_channel: channel,
            language: Language::Cy,
        },
        places: Default::default(),
        confirmed_new: false,
        client: Some(IpAddr::from([192, 0, 2, 1])),
    }
}

async fn a_request_is_made_by_the_resident_and_confirmed(db: &TestDatabase) {
    let (app, _) = app(db).await;
    let RequestOutcome::Reported { case, confirmation } = app
        .report_request(request("Sam@Example.com", Channel::Sms))
        .await
        .unwrap()
    else {
        panic!("the request is made");
    };
    assert_eq!(confirmation, Some(MessageChannel::Sms));
    assert_eq!(case.contact.email.as_deref(), Some("sam@example.com"));
    assert_eq!(case.contact.language, Language::Cy);
    let events = app.store().events(case.reference).await.unwrap();
    assert_eq!(events[0].actor, Actor::Resident);
    assert!(matches!(
        events[0].kind,
        EventKind::Created {
            via: Some(ReportedVia::WebForm),
            ..
        }
    ));
    let messages = app.store().messages(case.reference).await.unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].status, MessageStatus::Queued);
    assert_eq!(messages[0].author, Actor::Resident);
    assert_eq!(messages[0].to.as_deref(), Some("07700900982"));
    assert!(
        messages[0]
            .body
            .contains("We will come back to empty it by 9 December 2026."),
        "{}",
        messages[0].body
    );
    assert!(!messages[0].body.contains("(("), "{}", messages[0].body);
}

async fn the_same_person_and_service_within_a_day_is_asked_about(db: &TestDatabase) {
    let (app, now) = app(db).await;
    let RequestOutcome::Reported { case: first, .. } = app
        .report_request(request("sam@example.com", Channel::Email))
        .await
        .unwrap()
    else {
        panic!("the first request is made");
    };
    // The same phone number with another email address is the same person.
    let again = app
        .report_request(request("other@example.com", Channel::Email))
        .await
        .unwrap();
    assert!(matches!(again, RequestOutcome::PossibleDuplicate(r) if r == first.reference));
    let confirmed = ResidentRequest {
        confirmed_new: true,
        ..request("other@example.com", Channel::Email)
    };
    let RequestOutcome::Reported { case: second, .. } =
        app.report_request(confirmed).await.unwrap()
    else {
        panic!("a new request is made when the resident says so");
    };
    assert_ne!(second.reference, first.reference);
    *now.lock().unwrap() = NOW + Duration::hours(25);
    let later = app
        .report_request(request("sam@example.com", Channel::Email))
        .await
        .unwrap();
    assert!(matches!(later, RequestOutcome::Reported { .. }));
}

async fn too_many_requests_from_one_address_are_refused(db: &TestDatabase) {
    let (app, _) = app(db).await;
    for n in 0..MAX_REQUESTS_PER_CLIENT {
        let outcome = app
            .report_request(ResidentRequest {
                confirmed_new: true,
                ..request(&format!("person{n}@example.com"), Channel::Email)
            })
            .await
            .unwrap();
        assert!(matches!(outcome, RequestOutcome::Reported { .. }), "{n}");
    }
    let refused = app
        .report_request(request("one.more@example.com", Channel::Email))
        .await
        .unwrap();
    assert!(matches!(refused, RequestOutcome::TooMany));
    // Another address is not held back by this one.
    let elsewhere = ResidentRequest {
        client: Some(IpAddr::from([192, 0, 2, 2])),
        confirmed_new: true,
        ..request("one.more@example.com", Channel::Email)
    };
    assert!(matches!(
        app.report_request(elsewhere).await.unwrap(),
        RequestOutcome::Reported { .. }
    ));
}

async fn answers_too_large_together_are_refused(db: &TestDatabase) {
    let (app, _) = app(db).await;
    let mut big = request("sam@example.com", Channel::Email);
    for code in ["access_notes", "address"] {
        big.answers.insert(code.into(), json!("x".repeat(20_000)));
    }
    match app.report_request(big).await {
        Err(AppError::Invalid(errors)) => assert_eq!(errors[0].field, "answers"),
        other => panic!("{other:?}"),
    }
    let mut no_contact = request("", Channel::Email);
    no_contact.contact.email = None;
    assert!(matches!(
        app.report_request(no_contact).await,
        Err(AppError::Case(_))
    ));
    assert_eq!(
        app.store().count_cases(&Default::default()).await.unwrap(),
        0
    );
}
