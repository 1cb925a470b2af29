//! The role × action matrix, through HTTP: for each of signed out, agent, lead and admin, each
//! thing staff do is either carried out or refused, and a refused change leaves the data as it
//! was. The rules: an agent works the cases of their teams; a lead also assigns across their
//! teams and reopens closed cases; an admin manages staff and teams, and has a lead's powers
//! over every team's cases.

use casework_app::NewStaffMember;
use casework_app::domain::case::{Case, Reference};
use casework_app::domain::service::{Answers, Role};
use reqwest::Response;

use crate::helpers::{Browser, PASSWORD, TestApp, system};
use casework_web::on_both_databases;

const AGENT: &str = "agent@example.com";
const LEAD: &str = "lead@example.com";
const ADMIN: &str = "admin@example.com";
/// An agent in the same team, whom cases are given to.
const COLLEAGUE: &str = "colleague@example.com";

#[derive(Debug, Clone, Copy)]
enum Action {
    ViewWorktray,
    ViewCase,
    ViewOtherTeamsCase,
    Transition,
    Reopen,
    AssignToMe,
    AssignToSomeoneElse,
    AddNote,
    AdminList,
    AdminAddStaff,
    AdminDeactivate,
}

use Action::*;

/// Whether each action is allowed: signed out, agent, lead, admin.
const MATRIX: [(Action, [bool; 4]); 11] = [
    (ViewWorktray, [false, true, true, true]),
    (ViewCase, [false, true, true, true]),
    // Another team's case is answered as if it did not exist, to all but an admin.
    (ViewOtherTeamsCase, [false, false, false, true]),
    (Transition, [false, true, true, true]),
    // The missed-bin service lets only a lead reopen a closed case.
    (Reopen, [false, false, true, true]),
    (AssignToMe, [false, true, true, true]),
    (AssignToSomeoneElse, [false, false, true, true]),
    (AddNote, [false, true, true, true]),
    (AdminList, [false, false, false, true]),
    (AdminAddStaff, [false, false, false, true]),
    (AdminDeactivate, [false, false, false, true]),
];

#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Allowed,
    SentToSignIn,
    /// 403, or 404 for what the caller may not know exists.
    Refused,
    Unexpected(u16),
}

fn outcome(response: &Response) -> Outcome {
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned());
    match (status, location) {
        (303, Some(to)) if to.starts_with("/staff/sign-in") => Outcome::SentToSignIn,
        (200 | 303, _) => Outcome::Allowed,
        (403 | 404, _) => Outcome::Refused,
        (other, _) => Outcome::Unexpected(other),
    }
}

/// One member of staff (or nobody) and their browser.
struct Who {
    label: &'static str,
    email: Option<&'static str>,
    browser: Browser,
}

async fn case_now(app: &TestApp, reference: Reference) -> Case {
    app.app.store().case(reference).await.unwrap().unwrap()
}

/// Does `action` as `who`, on data made for this one attempt, and says how it went and
/// whether the data changed.
async fn attempt(app: &TestApp, who: &Who, action: Action, n: usize) -> (Outcome, bool) {
    let browser = &who.browser;
    let me = who.email.unwrap_or(AGENT);
    let case = app.report(&format!("Resident {n}")).await;
    let reference = case.reference;
    let path = format!("/staff/cases/{reference}");
    let post_case = |to: &'static str, form: Vec<(&'static str, String)>| {
        let path = format!("{path}/{to}");
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            browser.post(&path, &form).await
        }
    };
    let version = |v: i64| ("version", v.to_string());
    match action {
        ViewWorktray => (outcome(&browser.get("/staff").await), false),
        ViewCase => (outcome(&browser.get(&path).await), false),
        ViewOtherTeamsCase => {
            app.app
                .assign_case(&system(), reference, 1, Some("repairs".into()), None)
                .await
                .unwrap();
            (outcome(&browser.get(&path).await), false)
        }
        Transition => {
            let response = post_case(
                "transition",
                vec![version(1), ("transition", "collect".into())],
            )
            .await;
            let changed = case_now(app, reference).await.state == "collected";
            (outcome(&response), changed)
        }
        Reopen => {
            app.app
                .transition_case(&system(), reference, 1, "collect", &Answers::new())
                .await
                .unwrap();
            let response = post_case(
                "transition",
                vec![version(2), ("transition", "reopen".into())],
            )
            .await;
            let changed = case_now(app, reference).await.state == "reported";
            (outcome(&response), changed)
        }
        AssignToMe | AssignToSomeoneElse => {
            let to = match action {
                AssignToMe => me,
                _ => COLLEAGUE,
            };
            let response = post_case("assignment", vec![version(1), ("assignee", to.into())]).await;
            let changed = case_now(app, reference).await.assignee.as_deref() == Some(to);
            (outcome(&response), changed)
        }
        AddNote => {
            let response = post_case(
                "notes",
                vec![version(1), ("text", "Called the crew".into())],
            )
            .await;
            let changed = case_now(app, reference).await.version > case.version;
            (outcome(&response), changed)
        }
        AdminList => (outcome(&browser.get("/staff/admin").await), false),
        AdminAddStaff => {
            let email = format!("new{n}@example.com");
            let form = [
                ("name", "New Person"),
                ("email", email.as_str()),
                ("role", "agent"),
                ("teams", "waste"),
            ];
            let response = browser.post("/staff/admin/staff", &form).await;
            let changed = app
                .app
                .staff_member_by_email(&email)
                .await
                .unwrap()
                .is_some();
            (outcome(&response), changed)
        }
        AdminDeactivate => {
            let target = app
                .app
                .add_staff(
                    &system(),
                    NewStaffMember {
                        email: format!("leaving{n}@example.com"),
                        name: "Leaving Soon".into(),
                        role: Role::Agent,
                        teams: vec!["waste".into()],
                        password: Some(PASSWORD.into()),
                    },
                )
                .await
                .unwrap();
            let path = format!("/staff/admin/staff/{}/deactivate", target.id);
            let response = browser.post(&path, &[]).await;
            let changed = !app
                .app
                .staff_member_by_email(&target.email)
                .await
                .unwrap()
                .unwrap()
                .active;
            (outcome(&response), changed)
        }
    }
}

on_both_databases! {
    async fn each_role_is_allowed_and_refused_what_the_rules_say(app: TestApp) {
        app.app
            .add_staff(
                &system(),
                NewStaffMember {
                    email: COLLEAGUE.into(),
                    name: "Colleague".into(),
                    role: Role::Agent,
                    teams: vec!["waste".into()],
                    password: Some(PASSWORD.into()),
                },
            )
            .await
            .unwrap();
        let everyone = [
            Who { label: "signed out", email: None, browser: app.signed_out() },
            Who { label: "agent", email: Some(AGENT), browser: app.sign_in(AGENT, Role::Agent).await },
            Who { label: "lead", email: Some(LEAD), browser: app.sign_in(LEAD, Role::Lead).await },
            Who { label: "admin", email: Some(ADMIN), browser: app.sign_in(ADMIN, Role::Admin).await },
        ];

        let mut wrong = Vec::new();
        let mut n = 0;
        for (action, allowed) in MATRIX {
            for (who, allowed) in everyone.iter().zip(allowed) {
                n += 1;
                let (outcome, changed) = attempt(&app, who, action, n).await;
                let expected = match (allowed, who.email) {
                    (true, _) => Outcome::Allowed,
                    (false, None) => Outcome::SentToSignIn,
                    (false, Some(_)) => Outcome::Refused,
                };
                let changes = matches!(
                    action,
                    Transition | Reopen | AssignToMe | AssignToSomeoneElse | AddNote | AdminAddStaff | AdminDeactivate
                );
                if outcome != expected || changed != (allowed && changes) {
                    wrong.push(format!(
                        "{action:?} as {}: expected {expected:?}, got {outcome:?} (data changed: {changed})",
                        who.label
                    ));
                }
            }
        }
        assert!(wrong.is_empty(), "not as the rules say:\n{}", wrong.join("\n"));
    }
}
