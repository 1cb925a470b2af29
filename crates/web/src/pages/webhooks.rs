//! The admin pages for outbound webhooks: the endpoints other systems listen on, adding one
//! (its signing secret is shown once, on the page after), stopping, starting and removing one,
//! and an endpoint's recent deliveries, each of which can be sent again. Only admins see them.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use casework_app::domain::webhook::{SIGNATURE_HEADER, WebhookEvent};
use casework_app::store::{DeliveryStatus, WebhookDelivery, WebhookEndpoint};
use casework_app::{App, AppError, NewWebhookRequest, StaffMember};
use serde::Deserialize;

use super::admin::{Admin, Errors, chrome};
use super::{Chrome, PageError, format};

const LIST: &str = "/staff/admin/webhooks";

pub(crate) fn router() -> Router<App> {
    Router::new()
        .route(LIST, get(list))
        .route("/staff/admin/webhooks/new", get(new_form).post(add))
        .route("/staff/admin/webhooks/{id}", get(show))
        .route("/staff/admin/webhooks/{id}/enabled", post(set_enabled))
        .route(
            "/staff/admin/webhooks/{id}/remove",
            get(confirm_remove).post(remove),
        )
        .route(
            "/staff/admin/webhooks/{id}/deliveries/{delivery}/resend",
            post(resend),
        )
}

/// An endpoint the app has no record of, as a page says it.
fn no_such_endpoint(error: AppError) -> PageError {
    match error {
        AppError::WebhookNotFound(_) => {
            PageError::NotFound("There is no such webhook endpoint.".to_owned())
        }
        other => other.into(),
    }
}

/// An endpoint as a list shows it.
struct EndpointView {
    endpoint: WebhookEndpoint,
    service: String,
    events: Vec<&'static str>,
}

impl EndpointView {
    fn new(app: &App, endpoint: WebhookEndpoint) -> Self {
        let service = match &endpoint.service {
            Some(code) => app
                .services()
                .get(code)
                .map_or_else(|| code.clone(), |s| s.name.clone()),
            None => "All services".to_owned(),
        };
        let events = endpoint.events.iter().map(|e| e.label()).collect();
        Self {
            endpoint,
            service,
            events,
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_webhooks.html")]
struct ListPage {
    page: Chrome,
    banner: Option<String>,
    endpoints: Vec<EndpointView>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Done {
    /// Set by the redirect after removing an endpoint.
    removed: bool,
}

async fn list(
    State(app): State<App>,
    Admin(admin): Admin,
    Query(done): Query<Done>,
) -> Result<Response, PageError> {
    let endpoints = app.webhooks(&admin.caller()).await?;
    Ok(ListPage {
        page: chrome("Webhooks", &admin, false),
        banner: done
            .removed
            .then(|| "The webhook endpoint has been removed".to_owned()),
        endpoints: endpoints
            .into_iter()
            .map(|e| EndpointView::new(&app, e))
            .collect(),
    }
    .into_response())
}

/// One choice of a select or checkboxes.
struct Choice {
    value: String,
    label: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_webhook_new.html")]
struct NewPage {
    page: Chrome,
    errors: Errors,
    form: WebhookForm,
    services: Vec<Choice>,
    events: Vec<Choice>,
}

/// The add-endpoint form as typed, to show again with its errors.
#[derive(Debug, Default)]
struct WebhookForm {
    url: String,
    description: String,
    service: String,
    events: Vec<String>,
    allow_private: bool,
}

impl WebhookForm {
    /// The fields as posted; `events` repeats, one for each box ticked.
    fn parse(fields: Vec<(String, String)>) -> Self {
        let mut form = Self::default();
        for (name, value) in fields {
            match name.as_str() {
                "url" => form.url = value,
                "description" => form.description = value,
                "service" => form.service = value,
                "events" => form.events.push(value),
                "allow_private" => form.allow_private = value == "yes",
                _ => {}
            }
        }
        form
    }

    fn has_event(&self, value: &str) -> bool {
        self.events.iter().any(|e| e == value)
    }
}

impl NewPage {
    fn new(app: &App, admin: &StaffMember, form: WebhookForm, errors: Errors) -> Self {
        let services = app
            .services()
            .iter()
            .map(|s| Choice {
                value: s.code.clone(),
                label: s.name.clone(),
            })
            .collect();
        let events = WebhookEvent::ALL
            .into_iter()
            .map(|e| Choice {
                value: e.as_str().to_owned(),
                label: e.label().to_owned(),
            })
            .collect();
        Self {
            page: chrome("Add a webhook endpoint", admin, !errors.summary.is_empty()),
            errors,
            form,
            services,
            events,
        }
    }

    /// An event's checkbox's id; the first is the field's, where the error summary links.
    fn event_id(&self, choice: &Choice, first: &bool) -> String {
        match first {
            true => "events".to_owned(),
            false => format!("events-{}", choice.value.replace('.', "-")),
        }
    }
}

async fn new_form(State(app): State<App>, Admin(admin): Admin) -> Response {
    NewPage::new(&app, &admin, WebhookForm::default(), Errors::default()).into_response()
}

/// The page after adding an endpoint, with its secret: shown this once.
#[derive(Template, WebTemplate)]
#[template(path = "admin_webhook_secret.html")]
struct SecretPage {
    page: Chrome,
    endpoint: WebhookEndpoint,
    secret: String,
    header: &'static str,
}

async fn add(
    State(app): State<App>,
    Admin(admin): Admin,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let form = WebhookForm::parse(fields);
    let request = NewWebhookRequest {
        url: form.url.clone(),
        description: form.description.clone(),
        service: Some(form.service.clone()).filter(|s| !s.is_empty()),
        events: form.events.clone(),
        allow_private: form.allow_private,
    };
    match app.add_webhook(&admin.caller(), request).await {
        Ok(added) => Ok(SecretPage {
            page: chrome("Webhook endpoint added", &admin, false),
            endpoint: added.endpoint,
            secret: added.secret,
            header: SIGNATURE_HEADER,
        }
        .into_response()),
        Err(AppError::Invalid(fields)) => {
            let errors = Errors::new(fields, |field| Some(format!("#{field}")));
            let page = NewPage::new(&app, &admin, form, errors);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

/// A delivery as the endpoint's page lists it.
struct DeliveryView {
    delivery: WebhookDelivery,
    event: &'static str,
    status: &'static str,
    tag: &'static str,
    /// The last answer or error, for people.
    outcome: String,
    time: String,
}

impl DeliveryView {
    fn new(delivery: WebhookDelivery) -> Self {
        let (status, tag) = match delivery.status {
            DeliveryStatus::Pending if delivery.attempts > 0 => ("Retrying", "govuk-tag--yellow"),
            DeliveryStatus::Pending => ("Waiting", "govuk-tag--grey"),
            DeliveryStatus::Delivered => ("Delivered", "govuk-tag--green"),
            DeliveryStatus::Failed => ("Failed", "govuk-tag--red"),
        };
        let outcome = match (&delivery.last_status, &delivery.last_error) {
            (_, Some(error)) => error.clone(),
            (Some(code), None) => format!("Answered {code}"),
            (None, None) => "Not tried yet".to_owned(),
        };
        let time = format::date_time(delivery.last_attempt_at.unwrap_or(delivery.created_at));
        Self {
            event: delivery.event.label(),
            status,
            tag,
            outcome,
            time,
            delivery,
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_webhook.html")]
struct ShowPage {
    page: Chrome,
    banner: Option<String>,
    endpoint: EndpointView,
    deliveries: Vec<DeliveryView>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Changed {
    /// Set by the redirects after a change: what was done.
    done: Option<String>,
}

async fn show(
    State(app): State<App>,
    Admin(admin): Admin,
    Path(id): Path<i64>,
    Query(changed): Query<Changed>,
) -> Result<Response, PageError> {
    let (endpoint, deliveries) = app
        .webhook(&admin.caller(), id)
        .await
        .map_err(no_such_endpoint)?;
    let banner = match changed.done.as_deref() {
        Some("enabled") => Some("Deliveries to this endpoint have started again"),
        Some("disabled") => Some("Deliveries to this endpoint have stopped"),
        Some("resent") => Some("The delivery will be sent again shortly"),
        _ => None,
    };
    Ok(ShowPage {
        page: chrome(format!("Webhook endpoint {}", endpoint.url), &admin, false),
        banner: banner.map(str::to_owned),
        endpoint: EndpointView::new(&app, endpoint),
        deliveries: deliveries.into_iter().map(DeliveryView::new).collect(),
    }
    .into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct EnabledForm {
    enabled: bool,
}

async fn set_enabled(
    State(app): State<App>,
    Admin(admin): Admin,
    Path(id): Path<i64>,
    Form(form): Form<EnabledForm>,
) -> Result<Response, PageError> {
    app.enable_webhook(&admin.caller(), id, form.enabled)
        .await
        .map_err(no_such_endpoint)?;
    let done = if form.enabled { "enabled" } else { "disabled" };
    Ok(Redirect::to(&format!("{LIST}/{id}?done={done}")).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_webhook_remove.html")]
struct RemovePage {
    page: Chrome,
    endpoint: WebhookEndpoint,
}

async fn confirm_remove(
    State(app): State<App>,
    Admin(admin): Admin,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let (endpoint, _) = app
        .webhook(&admin.caller(), id)
        .await
        .map_err(no_such_endpoint)?;
    Ok(RemovePage {
        page: chrome("Remove a webhook endpoint", &admin, false),
        endpoint,
    }
    .into_response())
}

async fn remove(
    State(app): State<App>,
    Admin(admin): Admin,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    app.remove_webhook(&admin.caller(), id)
        .await
        .map_err(no_such_endpoint)?;
    Ok(Redirect::to(&format!("{LIST}?removed=true")).into_response())
}

async fn resend(
    State(app): State<App>,
    Admin(admin): Admin,
    Path((id, delivery)): Path<(i64, i64)>,
) -> Result<Response, PageError> {
    app.resend_webhook(&admin.caller(), id, delivery)
        .await
        .map_err(no_such_endpoint)?;
    Ok(Redirect::to(&format!("{LIST}/{id}?done=resent")).into_response())
}
