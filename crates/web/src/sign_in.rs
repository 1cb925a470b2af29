//! Signing in and out, setting a password from a one-time link, and the signed-in member of
//! staff's own account page. GOV.UK patterns: an error summary and errors by their fields, the
//! email address kept after a failed attempt, never the password.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::header::{REFERRER_POLICY, RETRY_AFTER};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use casework_app::{App, AppError, MIN_PASSWORD_CHARS, SIGN_IN_WINDOW, StaffMember};
use serde::Deserialize;

use crate::assets;
use crate::auth::{
    AuthSession, ClientIp, Credentials, HOME_PATH, SIGN_IN_PATH, SignInError, SignedIn, StaffUser,
    local_path,
};
use crate::pages::{Chrome, ErrorItem, Nav, PageError, is_admin};
use crate::sessions::STAFF_ID_KEY;

pub(crate) fn router() -> Router<App> {
    Router::new()
        .route(SIGN_IN_PATH, get(show_sign_in).post(sign_in))
        .route("/staff/sign-out", post(sign_out))
        .route(
            "/staff/set-password/{token}",
            get(show_set_password).post(set_password),
        )
        .route("/staff/account", get(account))
}

fn chrome(title: &str, member: Option<&StaffMember>, has_errors: bool) -> Chrome {
    Chrome {
        title: title.to_owned(),
        user: member.map(|m| m.name.clone()),
        admin: is_admin(member),
        current: Nav::Worktray,
        has_errors,
        wide: false,
        assets: assets::PREFIX,
    }
}

/// Where to go once signed in: the page the member of staff was sent from, if it is on this
/// site, or their worktray.
fn destination(next: &str) -> &str {
    local_path(next).unwrap_or(HOME_PATH)
}

#[derive(Template, WebTemplate)]
#[template(path = "sign_in.html")]
struct SignInPage {
    page: Chrome,
    errors: Vec<ErrorItem>,
    email: String,
    email_error: Option<String>,
    password_error: Option<String>,
    next: String,
}

impl SignInPage {
    fn new(email: String, next: String) -> Self {
        Self {
            page: chrome("Sign in", None, false),
            errors: Vec::new(),
            email,
            email_error: None,
            password_error: None,
            next,
        }
    }

    fn with_error(mut self, field: &str, message: &str) -> Self {
        self.page.has_errors = true;
        self.errors.push(ErrorItem {
            text: message.to_owned(),
            href: Some(format!("#{field}")),
        });
        match field {
            "email" => self.email_error = Some(message.to_owned()),
            _ => self.password_error = Some(message.to_owned()),
        }
        self
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Next {
    next: String,
}

async fn show_sign_in(auth: AuthSession, Query(Next { next }): Query<Next>) -> Response {
    if auth.user.is_some() {
        return Redirect::to(destination(&next)).into_response();
    }
    SignInPage::new(String::new(), next).into_response()
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SignInForm {
    email: String,
    password: String,
    next: String,
}

async fn sign_in(
    mut auth: AuthSession,
    ClientIp(client): ClientIp,
    Form(form): Form<SignInForm>,
) -> Result<Response, PageError> {
    let SignInForm {
        email,
        password,
        next,
    } = form;
    let mut page = SignInPage::new(email.trim().to_owned(), next);
    if page.email.is_empty() {
        page = page.with_error("email", "Enter your email address");
    }
    if password.is_empty() {
        page = page.with_error("password", "Enter your password");
    }
    if !page.errors.is_empty() {
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let credentials = Credentials {
        email: page.email.clone(),
        password,
        client,
    };
    match auth.authenticate(credentials).await {
        Ok(Some(user)) => {
            start_session(&mut auth, user).await?;
            Ok(Redirect::to(destination(&page.next)).into_response())
        }
        // Which of the two was wrong is not said: that would tell anyone who is on the staff.
        Ok(None) => {
            let page = page.with_error("password", "Enter a correct email address and password");
            Ok((StatusCode::UNAUTHORIZED, page).into_response())
        }
        Err(axum_login::Error::Backend(SignInError::TooManyAttempts)) => {
            let minutes = SIGN_IN_WINDOW.whole_minutes();
            let message = format!(
                "You have tried to sign in too many times. Wait {minutes} minutes, then try again"
            );
            let page = page.with_error("password", &message);
            let retry_after = HeaderValue::from(SIGN_IN_WINDOW.whole_seconds());
            Ok((
                StatusCode::TOO_MANY_REQUESTS,
                [(RETRY_AFTER, retry_after)],
                page,
            )
                .into_response())
        }
        Err(axum_login::Error::Backend(SignInError::App(error))) => Err(error.into()),
        Err(axum_login::Error::Session(error)) => Err(session_failed(error)),
    }
}

/// Signs `user` in on a session with a new id, so that an id planted in the browser before
/// signing in is worth nothing after, filed under their staff id so that it can be ended with
/// all their others.
async fn start_session(auth: &mut AuthSession, user: StaffUser) -> Result<(), PageError> {
    let id = user.0.id;
    if auth.user.is_some() {
        // Someone else's session on this browser ends first: nothing of it carries over.
        auth.logout().await.map_err(login_failed)?;
    }
    auth.session.cycle_id().await.map_err(session_failed)?;
    auth.login(&user).await.map_err(login_failed)?;
    auth.session
        .insert(STAFF_ID_KEY, id)
        .await
        .map_err(session_failed)?;
    Ok(())
}

fn login_failed(error: axum_login::Error<crate::auth::StaffBackend>) -> PageError {
    match error {
        axum_login::Error::Backend(SignInError::App(error)) => error.into(),
        axum_login::Error::Backend(SignInError::TooManyAttempts) => PageError::Internal,
        axum_login::Error::Session(error) => session_failed(error),
    }
}

fn session_failed(error: axum_login::tower_sessions::session::Error) -> PageError {
    tracing::error!(%error, "the session could not be stored");
    PageError::Internal
}

/// Ends the session, in the database as well as the browser.
async fn sign_out(mut auth: AuthSession) -> Result<Redirect, PageError> {
    if let Some(user) = auth.logout().await.map_err(login_failed)? {
        tracing::info!(staff = user.0.id, "signed out");
    }
    Ok(Redirect::to(SIGN_IN_PATH))
}

#[derive(Template, WebTemplate)]
#[template(path = "set_password.html")]
struct SetPasswordPage {
    page: Chrome,
    /// Whose link it is; `None` when the link does not work.
    holder: Option<StaffMember>,
    errors: Vec<ErrorItem>,
    password_error: Option<String>,
    confirm_error: Option<String>,
    min_chars: usize,
}

impl SetPasswordPage {
    fn new(holder: Option<StaffMember>) -> Self {
        let title = match holder {
            Some(_) => "Set your password",
            None => "This link does not work",
        };
        Self {
            page: chrome(title, None, false),
            holder,
            errors: Vec::new(),
            password_error: None,
            confirm_error: None,
            min_chars: MIN_PASSWORD_CHARS,
        }
    }

    fn with_error(mut self, field: &str, message: &str) -> Self {
        self.page.has_errors = true;
        self.errors.push(ErrorItem {
            text: message.to_owned(),
            href: Some(format!("#{field}")),
        });
        match field {
            "confirm" => self.confirm_error = Some(message.to_owned()),
            _ => self.password_error = Some(message.to_owned()),
        }
        self
    }

    /// The page, answered so that the token in its address goes nowhere else: no `Referer`
    /// from it, and a 404 when the link does not work.
    fn respond(self, status: StatusCode) -> Response {
        let status = match self.holder {
            Some(_) => status,
            None => StatusCode::NOT_FOUND,
        };
        let no_referrer = [(REFERRER_POLICY, HeaderValue::from_static("no-referrer"))];
        (status, no_referrer, self).into_response()
    }
}

async fn show_set_password(
    State(app): State<App>,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    let holder = app.set_password_link_holder(&token).await?;
    Ok(SetPasswordPage::new(holder).respond(StatusCode::OK))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SetPasswordForm {
    password: String,
    confirm: String,
}

/// Sets the password and signs its owner in: having the link is as good as the password it
/// sets.
async fn set_password(
    State(app): State<App>,
    mut auth: AuthSession,
    Path(token): Path<String>,
    Form(form): Form<SetPasswordForm>,
) -> Result<Response, PageError> {
    let holder = app.set_password_link_holder(&token).await?;
    let page = SetPasswordPage::new(holder);
    if page.holder.is_none() {
        return Ok(page.respond(StatusCode::NOT_FOUND));
    }
    if form.password.is_empty() {
        let page = page.with_error("password", "Enter a new password");
        return Ok(page.respond(StatusCode::UNPROCESSABLE_ENTITY));
    }
    if form.password != form.confirm {
        let page = page.with_error("confirm", "Enter the same password twice");
        return Ok(page.respond(StatusCode::UNPROCESSABLE_ENTITY));
    }
    match app.set_password_with_link(&token, &form.password).await {
        Ok(Some(member)) => {
            start_session(&mut auth, StaffUser(member)).await?;
            Ok(Redirect::to(HOME_PATH).into_response())
        }
        // Used or expired between showing the form and sending it.
        Ok(None) => Ok(SetPasswordPage::new(None).respond(StatusCode::NOT_FOUND)),
        Err(AppError::Invalid(fields)) => {
            let page = fields.iter().fold(page, |page, field| {
                page.with_error("password", &field.message)
            });
            Ok(page.respond(StatusCode::UNPROCESSABLE_ENTITY))
        }
        Err(error) => Err(error.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "account.html")]
struct AccountPage {
    page: Chrome,
    member: StaffMember,
}

/// The signed-in member of staff's own details.
async fn account(SignedIn(member): SignedIn) -> AccountPage {
    AccountPage {
        page: chrome("Your account", Some(&member), false),
        member,
    }
}
