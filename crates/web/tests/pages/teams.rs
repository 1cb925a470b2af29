//! Staff work the cases of their teams: another team's case is not found, whatever is asked
//! of it, and the worktray only ever lists the member's teams' cases.

use casework_app::domain::case::Case;
use casework_app::domain::service::Role;

use crate::helpers::{Page, TestApp, system};
use casework_web::on_both_databases;

const AGENT: &str = "agent@example.com";

/// A missed bin (the waste team's) and a case moved to the repairs team.
async fn two_teams_cases(app: &TestApp) -> (Case, Case) {
    let bins = app.report("Amira Khan").await;
    let moved = app.report("Ben Okafor").await;
    let repairs = app
        .app
        .assign_case(&system(), moved.reference, 1, Some("repairs".into()), None)
        .await
        .unwrap();
    (bins, repairs)
}

on_both_databases! {
    async fn another_teams_case_is_not_found(app: TestApp) {
        let (bins, repairs) = two_teams_cases(&app).await;
        let browser = app.sign_in(AGENT, Role::Agent).await;
        let path = format!("/staff/cases/{}", repairs.reference);
        let version = repairs.version.to_string();

        let page = Page::of(browser.get(&path).await).await;
        assert_eq!(page.status, 404);
        assert_eq!(page.text("main p.govuk-body"), format!("There is no case {}.", repairs.reference));
        for (action, form) in [
            ("notes", vec![("text", "Looked at it")]),
            ("assignment", vec![("assignee", AGENT)]),
            ("transition", vec![("transition", "triage")]),
            ("answers", vec![]),
        ] {
            let mut form = form;
            form.extend([("version", version.as_str()), ("seen", "1")]);
            let response = browser.post(&format!("{path}/{action}"), &form).await;
            assert_eq!(response.status(), 404, "{action}");
        }
        // Nothing was changed, and the agent's own team's case opens as ever.
        let unchanged = app.app.case(&system(), repairs.reference).await.unwrap();
        assert_eq!(unchanged, repairs);
        browser.page(&format!("/staff/cases/{}", bins.reference)).await;
    }

    async fn the_worktray_lists_only_the_members_teams(app: TestApp) {
        let (bins, repairs) = two_teams_cases(&app).await;
        let waste = app.sign_in(AGENT, Role::Agent).await;
        let page = waste.page("/staff?view=open").await;
        assert_eq!(page.references(), [bins.reference.to_string()]);
        assert_eq!(page.tabs()[1], "Unassigned in my teams (1)");
        assert_eq!(page.tabs()[3], "All open in my teams (1)");
        // Asking for another team's cases is ignored, not answered.
        let asked = waste.page("/staff?view=open&team=repairs").await;
        assert_eq!(asked.references(), [bins.reference.to_string()]);
        let searched = waste.page(&format!("/staff?view=open&q={}", repairs.reference)).await;
        assert!(searched.references().is_empty());

        // A lead of both teams sees both teams' cases at once, and can narrow to one.
        let lead = app.sign_in_to("lead@example.com", Role::Lead, &["repairs", "waste"]).await;
        let both = lead.page("/staff?view=open").await;
        assert_eq!(both.references().len(), 2);
        assert_eq!(both.tabs()[3], "All open in my teams (2)");
        assert_eq!(
            lead.page("/staff?view=open&team=repairs").await.references(),
            [repairs.reference.to_string()]
        );
        lead.page(&format!("/staff/cases/{}", repairs.reference)).await;
    }
}
