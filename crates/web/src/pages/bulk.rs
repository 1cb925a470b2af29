//! Bulk changes from the worktray: a lead selects cases and assigns them, or moves them along a
//! transition, in one go. The form posts each case with the version the worktray showed, and the
//! app changes each on its own; the page that answers says how many changed and why any others
//! did not. Agents work cases one at a time: they are refused with the 403 page.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use casework_app::domain::case::{CaseError, Reference};
use casework_app::domain::service::Role;
use casework_app::{App, AppError, BulkOutcome, Directory, SelectedCase};

use super::{Chrome, ErrorItem, PageError};
use crate::auth::{SignedIn, local_path};

/// The `assignee` that unassigns: no email address is a single word without an `@`.
const NOBODY: &str = "nobody";

/// What the bulk form asked for.
enum Action {
    /// To a member of staff by email address, or to nobody.
    Assign(Option<String>),
    Transition(String),
}

/// The bulk form as posted: the selected cases, the action, and the worktray to go back to.
struct Posted {
    selected: Vec<SelectedCase>,
    action: Result<Action, ErrorItem>,
    back: String,
}

impl Posted {
    fn parse(fields: &[(String, String)]) -> Self {
        let value = |name: &str| {
            fields
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.trim())
                .unwrap_or_default()
        };
        let selected = fields
            .iter()
            .filter(|(name, _)| name == "cases")
            .filter_map(|(_, value)| selected_case(value))
            .collect();
        let action = match value("action") {
            "transition" => match value("transition") {
                "" => Err(ErrorItem {
                    text: "Choose a step to move the cases to".to_owned(),
                    href: None,
                }),
                code => Ok(Action::Transition(code.to_owned())),
            },
            _ => match value("assignee") {
                "" => Err(ErrorItem {
                    text: "Choose who to assign the cases to".to_owned(),
                    href: None,
                }),
                NOBODY => Ok(Action::Assign(None)),
                email => Ok(Action::Assign(Some(email.to_owned()))),
            },
        };
        let back = local_path(value("back"))
            .filter(|path| path.starts_with("/staff"))
            .unwrap_or("/staff")
            .to_owned();
        Self {
            selected,
            action,
            back,
        }
    }
}

/// A checkbox's value, `CW-000123:4`: the case and the version the worktray showed.
fn selected_case(value: &str) -> Option<SelectedCase> {
    let (reference, version) = value.trim().split_once(':')?;
    Some(SelectedCase {
        reference: reference.parse().ok()?,
        version: version.parse().ok()?,
    })
}

pub(crate) struct RefusedCase {
    reference: String,
    href: String,
    reason: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "bulk_result.html")]
pub(crate) struct BulkResultPage {
    page: Chrome,
    heading: &'static str,
    banner: Option<String>,
    errors: Vec<ErrorItem>,
    refused: Vec<RefusedCase>,
    back: String,
}

pub(crate) async fn apply(
    State(app): State<App>,
    signed_in: SignedIn,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    if let Err(forbidden) = signed_in.require_role(Role::Lead) {
        return Ok(forbidden.into_response());
    }
    let SignedIn(member) = signed_in;
    let posted = Posted::parse(&fields);
    let page = |heading: &'static str, errors: Vec<ErrorItem>| BulkResultPage {
        page: Chrome {
            has_errors: !errors.is_empty(),
            ..Chrome::new(heading, Some(&member))
        },
        heading,
        banner: None,
        errors,
        refused: Vec::new(),
        back: posted.back.clone(),
    };
    let mut errors = Vec::new();
    if posted.selected.is_empty() {
        errors.push(ErrorItem {
            text: "Select the cases to change".to_owned(),
            href: None,
        });
    }
    let action = match &posted.action {
        Ok(action) if errors.is_empty() => action,
        Ok(_) => return Ok(invalid(page("No cases changed", errors))),
        Err(error) => {
            errors.push(error.clone());
            return Ok(invalid(page("No cases changed", errors)));
        }
    };
    let caller = member.caller();
    let done = match action {
        Action::Assign(assignee) => tokio::try_join!(
            app.bulk_assign(&caller, &posted.selected, assignee.clone()),
            app.directory(),
        ),
        Action::Transition(code) => tokio::try_join!(
            app.bulk_transition(&caller, &posted.selected, code),
            app.directory(),
        ),
    };
    let (outcome, directory) = match done {
        Ok(done) => done,
        Err(AppError::Invalid(fields)) => {
            let errors = fields
                .into_iter()
                .map(|f| ErrorItem {
                    text: f.message,
                    href: None,
                })
                .collect();
            return Ok(invalid(page("No cases changed", errors)));
        }
        Err(other) => return Err(other.into()),
    };
    let label = action_label(&app, &directory, action);
    let BulkOutcome { changed, refused } = outcome;
    let mut result = page(
        match (changed.is_empty(), refused.is_empty()) {
            (_, true) => "Cases changed",
            (true, false) => "No cases changed",
            (false, false) => "Some cases not changed",
        },
        Vec::new(),
    );
    result.banner = (!changed.is_empty()).then(|| {
        let cases = match changed.len() {
            1 => "1 case".to_owned(),
            n => format!("{n} cases"),
        };
        format!("{cases} {label}")
    });
    result.refused = refused
        .into_iter()
        .map(|(reference, error)| refused_case(&app, &directory, action, reference, error))
        .collect();
    Ok(result.into_response())
}

fn invalid(page: BulkResultPage) -> Response {
    (StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
}

/// What was done to the cases that changed, after "3 cases".
fn action_label(app: &App, directory: &Directory, action: &Action) -> String {
    match action {
        Action::Assign(Some(email)) => format!("assigned to {}", directory.person_name(email)),
        Action::Assign(None) => "unassigned".to_owned(),
        Action::Transition(code) => format!("moved: {}", transition_label(app, code)),
    }
}

/// The transition's label in the first service that has it, or its code.
fn transition_label<'a>(app: &'a App, code: &'a str) -> &'a str {
    app.services()
        .iter()
        .find_map(|s| s.workflow.transition(code))
        .map_or(code, |t| t.label.as_str())
}

/// A refused case and why, in words for the lead.
fn refused_case(
    app: &App,
    directory: &Directory,
    action: &Action,
    reference: Reference,
    error: AppError,
) -> RefusedCase {
    let reason = match error {
        AppError::Conflict { .. } => {
            "Someone changed it after your worktray loaded: check it, then try again".to_owned()
        }
        AppError::CaseNotFound(_) => "It is not a case of your teams".to_owned(),
        AppError::LeadRequired => {
            "Only a team lead can assign it to someone else or to another team".to_owned()
        }
        AppError::Case(CaseError::TransitionNotAllowed { state, .. }) => {
            let state = app
                .services()
                .iter()
                .find_map(|s| s.workflow.state(&state))
                .map_or(state.as_str(), |s| s.label.as_str())
                .to_owned();
            format!("It cannot be moved on that way while it is {state}")
        }
        AppError::Case(CaseError::UnknownTransition(_)) => {
            "Its service has no such step".to_owned()
        }
        AppError::Case(CaseError::RoleRequired { needed, .. }) => {
            format!("That step needs the {needed} role")
        }
        AppError::Case(CaseError::Invalid(fields)) => match action {
            Action::Assign(Some(email)) if fields.iter().any(|f| f.field == "assignee") => {
                format!("{} is not in its team", directory.person_name(email))
            }
            _ => fields
                .into_iter()
                .map(|f| f.message)
                .collect::<Vec<_>>()
                .join(". "),
        },
        other => other.to_string(),
    };
    RefusedCase {
        href: format!("/staff/cases/{reference}"),
        reference: reference.to_string(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkbox_names_a_case_and_the_version_shown() {
        assert_eq!(
            selected_case("CW-000123:4"),
            Some(SelectedCase {
                reference: Reference::new(123),
                version: 4
            })
        );
        assert_eq!(selected_case("CW-000123"), None);
        assert_eq!(selected_case("CW-000123:four"), None);
        assert_eq!(selected_case("123:4"), None);
    }
}
