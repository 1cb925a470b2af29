//! The admin pages: staff and teams. An admin lists them, adds a member of staff (and hands
//! over the one-time link they set their password with), deactivates one, makes a new
//! set-password link for one who has forgotten theirs, and adds a team. Every page refuses
//! anyone but an admin with the 403 page; the app checks the role again.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Extension, Form, Router};
use casework_app::domain::service::Role;
use casework_app::domain::service::answers::FieldError;
use casework_app::store::Team;
use casework_app::{App, AppError, NewStaffMember, SetPasswordLink, StaffMember};
use serde::Deserialize;

use super::format;
use super::{Chrome, ErrorItem, Nav, PageError};
use crate::BaseUrl;
use crate::auth::SignedIn;

pub(super) const HOME: &str = "/staff/admin";

pub(crate) fn router() -> Router<App> {
    Router::new()
        .route(HOME, get(overview))
        .route("/staff/admin/staff", get(new_staff).post(add_staff))
        .route(
            "/staff/admin/staff/{id}/deactivate",
            get(confirm_deactivate).post(deactivate),
        )
        .route(
            "/staff/admin/staff/{id}/password-link",
            get(confirm_password_link).post(password_link),
        )
        .route("/staff/admin/teams", get(new_team).post(add_team))
}

/// The signed-in member of staff, who is an admin: anyone else gets the 403 page (and a
/// signed-out request is sent to sign in, as on every staff page).
pub(super) struct Admin(pub(super) StaffMember);

impl<S: Send + Sync> FromRequestParts<S> for Admin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let signed_in = SignedIn::from_request_parts(parts, state).await?;
        signed_in
            .require_role(Role::Admin)
            .map_err(IntoResponse::into_response)?;
        Ok(Self(signed_in.0))
    }
}

pub(super) fn chrome(title: impl Into<String>, admin: &StaffMember, has_errors: bool) -> Chrome {
    Chrome {
        current: Nav::Admin,
        has_errors,
        ..Chrome::new(title, Some(admin))
    }
}

/// The GOV.UK error summary's entries and each field's own message, from the app's errors.
#[derive(Debug, Default)]
pub(super) struct Errors {
    pub(super) summary: Vec<ErrorItem>,
    fields: Vec<FieldError>,
}

impl Errors {
    /// `href` names the input that the error summary links to for each field.
    pub(super) fn new(fields: Vec<FieldError>, href: impl Fn(&str) -> Option<String>) -> Self {
        let summary = fields
            .iter()
            .map(|e| ErrorItem {
                text: e.message.clone(),
                href: href(&e.field),
            })
            .collect();
        Self { summary, fields }
    }

    pub(super) fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|e| e.field == name)
            .map(|e| e.message.as_str())
    }
}

/// A member of staff the app has no record of, as a page says it.
fn no_such_member(error: AppError) -> PageError {
    match error {
        AppError::StaffNotFound(_) => {
            PageError::NotFound("There is no such member of staff.".to_owned())
        }
        other => other.into(),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_index.html")]
struct OverviewPage {
    page: Chrome,
    banner: Option<String>,
    me: i64,
    staff: Vec<StaffMember>,
    teams: Vec<Team>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Done {
    /// Set by the redirect after deactivating someone: their id, for the success banner.
    deactivated: Option<i64>,
    /// Set by the redirect after adding a team: its code.
    team: Option<String>,
}

async fn overview(
    State(app): State<App>,
    Admin(admin): Admin,
    Query(done): Query<Done>,
) -> Result<Response, PageError> {
    let staff = app.list_staff().await?;
    let teams = app.list_teams().await?;
    let deactivated = done
        .deactivated
        .and_then(|id| staff.iter().find(|m| m.id == id && !m.active))
        .map(|m| format!("{} has been deactivated and signed out", m.name));
    let team = done
        .team
        .and_then(|code| teams.iter().find(|t| t.code == code))
        .map(|t| format!("Team {} ({}) has been added", t.name, t.code));
    Ok(OverviewPage {
        page: chrome("Admin", &admin, false),
        banner: deactivated.or(team),
        me: admin.id,
        staff,
        teams,
    }
    .into_response())
}

/// One of the roles, as the add-staff form offers it.
struct RoleOption {
    value: &'static str,
    label: &'static str,
    hint: &'static str,
}

impl RoleOption {
    /// The first radio's id is the field's, where the error summary links.
    fn id(&self, first: &bool) -> String {
        match first {
            true => "role".to_owned(),
            false => format!("role-{}", self.value),
        }
    }
}

const ROLES: [RoleOption; 3] = [
    RoleOption {
        value: "agent",
        label: "Agent",
        hint: "Works the cases of their teams.",
    },
    RoleOption {
        value: "lead",
        label: "Team lead",
        hint: "Also assigns cases across their teams and reopens closed ones.",
    },
    RoleOption {
        value: "admin",
        label: "Admin",
        hint: "Also adds and deactivates staff, and adds teams.",
    },
];

#[derive(Template, WebTemplate)]
#[template(path = "admin_staff_new.html")]
struct NewStaffPage {
    page: Chrome,
    errors: Errors,
    form: StaffForm,
    roles: &'static [RoleOption],
    teams: Vec<Team>,
}

/// The add-staff form as typed, to show again with its errors.
#[derive(Debug, Default)]
struct StaffForm {
    name: String,
    email: String,
    role: String,
    teams: Vec<String>,
}

impl StaffForm {
    /// The fields as posted; `teams` repeats, one for each box ticked.
    fn parse(fields: Vec<(String, String)>) -> Self {
        let mut form = Self::default();
        for (name, value) in fields {
            match name.as_str() {
                "name" => form.name = value,
                "email" => form.email = value,
                "role" => form.role = value,
                "teams" => form.teams.push(value),
                _ => {}
            }
        }
        form
    }

    fn has_team(&self, code: &str) -> bool {
        self.teams.iter().any(|t| t == code)
    }
}

impl NewStaffPage {
    /// A team's checkbox's id; the first is the field's, where the error summary links.
    fn team_id(&self, team: &Team, first: &bool) -> String {
        match first {
            true => "teams".to_owned(),
            false => format!("teams-{}", team.code),
        }
    }

    async fn new(
        app: &App,
        admin: &StaffMember,
        form: StaffForm,
        errors: Errors,
    ) -> Result<Self, PageError> {
        Ok(Self {
            page: chrome("Add a member of staff", admin, !errors.summary.is_empty()),
            errors,
            form,
            roles: &ROLES,
            teams: app.joinable_teams().await?,
        })
    }
}

async fn new_staff(State(app): State<App>, Admin(admin): Admin) -> Result<Response, PageError> {
    let page = NewStaffPage::new(&app, &admin, StaffForm::default(), Errors::default()).await?;
    Ok(page.into_response())
}

/// The page with a one-time link to hand over, after adding someone or on asking for a new
/// link. It is shown once: only the link's hash is kept.
#[derive(Template, WebTemplate)]
#[template(path = "admin_link.html")]
struct LinkPage {
    page: Chrome,
    heading: String,
    member: StaffMember,
    link: String,
    expires: String,
}

impl LinkPage {
    fn new(
        admin: &StaffMember,
        heading: String,
        member: StaffMember,
        link: SetPasswordLink,
        base: &BaseUrl,
    ) -> Self {
        Self {
            page: chrome(heading.clone(), admin, false),
            heading,
            member,
            link: format!("{}/staff/set-password/{}", base.0, link.token),
            expires: format::date_time(link.expires_at),
        }
    }
}

async fn add_staff(
    State(app): State<App>,
    Admin(admin): Admin,
    Extension(base): Extension<BaseUrl>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let form = StaffForm::parse(fields);
    let Ok(role) = form.role.parse::<Role>() else {
        let errors = Errors::new(vec![FieldError::new("role", "Choose their role")], |_| {
            Some("#role".to_owned())
        });
        return invalid_staff(&app, &admin, form, errors).await;
    };
    let new = NewStaffMember {
        email: form.email.clone(),
        name: form.name.clone(),
        role,
        teams: form.teams.clone(),
        password: None,
    };
    let added = match app.add_staff(&admin.caller(), new).await {
        Ok(added) => added,
        Err(AppError::Invalid(fields)) => {
            let errors = Errors::new(fields, |field| Some(format!("#{field}")));
            return invalid_staff(&app, &admin, form, errors).await;
        }
        Err(other) => return Err(other.into()),
    };
    let link = app
        .create_set_password_link(&admin.caller(), added.id)
        .await?;
    let heading = format!("{} has been added", added.name);
    Ok(LinkPage::new(&admin, heading, added, link, &base).into_response())
}

async fn invalid_staff(
    app: &App,
    admin: &StaffMember,
    form: StaffForm,
    errors: Errors,
) -> Result<Response, PageError> {
    let page = NewStaffPage::new(app, admin, form, errors).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

/// The member of staff an admin page is about, whether active or not.
async fn member(app: &App, id: i64) -> Result<StaffMember, PageError> {
    app.list_staff()
        .await?
        .into_iter()
        .find(|m| m.id == id)
        .ok_or_else(|| no_such_member(AppError::StaffNotFound(id)))
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_deactivate.html")]
struct DeactivatePage {
    page: Chrome,
    errors: Vec<ErrorItem>,
    member: StaffMember,
}

async fn confirm_deactivate(
    State(app): State<App>,
    Admin(admin): Admin,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let member = member(&app, id).await?;
    let page = DeactivatePage {
        page: chrome(format!("Deactivate {}", member.name), &admin, false),
        errors: Vec::new(),
        member,
    };
    Ok(page.into_response())
}

async fn deactivate(
    State(app): State<App>,
    Admin(admin): Admin,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    match app.deactivate_staff(&admin.caller(), id).await {
        Ok(()) => Ok(Redirect::to(&format!("{HOME}?deactivated={id}")).into_response()),
        // Such as deactivating themselves.
        Err(AppError::Invalid(fields)) => {
            let member = member(&app, id).await?;
            let page = DeactivatePage {
                page: chrome(format!("Deactivate {}", member.name), &admin, true),
                errors: Errors::new(fields, |_| None).summary,
                member,
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(other) => Err(no_such_member(other)),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_password_link.html")]
struct PasswordLinkPage {
    page: Chrome,
    member: StaffMember,
}

async fn confirm_password_link(
    State(app): State<App>,
    Admin(admin): Admin,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let member = member(&app, id).await?;
    if !member.active {
        return Err(no_such_member(AppError::StaffNotFound(id)));
    }
    let page = PasswordLinkPage {
        page: chrome(
            format!("Make a new set-password link for {}", member.name),
            &admin,
            false,
        ),
        member,
    };
    Ok(page.into_response())
}

async fn password_link(
    State(app): State<App>,
    Admin(admin): Admin,
    Extension(base): Extension<BaseUrl>,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let link = app
        .create_set_password_link(&admin.caller(), id)
        .await
        .map_err(no_such_member)?;
    let member = member(&app, id).await?;
    let heading = format!("A new set-password link for {}", member.name);
    Ok(LinkPage::new(&admin, heading, member, link, &base).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_team_new.html")]
struct NewTeamPage {
    page: Chrome,
    errors: Errors,
    code: String,
    name: String,
}

async fn new_team(Admin(admin): Admin) -> Response {
    NewTeamPage {
        page: chrome("Add a team", &admin, false),
        errors: Errors::default(),
        code: String::new(),
        name: String::new(),
    }
    .into_response()
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TeamForm {
    code: String,
    name: String,
}

async fn add_team(
    State(app): State<App>,
    Admin(admin): Admin,
    Form(form): Form<TeamForm>,
) -> Result<Response, PageError> {
    match app
        .create_team(&admin.caller(), &form.code, &form.name)
        .await
    {
        Ok(team) => {
            let query = form_urlencoded::Serializer::new(String::new())
                .append_pair("team", &team.code)
                .finish();
            Ok(Redirect::to(&format!("{HOME}?{query}")).into_response())
        }
        Err(AppError::Invalid(fields)) => {
            let page = NewTeamPage {
                page: chrome("Add a team", &admin, true),
                errors: Errors::new(fields, |field| Some(format!("#{field}"))),
                code: form.code,
                name: form.name,
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(other) => Err(other.into()),
    }
}
