use axum::Json;
use axum::extract::{Path, State};
use casework_app::App;

use super::ApiCaller;
use super::model::{ServiceDefinition, ServiceList, ServiceSummary};
use crate::error::{ApiError, ErrorBody};

/// The services a council offers.
#[utoipa::path(get, path = "/services", tag = "services",
    responses(
        (status = 200, body = ServiceList),
        (status = 401, body = ErrorBody),
    ))]
pub(super) async fn list_services(_: ApiCaller, State(app): State<App>) -> Json<ServiceList> {
    Json(ServiceList {
        services: app.services().iter().map(ServiceSummary::from).collect(),
    })
}

/// One service's definition: its fields, workflow and priorities.
#[utoipa::path(get, path = "/services/{code}", tag = "services",
    params(("code" = String, Path, description = "The service's code")),
    responses(
        (status = 200, body = ServiceDefinition),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub(super) async fn show_service(
    _: ApiCaller,
    State(app): State<App>,
    Path(code): Path<String>,
) -> Result<Json<ServiceDefinition>, ApiError> {
    app.services()
        .get(&code)
        .map(|service| Json(ServiceDefinition::from(service)))
        .ok_or_else(|| ApiError::not_found(format!("There is no service \"{code}\"")))
}
