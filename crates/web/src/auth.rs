//! Who is signed in. The axum-login backend over the app's staff, the session layer that
//! carries a signed-in member of staff from request to request, the [`SignedIn`] extractor that
//! every staff page takes, and the role check for pages that need more than an agent.
//!
//! Only the staff routes sit inside these layers: the JSON API authenticates each request by
//! its bearer key and never sets a cookie.

use std::net::{IpAddr, SocketAddr};

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{ConnectInfo, FromRequestParts, OriginalUri};
use axum::http::request::Parts;
use axum::http::{HeaderName, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_login::tower_sessions::cookie::SameSite;
use axum_login::tower_sessions::{Expiry, SessionManagerLayer};
use axum_login::{AuthManagerLayer, AuthManagerLayerBuilder, AuthUser, AuthnBackend};
use casework_app::domain::service::Role;
use casework_app::{App, AppError, SignIn, StaffMember};
use time::OffsetDateTime;

use crate::WebConfig;
use crate::assets;
use crate::pages::{Chrome, Nav, is_admin};
use crate::sessions::DbSessions;

/// The session of the request, as axum-login gives it to handlers.
pub type AuthSession = axum_login::AuthSession<StaffBackend>;

/// Where a signed-out member of staff is sent.
pub const SIGN_IN_PATH: &str = "/staff/sign-in";
/// Where staff go once signed in, unless they were on their way somewhere else.
pub const HOME_PATH: &str = "/staff";

const COOKIE_NAME: &str = "casework_session";
/// Where a session notes when it was last used, to the [`ACTIVITY_TICK_SECONDS`].
const ACTIVE_KEY: &str = "casework.active";
const ACTIVITY_TICK_SECONDS: i64 = 300;

/// Signs staff in through the app, and finds them again for each request of their session.
#[derive(Clone)]
pub struct StaffBackend {
    app: App,
}

/// A member of staff as axum-login holds them in a session.
#[derive(Clone)]
pub struct StaffUser(pub StaffMember);

// axum-login logs the user it finds (at debug), so the name and email address stay out.
impl std::fmt::Debug for StaffUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaffUser")
            .field("id", &self.0.id)
            .field("role", &self.0.role)
            .finish_non_exhaustive()
    }
}

impl AuthUser for StaffUser {
    type Id = i64;

    fn id(&self) -> i64 {
        self.0.id
    }

    // axum-login ends a session whose hash no longer matches. Ours end in the store instead (a
    // new password or a deactivation deletes them, and a deactivated member of staff is not
    // found again), so the hash only ties a session to the address it signed in with.
    fn session_auth_hash(&self) -> &[u8] {
        self.0.email.as_bytes()
    }
}

pub struct Credentials {
    pub email: String,
    pub password: String,
    /// The client's address, for the limit on failed sign-ins from one place.
    pub client: Option<IpAddr>,
}

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Too many failed sign-ins lately: the password was not checked.
    #[error("too many failed sign-ins")]
    TooManyAttempts,
    #[error(transparent)]
    App(#[from] AppError),
}

impl AuthnBackend for StaffBackend {
    type User = StaffUser;
    type Credentials = Credentials;
    type Error = SignInError;

    async fn authenticate(
        &self,
        credentials: Credentials,
    ) -> Result<Option<StaffUser>, SignInError> {
        let Credentials {
            email,
            password,
            client,
        } = credentials;
        match self.app.authenticate(&email, &password, client).await? {
            SignIn::Staff(member) => Ok(Some(StaffUser(member))),
            SignIn::Refused => Ok(None),
            SignIn::TooManyAttempts => Err(SignInError::TooManyAttempts),
        }
    }

    async fn get_user(&self, id: &i64) -> Result<Option<StaffUser>, SignInError> {
        Ok(self.app.active_staff_member(*id).await?.map(StaffUser))
    }
}

/// Sessions in the database, and the signed-in member of staff in each request. The cookie is
/// `HttpOnly`, `SameSite=Lax` (a link from an email still arrives signed in, a cross-site form
/// does not), `Secure` when configured for https, sent only to `/staff`, and the session ends
/// after `config.session_idle` without a request.
pub(crate) fn layer(app: &App, config: &WebConfig) -> AuthManagerLayer<StaffBackend, DbSessions> {
    let sessions = SessionManagerLayer::new(DbSessions::new(app.clone()))
        .with_name(COOKIE_NAME)
        .with_path(HOME_PATH)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.secure_cookies)
        .with_expiry(Expiry::OnInactivity(config.session_idle));
    AuthManagerLayerBuilder::new(StaffBackend { app: app.clone() }, sessions).build()
}

/// The signed-in member of staff. A staff page that takes this is never reached signed out:
/// a signed-out request is sent to sign in, and back to the page afterwards.
#[derive(Debug, Clone)]
pub struct SignedIn(pub StaffMember);

impl<S: Send + Sync> FromRequestParts<S> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Response> {
        let Some(auth) = parts.extensions.get::<AuthSession>() else {
            tracing::error!(
                path = parts.uri.path(),
                "a staff page is outside the session layer"
            );
            return Err(StatusCode::INTERNAL_SERVER_ERROR.into_response());
        };
        if let Some(user) = &auth.user {
            note_activity(auth).await?;
            return Ok(Self(user.0.clone()));
        }
        // Only a page can be come back to: after a form's POST, the user starts again from the
        // page the form was on, not from a GET of the form's action.
        let uri = parts
            .extensions
            .get::<OriginalUri>()
            .map_or(&parts.uri, |original| &original.0);
        let next = match parts.method {
            Method::GET => uri.path_and_query().map(|p| p.as_str()),
            _ => None,
        };
        Err(Redirect::to(&sign_in_url(next)).into_response())
    }
}

/// Keeps a working member of staff signed in. A session's expiry moves on only when the session
/// is saved, and it is saved only when it changes: noting the time to the five minutes changes
/// it at most every five minutes, so the session ends `session_idle` after the last request
/// (give or take five minutes) for one write in five minutes rather than one a request.
async fn note_activity(auth: &AuthSession) -> Result<(), Response> {
    let tick = OffsetDateTime::now_utc().unix_timestamp() / ACTIVITY_TICK_SECONDS;
    let noted = auth.session.get::<i64>(ACTIVE_KEY).await;
    let refreshed = match noted {
        Ok(Some(noted)) if noted == tick => Ok(()),
        _ => auth.session.insert(ACTIVE_KEY, tick).await,
    };
    refreshed.map_err(|error| {
        tracing::error!(%error, "the session could not be read or changed");
        StatusCode::INTERNAL_SERVER_ERROR.into_response()
    })
}

impl SignedIn {
    /// Refuses a member of staff whose role is below `role` (agent, then lead, then admin) with
    /// the 403 page.
    pub fn require_role(&self, role: Role) -> Result<(), Forbidden> {
        match self.0.role >= role {
            true => Ok(()),
            false => Err(Forbidden {
                member: Some(self.0.clone()),
                needed: Some(role),
            }),
        }
    }
}

/// `/staff/sign-in`, with the page to come back to if there is a local one.
pub fn sign_in_url(next: Option<&str>) -> String {
    match next.and_then(local_path) {
        Some(next) => {
            let query = form_urlencoded::Serializer::new(String::new())
                .append_pair("next", next)
                .finish();
            format!("{SIGN_IN_PATH}?{query}")
        }
        None => SIGN_IN_PATH.to_owned(),
    }
}

/// `next` if it is a path on this site, so that a link to sign in can never send anyone to
/// another site afterwards (`//evil.example`, `/\evil.example` and `https://…` are not).
pub fn local_path(next: &str) -> Option<&str> {
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control);
    local.then_some(next)
}

/// The 403 page: signed in, but not allowed this (a role below the one needed), or a form
/// posted from another site.
#[derive(Debug)]
pub struct Forbidden {
    member: Option<StaffMember>,
    needed: Option<Role>,
}

impl Forbidden {
    /// A form posted from another site, refused by the CSRF check.
    pub(crate) fn cross_site() -> Self {
        Self {
            member: None,
            needed: None,
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
struct ForbiddenPage {
    page: Chrome,
    heading: &'static str,
    message: String,
}

impl IntoResponse for Forbidden {
    fn into_response(self) -> Response {
        let message = match self.needed {
            Some(role) => {
                format!("You need the {role} role to see this page. Ask an admin if you need it.")
            }
            None => "The form was sent from another website, so it was not used. Go back to \
                     Casework and send it again."
                .to_owned(),
        };
        let heading = "You cannot do this";
        let page = ForbiddenPage {
            page: Chrome {
                title: heading.to_owned(),
                admin: is_admin(self.member.as_ref()),
                current: Nav::Worktray,
                user: self.member.map(|m| m.name),
                has_errors: false,
                wide: false,
                assets: assets::PREFIX,
            },
            heading,
            message,
        };
        (StatusCode::FORBIDDEN, page).into_response()
    }
}

/// The client's address, for the limit on failed sign-ins: from the header that
/// `CASEWORK_CLIENT_IP_HEADER` names (the last address in it, the one our own proxy added)
/// when Casework runs behind a proxy, otherwise from the connection.
pub struct ClientIp(pub Option<IpAddr>);

/// The header a trusted proxy puts the client's address in, if there is such a proxy.
#[derive(Debug, Clone)]
pub(crate) struct ClientIpHeader(pub Option<HeaderName>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let header = parts
            .extensions
            .get::<ClientIpHeader>()
            .and_then(|h| h.0.as_ref());
        let ip = match header {
            Some(name) => parts
                .headers
                .get_all(name)
                .iter()
                .filter_map(|value| value.to_str().ok())
                .flat_map(|value| value.split(','))
                .next_back()
                .and_then(|last| last.trim().parse().ok()),
            None => parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(address)| address.ip()),
        };
        Ok(Self(ip))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(role: Role) -> SignedIn {
        SignedIn(StaffMember {
            id: 1,
            email: "jo@example.com".into(),
            name: "Jo".into(),
            role,
            teams: vec!["waste".into()],
            active: true,
        })
    }

    #[test]
    fn roles_go_agent_then_lead_then_admin() {
        let allowed = |who: Role, needed: Role| member(who).require_role(needed).is_ok();
        assert!(allowed(Role::Agent, Role::Agent));
        assert!(!allowed(Role::Agent, Role::Lead));
        assert!(!allowed(Role::Agent, Role::Admin));
        assert!(allowed(Role::Lead, Role::Agent));
        assert!(allowed(Role::Lead, Role::Lead));
        assert!(!allowed(Role::Lead, Role::Admin));
        assert!(allowed(Role::Admin, Role::Lead));
        assert!(allowed(Role::Admin, Role::Admin));
    }

    #[test]
    fn a_wrong_role_gets_the_403_page() {
        let refused = member(Role::Agent).require_role(Role::Admin).unwrap_err();
        assert_eq!(refused.into_response().status(), StatusCode::FORBIDDEN);
    }

    #[test]
    fn only_local_paths_are_come_back_to() {
        assert_eq!(
            local_path("/staff/cases/CW-000001?tab=notes"),
            Some("/staff/cases/CW-000001?tab=notes")
        );
        for foreign in [
            "//evil.example/x",
            "/\\evil.example",
            "https://evil.example/",
            "evil",
            "",
            "/staff\n",
        ] {
            assert_eq!(local_path(foreign), None, "{foreign:?}");
        }
        assert_eq!(
            sign_in_url(Some("/staff?q=a b&sort=due")),
            "/staff/sign-in?next=%2Fstaff%3Fq%3Da+b%26sort%3Ddue"
        );
        assert_eq!(sign_in_url(Some("//evil.example")), "/staff/sign-in");
        assert_eq!(sign_in_url(None), "/staff/sign-in");
    }
}
