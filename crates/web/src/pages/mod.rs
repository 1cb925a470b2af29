//! The staff pages (the worktray and the case page, in the GOV.UK and MOJ design systems) and
//! the resident pages (the shared plan, in GOV.UK's, in English or Welsh), rendered on the
//! server. Every page works without JavaScript, and every form is a plain GET or POST.
//! Handlers are thin: parse the request, call one `App` function, render a template.

mod admin;
mod bulk;
mod case;
mod format;
mod intake;
mod messages;
mod plan;
mod plan_editor;
mod replies;
pub(crate) mod resident;
mod webhooks;
mod worktray;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::http::header::CACHE_CONTROL;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::map_response;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use casework_app::domain::case::Reference;
use casework_app::domain::service::Role;
use casework_app::{App, AppError, StaffMember};

use crate::assets;

pub(crate) fn router() -> Router<App> {
    Router::new()
        .route("/staff", get(worktray::show))
        .route("/staff/bulk", post(bulk::apply))
        .route("/staff/cases/{reference}", get(case::show))
        .route(
            "/staff/cases/{reference}/transition",
            post(case::transition),
        )
        .route("/staff/cases/{reference}/assignment", post(case::assign))
        .route("/staff/cases/{reference}/notes", post(case::add_note))
        .route(
            "/staff/cases/{reference}/answers",
            post(case::change_answers),
        )
        .merge(admin::router())
        .merge(webhooks::router())
        .layer(map_response(not_stored))
}

/// The conversation with the resident on each case, when messaging is switched on, and the
/// dev outbox if asked for.
pub(crate) fn messages_router(dev_outbox: bool) -> Router<App> {
    messages::router(dev_outbox)
        .merge(replies::router())
        .layer(map_response(not_stored))
}

/// The staff side of the shared plan, when the plan is switched on.
pub(crate) fn plan_router() -> Router<App> {
    plan_editor::router().layer(map_response(not_stored))
}

/// The pages show residents' personal details: no browser or proxy may keep a copy, for the
/// next person at a shared computer to find with the back button.
async fn not_stored(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// What the layout around every page needs.
pub(crate) struct Chrome {
    /// The page's own title; the layout adds "– Casework", and "Error:" when `has_errors`.
    pub title: String,
    /// The signed-in member of staff's name.
    pub user: Option<String>,
    /// The signed-in member of staff is an admin: the navigation offers the admin pages.
    pub admin: bool,
    /// The navigation's item for the page's area.
    pub current: Nav,
    pub has_errors: bool,
    /// Wide pages (the worktray's table) use the whole window rather than the usual column.
    pub wide: bool,
    pub assets: &'static str,
}

impl Chrome {
    fn new(title: impl Into<String>, member: Option<&StaffMember>) -> Self {
        Self {
            title: title.into(),
            user: member.map(|m| m.name.clone()),
            admin: is_admin(member),
            current: Nav::Worktray,
            has_errors: false,
            wide: false,
            assets: assets::PREFIX,
        }
    }

    /// Templates compare with this rather than with `Nav`, which not every page imports.
    pub(crate) fn in_admin(&self) -> bool {
        self.current == Nav::Admin
    }
}

/// The areas of the service navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Nav {
    Worktray,
    Admin,
}

pub(crate) fn is_admin(member: Option<&StaffMember>) -> bool {
    member.is_some_and(|m| m.role == Role::Admin)
}

/// The case a page's path names; a path that names none is a page not found.
pub(crate) fn reference(raw: &str) -> Result<Reference, PageError> {
    raw.parse()
        .map_err(|_| PageError::NotFound(format!("There is no case {raw}.")))
}

/// One entry in a GOV.UK error summary, linking to the field it is about where there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ErrorItem {
    pub text: String,
    pub href: Option<String>,
}

/// A page that cannot be shown, answered with a GOV.UK error page. The cause of a failure on our
/// side goes to the log, never to the page.
#[derive(Debug)]
pub(crate) enum PageError {
    NotFound(String),
    Unavailable,
    Internal,
}

impl From<AppError> for PageError {
    fn from(error: AppError) -> Self {
        match error {
            AppError::CaseNotFound(reference) => {
                Self::NotFound(format!("There is no case {reference}."))
            }
            AppError::Unavailable(source) => {
                tracing::error!(error = %source, "the database is unavailable");
                Self::Unavailable
            }
            other => {
                tracing::error!(error = %other, "a page failed");
                Self::Internal
            }
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
struct ErrorPage {
    page: Chrome,
    heading: &'static str,
    message: String,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, heading, message) = match self {
            Self::NotFound(message) => (StatusCode::NOT_FOUND, "Page not found", message),
            Self::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Sorry, the service is unavailable",
                "Try again in a few minutes.".to_owned(),
            ),
            Self::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Sorry, there is a problem with the service",
                "Try again later. The problem has been logged.".to_owned(),
            ),
        };
        let page = ErrorPage {
            page: Chrome::new(heading, None),
            heading,
            message,
        };
        (status, page).into_response()
    }
}
