//! The resident's plan through its link: what it shows, ticking their own actions off, and that
//! the link opens one case's plan and nothing else, however the form is edited.

use casework_app::domain::service::Role;

use crate::helpers::{Page, TestApp, system};
use casework_web::on_both_databases;

/// A case's plan shared by a member of staff: its link's path.
async fn shared(app: &TestApp, name: &str) -> (casework_app::domain::case::Case, String) {
    let case = app.report(name).await;
    let shared = app.app.share_plan(&system(), case.reference).await.unwrap();
    (case, format!("/plan/{}", shared.token))
}

on_both_databases! {
    async fn the_plan_shows_both_sides_and_the_resident_ticks_their_own(app: TestApp) {
        let (case, path) = shared(&app, "Sam Resident").await;
        let resident = app.signed_out();
        let page = resident.page(&path).await;
        assert_eq!(page.text("h1"), "Your plan");
        assert_eq!(page.text(".govuk-caption-l"), "Report a missed bin collection");
        assert!(page.text("main").contains(&case.reference.to_string()));
        assert_eq!(page.text(".govuk-body-l"), "Empty your missed bin");
        let headings = page.texts("main h3");
        assert_eq!(headings.len(), 2, "{headings:?}");
        assert!(headings[0].starts_with("Leave your bin out"), "{headings:?}");
        assert!(headings[1].starts_with("Come back and empty your bin"), "{headings:?}");
        assert_eq!(page.texts("main form button"), ["Mark as done : Leave your bin out", "Send message"]);
        let form = page.attr("main form", "action").unwrap();

        let after = resident.submit(&form, &[]).await;
        assert!(after.text("#yours ~ ol li").contains("Done"));
        assert_eq!(after.texts("main form button"), ["Undo : Leave your bin out", "Send message"]);
        assert!(after.text("main").contains("Nothing left to do"));

        // Staff see it, by the resident.
        let staff = app.sign_in("lead@council.example", Role::Lead).await;
        let timeline = staff
            .page(&format!("/staff/cases/{}", case.reference))
            .await
            .timeline();
        assert!(timeline.iter().any(|t| t.starts_with("Plan action done")), "{timeline:?}");
        assert!(timeline.iter().any(|t| t.starts_with("Resident viewed the plan")), "{timeline:?}");

        let undo = after.attr("main form", "action").unwrap();
        let undone = resident.submit(&undo, &[]).await;
        assert_eq!(undone.texts("main form button"), ["Mark as done : Leave your bin out", "Send message"]);
    }

    async fn a_link_cannot_reach_another_case_or_the_councils_actions(app: TestApp) {
        let (_, path_a) = shared(&app, "Ann Able").await;
        let (case_b, _) = shared(&app, "Bob Baker").await;
        let resident = app.signed_out();
        let (_, plan_b) = app.app.plan(&system(), case_b.reference).await.unwrap();
        let (case_a_plan_page, council_action) = {
            let page = resident.page(&path_a).await;
            let reference = page.text(".govuk-summary-list__value");
            let (_, plan_a) = app
                .app
                .plan(&system(), reference.trim().parse().unwrap())
                .await
                .unwrap();
            (page, plan_a.actions[1].id.to_string())
        };
        assert!(!case_a_plan_page.text("main").contains(&case_b.reference.to_string()));

        // Case B's actions, through case A's link: not found, and B's plan is unchanged.
        for action in &plan_b.actions {
            let response = resident
                .post(&format!("{path_a}/actions/{}/done", action.id), &[])
                .await;
            assert_eq!(response.status(), 404);
            let page = Page::of(response).await;
            assert!(page.text(".govuk-error-summary").contains("cannot be changed here"));
            assert!(!page.text("main").contains(&case_b.reference.to_string()));
        }
        assert_eq!(app.app.plan(&system(), case_b.reference).await.unwrap().1, plan_b);

        // The council's action on their own case: refused.
        let response = resident
            .post(&format!("{path_a}/actions/{council_action}/done"), &[])
            .await;
        assert_eq!(response.status(), 403);
        // An id that is not one.
        let response = resident.post(&format!("{path_a}/actions/x/done"), &[]).await;
        assert_eq!(response.status(), 404);
        // Staff pages stay closed to the link's holder.
        let response = resident
            .get(&format!("/staff/cases/{}/plan", case_b.reference))
            .await;
        assert_eq!(response.status(), 303);
    }

    async fn withdrawn_and_expired_links_are_gone_and_guessing_is_limited(app: TestApp) {
        let (case, path) = shared(&app, "Cai Jones").await;
        let resident = app.signed_out();
        resident.page(&path).await;
        let links = app.app.access_links(&system(), case.reference).await.unwrap();
        app.app
            .revoke_access_link(&system(), case.reference, links[0].id)
            .await
            .unwrap();
        let response = resident.get(&path).await;
        assert_eq!(response.status(), 410);
        assert_eq!(Page::of(response).await.text("h1"), "This link does not work");
        let response = resident.post(&format!("{path}/actions/x/done"), &[]).await;
        assert_eq!(response.status(), 410);

        let (_, fresh) = shared(&app, "Dee Evans").await;
        app.set_now(crate::helpers::MONDAY + time::Duration::days(91));
        assert_eq!(resident.get(&fresh).await.status(), 410);

        // Twenty links that do not work from one address, and the next answer is 429, even
        // for a link that works.
        for n in 0..19 {
            let response = resident.get(&format!("/plan/not-a-token-{n}")).await;
            assert_eq!(response.status(), 404);
        }
        let response = resident.get(&fresh).await;
        assert_eq!(response.status(), 429);
        assert_eq!(Page::of(response).await.text("h1"), "Too many attempts");
    }

    async fn welsh_and_a_closed_case(app: TestApp) {
        let (case, path) = shared(&app, "Elin Hughes").await;
        let lead = crate::helpers::system();
        app.app
            .transition_case(&lead, case.reference, case.version, "collect", &Default::default())
            .await
            .unwrap();
        let resident = app.signed_out();
        let page = resident.page(&format!("{path}?lang=cy")).await;
        assert_eq!(page.attr("html", "lang").as_deref(), Some("cy"));
        assert_eq!(page.text("h1"), "Eich cynllun");
        assert!(page.text("main").contains("Beth sydd angen i chi ei wneud"));
        assert!(page.text(".govuk-inset-text").contains("wedi cau"));
        assert!(page.texts("main form button").is_empty(), "nothing to tick on a closed case");
        let response = resident
            .post(&format!("{path}/actions/{}/done", uuid_of(&page)), &[])
            .await;
        assert_eq!(response.status(), 409);
    }

    async fn a_form_from_another_site_is_refused(app: TestApp) {
        let (_, path) = shared(&app, "Fay Green").await;
        let response = reqwest::Client::new()
            .post(format!("{}{path}/actions/x/done", app.address))
            .header("origin", "https://evil.example")
            .header("sec-fetch-site", "cross-site")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403);
    }
}

/// The first action's id on a resident's page.
fn uuid_of(page: &Page) -> String {
    page.attr("main li[id^=action-]", "id")
        .unwrap()
        .trim_start_matches("action-")
        .to_owned()
}
