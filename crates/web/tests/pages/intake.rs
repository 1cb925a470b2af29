//! The resident request form, end to end on both databases: the services page, one question a
//! page for every kind of field, errors that keep what was typed, change and back links, the
//! session timing out, the duplicate guard both ways, the limits, Welsh, and the switch.

use std::time::Duration;

use casework_app::domain::case::{Actor, EventKind, Language, Reference, ReportedVia};
use casework_app::domain::message::MessageChannel;
use casework_app::domain::service::{Service, parse_service};
use casework_app::{Features, MAX_REQUESTS_PER_CLIENT};
use casework_web::WebConfig;
use casework_web::on_both_databases;
use casework_web::testing::TestDatabase;
use reqwest::header::LOCATION;
use serde_json::json;

use crate::helpers::{Browser, Page, TestApp, spawn_configured};

const BASE: &str = "/requests/new/missed-bin";

/// Where a POST sent the browser: its status and `Location`.
async fn posted(browser: &Browser, path: &str, form: &[(&str, &str)]) -> (u16, String) {
    let response = browser.post(path, form).await;
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get(LOCATION)
        .map(|l| l.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, location)
}

/// Answers a question that must be accepted, and says where the form went next.
async fn answer(browser: &Browser, path: &str, form: &[(&str, &str)]) -> String {
    let (status, location) = posted(browser, path, form).await;
    assert_eq!(status, 303, "POST {path} {form:?}");
    location
}

/// Answers every missed bin question and gives contact details by email.
async fn fill_in(browser: &Browser, name: &str, email: &str) {
    fill_answers(browser).await;
    give_contact(
        browser,
        &[
            ("name", name),
            ("email", email),
            ("phone", ""),
            ("channel", "email"),
        ],
    )
    .await;
}

async fn give_contact(browser: &Browser, form: &[(&str, &str)]) {
    let next = answer(browser, &format!("{BASE}/contact"), form).await;
    assert_eq!(next, format!("{BASE}/check"));
}

/// Answers every missed bin question.
async fn fill_answers(browser: &Browser) {
    let q = |code: &str| format!("{BASE}/questions/{code}");
    answer(
        browser,
        &q("address"),
        &[
            ("answer-line-1", "12 Mill Lane"),
            ("answer-line-2", ""),
            ("answer-town", "Newtown"),
            ("answer-postcode", "NT1 3AB"),
        ],
    )
    .await;
    answer(browser, &q("bin_type"), &[("answer", "recycling")]).await;
    answer(
        browser,
        &q("collection_date"),
        &[
            ("answer-day", "4"),
            ("answer-month", "12"),
            ("answer-year", "2026"),
        ],
    )
    .await;
    answer(browser, &q("bin_out_by_7am"), &[("answer", "yes")]).await;
    answer(browser, &q("assisted_collection"), &[]).await;
    answer(
        browser,
        &q("access_notes"),
        &[("answer", "Gate code 1234\r\nMind the dog")],
    )
    .await;
}

/// Sends the request from "Check your answers" and reads the page it leads to.
async fn send(browser: &Browser) -> Page {
    let (status, location) = posted(browser, &format!("{BASE}/check"), &[]).await;
    assert_eq!(status, 303, "sending");
    browser.page(&location).await
}

fn reference(page: &Page) -> Reference {
    page.text("#reference").parse().expect("a reference")
}

on_both_databases! {
    async fn the_start_page_lists_every_service(app: TestApp) {
        let page = app.signed_out().page("/").await;
        assert_eq!(page.text("h1"), "Contact the council");
        let links = page.texts(".casework-services a");
        assert!(links.contains(&"Report a missed bin collection".to_owned()), "{links:?}");
        assert_eq!(app.app.services().len(), links.len());
        assert!(page.attrs(".casework-services a", "href").contains(&BASE.to_owned()));
        let start = app.signed_out().get(BASE).await;
        assert_eq!(start.status(), 303);
        assert_eq!(
            start.headers()[LOCATION],
            format!("{BASE}/questions/address").as_str()
        );
    }

    async fn a_missed_bin_is_reported_and_confirmed(app: TestApp) {
        let browser = app.signed_out();
        let first = browser.page(&format!("{BASE}/questions/address")).await;
        assert_eq!(first.text("h1"), "Address where the bin was missed");
        assert_eq!(first.attr(".govuk-back-link", "href").as_deref(), Some("/"));
        assert_eq!(first.attr("#answer-postcode", "autocomplete").as_deref(), Some("postal-code"));
        fill_in(&browser, "Sam Resident", "Sam@Example.com").await;

        let check = browser.page(&format!("{BASE}/check")).await;
        assert_eq!(check.text("h1"), "Check your answers before sending your request");
        let keys = check.texts(".govuk-summary-list__key");
        let values = check.texts(".govuk-summary-list__value");
        let row = |key: &str| values[keys.iter().position(|k| k == key).unwrap()].clone();
        assert_eq!(row("Address where the bin was missed"), "12 Mill Lane Newtown NT1 3AB");
        assert_eq!(row("Which bin was missed?"), "Mixed recycling (blue bin)");
        assert_eq!(row("Which day should we have emptied your bin?"), "4 December 2026");
        assert_eq!(row("Was your bin out by 7am on your collection day?"), "Yes");
        assert_eq!(row("Do you have an assisted collection?"), "Not answered");
        assert_eq!(row("Full name"), "Sam Resident");
        assert_eq!(row("How should we contact you?"), "Email");
        assert_eq!(check.attr(".govuk-back-link", "href"), Some(format!("{BASE}/contact")));

        let sent = send(&browser).await;
        assert_eq!(sent.text(".govuk-panel__title"), "Request sent");
        assert_eq!(
            sent.text("#due"),
            "We aim to deal with your request by Wednesday 9 December 2026."
        );
        assert!(sent.text("main").contains("We have sent you a confirmation email."));
        let made = reference(&sent);

        let case = app.app.store().case(made).await.unwrap().unwrap();
        assert_eq!(case.service, "missed-bin");
        assert_eq!(case.contact.email.as_deref(), Some("sam@example.com"));
        assert_eq!(case.contact.language, Language::En);
        assert_eq!(
            serde_json::to_value(&case.answers).unwrap(),
            json!({
                "address": "12 Mill Lane\nNewtown\nNT1 3AB",
                "bin_type": "recycling",
                "collection_date": "2026-12-04",
                "bin_out_by_7am": true,
                "access_notes": "Gate code 1234\nMind the dog"
            })
        );
        let events = app.app.store().events(made).await.unwrap();
        assert_eq!(events[0].actor, Actor::Resident);
        assert!(matches!(
            events[0].kind,
            EventKind::Created { via: Some(ReportedVia::WebForm), .. }
        ));
        let messages = app.app.store().messages(made).await.unwrap();
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].template.as_deref(), Some("confirmation"));
        assert_eq!(messages[0].channel, MessageChannel::Email);
        assert_eq!(messages[0].to.as_deref(), Some("sam@example.com"));
        assert!(messages[0].body.contains(&made.to_string()), "{}", messages[0].body);
        assert!(messages[0].body.contains("9 December 2026"), "{}", messages[0].body);

        // The answers are gone once sent; the last page can be shown again.
        let again = browser.page(&format!("{BASE}/check")).await;
        assert_eq!(again.text("h1"), "Sorry, you will have to start again");
        assert_eq!(reference(&browser.page(&format!("{BASE}/sent")).await), case.reference);
    }

    async fn a_text_message_confirmation_goes_by_sms(app: TestApp) {
        let browser = app.signed_out();
        fill_answers(&browser).await;
        give_contact(
            &browser,
            &[("name", "Pat Resident"), ("email", ""), ("phone", "07700 900 982"), ("channel", "sms")],
        )
        .await;
        let sent = send(&browser).await;
        assert!(sent.text("main").contains("We have sent you a confirmation text message."));
        let messages = app.app.store().messages(reference(&sent)).await.unwrap();
        assert_eq!(messages[0].channel, MessageChannel::Sms);
        assert_eq!(messages[0].to.as_deref(), Some("07700900982"));
    }

    async fn errors_keep_what_was_typed(app: TestApp) {
        let browser = app.signed_out();
        fill_in(&browser, "Sam Resident", "sam@example.com").await;
        let date = format!("{BASE}/questions/collection_date");
        let response = browser
            .post(&date, &[("answer-day", "31"), ("answer-month", "2"), ("answer-year", "2026")])
            .await;
        assert_eq!(response.status(), 422);
        let page = Page::of(response).await;
        assert!(page.title().starts_with("Error: "), "{}", page.title());
        assert_eq!(
            page.errors(),
            [(
                "Which day should we have emptied your bin must be a real date".to_owned(),
                "#answer-day".to_owned()
            )]
        );
        assert!(page.text(".govuk-error-message").contains("must be a real date"));
        assert_eq!(page.value("answer-day"), "31");
        assert_eq!(page.value("answer-month"), "2");
        assert_eq!(page.value("answer-year"), "2026");

        let choice = Page::of(browser.post(&format!("{BASE}/questions/bin_type"), &[]).await).await;
        assert_eq!(choice.status, 422);
        assert_eq!(choice.errors()[0].0, "Select which bin was missed");
        assert_eq!(choice.errors()[0].1, "#answer");

        let long = "x".repeat(10_001);
        let notes = Page::of(
            browser.post(&format!("{BASE}/questions/access_notes"), &[("answer", &long)]).await,
        )
        .await;
        assert_eq!(notes.status, 422);
        assert_eq!(
            notes.errors()[0].0,
            "Is there anything that could stop us reaching your bin must be 10000 characters or fewer"
        );
        assert_eq!(notes.text("textarea").len(), 10_001);
        assert_eq!(notes.text("#answer-info"), "You can enter up to 10,000 characters");

        let contact = Page::of(
            browser
                .post(
                    &format!("{BASE}/contact"),
                    &[("name", ""), ("email", "not an email"), ("phone", "123")],
                )
                .await,
        )
        .await;
        assert_eq!(contact.status, 422);
        let errors: Vec<String> = contact.errors().into_iter().map(|(text, _)| text).collect();
        assert_eq!(
            errors,
            [
                "Enter your full name",
                "Enter an email address in the correct format, like name@example.com",
                "Enter a UK phone number, like 01632 960 001 or 07700 900 982",
                "Select how we should contact you",
            ]
        );
        assert_eq!(contact.value("email"), "not an email");
        assert_eq!(contact.value("phone"), "123");
        // Nothing typed wrongly replaced the answers kept before.
        let check = browser.page(&format!("{BASE}/check")).await;
        assert!(check.text("main").contains("4 December 2026"));
        assert!(check.text("main").contains("sam@example.com"));
    }

    async fn change_links_come_back_to_check_your_answers(app: TestApp) {
        let browser = app.signed_out();
        fill_in(&browser, "Sam Resident", "sam@example.com").await;
        let check = browser.page(&format!("{BASE}/check")).await;
        let change = format!("{BASE}/questions/bin_type?change=yes");
        assert!(check.attrs(".govuk-summary-list__actions a", "href").contains(&change));
        let page = browser.page(&change).await;
        assert_eq!(page.attr(".govuk-back-link", "href"), Some(format!("{BASE}/check")));
        assert_eq!(page.attr("input[checked]", "value").as_deref(), Some("recycling"));
        let next = answer(&browser, &change, &[("answer", "glass")]).await;
        assert_eq!(next, format!("{BASE}/check"));
        let check = browser.page(&next).await;
        assert!(check.text("main").contains("Glass (black box)"));

        let contact = format!("{BASE}/contact?change=yes");
        let page = browser.page(&contact).await;
        assert_eq!(page.value("name"), "Sam Resident");
        assert_eq!(page.attr("#channel", "checked").as_deref(), Some(""));
    }

    async fn back_links_go_to_the_page_before(app: TestApp) {
        let browser = app.signed_out();
        fill_in(&browser, "Sam Resident", "sam@example.com").await;
        let page = browser.page(&format!("{BASE}/questions/bin_type")).await;
        assert_eq!(page.attr(".govuk-back-link", "href"), Some(format!("{BASE}/questions/address")));
        let page = browser.page(&format!("{BASE}/contact")).await;
        assert_eq!(
            page.attr(".govuk-back-link", "href"),
            Some(format!("{BASE}/questions/access_notes"))
        );
        // What was answered is shown again on the way back.
        let page = browser.page(&format!("{BASE}/questions/address")).await;
        assert_eq!(page.value("answer-line-1"), "12 Mill Lane");
        assert_eq!(page.value("answer-postcode"), "NT1 3AB");
    }

    async fn the_duplicate_guard_gives_the_earlier_reference_when_it_is_the_same(app: TestApp) {
        let earlier = app.report("Sam Resident").await;
        let browser = app.signed_out();
        fill_in(&browser, "Sam Resident", "sam.resident@example.com").await;
        let (status, location) = posted(&browser, &format!("{BASE}/check"), &[]).await;
        assert_eq!((status, location.as_str()), (303, format!("{BASE}/duplicate").as_str()));
        let page = browser.page(&location).await;
        assert_eq!(page.text("h1"), format!("Is this the same as {}?", earlier.reference));

        let unanswered = Page::of(browser.post(&location, &[]).await).await;
        assert_eq!(unanswered.status, 422);
        assert_eq!(unanswered.errors()[0].1, "#same");

        let same = browser.submit(&location, &[("same", "yes")]).await;
        assert_eq!(same.text("h1"), "We already have your request");
        assert!(same.text("main").contains(&format!("Your reference is {}", earlier.reference)));
        let all = app.app.store().count_cases(&Default::default()).await.unwrap();
        assert_eq!(all, 1, "no copy was made");
    }

    async fn the_duplicate_guard_makes_a_new_request_when_it_is_not(app: TestApp) {
        let earlier = app.report("Sam Resident").await;
        let browser = app.signed_out();
        fill_in(&browser, "Sam Resident", "sam.resident@example.com").await;
        let (_, location) = posted(&browser, &format!("{BASE}/check"), &[]).await;
        let sent = browser.submit(&location, &[("same", "no")]).await;
        assert_eq!(sent.text(".govuk-panel__title"), "Request sent");
        assert_ne!(reference(&sent), earlier.reference);
        // A day later the same person is not asked.
        app.set_now(crate::helpers::MONDAY + time::Duration::hours(25));
        let browser = app.signed_out();
        fill_in(&browser, "Sam Resident", "sam.resident@example.com").await;
        let sent = send(&browser).await;
        assert_eq!(sent.text(".govuk-panel__title"), "Request sent");
    }

    async fn too_many_requests_from_one_address_are_refused(app: TestApp) {
        app.report("Sam Resident").await;
        let browser = app.signed_out();
        fill_in(&browser, "Sam Resident", "sam.resident@example.com").await;
        // Each try is counted, whatever it led to: here, the duplicate question every time.
        for _ in 0..MAX_REQUESTS_PER_CLIENT {
            let (status, _) = posted(&browser, &format!("{BASE}/check"), &[]).await;
            assert_eq!(status, 303);
        }
        let refused = Page::of(browser.post(&format!("{BASE}/check"), &[]).await).await;
        assert_eq!(refused.status, 429);
        assert_eq!(refused.text("h1"), "Too many requests");
        // Fifteen minutes later the address may try again.
        app.set_now(crate::helpers::MONDAY + time::Duration::minutes(16));
        let (status, _) = posted(&browser, &format!("{BASE}/check"), &[]).await;
        assert_eq!(status, 303);
    }

    async fn answers_and_forms_have_size_limits(app: TestApp) {
        let browser = app.signed_out();
        fill_in(&browser, "Sam Resident", "sam@example.com").await;
        let huge = "x".repeat(300 * 1024);
        let response = browser
            .post(&format!("{BASE}/questions/access_notes"), &[("answer", &huge)])
            .await;
        assert_eq!(response.status(), 413);
        let long = "x".repeat(501);
        let page = Page::of(
            browser
                .post(
                    &format!("{BASE}/questions/address"),
                    &[("answer-line-1", &long), ("answer-postcode", "NT1 3AB")],
                )
                .await,
        )
        .await;
        assert_eq!(page.status, 422);
        assert_eq!(
            page.errors()[0],
            (
                "Address where the bin was missed must be 500 characters or fewer".to_owned(),
                "#answer-line-1".to_owned()
            )
        );
        let name = "n".repeat(201);
        let contact = Page::of(
            browser
                .post(
                    &format!("{BASE}/contact"),
                    &[("name", &name), ("email", "sam@example.com"), ("channel", "email")],
                )
                .await,
        )
        .await;
        assert_eq!(contact.errors()[0].0, "Your name must be 200 characters or fewer");
    }

    async fn the_form_is_in_welsh_with_the_definitions_welsh(app: TestApp) {
        let browser = app.signed_out();
        let page = browser.page(&format!("{BASE}/questions/address?lang=cy")).await;
        assert_eq!(page.attr("html", "lang").as_deref(), Some("cy"));
        assert_eq!(page.text("legend h1"), "Cyfeiriad lle na chafodd y bin ei gasglu");
        assert_eq!(page.text(".govuk-caption-l"), "Rhoi gwybod am fin heb ei gasglu");
        assert_eq!(page.text(".govuk-back-link"), "Yn ôl");
        assert_eq!(page.text("label[for=answer-postcode]"), "Cod post");
        let empty = Page::of(browser.post(&format!("{BASE}/questions/address"), &[]).await).await;
        assert_eq!(
            empty.errors()[0].0,
            "Rhowch ateb i “Cyfeiriad lle na chafodd y bin ei gasglu”"
        );
        assert!(empty.title().starts_with("Gwall: "), "{}", empty.title());
        fill_in(&browser, "Siân Preswylydd", "sian@example.com").await;
        let choice = browser.page(&format!("{BASE}/questions/bin_type")).await;
        assert!(choice.texts(".govuk-radios__label").contains(&"Ailgylchu cymysg (bin glas)".to_owned()));
        let yes_no = browser.page(&format!("{BASE}/questions/bin_out_by_7am")).await;
        assert_eq!(yes_no.texts(".govuk-radios__label"), ["Ydy", "Nac ydy"]);
        let check = browser.page(&format!("{BASE}/check")).await;
        assert_eq!(check.text("h1"), "Gwiriwch eich atebion cyn anfon eich cais");
        assert!(check.text("main").contains("4 Rhagfyr 2026"));
        let sent = send(&browser).await;
        assert_eq!(sent.text(".govuk-panel__title"), "Cais wedi'i anfon");
        assert_eq!(
            sent.text("#due"),
            "Ein nod yw delio â'ch cais erbyn Dydd Mercher 9 Rhagfyr 2026."
        );
        let case = app.app.store().case(reference(&sent)).await.unwrap().unwrap();
        assert_eq!(case.contact.language, Language::Cy);
    }

    async fn a_page_that_does_not_exist_is_not_found(app: TestApp) {
        let browser = app.signed_out();
        for path in [
            "/requests/new/no-such-service",
            "/requests/new/missed-bin/questions/crew",
            "/requests/new/missed-bin/questions/nothing",
        ] {
            let page = Page::of(browser.get(path).await).await;
            assert_eq!(page.status, 404, "{path}");
            assert_eq!(page.text("h1"), "Page not found");
        }
    }

    async fn a_form_from_another_site_is_refused(app: TestApp) {
        let response = reqwest::Client::new()
            .post(format!("{}{BASE}/questions/address", app.address))
            .header("origin", "https://evil.example")
            .header("sec-fetch-site", "cross-site")
            .form(&[("answer-line-1", "1 High Street")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403);
    }
}

mod session_expiry {
    use super::*;

    /// A form whose answers are forgotten after a second without one.
    async fn forgetful(database: TestDatabase) -> TestApp {
        let config = WebConfig {
            request_idle: time::Duration::seconds(1),
            ..WebConfig::default()
        };
        spawn_configured(database, Features::default(), Vec::new(), &config).await
    }

    async fn run(app: TestApp) {
        let browser = app.signed_out();
        answer(
            &browser,
            &format!("{BASE}/questions/address"),
            &[
                ("answer-line-1", "12 Mill Lane"),
                ("answer-postcode", "NT1 3AB"),
            ],
        )
        .await;
        browser.page(&format!("{BASE}/questions/bin_type")).await;
        tokio::time::sleep(Duration::from_millis(2100)).await;
        for path in ["questions/bin_type", "contact", "check"] {
            let page = browser.page(&format!("{BASE}/{path}")).await;
            assert_eq!(
                page.text("h1"),
                "Sorry, you will have to start again",
                "{path}"
            );
            assert_eq!(
                page.attr("main a.govuk-button", "href").as_deref(),
                Some(BASE)
            );
        }
        let late = Page::of(
            browser
                .post(
                    &format!("{BASE}/questions/bin_type"),
                    &[("answer", "glass")],
                )
                .await,
        )
        .await;
        assert_eq!(late.text("h1"), "Sorry, you will have to start again");
        // Starting again works.
        let again = browser.page(&format!("{BASE}/questions/address")).await;
        assert_eq!(again.value("answer-line-1"), "");
    }

    #[tokio::test]
    async fn sqlite() {
        run(forgetful(TestDatabase::sqlite()).await).await;
    }

    #[tokio::test]
    async fn postgres() {
        run(forgetful(TestDatabase::postgres().await).await).await;
    }
}

mod switched_off {
    use super::*;

    async fn run(database: TestDatabase) {
        let features: Features = "worktray,plan".parse().unwrap();
        let app = spawn_configured(database, features, Vec::new(), &WebConfig::default()).await;
        let browser = app.signed_out();
        for path in ["/", BASE, "/requests/new/missed-bin/questions/address"] {
            assert_eq!(browser.get(path).await.status(), 404, "{path}");
        }
        // The rest of the resident pages keep working.
        assert_eq!(browser.get("/cookies").await.status(), 200);
    }

    #[tokio::test]
    async fn sqlite() {
        run(TestDatabase::sqlite()).await;
    }

    #[tokio::test]
    async fn postgres() {
        run(TestDatabase::postgres().await).await;
    }
}

/// A service with one field of every kind.
const EVERY_KIND: &str = r#"
code = "every-kind"
name = "Every kind of question"
description = "One question of each kind."
team = "waste"

[[fields]]
code = "summary"
label = "What is the problem?"
type = "text"
required = true

[[fields]]
code = "count"
label = "How many bins?"
type = "number"

[[fields]]
code = "problems"
label = "What went wrong?"
type = "multiple_choice"
choices = [{ code = "spilt", label = "Rubbish spilt" }, { code = "lid", label = "Lid broken" }, { code = "late", label = "Came late" }]

[[fields]]
code = "other_email"
label = "Email address of your landlord"
type = "email"

[[fields]]
code = "other_phone"
label = "Phone number of your landlord"
type = "phone"

[[fields]]
code = "place"
label = "Where is the bin store?"
type = "location"
required = true

[workflow]
initial = "open"
states = [{ code = "open", label = "Open" }, { code = "closed", label = "Closed", closed = true }]
[[workflow.transitions]]
code = "close"
label = "Close"
from = ["open"]
to = "closed"

[sla]
default_priority = "standard"
priorities = [{ code = "standard", label = "Standard", working_days = 5 }]
"#;

mod every_kind_of_question {
    use super::*;

    const KIND: &str = "/requests/new/every-kind";

    async fn spawn(database: TestDatabase) -> TestApp {
        let service: Service = parse_service("every-kind.toml", EVERY_KIND).unwrap();
        spawn_configured(
            database,
            Features::default(),
            vec![service],
            &WebConfig::default(),
        )
        .await
    }

    async fn run(app: TestApp) {
        let browser = app.signed_out();
        let q = |code: &str| format!("{KIND}/questions/{code}");

        let text = browser.page(&q("summary")).await;
        assert_eq!(text.attr("#answer", "type").as_deref(), Some("text"));
        answer(&browser, &q("summary"), &[("answer", "  Bins left open  ")]).await;

        let number = browser.page(&q("count")).await;
        assert_eq!(
            number.attr("#answer", "inputmode").as_deref(),
            Some("decimal")
        );
        assert!(number.text("h1").ends_with("(optional)"));
        let wrong = Page::of(browser.post(&q("count"), &[("answer", "two")]).await).await;
        assert_eq!(wrong.errors()[0].0, "How many bins must be a number");
        assert_eq!(wrong.value("answer"), "two");
        answer(&browser, &q("count"), &[("answer", "2")]).await;

        let boxes = browser.page(&q("problems")).await;
        assert_eq!(
            boxes.attrs("input[type=checkbox]", "value"),
            ["spilt", "lid", "late"]
        );
        answer(
            &browser,
            &q("problems"),
            &[("answer", "late"), ("answer", "spilt")],
        )
        .await;
        let ticked = browser.page(&q("problems")).await;
        assert_eq!(ticked.attrs("input[checked]", "value"), ["spilt", "late"]);

        let email = browser.page(&q("other_email")).await;
        assert_eq!(email.attr("#answer", "type").as_deref(), Some("email"));
        let wrong = Page::of(
            browser
                .post(&q("other_email"), &[("answer", "landlord@")])
                .await,
        )
        .await;
        assert_eq!(
            wrong.errors()[0].0,
            "Enter an email address in the correct format, like name@example.com"
        );
        answer(
            &browser,
            &q("other_email"),
            &[("answer", "Landlord@Example.com")],
        )
        .await;

        let phone = browser.page(&q("other_phone")).await;
        assert_eq!(phone.attr("#answer", "type").as_deref(), Some("tel"));
        answer(&browser, &q("other_phone"), &[("answer", "01632 960 001")]).await;

        // A required place is answered in words: there is no map without JavaScript.
        let place = browser.page(&q("place")).await;
        assert_eq!(place.text("legend h1"), "Where is the bin store?");
        let next = answer(
            &browser,
            &q("place"),
            &[
                ("answer-line-1", "Bin store behind 4 Mill Court"),
                ("answer-postcode", "NT1 3AC"),
            ],
        )
        .await;
        assert_eq!(next, format!("{KIND}/contact"));
        answer(
            &browser,
            &next,
            &[
                ("name", "Sam Resident"),
                ("email", "sam@example.com"),
                ("channel", "email"),
            ],
        )
        .await;
        let check = browser.page(&format!("{KIND}/check")).await;
        let values = check.texts(".govuk-summary-list__value");
        assert_eq!(values[0], "Bins left open");
        assert_eq!(values[1], "2");
        assert_eq!(values[2], "Rubbish spilt Came late");
        assert_eq!(values[3], "landlord@example.com");
        assert_eq!(values[4], "01632960001");
        assert_eq!(values[5], "Bin store behind 4 Mill Court NT1 3AC");

        let (status, location) = posted(&browser, &format!("{KIND}/check"), &[]).await;
        assert_eq!(status, 303);
        let sent = browser.page(&location).await;
        // A service without a confirmation template sends none.
        assert!(!sent.text("main").contains("We have sent you"));
        let case = app
            .app
            .store()
            .case(reference(&sent))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            serde_json::to_value(&case.answers).unwrap(),
            json!({
                "summary": "Bins left open",
                "count": 2,
                "problems": ["spilt", "late"],
                "other_email": "landlord@example.com",
                "other_phone": "01632960001",
                "place": { "address": "Bin store behind 4 Mill Court\nNT1 3AC" }
            })
        );
        assert_eq!(
            case.location.and_then(|l| l.address).as_deref(),
            Some("Bin store behind 4 Mill Court\nNT1 3AC")
        );
        assert!(
            app.app
                .store()
                .messages(case.reference)
                .await
                .unwrap()
                .is_empty()
        );
    }

    #[tokio::test]
    async fn sqlite() {
        run(spawn(TestDatabase::sqlite()).await).await;
    }

    #[tokio::test]
    async fn postgres() {
        run(spawn(TestDatabase::postgres().await).await).await;
    }
}
