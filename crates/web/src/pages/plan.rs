//! A resident's shared plan, opened from the link they were sent: `/plan/{token}`. The token
//! is the only key: it opens one case's plan, and lets the resident tick off their own actions
//! on it and nothing else. A link that does not work gets the same page whatever the reason,
//! and an address that tries many such links is refused for a while.

use std::net::IpAddr;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use casework_app::domain::calendar::uk_date;
use casework_app::domain::case::Actor;
use casework_app::domain::inbound::{MAX_PLAN_REPLY_CHARS, PlanReplyProblem};
use casework_app::domain::message::Direction;
use casework_app::domain::plan::{ActionId, PlanAction, PlanError};
use casework_app::domain::service::ActionOwner;
use casework_app::{App, AppError, Feature, LinkProblem, ResidentPlan};
use serde::Deserialize;
use time::{Date, OffsetDateTime};

use super::ErrorItem;
use super::resident::{ResidentChrome, ResidentLang, link_not_working};
use crate::auth::ClientIp;
use crate::markdown::{SafeHtml, render};

/// One action as the resident reads it.
pub(crate) struct ActionView {
    id: String,
    title: String,
    details: Option<SafeHtml>,
    due: Option<Date>,
    done_at: Option<OffsetDateTime>,
    /// `resident` or `council`, for the "Completed … by you / by the council" message.
    done_by: &'static str,
    overdue: bool,
    /// The resident may tick it off, or undo their own tick.
    can_tick: bool,
    can_undo: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "resident_plan.html")]
pub(crate) struct PlanPage {
    page: ResidentChrome,
    /// Where the page's forms post: the plan's own address.
    href: String,
    reference: String,
    service_name: String,
    description: Option<String>,
    open: bool,
    goal: Option<String>,
    yours: Vec<ActionView>,
    ours: Vec<ActionView>,
    left: usize,
    /// Messaging is switched on: the page shows the conversation and the reply box.
    messaging: bool,
    messages: Vec<ThreadMessage>,
    /// The reply being written, kept when it was refused.
    reply: String,
    reply_error: Option<String>,
    /// The reply just sent, for the success banner.
    sent: bool,
    errors: Vec<ErrorItem>,
}

/// One message in the resident's view of the conversation.
pub(crate) struct ThreadMessage {
    /// Written by the resident, rather than the council.
    from_you: bool,
    subject: Option<String>,
    body: String,
    at: OffsetDateTime,
}

impl PlanPage {
    fn new(app: &App, lang: &ResidentLang, token: &str, view: ResidentPlan) -> Self {
        let today = uk_date(app.now());
        let actions = |owner: ActionOwner| -> Vec<ActionView> {
            view.plan
                .actions
                .iter()
                .filter(|a| a.owner == owner)
                .map(|a| action_view(a, view.open, today))
                .collect()
        };
        let yours = actions(ActionOwner::Resident);
        let left = yours.iter().filter(|a| a.done_at.is_none()).count();
        Self {
            page: lang.chrome(lang.lang.t("plan-title")),
            href: format!("/plan/{token}"),
            reference: view.reference.to_string(),
            service_name: view.service_name,
            description: view.description,
            open: view.open,
            goal: view.plan.goal.clone(),
            ours: actions(ActionOwner::Council),
            yours,
            left,
            messaging: app.features().is_on(Feature::Messaging),
            messages: view
                .messages
                .into_iter()
                .map(|m| {
                    let from_you = m.direction == Direction::Inbound;
                    ThreadMessage {
                        from_you,
                        subject: m.subject,
                        body: m.body,
                        at: m.created_at,
                    }
                })
                .collect(),
            reply: String::new(),
            reply_error: None,
            sent: false,
            errors: Vec::new(),
        }
    }
}

fn action_view(action: &PlanAction, open: bool, today: Date) -> ActionView {
    let ticked_by_resident = action.completed_by == Some(Actor::Resident);
    let resident_owned = action.owner == ActionOwner::Resident;
    ActionView {
        id: action.id.to_string(),
        title: action.title.clone(),
        details: action.details.as_deref().map(render),
        due: action.due_on,
        done_at: action.completed_at,
        done_by: if ticked_by_resident {
            "resident"
        } else {
            "council"
        },
        overdue: action.is_overdue(today),
        can_tick: open && resident_owned && !action.is_done(),
        can_undo: open && resident_owned && ticked_by_resident,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "resident_too_many.html")]
struct TooManyPage {
    page: ResidentChrome,
}

/// The plan, or the page for a link that does not work.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ShowParams {
    /// Set after a reply is sent, for the success banner.
    sent: Option<String>,
}

pub(crate) async fn show(
    State(app): State<App>,
    lang: ResidentLang,
    ClientIp(client): ClientIp,
    Path(token): Path<String>,
    Query(params): Query<ShowParams>,
) -> Response {
    if let Some(refused) = refuse_client(&app, &lang, client).await {
        return refused;
    }
    match app.resident_plan(&token).await {
        Ok(view) => {
            let lang = lang.preferring(view.language.into());
            let mut page = PlanPage::new(&app, &lang, &token, view);
            page.sent = params.sent.is_some();
            page.into_response()
        }
        Err(error) => failed(&app, &lang, client, &token, error).await,
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct ReplyForm {
    #[serde(default)]
    message: String,
}

/// The resident writes to the council from their plan page.
pub(crate) async fn reply(
    State(app): State<App>,
    lang: ResidentLang,
    ClientIp(client): ClientIp,
    Path(token): Path<String>,
    Form(form): Form<ReplyForm>,
) -> Response {
    if let Some(refused) = refuse_client(&app, &lang, client).await {
        return refused;
    }
    match app.reply_on_plan(&token, &form.message).await {
        Ok(_) => Redirect::to(&format!("/plan/{token}?sent=1#messages")).into_response(),
        Err(AppError::PlanReply(problem)) => match app.resident_plan_unrecorded(&token).await {
            Ok(view) => {
                let lang = lang.preferring(view.language.into());
                let mut page = PlanPage::new(&app, &lang, &token, view);
                // The resident reads the domain's reason in their language.
                let problem = match problem {
                    PlanReplyProblem::Empty => lang.lang.t("message-empty"),
                    PlanReplyProblem::TooLong => {
                        let max = MAX_PLAN_REPLY_CHARS.to_string();
                        lang.lang
                            .t_args("message-too-long", &[("max", max.as_str())])
                    }
                };
                page.page.has_errors = true;
                page.errors = vec![ErrorItem {
                    text: problem.clone(),
                    href: Some("#reply".to_owned()),
                }];
                page.reply_error = Some(problem);
                page.reply = form.message;
                (StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
            }
            Err(error) => failed(&app, &lang, client, &token, error).await,
        },
        Err(error) => failed(&app, &lang, client, &token, error).await,
    }
}

/// The resident ticks one of their actions off.
pub(crate) async fn done(
    State(app): State<App>,
    lang: ResidentLang,
    ClientIp(client): ClientIp,
    Path((token, id)): Path<(String, String)>,
) -> Response {
    tick(app, lang, client, token, id, true).await
}

/// The resident undoes their tick.
pub(crate) async fn undo(
    State(app): State<App>,
    lang: ResidentLang,
    ClientIp(client): ClientIp,
    Path((token, id)): Path<(String, String)>,
) -> Response {
    tick(app, lang, client, token, id, false).await
}

async fn tick(
    app: App,
    lang: ResidentLang,
    client: Option<IpAddr>,
    token: String,
    id: String,
    done: bool,
) -> Response {
    if let Some(refused) = refuse_client(&app, &lang, client).await {
        return refused;
    }
    // An id that is not one is an action this plan does not have.
    let Ok(id) = id.parse::<ActionId>() else {
        return failed(
            &app,
            &lang,
            client,
            &token,
            AppError::Plan(PlanError::UnknownAction),
        )
        .await;
    };
    let result = if done {
        app.resident_complete_action(&token, id).await
    } else {
        app.resident_reopen_action(&token, id).await
    };
    match result {
        Ok(_) => Redirect::to(&format!("/plan/{token}#action-{id}")).into_response(),
        Err(error) => failed(&app, &lang, client, &token, error).await,
    }
}

/// An address that tried too many links that do not work gets no answer about any link.
async fn refuse_client(app: &App, lang: &ResidentLang, client: Option<IpAddr>) -> Option<Response> {
    match app.link_lookups_refused(client).await {
        Ok(false) => None,
        Ok(true) => {
            let page = TooManyPage {
                page: lang.chrome(lang.lang.t("too-many-attempts-title")),
            };
            Some((StatusCode::TOO_MANY_REQUESTS, page).into_response())
        }
        Err(error) => Some(unavailable(error)),
    }
}

async fn failed(
    app: &App,
    lang: &ResidentLang,
    client: Option<IpAddr>,
    token: &str,
    error: AppError,
) -> Response {
    let (status, message) = match error {
        AppError::Link(problem) => return link_failed(app, lang, client, problem).await,
        AppError::Plan(PlanError::Closed) => (StatusCode::CONFLICT, "plan-closed"),
        // Someone editing the form to reach a council action or another plan's action.
        AppError::Plan(PlanError::NotYours) => (StatusCode::FORBIDDEN, "action-not-available"),
        AppError::Plan(PlanError::UnknownAction) => (StatusCode::NOT_FOUND, "action-not-available"),
        other => return unavailable(other),
    };
    // The link works (it was checked before the action was refused): show the plan again,
    // saying what went wrong, without counting another use of the link.
    match app.resident_plan_unrecorded(token).await {
        Ok(view) => {
            let mut page = PlanPage::new(app, lang, token, view);
            page.page.has_errors = true;
            page.errors = vec![ErrorItem {
                text: lang.lang.t(message),
                href: None,
            }];
            (status, page).into_response()
        }
        Err(AppError::Link(problem)) => link_failed(app, lang, client, problem).await,
        Err(error) => unavailable(error),
    }
}

/// Counts a link that does not work against the address that tried it, and says so.
async fn link_failed(
    app: &App,
    lang: &ResidentLang,
    client: Option<IpAddr>,
    problem: LinkProblem,
) -> Response {
    if let Err(error) = app.record_link_failure(client).await {
        return unavailable(error);
    }
    let status = match problem {
        LinkProblem::Unknown => StatusCode::NOT_FOUND,
        LinkProblem::Expired | LinkProblem::Revoked => StatusCode::GONE,
    };
    link_not_working(lang, status)
}

/// A failure on our side: logged, and answered without a hint of the cause.
fn unavailable(error: AppError) -> Response {
    tracing::error!(%error, "a resident's plan page failed");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "Sorry, the service is unavailable. Try again later.",
    )
        .into_response()
}
