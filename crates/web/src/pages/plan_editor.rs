//! The staff side of the shared plan, `/staff/cases/{reference}/plan`: the goal, the actions in
//! the order both sides see them (add, change, move, remove, tick off and reopen), the links
//! that share the plan with the resident, and how plan changes read on the case's timeline.
//!
//! Edits post the plan's version. A stale one shows the plan as it is now, with what was typed
//! kept in the form, so that nothing is overwritten silently; a refused one shows the GOV.UK
//! error summary. A change that succeeds redirects back (Post/Redirect/Get).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use casework_app::domain::calendar::uk_date;
use casework_app::domain::case::{Case, EventKind, Reference};
use casework_app::domain::plan::{ActionDraft, ActionId, Plan, PlanAction, PlanError};
use casework_app::domain::service::ActionOwner;
use casework_app::domain::service::answers::FieldError;
use casework_app::store::AccessLink;
use casework_app::{App, AppError, Directory, StaffMember};
use serde::Deserialize;

use super::format;
use super::{Chrome, ErrorItem, PageError, reference};
use crate::BaseUrl;
use crate::auth::{AuthSession, SignedIn};
use crate::markdown::{SafeHtml, render};

/// Where a new link's token waits, in the member's session, to be shown once after the
/// redirect: only its hash is stored anywhere else.
const NEW_LINK_KEY: &str = "casework.new_plan_link";

pub(crate) fn router() -> Router<App> {
    Router::new()
        .route("/staff/cases/{reference}/plan", get(show))
        .route("/staff/cases/{reference}/plan/goal", post(set_goal))
        .route("/staff/cases/{reference}/plan/actions", post(add_action))
        .route(
            "/staff/cases/{reference}/plan/actions/{id}",
            get(edit_action).post(change_action),
        )
        .route(
            "/staff/cases/{reference}/plan/actions/{id}/move",
            post(move_action),
        )
        .route(
            "/staff/cases/{reference}/plan/actions/{id}/remove",
            post(remove_action),
        )
        .route(
            "/staff/cases/{reference}/plan/actions/{id}/complete",
            post(complete_action),
        )
        .route(
            "/staff/cases/{reference}/plan/actions/{id}/reopen",
            post(reopen_action),
        )
        .route("/staff/cases/{reference}/plan/links", post(share))
        .route(
            "/staff/cases/{reference}/plan/links/{id}/revoke",
            post(revoke_link),
        )
}

fn action_id(raw: &str) -> Result<ActionId, PageError> {
    raw.parse()
        .map_err(|_| PageError::NotFound("The plan has no such action.".to_owned()))
}

fn plan_href(reference: Reference) -> String {
    format!("/staff/cases/{reference}/plan")
}

fn done(reference: Reference, what: &str) -> Response {
    Redirect::to(&format!("{}?done={what}", plan_href(reference))).into_response()
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ShowParams {
    done: Option<String>,
}

/// An action as typed into the add or change form.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct ActionForm {
    #[serde(default)]
    version: String,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    details: String,
    #[serde(default, rename = "due-day")]
    due_day: String,
    #[serde(default, rename = "due-month")]
    due_month: String,
    #[serde(default, rename = "due-year")]
    due_year: String,
}

impl ActionForm {
    fn of(action: &PlanAction, version: i64) -> Self {
        let (day, month, year) = action.due_on.map_or_else(Default::default, |d| {
            (
                d.day().to_string(),
                u8::from(d.month()).to_string(),
                d.year().to_string(),
            )
        });
        Self {
            version: version.to_string(),
            owner: action.owner.as_str().to_owned(),
            title: action.title.clone(),
            details: action.details.clone().unwrap_or_default(),
            due_day: day,
            due_month: month,
            due_year: year,
        }
    }

    /// The draft for the app, or the errors only the form can find (a missing owner, a date
    /// that is not a date); the app checks the rest.
    fn draft(&self) -> Result<ActionDraft, Vec<FieldError>> {
        let mut errors = Vec::new();
        let owner = match self.owner.as_str() {
            "resident" => Some(ActionOwner::Resident),
            "council" => Some(ActionOwner::Council),
            _ => {
                errors.push(FieldError::new("owner", "Select who will do this"));
                None
            }
        };
        let typed = format::date_input(&self.due_day, &self.due_month, &self.due_year);
        let due_on = if typed.is_empty() {
            None
        } else {
            let date = format::iso_date(&typed);
            if date.is_none() {
                errors.push(FieldError::new(
                    "due_on",
                    "Due date must be a real date, like 27 3 2027",
                ));
            }
            date
        };
        match (owner, errors.is_empty()) {
            (Some(owner), true) => Ok(ActionDraft {
                owner,
                title: self.title.clone(),
                details: Some(self.details.clone()),
                due_on,
            }),
            _ => {
                if self.title.trim().is_empty() {
                    errors.insert(0, FieldError::new("title", "Enter what needs to be done"));
                }
                Err(errors)
            }
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct GoalForm {
    #[serde(default)]
    version: String,
    #[serde(default)]
    goal: String,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct VersionForm {
    #[serde(default)]
    version: String,
    #[serde(default)]
    direction: String,
}

/// A missing or garbled version is 0, which no saved plan has: answered like a stale one.
fn version(text: &str) -> i64 {
    text.trim().parse().unwrap_or(0)
}

/// Which form a problem is about, so that the page shows it there with what was typed.
enum Posted {
    Goal(String),
    Add(ActionForm),
    Other,
}

enum Problem {
    Stale,
    Invalid(Vec<FieldError>),
    Refused(String),
}

pub(crate) async fn show(
    State(app): State<App>,
    SignedIn(member): SignedIn,
    auth: AuthSession,
    Extension(base): Extension<BaseUrl>,
    Path(raw): Path<String>,
    Query(params): Query<ShowParams>,
) -> Result<Response, PageError> {
    let reference = reference(&raw)?;
    let new_link = auth
        .session
        .remove::<String>(NEW_LINK_KEY)
        .await
        .ok()
        .flatten()
        .map(|token| format!("{}/plan/{token}", base.0));
    let mut page = PlanPage::load(&app, &member, reference, Posted::Other, None).await?;
    page.banner = params.done.as_deref().and_then(banner);
    page.new_link = new_link;
    Ok(page.into_response())
}

pub(crate) async fn set_goal(
    State(app): State<App>,
    SignedIn(member): SignedIn,
    Path(raw): Path<String>,
    Form(form): Form<GoalForm>,
) -> Result<Response, PageError> {
    let reference = reference(&raw)?;
    let result = app
        .set_plan_goal(
            &member.caller(),
            reference,
            version(&form.version),
            Some(&form.goal),
        )
        .await;
    respond(
        &app,
        &member,
        reference,
        Posted::Goal(form.goal),
        result,
        "goal",
    )
    .await
}

pub(crate) async fn add_action(
    State(app): State<App>,
    SignedIn(member): SignedIn,
    Path(raw): Path<String>,
    Form(form): Form<ActionForm>,
) -> Result<Response, PageError> {
    let reference = reference(&raw)?;
    let result = match form.draft() {
        Ok(draft) => app
            .add_plan_action(&member.caller(), reference, version(&form.version), draft)
            .await
            .map(|(plan, _)| plan),
        Err(errors) => Err(PlanError::Invalid(errors).into()),
    };
    respond(&app, &member, reference, Posted::Add(form), result, "added").await
}

pub(crate) async fn edit_action(
    State(app): State<App>,
    SignedIn(member): SignedIn,
    Path((raw, id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let reference = reference(&raw)?;
    let id = action_id(&id)?;
    let (case, plan) = app.plan(&member.caller(), reference).await?;
    let action = plan
        .action(id)
        .ok_or_else(|| PageError::NotFound("The plan has no such action.".to_owned()))?;
    let form = ActionForm::of(action, plan.version);
    Ok(ActionPage::new(&member, &case, id, form, None).into_response())
}

pub(crate) async fn change_action(
    State(app): State<App>,
    SignedIn(member): SignedIn,
    Path((raw, id)): Path<(String, String)>,
    Form(form): Form<ActionForm>,
) -> Result<Response, PageError> {
    let reference = reference(&raw)?;
    let id = action_id(&id)?;
    let caller = member.caller();
    let result = match form.draft() {
        Ok(draft) => {
            app.change_plan_action(&caller, reference, version(&form.version), id, draft)
                .await
        }
        Err(errors) => Err(PlanError::Invalid(errors).into()),
    };
    let problem = match result {
        Ok(_) => return Ok(done(reference, "changed")),
        Err(error) => problem(error)?,
    };
    let (status, problem, current) = problem;
    let (case, plan) = app.plan(&caller, reference).await?;
    if plan.action(id).is_none() {
        return Err(PageError::NotFound(
            "The plan has no such action.".to_owned(),
        ));
    }
    let mut form = form;
    if matches!(problem, Problem::Stale) {
        // Keep what they typed, on the version they have now seen.
        form.version = current.unwrap_or(plan).version.to_string();
    }
    Ok((
        status,
        ActionPage::new(&member, &case, id, form, Some(problem)),
    )
        .into_response())
}

pub(crate) async fn move_action(
    State(app): State<App>,
    SignedIn(member): SignedIn,
    Path((raw, id)): Path<(String, String)>,
    Form(form): Form<VersionForm>,
) -> Result<Response, PageError> {
    let reference = reference(&raw)?;
    let id = action_id(&id)?;
    let caller = member.caller();
    let (_, plan) = app.plan(&caller, reference).await?;
    let at = plan
        .actions
        .iter()
        .position(|a| a.id == id)
        .ok_or_else(|| PageError::NotFound("The plan has no such action.".to_owned()))?;
    let to = match form.direction.as_str() {
        "up" => at.saturating_sub(1),
        _ => at + 1,
    };
    let result = app
        .move_plan_action(&caller, reference, version(&form.version), id, to)
        .await;
    respond(&app, &member, reference, Posted::Other, result, "moved").await
}

pub(crate) async fn remove_action(
    State(app): State<App>,
    SignedIn(member): SignedIn,
    Path((raw, id)): Path<(String, String)>,
    Form(form): Form<VersionForm>,
) -> Result<Response, PageError> {
    let reference = reference(&raw)?;
    let id = action_id(&id)?;
    let result = app
        .remove_plan_action(&member.caller(), reference, version(&form.version), id)
        .await;
    respond(&app, &member, reference, Posted::Other, result, "removed").await
}

pub(crate) async fn complete_action(
    State(app): State<App>,
    SignedIn(member): SignedIn,
    Path((raw, id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let reference = reference(&raw)?;
    let id = action_id(&id)?;
    let result = app
        .complete_plan_action(&member.caller(), reference, id)
        .await;
    respond(&app, &member, reference, Posted::Other, result, "completed").await
}

pub(crate) async fn reopen_action(
    State(app): State<App>,
    SignedIn(member): SignedIn,
    Path((raw, id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let reference = reference(&raw)?;
    let id = action_id(&id)?;
    let result = app
        .reopen_plan_action(&member.caller(), reference, id)
        .await;
    respond(&app, &member, reference, Posted::Other, result, "reopened").await
}

pub(crate) async fn share(
    State(app): State<App>,
    SignedIn(member): SignedIn,
    auth: AuthSession,
    Path(raw): Path<String>,
) -> Result<Response, PageError> {
    let reference = reference(&raw)?;
    match app.share_plan(&member.caller(), reference).await {
        Ok(shared) => {
            auth.session
                .insert(NEW_LINK_KEY, shared.token)
                .await
                .map_err(|error| {
                    tracing::error!(%error, "could not keep a new link in the session");
                    PageError::Internal
                })?;
            Ok(done(reference, "shared"))
        }
        Err(error) => {
            let result = Err(error);
            respond(&app, &member, reference, Posted::Other, result, "shared").await
        }
    }
}

pub(crate) async fn revoke_link(
    State(app): State<App>,
    SignedIn(member): SignedIn,
    Path((raw, id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let reference = reference(&raw)?;
    let id: i64 = id
        .parse()
        .map_err(|_| PageError::NotFound("The case has no such link.".to_owned()))?;
    match app
        .revoke_access_link(&member.caller(), reference, id)
        .await
    {
        Ok(()) => Ok(done(reference, "revoked")),
        Err(AppError::LinkNotFound(_)) => {
            Err(PageError::NotFound("The case has no such link.".to_owned()))
        }
        Err(other) => Err(other.into()),
    }
}

/// The status and problem for a refused change, with the plan as it is now when the change
/// was stale. Failures on our side are page errors.
fn problem(error: AppError) -> Result<(StatusCode, Problem, Option<Plan>), PageError> {
    Ok(match error {
        AppError::PlanConflict { current, .. } => {
            (StatusCode::CONFLICT, Problem::Stale, Some(*current))
        }
        AppError::Plan(PlanError::Invalid(fields)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Problem::Invalid(fields),
            None,
        ),
        AppError::Plan(e @ (PlanError::Closed | PlanError::TooManyActions)) => (
            StatusCode::CONFLICT,
            Problem::Refused(sentence(&e.to_string())),
            None,
        ),
        AppError::Plan(PlanError::UnknownAction) => (
            StatusCode::CONFLICT,
            Problem::Refused(
                "That action is no longer on the plan: someone may have removed it".to_owned(),
            ),
            None,
        ),
        other => return Err(other.into()),
    })
}

/// "the case is closed: …" as a sentence for a page.
fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

async fn respond(
    app: &App,
    member: &StaffMember,
    reference: Reference,
    posted: Posted,
    result: Result<Plan, AppError>,
    what: &str,
) -> Result<Response, PageError> {
    let (status, problem, _) = match result {
        Ok(_) => return Ok(done(reference, what)),
        Err(error) => problem(error)?,
    };
    let page = PlanPage::load(app, member, reference, posted, Some(problem)).await?;
    Ok((status, page).into_response())
}

fn banner(done: &str) -> Option<String> {
    Some(
        match done {
            "goal" => "Goal saved",
            "added" => "Action added",
            "changed" => "Action changed",
            "moved" => "Action moved",
            "removed" => "Action removed",
            "completed" => "Action marked as done",
            "reopened" => "Action marked as not done",
            "shared" => "Link made: give it to the resident",
            "revoked" => "Link withdrawn: it no longer works",
            _ => return None,
        }
        .to_owned(),
    )
}

/// What the plan page shows, as read for one request.
struct PlanView<'a> {
    case: &'a Case,
    plan: &'a Plan,
    links: &'a [AccessLink],
    directory: &'a Directory,
}

/// One action as the editor lists it.
pub(crate) struct ActionRow {
    id: String,
    number: usize,
    title: String,
    owner: &'static str,
    /// As the resident reads it.
    details: Option<SafeHtml>,
    due: Option<String>,
    status: format::Tag,
    completed: Option<String>,
    first: bool,
    last: bool,
}

pub(crate) struct LinkRow {
    id: i64,
    created: String,
    created_by: String,
    expires: String,
    last_used: Option<String>,
    uses: i64,
    status: format::Tag,
    working: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "plan_editor.html")]
pub(crate) struct PlanPage {
    page: Chrome,
    reference: String,
    service_name: String,
    open: bool,
    version: i64,
    goal: String,
    goal_error: Option<String>,
    actions: Vec<ActionRow>,
    /// The add form.
    form: ActionForm,
    prefix: &'static str,
    add_open: bool,
    add_errors: Vec<(String, String)>,
    links: Vec<LinkRow>,
    last_viewed: Option<String>,
    new_link: Option<String>,
    banner: Option<String>,
    error_title: &'static str,
    errors: Vec<ErrorItem>,
}

impl PlanPage {
    async fn load(
        app: &App,
        member: &StaffMember,
        reference: Reference,
        posted: Posted,
        problem: Option<Problem>,
    ) -> Result<Self, PageError> {
        let caller = member.caller();
        let ((case, plan), links, directory) = tokio::try_join!(
            app.plan(&caller, reference),
            app.access_links(&caller, reference),
            app.directory()
        )?;
        let view = PlanView {
            case: &case,
            plan: &plan,
            links: &links,
            directory: &directory,
        };
        Ok(Self::new(app, member, view, posted, problem))
    }

    fn new(
        app: &App,
        member: &StaffMember,
        view: PlanView<'_>,
        posted: Posted,
        problem: Option<Problem>,
    ) -> Self {
        let PlanView {
            case,
            plan,
            links,
            directory,
        } = view;
        let now = app.now();
        let today = uk_date(now);
        let service_name = app
            .services()
            .get(&case.service)
            .map_or_else(|| case.service.clone(), |s| s.name.clone());
        let count = plan.actions.len();
        let actions = plan
            .actions
            .iter()
            .enumerate()
            .map(|(i, action)| ActionRow {
                id: action.id.to_string(),
                number: i + 1,
                title: action.title.clone(),
                owner: match action.owner {
                    ActionOwner::Resident => "Resident",
                    ActionOwner::Council => "Council",
                },
                details: action.details.as_deref().map(render),
                due: action.due_on.map(format::date),
                status: action_status(action, today),
                completed: action.completed_at.map(|at| {
                    let by = action.completed_by.as_ref().map_or_else(String::new, |by| {
                        format!(" by {}", format::actor(directory, by))
                    });
                    format!("Done on {}{by}", format::date_time(at))
                }),
                first: i == 0,
                last: i + 1 == count,
            })
            .collect();
        let last_viewed = links
            .iter()
            .filter_map(|l| l.last_used_at)
            .max()
            .map(format::date_time);
        let links = links
            .iter()
            .map(|link| {
                let status = if link.revoked_at.is_some() {
                    format::Tag {
                        text: "Withdrawn".to_owned(),
                        class: "govuk-tag--grey",
                    }
                } else if link.expires_at <= now {
                    format::Tag {
                        text: "Expired".to_owned(),
                        class: "govuk-tag--grey",
                    }
                } else {
                    format::Tag {
                        text: "Working".to_owned(),
                        class: "govuk-tag--green",
                    }
                };
                LinkRow {
                    id: link.id,
                    created: format::date_time(link.created_at),
                    created_by: format::actor(directory, &link.created_by),
                    expires: format::date(uk_date(link.expires_at)),
                    last_used: link.last_used_at.map(format::date_time),
                    uses: link.uses,
                    working: link.revoked_at.is_none() && link.expires_at > now,
                    status,
                }
            })
            .collect();

        let (goal, add, add_open) = match &posted {
            Posted::Goal(goal) => (goal.clone(), ActionForm::default(), false),
            Posted::Add(form) => (plan.goal.clone().unwrap_or_default(), form.clone(), true),
            Posted::Other => (
                plan.goal.clone().unwrap_or_default(),
                ActionForm::default(),
                false,
            ),
        };
        let field_errors: &[FieldError] = match &problem {
            Some(Problem::Invalid(fields)) => fields,
            _ => &[],
        };
        let goal_error = field_errors
            .iter()
            .find(|e| e.field == "goal")
            .map(|e| e.message.clone());
        let add_errors: Vec<(String, String)> = match posted {
            Posted::Add(_) => field_errors
                .iter()
                .map(|e| (e.field.clone(), e.message.clone()))
                .collect(),
            _ => Vec::new(),
        };
        let (error_title, errors) = match problem {
            None => ("There is a problem", Vec::new()),
            Some(Problem::Stale) => (
                "Someone else changed this plan",
                vec![ErrorItem {
                    text: "Check the plan as it is now, then make your change again if it is \
                           still right"
                        .to_owned(),
                    href: Some("#actions".to_owned()),
                }],
            ),
            Some(Problem::Refused(text)) => {
                ("There is a problem", vec![ErrorItem { text, href: None }])
            }
            Some(Problem::Invalid(fields)) => (
                "There is a problem",
                fields
                    .iter()
                    .map(|e| ErrorItem {
                        text: e.message.clone(),
                        href: Some(match e.field.as_str() {
                            "goal" => "#goal".to_owned(),
                            "due_on" => "#add-due-day".to_owned(),
                            "actions" => "#actions".to_owned(),
                            field => format!("#add-{field}"),
                        }),
                    })
                    .collect(),
            ),
        };
        let mut page = Chrome::new(format!("Plan for {}", case.reference), Some(member));
        page.has_errors = !errors.is_empty();
        Self {
            page,
            reference: case.reference.to_string(),
            service_name,
            open: case.is_open(),
            version: plan.version,
            goal,
            goal_error,
            actions,
            form: add,
            prefix: "add",
            add_open,
            add_errors,
            links,
            last_viewed,
            new_link: None,
            banner: None,
            error_title,
            errors,
        }
    }

    fn error(&self, field: &str) -> Option<&str> {
        self.add_errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, message)| message.as_str())
    }
}

fn action_status(action: &PlanAction, today: time::Date) -> format::Tag {
    if action.is_done() {
        format::Tag {
            text: "Done".to_owned(),
            class: "govuk-tag--green",
        }
    } else if action.is_overdue(today) {
        format::Tag {
            text: "Overdue".to_owned(),
            class: "govuk-tag--red",
        }
    } else {
        format::Tag {
            text: "To do".to_owned(),
            class: "govuk-tag--grey",
        }
    }
}

/// The form to change one action.
#[derive(Template, WebTemplate)]
#[template(path = "plan_action.html")]
pub(crate) struct ActionPage {
    page: Chrome,
    reference: String,
    id: String,
    form: ActionForm,
    prefix: &'static str,
    error_title: &'static str,
    errors: Vec<ErrorItem>,
    field_errors: Vec<(String, String)>,
}

impl ActionPage {
    fn new(
        member: &StaffMember,
        case: &Case,
        id: ActionId,
        form: ActionForm,
        problem: Option<Problem>,
    ) -> Self {
        let (error_title, errors, field_errors) = match problem {
            None => ("There is a problem", Vec::new(), Vec::new()),
            Some(Problem::Stale) => (
                "Someone else changed this plan",
                vec![ErrorItem {
                    text: "The plan changed since you opened this page. Check the plan, then \
                           save again if your change is still right"
                        .to_owned(),
                    href: Some(format!("/staff/cases/{}/plan", case.reference)),
                }],
                Vec::new(),
            ),
            Some(Problem::Refused(text)) => (
                "There is a problem",
                vec![ErrorItem { text, href: None }],
                Vec::new(),
            ),
            Some(Problem::Invalid(fields)) => (
                "There is a problem",
                fields
                    .iter()
                    .map(|e| ErrorItem {
                        text: e.message.clone(),
                        href: Some(match e.field.as_str() {
                            "due_on" => "#action-due-day".to_owned(),
                            field => format!("#action-{field}"),
                        }),
                    })
                    .collect(),
                fields.into_iter().map(|e| (e.field, e.message)).collect(),
            ),
        };
        let mut page = Chrome::new(
            format!("Change an action – {}", case.reference),
            Some(member),
        );
        page.has_errors = !errors.is_empty();
        Self {
            page,
            reference: case.reference.to_string(),
            id: id.to_string(),
            form,
            prefix: "action",
            error_title,
            errors,
            field_errors,
        }
    }

    fn error(&self, field: &str) -> Option<&str> {
        self.field_errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, message)| message.as_str())
    }
}

/// Who an action is for, as staff read it.
fn owner(owner: ActionOwner) -> &'static str {
    match owner {
        ActionOwner::Resident => "for the resident",
        ActionOwner::Council => "for the council",
    }
}

/// A plan event's title and description on the MOJ timeline. Case events are described in
/// `case`; this covers the rest.
pub(super) fn timeline_entry(kind: &EventKind) -> (String, Option<String>) {
    match kind {
        EventKind::PlanGoalSet { to, .. } => (
            "Plan goal changed".to_owned(),
            Some(match to {
                Some(goal) => format!("Goal: “{goal}”"),
                None => "The goal was removed.".to_owned(),
            }),
        ),
        EventKind::PlanActionAdded {
            owner: who,
            title,
            due_on,
            ..
        } => (
            "Plan action added".to_owned(),
            Some(match due_on {
                Some(due) => format!("“{title}”, {}, due by {}.", owner(*who), format::date(*due)),
                None => format!("“{title}”, {}.", owner(*who)),
            }),
        ),
        EventKind::PlanActionChanged { from, to, .. } => {
            let mut changes = Vec::new();
            if from.title != to.title {
                changes.push(format!("Title was “{}”.", from.title));
            }
            if from.owner != to.owner {
                changes.push(format!("Now {}.", owner(to.owner)));
            }
            if from.details != to.details {
                changes.push("Details changed.".to_owned());
            }
            if from.due_on != to.due_on {
                changes.push(match to.due_on {
                    Some(due) => format!("Now due by {}.", format::date(due)),
                    None => "No due date now.".to_owned(),
                });
            }
            (
                format!("Plan action changed: “{}”", to.title),
                Some(changes.join(" ")),
            )
        }
        EventKind::PlanActionRemoved { title, .. } => {
            ("Plan action removed".to_owned(), Some(format!("“{title}”")))
        }
        EventKind::PlanActionMoved {
            title, from, to, ..
        } => (
            "Plan action moved".to_owned(),
            Some(format!(
                "“{title}” moved from number {from} to number {to}."
            )),
        ),
        EventKind::PlanActionCompleted {
            title, owner: who, ..
        } => (
            "Plan action done".to_owned(),
            Some(format!("“{title}”, {}.", owner(*who))),
        ),
        EventKind::PlanActionReopened {
            title, owner: who, ..
        } => (
            "Plan action marked as not done".to_owned(),
            Some(format!("“{title}”, {}.", owner(*who))),
        ),
        EventKind::PlanShared { expires_at, .. } => (
            "Plan shared with the resident".to_owned(),
            Some(format!(
                "The link works until {}.",
                format::date_time(*expires_at)
            )),
        ),
        EventKind::PlanLinkRevoked { .. } => (
            "Plan link withdrawn".to_owned(),
            Some("The resident can no longer open the plan with that link.".to_owned()),
        ),
        EventKind::PlanViewed { .. } => ("Resident viewed the plan".to_owned(), None),
        EventKind::PlanReminder { title, due_on, .. } => (
            "Reminder due to the resident".to_owned(),
            Some(format!("“{title}” is due by {}.", format::date(*due_on))),
        ),
        EventKind::Created { .. }
        | EventKind::FieldChanged { .. }
        | EventKind::PriorityChanged { .. }
        | EventKind::Transitioned { .. }
        | EventKind::Assigned { .. }
        | EventKind::NoteAdded { .. }
        | EventKind::SlaBreached { .. }
        | EventKind::MessageSent { .. }
        | EventKind::MessageFailed { .. }
        | EventKind::MessageReceived { .. } => (kind.name().replace('_', " "), None),
    }
}
