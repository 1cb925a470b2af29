use casework_app::domain::service::Role;
use time::Duration;

use crate::helpers::{MONDAY, Page, system};
use casework_web::on_both_databases;

const AGENT: &str = "agent@example.com";
const LEAD: &str = "lead@example.com";

/// The case page's path.
fn path(reference: &impl std::fmt::Display) -> String {
    format!("/staff/cases/{reference}")
}

/// The answers' summary list as (question, answer).
fn answers(page: &Page) -> Vec<(String, String)> {
    page.texts("#answers dt")
        .into_iter()
        .zip(page.texts("#answers dd"))
        .collect()
}

fn answer(page: &Page, question: &str) -> String {
    answers(page)
        .into_iter()
        .find(|(q, _)| q == question)
        .unwrap_or_else(|| panic!("no answer to {question:?}"))
        .1
}

on_both_databases! {
    async fn the_case_page_shows_the_case_its_answers_and_timeline(app: TestApp) {
        let case = app.report("Amira Khan").await;
        app.set_now(MONDAY + Duration::minutes(5));
        app.app.add_note(&system(), case.reference, 1, "Crew says the road was blocked").await.unwrap();
        let browser = app.sign_in(AGENT, Role::Agent).await;

        let response = browser.get(&path(&case.reference)).await;
        assert_eq!(response.headers()["cache-control"], "no-store");
        let page = browser.page(&path(&case.reference)).await;
        assert_eq!(page.title(), format!("{} – Report a missed bin collection – Casework", case.reference));
        assert_eq!(page.text("h1"), format!("{} Reported", case.reference));
        let summary = page.texts("main dl:first-of-type .govuk-summary-list__row");
        for shown in [
            "Status Reported",
            "Due 9 December 2026 Due in 2 working days",
            "Priority Standard",
            "Team Waste",
            "Assigned to Unassigned",
            "Reported 7 December 2026 at 10am",
            "Last updated 7 December 2026 at 10:05am",
            "Description Bin missed at Amira Khan's house",
        ] {
            assert!(summary.iter().any(|row| row == shown), "{shown:?} in {summary:?}");
        }
        let resident = page.texts("main dl:nth-of-type(2) .govuk-summary-list__row");
        assert!(resident.contains(&"Email amira.khan@example.com".to_owned()), "{resident:?}");
        assert!(resident.contains(&"Phone Not given".to_owned()), "{resident:?}");

        assert_eq!(answer(&page, "Which bin was missed?"), "Mixed recycling (blue bin)");
        assert_eq!(answer(&page, "Which day should we have emptied your bin?"), "1 December 2026");
        assert_eq!(answer(&page, "Was your bin out by 7am on your collection day?"), "Yes");
        assert_eq!(answer(&page, "Address where the bin was missed"), "12 Mill Lane Newtown NT1 3AB");
        assert_eq!(answer(&page, "Crew or round"), "Not answered");

        assert_eq!(page.timeline(), ["Note", "Case reported"]);
        assert_eq!(page.text(".moj-timeline__description"), "Crew says the road was blocked");
        assert_eq!(page.texts(".moj-timeline__byline"), ["by Casework", "by Casework"]);
        assert_eq!(page.attr(".moj-timeline__date time", "datetime").unwrap(), "2026-12-07T10:05:00Z");

        assert_eq!(
            page.attrs("input[name=transition]", "value"),
            ["schedule", "collect", "not_collectable"]
        );
        assert_eq!(
            page.texts("details summary"),
            ["Change answers", "Schedule a return visit", "Mark as could not be collected"]
        );
        assert!(page.texts("form button").contains(&"Assign to me".to_owned()));
        assert_eq!(page.version("note"), "2");
    }

    async fn a_transition_is_made_with_its_fields(app: TestApp) {
        let case = app.report("Amira Khan").await;
        let browser = app.sign_in(AGENT, Role::Agent).await;
        let page = browser.page(&path(&case.reference)).await;
        let (version, seen) = (page.version("transition-schedule"), page.seen("transition-schedule"));
        assert_eq!(page.attr("#transition-schedule-return_date-day", "name").unwrap(), "answer.return_date-day");

        let after = browser
            .submit(
                &format!("{}/transition", path(&case.reference)),
                &[
                    ("version", &version),
                    ("seen", &seen),
                    ("transition", "schedule"),
                    ("answer.crew", "Round 4"),
                    ("answer.return_date-day", "9"),
                    ("answer.return_date-month", "12"),
                    ("answer.return_date-year", "2026"),
                ],
            )
            .await;
        assert_eq!(after.text(".govuk-notification-banner__heading"), "Status changed to Return scheduled");
        assert_eq!(after.text("h1"), format!("{} Return scheduled", case.reference));
        assert_eq!(answer(&after, "Crew or round"), "Round 4");
        assert_eq!(answer(&after, "Date the crew will return"), "9 December 2026");
        assert_eq!(
            after.timeline()[..3],
            ["Status changed to Return scheduled", "Changed: Date the crew will return", "Changed: Crew or round"]
        );
        assert_eq!(after.texts(".moj-timeline__byline")[0], format!("by Staff {AGENT}"));
        assert_eq!(after.version("note"), "2");
        let done = app.app.case(&system(), case.reference).await.unwrap();
        assert_eq!(done.state, "scheduled");
    }

    async fn a_transition_missing_a_field_keeps_what_was_typed(app: TestApp) {
        let case = app.report("Amira Khan").await;
        let browser = app.sign_in(AGENT, Role::Agent).await;
        let response = browser
            .post(
                &format!("{}/transition", path(&case.reference)),
                &[
                    ("version", "1"),
                    ("seen", "1"),
                    ("transition", "schedule"),
                    ("answer.crew", "Round 4"),
                    ("answer.return_date-day", ""),
                    ("answer.return_date-month", ""),
                    ("answer.return_date-year", ""),
                ],
            )
            .await;
        let page = Page::of(response).await;
        assert_eq!(page.status, 422);
        assert!(page.title().starts_with("Error: "), "{}", page.title());
        assert_eq!(
            page.errors(),
            [("Enter date the crew will return".to_owned(), "#transition-schedule-return_date-day".to_owned())]
        );
        assert_eq!(page.text("#transition-schedule .govuk-error-message"), "Error: Enter date the crew will return");
        assert_eq!(page.value("transition-schedule-crew"), "Round 4");
        assert_eq!(page.attr("#transition-schedule", "open").as_deref(), Some(""));
        assert_eq!(app.app.case(&system(), case.reference).await.unwrap().state, "reported");
    }

    async fn an_agent_takes_a_case_and_gives_it_back(app: TestApp) {
        let case = app.report("Amira Khan").await;
        app.add_staff("sam@example.com", Role::Agent, &["waste"]).await;
        let browser = app.sign_in(AGENT, Role::Agent).await;
        let form = format!("{}/assignment", path(&case.reference));
        let open = browser.page(&path(&case.reference)).await;
        assert!(open.texts("form button").contains(&"Assign to me".to_owned()));
        assert!(open.texts("#assign").is_empty(), "an agent is not offered to assign to others");

        let mine = browser.submit(&form, &[("version", "1"), ("seen", "1"), ("assignee", AGENT)]).await;
        assert_eq!(mine.text(".govuk-notification-banner__heading"), format!("Case assigned to Staff {AGENT}"));
        assert_eq!(mine.timeline()[0], format!("Assigned to Staff {AGENT}"));
        assert!(!mine.texts("form button").contains(&"Assign to me".to_owned()));
        assert!(mine.texts("form button").contains(&"Unassign me".to_owned()));
        assert_eq!(browser.page("/staff").await.references(), [case.reference.to_string()]);

        // Giving it to a colleague is a lead's to do.
        let refused = Page::of(
            browser
                .post(&form, &[("version", "2"), ("seen", "2"), ("assignee", "sam@example.com")])
                .await,
        )
        .await;
        assert_eq!(refused.status, 403);
        assert_eq!(
            refused.texts(".govuk-error-summary__list li"),
            ["Only a team lead can assign a case to someone else or to another team"]
        );
        let nobody = browser.submit(&form, &[("version", "2"), ("seen", "2"), ("assignee", "")]).await;
        assert_eq!(nobody.text(".govuk-notification-banner__heading"), "Case unassigned");
        assert_eq!(nobody.timeline()[0], "Unassigned");
    }

    async fn a_lead_picks_whom_to_assign_from_their_teams_members(app: TestApp) {
        let case = app.report("Amira Khan").await;
        app.add_staff("sam@example.com", Role::Agent, &["waste"]).await;
        app.add_staff("rita@example.com", Role::Agent, &["repairs"]).await;
        app.add_staff("gus@example.com", Role::Agent, &["environmental-health"]).await;
        let browser = app.sign_in_to(LEAD, Role::Lead, &["waste", "repairs"]).await;
        let form = format!("{}/assignment", path(&case.reference));

        // The case's team first, then the lead's other team; nobody from a team they do not
        // work. Each option names the team the case goes to with the person.
        let page = browser.page(&path(&case.reference)).await;
        assert_eq!(page.attrs("#assign-assignee optgroup", "label"), ["Waste", "Repairs"]);
        assert_eq!(
            page.texts("#assign-assignee optgroup:first-of-type option"),
            ["Staff lead@example.com", "Staff sam@example.com"]
        );
        assert_eq!(
            page.attrs("#assign-assignee option", "value"),
            ["", "waste:lead@example.com", "waste:sam@example.com", "repairs:lead@example.com", "repairs:rita@example.com"]
        );
        assert_eq!(page.attr("#assign-assignee option[selected]", "value").as_deref(), Some(""));

        // Someone who is not in the team the case stays in is refused, by the team's name.
        let refused = Page::of(
            browser.post(&form, &[("version", "1"), ("seen", "1"), ("assignee", "waste:rita@example.com")]).await,
        )
        .await;
        assert_eq!(refused.status, 422);
        assert_eq!(
            refused.errors(),
            [("Choose someone who works in the Waste team".to_owned(), "#assign-assignee".to_owned())]
        );

        let theirs = browser
            .submit(&form, &[("version", "1"), ("seen", "1"), ("assignee", "waste:Sam@Example.com")])
            .await;
        assert_eq!(theirs.text(".govuk-notification-banner__heading"), "Case assigned to Staff sam@example.com");
        assert_eq!(
            theirs.attr("#assign-assignee option[selected]", "value").as_deref(),
            Some("waste:sam@example.com")
        );

        // Someone in the lead's other team: the case moves to that team with them.
        let moved = browser
            .submit(&form, &[("version", "2"), ("seen", "2"), ("assignee", "repairs:rita@example.com")])
            .await;
        assert_eq!(moved.text(".govuk-notification-banner__heading"), "Case assigned to Staff rita@example.com");
        let summary = moved.texts("main dl:first-of-type .govuk-summary-list__row");
        assert!(summary.contains(&"Team Repairs".to_owned()), "{summary:?}");
        assert_eq!(moved.timeline()[0], "Assigned to Staff rita@example.com");
        assert_eq!(app.app.case(&system(), case.reference).await.unwrap().team, "repairs");

        // Someone who has left stays chosen on their cases, so that the form never unassigns
        // them unasked.
        let rita = app.app.staff_member_by_email("rita@example.com").await.unwrap().unwrap();
        app.app.deactivate_staff(&system(), rita.id).await.unwrap();
        let left = browser.page(&path(&case.reference)).await;
        assert_eq!(left.attrs("#assign-assignee optgroup", "label"), ["Repairs", "Waste"]);
        assert_eq!(left.text("#assign-assignee option[selected]"), "Staff rita@example.com");
        assert_eq!(
            left.attr("#assign-assignee option[selected]", "value").as_deref(),
            Some("repairs:rita@example.com")
        );

        let nobody = browser.submit(&form, &[("version", "3"), ("seen", "3"), ("assignee", "")]).await;
        assert_eq!(nobody.text(".govuk-notification-banner__heading"), "Case unassigned");
    }

    async fn pages_name_staff_and_teams_rather_than_addresses_and_codes(app: TestApp) {
        app.app.create_team(&system(), "waste", "Waste and recycling").await.unwrap();
        let case = app.report("Amira Khan").await;
        app.add_staff("sam@example.com", Role::Agent, &["waste"]).await;
        app.app
            .assign_case(&system(), case.reference, 1, None, Some("sam@example.com".into()))
            .await
            .unwrap();
        let browser = app.sign_in_to(LEAD, Role::Lead, &["waste", "repairs"]).await;

        let page = browser
            .submit(&format!("{}/notes", path(&case.reference)), &[("version", "2"), ("seen", "2"), ("text", "Called")])
            .await;
        let summary = page.texts("main dl:first-of-type .govuk-summary-list__row");
        assert!(summary.contains(&"Team Waste and recycling".to_owned()), "{summary:?}");
        assert!(summary.contains(&"Assigned to Staff sam@example.com".to_owned()), "{summary:?}");
        assert_eq!(page.timeline()[1], "Assigned to Staff sam@example.com");
        assert_eq!(page.texts(".moj-timeline__byline")[0], "by Staff lead@example.com");

        let tray = browser.page("/staff?view=open&team=waste&assignee=sam%40example.com").await;
        assert_eq!(tray.references(), [case.reference.to_string()]);
        let cells = tray.texts("tbody td");
        assert!(cells.contains(&"Staff sam@example.com".to_owned()), "{cells:?}");
        assert!(!cells.iter().any(|c| c.contains('@') && !c.starts_with("Staff")), "{cells:?}");
        assert_eq!(
            tray.texts(".moj-filter__tag"),
            ["Remove this filter Waste and recycling", "Remove this filter Staff sam@example.com"]
        );
        assert_eq!(tray.text("#filter-team option[selected]"), "Waste and recycling");
        assert_eq!(tray.attr("#filter-team option[selected]", "value").as_deref(), Some("waste"));
        assert_eq!(tray.text("#filter-assignee option[selected]"), "Staff sam@example.com");
        assert_eq!(
            tray.attr("#filter-assignee option[selected]", "value").as_deref(),
            Some("sam@example.com")
        );
    }

    async fn notes_are_added_and_an_empty_one_is_refused(app: TestApp) {
        let case = app.report("Amira Khan").await;
        let browser = app.sign_in(AGENT, Role::Agent).await;
        let form = format!("{}/notes", path(&case.reference));

        let page = Page::of(browser.post(&form, &[("version", "1"), ("seen", "1"), ("text", "   ")]).await).await;
        assert_eq!(page.status, 422);
        assert_eq!(page.errors(), [("Enter a note of 10,000 characters or fewer".to_owned(), "#note-text".to_owned())]);
        assert_eq!(page.attr("#note-text", "aria-describedby").unwrap(), "note-text-hint note-text-error");

        let added = browser
            .submit(&form, &[("version", "1"), ("seen", "1"), ("text", "Called the resident.\r\nNo answer.")])
            .await;
        assert_eq!(added.text(".govuk-notification-banner__heading"), "Note added");
        assert_eq!(added.timeline()[0], "Note");
        assert_eq!(added.text(".moj-timeline__description"), "Called the resident. No answer.");
        assert_eq!(added.text("#note-text"), "", "the form is empty again");
    }

    async fn answers_are_changed_and_a_wrong_date_keeps_what_was_typed(app: TestApp) {
        let case = app.report("Amira Khan").await;
        let browser = app.sign_in(AGENT, Role::Agent).await;
        let page = browser.page(&path(&case.reference)).await;
        assert_eq!(page.value("edit-collection_date-day"), "1");
        assert_eq!(page.value("edit-collection_date-month"), "12");
        assert_eq!(page.attr("#edit-bin_type-2", "checked").as_deref(), Some(""), "recycling is the 2nd choice");
        let form = format!("{}/answers", path(&case.reference));
        let mut fields = vec![
            ("version", "1"),
            ("seen", "1"),
            ("answer.address", "12 Mill Lane\r\nNewtown\r\nNT1 3AB"),
            ("answer.bin_type", "glass"),
            ("answer.collection_date-day", "31"),
            ("answer.collection_date-month", "2"),
            ("answer.collection_date-year", "2026"),
            ("answer.bin_out_by_7am", "yes"),
            ("answer.access_notes", ""),
            ("answer.crew", "Round 9"),
        ];

        let refused = Page::of(browser.post(&form, &fields).await).await;
        assert_eq!(refused.status, 422);
        assert_eq!(
            refused.errors(),
            [(
                "Which day should we have emptied your bin must be a real date".to_owned(),
                "#edit-collection_date-day".to_owned()
            )]
        );
        assert_eq!(refused.value("edit-collection_date-day"), "31");
        assert_eq!(refused.value("edit-crew"), "Round 9");
        assert_eq!(refused.attr("#edit-bin_type-5", "checked").as_deref(), Some(""), "glass is kept");
        assert_eq!(refused.attr("#edit", "open").as_deref(), Some(""));
        assert_eq!(refused.version("note"), "1");

        fields[4] = ("answer.collection_date-day", "2");
        let saved = browser.submit(&form, &fields).await;
        assert_eq!(saved.text(".govuk-notification-banner__heading"), "Answers saved");
        assert_eq!(answer(&saved, "Which bin was missed?"), "Glass (black box)");
        assert_eq!(answer(&saved, "Which day should we have emptied your bin?"), "2 February 2026");
        assert_eq!(answer(&saved, "Crew or round"), "Round 9");
        // Only what changed is on the timeline: the address was sent as it was.
        assert_eq!(saved.timeline().len(), 4, "{:?}", saved.timeline());
        assert!(saved.texts(".moj-timeline__description").contains(
            &"From “Mixed recycling (blue bin)” to “Glass (black box)”".to_owned()
        ));
    }

    async fn a_stale_form_shows_what_changed_and_keeps_what_was_typed(app: TestApp) {
        let case = app.report("Amira Khan").await;
        let browser = app.sign_in(AGENT, Role::Agent).await;
        let page = browser.page(&path(&case.reference)).await;
        let (version, seen) = (page.version("note"), page.seen("note"));

        // Someone else assigns the case meanwhile.
        app.app
            .assign_case(&system(), case.reference, 1, None, Some("sam@example.com".into()))
            .await
            .unwrap();

        let form = format!("{}/notes", path(&case.reference));
        let stale = Page::of(
            browser.post(&form, &[("version", &version), ("seen", &seen), ("text", "My note")]).await,
        )
        .await;
        assert_eq!(stale.status, 409);
        assert_eq!(stale.text(".govuk-error-summary__title"), "Someone else changed this case");
        let changes = stale.texts("#changes li");
        assert_eq!(changes.len(), 1, "{changes:?}");
        // The system may assign to someone who is not staff: their address is all there is.
        assert!(changes[0].starts_with("Assigned to sam@example.com: It was unassigned. (Casework,"), "{changes:?}");
        assert_eq!(stale.errors()[0].1, "#note");
        assert_eq!(stale.text("#note-text"), "My note");
        // The page now shows the case as it is, and its forms its current version.
        assert_eq!(stale.version("note"), "2");
        assert_eq!(app.app.events(&system(), case.reference).await.unwrap().len(), 2, "nothing was overwritten");

        let seen = stale.seen("note");
        let added = browser.submit(&form, &[("version", "2"), ("seen", &seen), ("text", "My note")]).await;
        assert_eq!(added.timeline()[0], "Note");
    }

    async fn only_a_lead_may_reopen(app: TestApp) {
        let case = app.report("Amira Khan").await;
        app.app.transition_case(&system(), case.reference, 1, "collect", &Default::default()).await.unwrap();
        let agent = app.sign_in(AGENT, Role::Agent).await;
        let page = agent.page(&path(&case.reference)).await;
        assert!(page.texts("form button").iter().all(|b| b != "Reopen"));
        assert_eq!(page.text("main .govuk-grid-column-two-thirds > p.govuk-body"), "This case is closed. Reopen it to change its answers.");

        let form = format!("{}/transition", path(&case.reference));
        let refused = Page::of(agent.post(&form, &[("version", "2"), ("seen", "2"), ("transition", "reopen")]).await).await;
        assert_eq!(refused.status, 403);
        assert_eq!(refused.texts(".govuk-error-summary__list li"), ["Only a team lead or an admin can use “Reopen”"]);

        let lead = app.sign_in("lead@example.com", Role::Lead).await;
        let reopened = lead.submit(&form, &[("version", "2"), ("seen", "2"), ("transition", "reopen")]).await;
        assert_eq!(reopened.text(".govuk-notification-banner__heading"), "Status changed to Reported");
    }

    async fn an_unknown_case_is_not_found(app: TestApp) {
        let browser = app.sign_in(AGENT, Role::Agent).await;
        for missing in ["/staff/cases/CW-999999", "/staff/cases/nonsense"] {
            let page = Page::of(browser.get(missing).await).await;
            assert_eq!(page.status, 404, "{missing}");
            assert_eq!(page.text("h1"), "Page not found");
        }
    }
}
