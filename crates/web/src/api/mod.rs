//! The JSON API under `/api/v1`, for other council systems. Every route is described in the
//! OpenAPI document served at `/api/v1/openapi.json`, which is built from the handlers
//! themselves so that it cannot drift from what they do.

mod cases;
mod extract;
mod messages;
pub(crate) mod model;
mod plan;
mod services;
mod webhooks;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::routing::get;
use axum::{Json, Router};
use casework_app::{App, Caller, Feature, Features, KeyCheck};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Casework API",
        description = "Report, find and work a council's service requests (cases). \
            Authenticate with an API key: `Authorization: Bearer KEY`. \
            Errors are JSON: `{\"error\": {\"code\", \"message\", \"fields\": [{\"field\", \"message\"}]}}`.",
    ),
    servers((url = "/api/v1")),
    modifiers(&BearerKey),
    security(("api_key" = [])),
    tags(
        (name = "services", description = "The services a council offers, from their definition files"),
        (name = "cases", description = "Service requests: report, list, read, change, move through the workflow"),
        (name = "messages", description = "A case's conversation with the resident, by email, text message and the plan page"),
        (name = "plan", description = "A case's shared plan: its goal, what the resident and the council each need to do, \
            and the links that let the resident open it without an account"),
        (name = "webhooks", description = "Endpoints that other systems listen on for case events, signed \
            with HMAC-SHA256 (admin keys only)"),
    )
)]
struct ApiDoc;

struct BearerKey;

impl Modify for BearerKey {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

fn api_routes(features: &Features) -> OpenApiRouter<App> {
    let routes = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(services::list_services))
        .routes(routes!(services::show_service))
        .routes(routes!(cases::create_case, cases::list_cases))
        .routes(routes!(cases::show_case, cases::change_case))
        .routes(routes!(cases::transition_case))
        .routes(routes!(cases::assign_case))
        .routes(routes!(cases::add_note))
        .routes(routes!(cases::list_events))
        .routes(routes!(webhooks::list_webhooks, webhooks::add_webhook))
        .routes(routes!(webhooks::show_webhook, webhooks::remove_webhook))
        .routes(routes!(webhooks::resend_delivery));
    let routes = if features.is_on(Feature::Messaging) {
        routes.routes(routes!(messages::list_messages, messages::send_message))
    } else {
        routes
    };
    if !features.is_on(Feature::Plan) {
        return routes;
    }
    routes
        .routes(routes!(plan::show_plan))
        .routes(routes!(plan::set_goal))
        .routes(routes!(plan::add_action))
        .routes(routes!(
            plan::show_action,
            plan::change_action,
            plan::remove_action
        ))
        .routes(routes!(plan::complete_action))
        .routes(routes!(plan::reopen_action))
        .routes(routes!(plan::share_plan, plan::list_links))
        .routes(routes!(plan::revoke_link))
}

/// The OpenAPI document for the API with every element switched on, as served by default.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api_routes(&Features::default()).into_openapi()
}

/// The API for the elements switched on: an element that is off is neither served nor
/// described.
pub(crate) fn router(features: &Features) -> Router<App> {
    let (routes, doc) = api_routes(features).split_for_parts();
    let doc = Json(doc);
    Router::new().nest(
        "/api/v1",
        routes
            .route("/openapi.json", get(move || async move { doc.clone() }))
            .fallback(|| async { ApiError::not_found("There is no such API endpoint") }),
    )
}

/// An authenticated API client: the bearer key must be known and not revoked.
pub(crate) struct ApiCaller(pub Caller);

impl FromRequestParts<App> for ApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let secret = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .ok_or_else(ApiError::unauthorized)?;
        match app.authenticate_api_key(secret.trim()).await? {
            KeyCheck::Allowed(caller) => Ok(Self(caller)),
            KeyCheck::Unknown => {
                tracing::info!("refused an unknown or revoked API key");
                Err(ApiError::unauthorized())
            }
            KeyCheck::OutOfScope => Err(ApiError::out_of_scope()),
        }
    }
}
