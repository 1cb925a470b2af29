//! Bulk changes from the worktray: a lead selects cases and assigns them or moves them on; each
//! case changes against the version the worktray showed, and the answer names any it refused.

use casework_app::domain::case::Case;
use casework_app::domain::service::Role;

use crate::helpers::{Browser, Page, TestApp, system};
use casework_web::on_both_databases;

const LEAD: &str = "lead@example.com";
const SAM: &str = "sam@example.com";

/// The bulk form's checkbox values on `path`, one per row, such as `CW-000001:1`.
async fn selections(browser: &Browser, path: &str) -> Vec<String> {
    browser
        .page(path)
        .await
        .attrs("#bulk input[name=cases]", "value")
}

async fn post_bulk(browser: &Browser, form: &[(&str, &str)]) -> Page {
    Page::of(browser.post("/staff/bulk", form).await).await
}

async fn current(app: &TestApp, case: &Case) -> Case {
    app.app.case(&system(), case.reference).await.unwrap()
}

on_both_databases! {
    async fn a_lead_assigns_the_selected_cases_and_a_stale_one_is_refused(app: TestApp) {
        let [amira, ben, chloe] = [
            app.report("Amira Khan").await,
            app.report("Ben Okafor").await,
            app.report("Chloe Davies").await,
        ];
        app.add_staff(SAM, Role::Agent, &["waste"]).await;
        let lead = app.sign_in(LEAD, Role::Lead).await;

        let page = lead.page("/staff?view=open").await;
        assert_eq!(
            page.attrs("#bulk input[name=cases]", "value"),
            ["CW-000001:1", "CW-000002:1", "CW-000003:1"]
        );
        assert_eq!(
            page.texts("#bulk tbody .govuk-checkboxes__label .govuk-visually-hidden"),
            ["Select CW-000001", "Select CW-000002", "Select CW-000003"]
        );
        assert_eq!(page.attr("#bulk input[name=back]", "value").as_deref(), Some("/staff?view=open"));
        assert_eq!(
            page.texts("#bulk-assignee optgroup option"),
            ["Staff lead@example.com", "Staff sam@example.com"]
        );
        // Ben's case changes after the worktray loaded.
        app.app.add_note(&system(), ben.reference, 1, "Called the resident").await.unwrap();

        let result = post_bulk(&lead, &[
            ("back", "/staff?view=open"),
            ("cases", "CW-000001:1"),
            ("cases", "CW-000002:1"),
            ("cases", "CW-000003:1"),
            ("assignee", SAM),
            ("action", "assign"),
        ])
        .await;
        assert_eq!(result.status, 200);
        assert_eq!(result.text(".govuk-notification-banner__heading"), "2 cases assigned to Staff sam@example.com");
        assert_eq!(result.text("h1"), "Some cases not changed");
        assert_eq!(result.text("#refused caption"), "1 case was not changed");
        assert_eq!(
            result.texts("#refused tbody tr"),
            ["CW-000002 Someone changed it after your worktray loaded: check it, then try again"]
        );
        assert_eq!(result.attr(".govuk-back-link", "href").as_deref(), Some("/staff?view=open"));
        assert_eq!(current(&app, &amira).await.assignee.as_deref(), Some(SAM));
        assert_eq!(current(&app, &chloe).await.assignee.as_deref(), Some(SAM));
        let ben = current(&app, &ben).await;
        assert_eq!((ben.assignee, ben.version), (None, 2), "not overwritten");

        // Unassigning; someone outside the case's team is refused case by case.
        let unassigned = post_bulk(&lead, &[("cases", "CW-000001:2"), ("assignee", "nobody"), ("action", "assign")]).await;
        assert_eq!(unassigned.text(".govuk-notification-banner__heading"), "1 case unassigned");
        assert_eq!(unassigned.text("h1"), "Cases changed");
        assert_eq!(current(&app, &amira).await.assignee, None);
        app.add_staff("rita@example.com", Role::Agent, &["repairs"]).await;
        let outsider = post_bulk(&lead, &[("cases", "CW-000002:2"), ("assignee", "rita@example.com"), ("action", "assign")]).await;
        assert_eq!(outsider.text("h1"), "No cases changed");
        assert!(outsider.text(".govuk-notification-banner__heading").is_empty());
        assert_eq!(outsider.texts("#refused tbody tr"), ["CW-000002 Staff rita@example.com is not in its team"]);
    }

    async fn a_lead_moves_the_selected_cases_on(app: TestApp) {
        let amira = app.report("Amira Khan").await;
        let ben = app.report("Ben Okafor").await;
        let lead = app.sign_in(LEAD, Role::Lead).await;
        let page = lead.page("/staff?view=open").await;
        // Only steps that ask for nothing more: scheduling a return visit needs a date.
        assert_eq!(
            page.texts("#bulk-transition option"),
            ["Choose a step", "Mark as collected"]
        );
        let selected = selections(&lead, "/staff?view=open").await;

        // Ben's bin is collected meanwhile, by someone who read the version the lead saw.
        app.app.transition_case(&system(), ben.reference, 1, "collect", &Default::default()).await.unwrap();
        // The lead's form still holds version 1 for Ben, so the change is refused as stale;
        // at the version it has now, "collect" does not apply to a collected bin.
        let form: Vec<(&str, &str)> = selected
            .iter()
            .map(|value| ("cases", value.as_str()))
            .chain([("transition", "collect"), ("action", "transition")])
            .collect();
        let result = post_bulk(&lead, &form).await;
        assert_eq!(result.text(".govuk-notification-banner__heading"), "1 case moved: Mark as collected");
        assert_eq!(result.texts("#refused tbody th"), ["CW-000002"]);
        assert_eq!(current(&app, &amira).await.state, "collected");

        let again = post_bulk(&lead, &[("cases", "CW-000002:2"), ("transition", "collect"), ("action", "transition")]).await;
        assert_eq!(
            again.texts("#refused tbody tr"),
            ["CW-000002 It cannot be moved on that way while it is Collected"]
        );
        let reopened = post_bulk(&lead, &[("cases", "CW-000002:2"), ("transition", "reopen"), ("action", "transition")]).await;
        assert_eq!(reopened.text(".govuk-notification-banner__heading"), "1 case moved: Reopen");
        let fields_needed = post_bulk(&lead, &[("cases", "CW-000002:3"), ("transition", "schedule"), ("action", "transition")]).await;
        assert_eq!(
            fields_needed.texts("#refused tbody tr"),
            ["CW-000002 “Schedule a return visit” needs more details: use it from the case’s own page"]
        );
        assert_eq!(current(&app, &ben).await.state, "reported");
    }

    async fn a_bulk_change_needs_cases_and_a_choice(app: TestApp) {
        app.report("Amira Khan").await;
        let lead = app.sign_in(LEAD, Role::Lead).await;
        let none = post_bulk(&lead, &[("assignee", LEAD), ("action", "assign")]).await;
        assert_eq!(none.status, 422);
        assert_eq!(none.texts(".govuk-error-summary__list li"), ["Select the cases to change"]);
        let nobody_chosen = post_bulk(&lead, &[("cases", "CW-000001:1"), ("assignee", ""), ("action", "assign")]).await;
        assert_eq!(nobody_chosen.status, 422);
        assert_eq!(nobody_chosen.texts(".govuk-error-summary__list li"), ["Choose who to assign the cases to"]);
        assert!(nobody_chosen.title().starts_with("Error: "), "{}", nobody_chosen.title());
        // Going back only ever leads to the worktray.
        let elsewhere = post_bulk(&lead, &[("back", "https://evil.example/"), ("assignee", ""), ("action", "assign")]).await;
        assert_eq!(elsewhere.attr(".govuk-back-link", "href").as_deref(), Some("/staff"));
    }

    async fn agents_see_no_bulk_actions_and_cannot_post_them(app: TestApp) {
        let amira = app.report("Amira Khan").await;
        let agent = app.sign_in("agent@example.com", Role::Agent).await;
        let page = agent.page("/staff?view=open").await;
        assert_eq!(page.references(), [amira.reference.to_string()]);
        assert!(page.attrs("input[name=cases]", "value").is_empty());
        assert!(page.texts("#bulk").is_empty());

        let refused = post_bulk(&agent, &[("cases", "CW-000001:1"), ("assignee", "agent@example.com"), ("action", "assign")]).await;
        assert_eq!(refused.status, 403);
        assert_eq!(current(&app, &amira).await, amira);
    }
}
