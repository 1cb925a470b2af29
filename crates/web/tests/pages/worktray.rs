use std::collections::BTreeSet;

use casework_app::domain::case::Case;
use casework_app::domain::service::Role;
use reqwest::header::LOCATION;
use time::Duration;
use time::macros::datetime;

use casework_store::testing::TestDatabase;

use crate::helpers::{Browser, MONDAY, TestApp, spawn_app_with, system};
use casework_web::on_both_databases;

const AGENT: &str = "agent@example.com";

/// Three missed bins an hour apart: Amira's assigned to the agent, Ben's unassigned, Chloe's
/// collected (closed).
async fn some_cases(app: &TestApp) -> [Case; 3] {
    let amira = app.report("Amira Khan").await;
    app.set_now(MONDAY + Duration::hours(1));
    let ben = app.report("Ben Okafor").await;
    app.set_now(MONDAY + Duration::hours(2));
    let chloe = app.report("Chloe Davies").await;
    let amira = app
        .app
        .assign_case(&system(), amira.reference, 1, None, Some(AGENT.to_owned()))
        .await
        .unwrap();
    let chloe = app
        .app
        .transition_case(
            &system(),
            chloe.reference,
            1,
            "collect",
            &Default::default(),
        )
        .await
        .unwrap();
    [amira, ben, chloe]
}

fn reference(case: &Case) -> String {
    case.reference.to_string()
}

async fn references(browser: &Browser, path: &str) -> Vec<String> {
    browser.page(path).await.references()
}

/// A council that keeps its own case system switches the worktray off: its pages are gone.
#[tokio::test]
async fn the_worktray_can_be_switched_off() {
    let features = "api,plan".parse().unwrap();
    let app = spawn_app_with(TestDatabase::sqlite(), features).await;
    for path in ["/staff", "/staff/cases/CW-000001"] {
        let response = reqwest::get(format!("{}{path}", app.address))
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{path}");
    }
}

on_both_databases! {
    async fn a_signed_out_visitor_is_sent_to_sign_in(app: TestApp) {
        let response = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .get(format!("{}/staff?view=open", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303);
        assert_eq!(response.headers()[LOCATION], "/staff/sign-in?next=%2Fstaff%3Fview%3Dopen");
    }

    async fn the_queues_show_their_cases_with_counts(app: TestApp) {
        let [amira, ben, chloe] = some_cases(&app).await;
        let browser = app.sign_in(AGENT, Role::Agent).await;

        let page = browser.page("/staff").await;
        assert_eq!(page.title(), "My cases – Casework");
        assert_eq!(page.text("h1"), "My cases");
        assert_eq!(
            page.tabs(),
            [
                "My cases (1)",
                "Unassigned in my teams (1)",
                "Overdue (0)",
                "All open in my teams (2)",
                "Recently closed (1)",
                "Unread replies (0)"
            ]
        );
        assert_eq!(page.attr(".moj-sub-navigation__link[aria-current=page]", "href").unwrap(), "/staff");
        assert_eq!(page.references(), [reference(&amira)]);
        let row = page.texts("tbody tr").remove(0);
        for shown in [
            "Report a missed bin collection",
            "Amira Khan",
            "Reported",
            "Due in 2 working days",
            AGENT,
            "7 Dec 2026",
        ] {
            assert!(row.contains(shown), "{shown:?} in {row:?}");
        }
        assert_eq!(
            page.attr("tbody th a", "href").unwrap(),
            format!("/staff/cases/{}", reference(&amira))
        );

        assert_eq!(references(&browser, "/staff?view=unassigned").await, [reference(&ben)]);
        assert_eq!(
            references(&browser, "/staff?view=open").await,
            [reference(&amira), reference(&ben)]
        );
        assert_eq!(references(&browser, "/staff?view=closed").await, [reference(&chloe)]);
        let overdue = browser.page("/staff?view=overdue").await;
        assert!(overdue.references().is_empty());
        assert_eq!(overdue.text("main p.govuk-body"), "There are no cases here.");
    }

    async fn filters_search_and_sort_live_in_the_url(app: TestApp) {
        let [amira, ben, _] = some_cases(&app).await;
        let browser = app.sign_in(AGENT, Role::Agent).await;

        let searched = browser.page("/staff?view=open&q=okafor").await;
        assert_eq!(searched.references(), [reference(&ben)]);
        assert_eq!(searched.text("caption"), "All open in my teams: 1 case matches the filters Sorted by due date, soonest first");
        assert_eq!(searched.texts(".moj-filter__tag"), ["Remove this filter “okafor”"]);
        let remove = searched.attr(".moj-filter__tag", "href").unwrap();
        assert!(!remove.contains("q="), "{remove}");
        assert_eq!(references(&browser, &remove).await.len(), 2);
        // The filter form keeps the search and the queue; the search form keeps the queue.
        assert_eq!(searched.attr(".moj-filter__options input[name=q]", "value").unwrap(), "okafor");
        assert_eq!(searched.attr(".moj-filter__options input[name=view]", "value").unwrap(), "open");
        assert_eq!(searched.value("search"), "okafor");

        assert_eq!(
            references(&browser, &format!("/staff?view=open&assignee={}", "agent%40example.com")).await,
            [reference(&amira)]
        );
        assert_eq!(references(&browser, "/staff?view=open&state=reported").await.len(), 2);
        assert!(references(&browser, "/staff?view=open&state=scheduled").await.is_empty());
        assert!(references(&browser, "/staff?view=open&service=noise-complaint").await.is_empty());
        assert!(references(&browser, "/staff?view=open&due=today").await.is_empty());
        assert_eq!(references(&browser, "/staff?view=open&due=week").await.len(), 2);

        let by_created = browser.page("/staff?view=open&sort=created").await;
        assert_eq!(by_created.references(), [reference(&ben), reference(&amira)]);
        assert_eq!(by_created.attr("th[aria-sort=descending] a", "href").unwrap(), "/staff?view=open&sort=created");
        assert_eq!(by_created.attrs("th[aria-sort=none]", "aria-sort").len(), 3);

        // What the URL asks for that makes no sense is left out, not refused.
        let odd = browser.page("/staff?view=nonsense&sort=random&due=soon&service=nope").await;
        assert_eq!(odd.text("h1"), "My cases");
        assert!(odd.texts(".moj-filter__tag").is_empty());
    }

    async fn sorting_by_priority_puts_each_services_most_urgent_first(app: TestApp) {
        let routine = app.report_repair("Amira Khan", "routine").await;
        let emergency = app.report_repair("Ben Okafor", "emergency").await;
        let urgent = app.report_repair("Chloe Davies", "urgent").await;
        let bin = app.report("Dev Patel").await;
        let lead = app.sign_in_to("lead@example.com", Role::Lead, &["waste", "repairs"]).await;

        let by_due = lead.page("/staff?view=open").await;
        let link = by_due.attr("th[aria-sort=none] a[href$='sort=priority']", "href").unwrap();
        assert_eq!(link, "/staff?view=open&sort=priority");
        let page = lead.page(&link).await;
        // A standard missed bin is as urgent as its service gets, like an emergency repair;
        // between them, the sooner due comes first.
        assert_eq!(page.references(), [&emergency, &bin, &urgent, &routine].map(reference));
        assert_eq!(page.text("th[aria-sort=descending]"), "Priority");
        assert!(page.text("caption").ends_with("Sorted by priority, most urgent first, then due date"));
        let rows = page.texts("tbody tr");
        assert!(rows[0].contains("Emergency: make safe within 1 working day"), "{rows:?}");
        assert!(rows[3].contains("Routine: within 20 working days"), "{rows:?}");
    }

    async fn pages_follow_on_by_keyset_in_priority_order(app: TestApp) {
        let priorities = ["routine", "emergency", "urgent"];
        let mut cases = Vec::new();
        for i in 0..27 {
            app.set_now(MONDAY + Duration::minutes(i));
            let priority = priorities[usize::try_from(i).unwrap() % 3];
            cases.push(app.report_repair(&format!("Resident {i}"), priority).await);
        }
        cases.sort_by_key(|c| (c.priority_rank, c.sla_due_at, c.reference));
        let expected: Vec<String> = cases.iter().map(reference).collect();
        let lead = app.sign_in_to("lead@example.com", Role::Lead, &["repairs"]).await;

        let first = lead.page("/staff?view=open&sort=priority").await;
        assert_eq!(first.references(), expected[..25]);
        let next = first.attr("a[rel=next]", "href").expect("a next page");
        assert!(next.contains("sort=priority&after=priority.2."), "{next}");
        let second = lead.page(&next).await;
        assert_eq!(second.references(), expected[25..]);
        assert_eq!(
            second.attr(".govuk-pagination__prev a", "href").unwrap(),
            "/staff?view=open&sort=priority"
        );
    }

    async fn pages_follow_on_by_keyset(app: TestApp) {
        for i in 0..30 {
            app.set_now(MONDAY + Duration::minutes(i));
            app.report(&format!("Resident {i}")).await;
        }
        let browser = app.sign_in(AGENT, Role::Agent).await;
        let first = browser.page("/staff?view=open").await;
        assert_eq!(first.tabs()[3], "All open in my teams (30)");
        assert_eq!(first.references().len(), 25);
        assert!(first.attr(".govuk-pagination__prev a", "href").is_none());
        let next = first.attr("a[rel=next]", "href").expect("a next page");
        assert!(next.contains("after="), "{next}");

        let second = browser.page(&next).await;
        assert_eq!(second.references().len(), 5);
        assert!(second.attr("a[rel=next]", "href").is_none());
        assert_eq!(second.attr(".govuk-pagination__prev a", "href").unwrap(), "/staff?view=open");
        let seen: BTreeSet<String> = first.references().into_iter().chain(second.references()).collect();
        assert_eq!(seen.len(), 30);
    }

    async fn sla_tags_count_working_days(app: TestApp) {
        let case = app.report("Amira Khan").await;
        let browser = app.sign_in(AGENT, Role::Agent).await;
        let sla = |page: &crate::helpers::Page| page.text("tbody td:nth-of-type(4) .govuk-tag");
        assert_eq!(sla(&browser.page("/staff?view=open").await), "Due in 2 working days");
        app.set_now(datetime!(2026-12-09 12:00 UTC));
        assert_eq!(sla(&browser.page("/staff?view=open").await), "Due today");
        app.set_now(datetime!(2026-12-10 09:00 UTC));
        let page = browser.page("/staff?view=overdue").await;
        assert_eq!(page.references(), [reference(&case)]);
        assert_eq!(sla(&page), "Overdue");
        assert_eq!(page.attr("tbody td:nth-of-type(4) .govuk-tag", "class").unwrap(), "govuk-tag govuk-tag--red");
        assert_eq!(page.tabs()[2], "Overdue (1)");
    }
}

on_both_databases! {
    async fn priority_and_created_between_filters(app: TestApp) {
        // Thursday 3 and Monday 7 December.
        app.set_now(MONDAY - Duration::days(4));
        let old = app.report("Dara Evans").await;
        app.set_now(MONDAY);
        let new = app.report("Eve Foster").await;
        let browser = app.sign_in(AGENT, Role::Agent).await;

        assert_eq!(references(&browser, "/staff?view=open&priority=standard").await.len(), 2);
        let urgent = browser.page("/staff?view=open&priority=urgent").await;
        assert!(urgent.references().is_empty());
        // Within one service, its own words for its priorities.
        let repairs = browser.page("/staff?view=open&service=housing-repair&priority=urgent").await;
        assert_eq!(repairs.texts(".moj-filter__tag")[1], "Remove this filter Urgent: within 5 working days");
        assert_eq!(urgent.texts(".moj-filter__tag"), ["Remove this filter Urgent"]);

        let from = "/staff?view=open&created_from_day=4&created_from_month=12&created_from_year=2026";
        let page = browser.page(from).await;
        assert_eq!(page.references(), [reference(&new)]);
        assert_eq!(page.texts(".moj-filter__tag"), ["Remove this filter 4 December 2026"]);
        assert_eq!(page.value("filter-created-from-day"), "4");
        let to = "/staff?view=open&created_to_day=3&created_to_month=12&created_to_year=2026";
        assert_eq!(references(&browser, to).await, [reference(&old)]);
        let one_day = "/staff?view=open&created_from_day=7&created_from_month=12&created_from_year=2026\
                       &created_to_day=7&created_to_month=12&created_to_year=2026";
        assert_eq!(references(&browser, one_day).await, [reference(&new)]);

        // A date that is not real is explained, kept as typed, and left out of the filter.
        let wrong = browser
            .page("/staff?view=open&created_from_day=31&created_from_month=2&created_from_year=2026")
            .await;
        assert!(wrong.title().starts_with("Error: "), "{}", wrong.title());
        assert_eq!(
            wrong.errors(),
            [("Created from must be a real date, such as 27 3 2026".to_owned(), "#filter-created-from-day".to_owned())]
        );
        assert_eq!(wrong.value("filter-created-from-day"), "31");
        assert_eq!(wrong.text("#filter-created-from-error"), "Error: Created from must be a real date, such as 27 3 2026");
        assert_eq!(wrong.references().len(), 2);
        let backwards = browser
            .page("/staff?view=open&created_from_day=7&created_from_month=12&created_from_year=2026\
                   &created_to_day=3&created_to_month=12&created_to_year=2026")
            .await;
        assert_eq!(
            backwards.errors(),
            [("Created to must be the same as or after created from".to_owned(), "#filter-created-to-day".to_owned())]
        );
    }

    async fn due_today_and_this_week_leave_out_the_overdue(app: TestApp) {
        // Reported on Thursday 3 December: due at the end of Monday 7th. On Monday: due Wednesday.
        app.set_now(MONDAY - Duration::days(4));
        let old = app.report("Dara Evans").await;
        app.set_now(MONDAY);
        let new = app.report("Eve Foster").await;
        let browser = app.sign_in(AGENT, Role::Agent).await;

        assert_eq!(references(&browser, "/staff?view=open&due=today").await, [reference(&old)]);
        assert_eq!(references(&browser, "/staff?view=open&due=week").await.len(), 2);

        app.set_now(MONDAY + Duration::days(1));
        assert_eq!(references(&browser, "/staff?view=open&due=overdue").await, [reference(&old)]);
        assert!(references(&browser, "/staff?view=open&due=today").await.is_empty());
        assert_eq!(references(&browser, "/staff?view=open&due=week").await, [reference(&new)]);
    }

    async fn recently_closed_means_the_last_thirty_days(app: TestApp) {
        let collect = async |at| {
            app.set_now(at);
            let case = app.report("Dara Evans").await;
            app.app
                .transition_case(&system(), case.reference, 1, "collect", &Default::default())
                .await
                .unwrap()
        };
        collect(MONDAY - Duration::days(31)).await;
        let recent = collect(MONDAY - Duration::days(29)).await;
        app.set_now(MONDAY);
        let browser = app.sign_in(AGENT, Role::Agent).await;
        let page = browser.page("/staff?view=closed").await;
        assert_eq!(page.references(), [reference(&recent)]);
        assert_eq!(page.tabs()[4], "Recently closed (1)");
    }
}
