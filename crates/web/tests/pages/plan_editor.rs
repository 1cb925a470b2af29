//! The staff side of the shared plan: editing the goal and actions with the plan's version,
//! refusals that keep what was typed, and sharing the plan through links shown once.

use casework_app::domain::service::Role;

use crate::helpers::{Page, system};
use casework_web::on_both_databases;

fn editor(reference: impl std::fmt::Display) -> String {
    format!("/staff/cases/{reference}/plan")
}

/// The plan's version, as the goal form carries it.
fn version(page: &Page) -> String {
    page.attr("form[action$='/plan/goal'] input[name=version]", "value")
        .expect("the goal form carries the plan's version")
}

on_both_databases! {
    async fn an_agent_sees_the_plan_and_edits_it(app: TestApp) {
        let case = app.report("Sam Resident").await;
        let staff = app.sign_in("agent@council.example", Role::Agent).await;
        let path = editor(case.reference);
        let case_page = staff.page(&format!("/staff/cases/{}", case.reference)).await;
        assert!(
            case_page
                .text("main")
                .contains("0 of 2 actions done; 1 for the resident to do."),
            "{}",
            case_page.text("main")
        );
        assert_eq!(case_page.attr("a[href$='/plan']", "href"), Some(path.clone()));
        let page = staff.page(&path).await;
        assert_eq!(page.text("h1"), "Plan");
        assert_eq!(page.text("#goal"), "Empty your missed bin");
        let titles = page.texts(".govuk-summary-card__title");
        assert_eq!(titles.len(), 2);
        assert!(titles[0].starts_with("1. Leave your bin out"), "{titles:?}");
        assert!(page.text("main").contains("The resident has not opened the plan yet."));

        let page = staff
            .submit(&format!("{path}/goal"), &[("version", &version(&page)), ("goal", "Get the bin emptied")])
            .await;
        assert_eq!(page.text(".govuk-notification-banner__heading"), "Goal saved");
        assert_eq!(page.text("#goal"), "Get the bin emptied");

        let page = staff
            .submit(
                &format!("{path}/actions"),
                &[
                    ("version", &version(&page)),
                    ("owner", "council"),
                    ("title", "Check the crew's notes"),
                    ("details", "Ask the *driver*"),
                    ("due-day", "9"),
                    ("due-month", "12"),
                    ("due-year", "2026"),
                ],
            )
            .await;
        let titles = page.texts(".govuk-summary-card__title");
        assert_eq!(titles.len(), 3);
        assert!(titles[2].starts_with("3. Check the crew's notes"), "{titles:?}");
        assert!(page.text("main").contains("9 December 2026"));

        // Move the new action to the top, tick it, reopen it, then remove it.
        let third = page.attrs("[id^=action-]", "id")[2].trim_start_matches("action-").to_owned();
        let page = staff
            .submit(&format!("{path}/actions/{third}/move"), &[("version", &version(&page)), ("direction", "up")])
            .await;
        assert!(page.texts(".govuk-summary-card__title")[1].starts_with("2. Check the crew's notes"));
        let page = staff.submit(&format!("{path}/actions/{third}/complete"), &[]).await;
        assert!(page.text(&format!("#action-{third}")).contains("Done on"));
        let page = staff.submit(&format!("{path}/actions/{third}/reopen"), &[]).await;
        assert!(!page.text(&format!("#action-{third}")).contains("Done on"));
        let page = staff
            .submit(&format!("{path}/actions/{third}/remove"), &[("version", &version(&page))])
            .await;
        assert_eq!(page.texts(".govuk-summary-card__title").len(), 2);

        // The change form for an action keeps its values.
        let first = page.attrs("[id^=action-]", "id")[0].trim_start_matches("action-").to_owned();
        let form = staff.page(&format!("{path}/actions/{first}")).await;
        assert_eq!(form.value("action-title"), "Leave your bin out");
        assert_eq!(form.attr("#action-owner", "checked").as_deref(), Some(""));
        let page = staff
            .submit(
                &format!("{path}/actions/{first}"),
                &[
                    ("version", &form.value_of("version")),
                    ("owner", "resident"),
                    ("title", "Leave your bin out by 7am"),
                    ("details", ""),
                    ("due-day", "8"),
                    ("due-month", "12"),
                    ("due-year", "2026"),
                ],
            )
            .await;
        assert!(page.texts(".govuk-summary-card__title")[0].starts_with("1. Leave your bin out by 7am"));

        let timeline = staff.page(&format!("/staff/cases/{}", case.reference)).await.timeline();
        for title in ["Plan goal changed", "Plan action added", "Plan action moved", "Plan action done",
            "Plan action marked as not done", "Plan action removed"] {
            assert!(timeline.iter().any(|t| t.starts_with(title)), "{title} in {timeline:?}");
        }
    }

    async fn refusals_keep_what_was_typed(app: TestApp) {
        let case = app.report("Tom Typed").await;
        let staff = app.sign_in("agent@council.example", Role::Agent).await;
        let path = editor(case.reference);
        let page = staff.page(&path).await;
        let stale = version(&page);

        let response = staff
            .post(
                &format!("{path}/actions"),
                &[("version", &stale), ("owner", ""), ("title", "Bring ID"), ("due-day", "31"), ("due-month", "2"), ("due-year", "2027")],
            )
            .await;
        assert_eq!(response.status(), 422);
        let page = Page::of(response).await;
        let errors: Vec<String> = page.errors().into_iter().map(|(text, _)| text).collect();
        assert_eq!(errors, ["Select who will do this", "Due date must be a real date, like 27 3 2027"]);
        assert_eq!(page.value("add-title"), "Bring ID");
        assert_eq!(page.value("add-due-day"), "31");
        assert!(page.title().starts_with("Error: "));
        assert_eq!(page.attr("#add", "open").as_deref(), Some(""));

        // Someone else changes the plan; the page read before is stale.
        app.app.set_plan_goal(&system(), case.reference, stale.parse().unwrap(), Some("New goal")).await.unwrap();
        let response = staff
            .post(&format!("{path}/goal"), &[("version", &stale), ("goal", "My goal")])
            .await;
        assert_eq!(response.status(), 409);
        let page = Page::of(response).await;
        assert!(page.text(".govuk-error-summary").contains("Someone else changed this plan"));
        assert_eq!(page.text("#goal"), "My goal", "what they typed is kept");
        assert_ne!(version(&page), stale);

        // The change form, stale: typed values kept, with the version now seen.
        let first = page.attrs("[id^=action-]", "id")[0].trim_start_matches("action-").to_owned();
        let response = staff
            .post(
                &format!("{path}/actions/{first}"),
                &[("version", &stale), ("owner", "resident"), ("title", "Typed title")],
            )
            .await;
        assert_eq!(response.status(), 409);
        let form = Page::of(response).await;
        assert_eq!(form.value("action-title"), "Typed title");
        assert_eq!(form.value_of("version"), version(&page));
        assert_eq!(
            staff.get(&format!("{path}/actions/00000000-0000-0000-0000-000000000000")).await.status(),
            404
        );
    }

    async fn a_link_is_shown_once_and_can_be_withdrawn(app: TestApp) {
        let case = app.report("Lin Link").await;
        let staff = app.sign_in("agent@council.example", Role::Agent).await;
        let path = editor(case.reference);
        let page = staff.submit(&format!("{path}/links"), &[]).await;
        let link = page.attr("#new-link a", "href").expect("the new link is shown");
        let token_path = link.split_once("/plan/").map(|(_, t)| format!("/plan/{t}")).unwrap();
        assert_eq!(token_path.len(), "/plan/".len() + 43);
        assert!(page.text("main").contains("Working"));

        let again = staff.page(&path).await;
        assert_eq!(again.attr("#new-link a", "href"), None, "shown once");

        let resident = app.signed_out();
        resident.page(&token_path).await;
        let page = staff.page(&path).await;
        assert!(page.text("main").contains("The resident last opened the plan on"));
        assert!(page.text("main").contains("1 time"));

        let revoke = page.attr("form[action$='/revoke']", "action").unwrap();
        let page = staff.submit(&revoke, &[]).await;
        assert!(page.text("main").contains("Withdrawn"));
        assert_eq!(resident.get(&token_path).await.status(), 410);
    }

    async fn other_teams_and_closed_cases(app: TestApp) {
        let case = app.report("Olu Other").await;
        let outsider = app.sign_in_to("repairs@council.example", Role::Agent, &["repairs"]).await;
        assert_eq!(outsider.get(&editor(case.reference)).await.status(), 404);
        assert_eq!(outsider.post(&format!("{}/links", editor(case.reference)), &[]).await.status(), 404);
        assert_eq!(app.signed_out().get(&editor(case.reference)).await.status(), 303);

        app.app
            .transition_case(&system(), case.reference, case.version, "collect", &Default::default())
            .await
            .unwrap();
        let staff = app.sign_in("agent@council.example", Role::Agent).await;
        let page = staff.page(&editor(case.reference)).await;
        assert!(page.text(".govuk-inset-text").contains("can no longer change"));
        assert!(page.texts("main form").is_empty(), "no forms on a closed case's plan");
        let first = page.attrs("[id^=action-]", "id")[0].trim_start_matches("action-").to_owned();
        let response = staff.post(&format!("{}/actions/{first}/complete", editor(case.reference)), &[]).await;
        assert_eq!(response.status(), 409);
    }
}
