//! Starts the real server on a random port against a fresh database, and a browser-like client
//! that keeps the session cookie and does not follow redirects, so that tests see each answer.

use casework_app::domain::service::Role;
use casework_app::{App, Features, NewStaffMember, StaffMember};
use casework_web::WebConfig;
use casework_web::testing::{self, TestDatabase, system as operator};
use reqwest::header::{CONTENT_TYPE, COOKIE, HeaderMap, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use reqwest::{Client, RequestBuilder, Response};

pub const PASSWORD: &str = "correct horse battery";
pub const COOKIE_NAME: &str = "casework_session";

pub struct TestApp {
    pub address: String,
    pub app: App,
    client: Client,
    _database: TestDatabase,
}

pub async fn spawn_app(database: TestDatabase) -> TestApp {
    spawn_app_with(database, &WebConfig::default()).await
}

pub async fn spawn_app_with(database: TestDatabase, config: &WebConfig) -> TestApp {
    let app = testing::app(&database, Features::default()).await;
    // As `casework serve` does: the connection's address limits failed sign-ins.
    let address =
        testing::serve_with_client_addresses(casework_web::router_with(app.clone(), config)).await;
    TestApp {
        address,
        app,
        client: Client::builder().redirect(Policy::none()).build().unwrap(),
        _database: database,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Adds a member of staff whose password is [`PASSWORD`].
    pub async fn staff(&self, email: &str, role: Role) -> StaffMember {
        let new = NewStaffMember {
            email: email.into(),
            name: "Jo Bloggs".into(),
            role,
            teams: vec!["waste".into()],
            password: Some(PASSWORD.into()),
        };
        self.app
            .add_staff(&operator(), new)
            .await
            .expect("staff added")
    }

    pub async fn deactivate(&self, member: &StaffMember) {
        self.app
            .deactivate_staff(&operator(), member.id)
            .await
            .expect("deactivated");
    }

    pub async fn set_password_link(&self, member: &StaffMember) -> String {
        self.app
            .create_set_password_link(&operator(), member.id)
            .await
            .expect("a link")
            .token
    }

    /// A GET, sending `cookie` as the session cookie if given.
    pub fn get(&self, path: &str, cookie: Option<&str>) -> RequestBuilder {
        with_cookie(self.client.get(self.url(path)), cookie)
    }

    /// A form POST, sending `cookie` as the session cookie if given.
    pub fn post(&self, path: &str, form: &[(&str, &str)], cookie: Option<&str>) -> RequestBuilder {
        let body = serde_urlencoded::to_string(form).unwrap();
        with_cookie(self.client.post(self.url(path)), cookie)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
    }

    pub async fn sign_in_as(&self, email: &str, password: &str) -> Response {
        self.post(
            "/staff/sign-in",
            &[("email", email), ("password", password), ("next", "")],
            None,
        )
        .send()
        .await
        .unwrap()
    }

    /// Signs in and returns the session cookie's value.
    pub async fn signed_in(&self, email: &str) -> String {
        let response = self.sign_in_as(email, PASSWORD).await;
        assert_eq!(response.status(), 303, "signing in as {email}");
        session_cookie(response.headers()).expect("a session cookie")
    }
}

fn with_cookie(request: RequestBuilder, cookie: Option<&str>) -> RequestBuilder {
    match cookie {
        Some(value) => request.header(COOKIE, format!("{COOKIE_NAME}={value}")),
        None => request,
    }
}

/// The whole `Set-Cookie` line for the session cookie, if the response sets it.
pub fn session_set_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{COOKIE_NAME}=")))
        .map(str::to_owned)
}

/// The session cookie's value, if the response sets one (and does not remove it).
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    let line = session_set_cookie(headers)?;
    let value = line[COOKIE_NAME.len() + 1..].split(';').next()?.to_owned();
    (!value.is_empty() && !line.contains("Max-Age=0")).then_some(value)
}

pub fn location(response: &Response) -> &str {
    response.headers()[LOCATION].to_str().unwrap()
}

/// The status and HTML of a response.
pub async fn page(response: Response) -> (u16, String) {
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}
