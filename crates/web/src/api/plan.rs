use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use casework_app::domain::plan::{ActionId, Plan, PlanError};
use casework_app::{App, AppError};

use super::ApiCaller;
use super::extract::{ApiJson, ApiQuery, path_id, plan_version, reference};
use super::model::{
    ActionBody, ActionChangeBody, GoalBody, LinkBody, LinkList, NewActionBody, NewLinkBody,
    PlanBody, VersionParams,
};
use crate::BaseUrl;
use crate::error::{ApiError, ErrorBody};

/// The plan's version as an ETag, as a case's is: the two are separate, so that a resident
/// ticking an action does not make a change to the case stale.
fn etag(plan: &Plan) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{}\"", plan.version))
        .expect("a number is a valid header value")
}

fn plan_response(status: StatusCode, plan: Plan) -> Response {
    (
        status,
        [(header::ETAG, etag(&plan))],
        Json(PlanBody::from(plan)),
    )
        .into_response()
}

fn action_id(raw: &str) -> Result<ActionId, ApiError> {
    path_id(raw, "an action id (a UUID)")
}

fn unknown_action() -> ApiError {
    AppError::Plan(PlanError::UnknownAction).into()
}

/// A case's shared plan.
#[utoipa::path(get, path = "/cases/{reference}/plan", tag = "plan",
    params(("reference" = String, Path, description = "The case's reference, such as CW-000123")),
    responses(
        (status = 200, body = PlanBody, headers(("ETag" = String, description = "The plan's version"))),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub(super) async fn show_plan(
    ApiCaller(caller): ApiCaller,
    State(app): State<App>,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let (_, plan) = app.plan(&caller, reference(&raw)?).await?;
    Ok(plan_response(StatusCode::OK, plan))
}

/// Sets or clears the plan's goal.
#[utoipa::path(put, path = "/cases/{reference}/plan/goal", tag = "plan",
    request_body = GoalBody,
    params(
        ("reference" = String, Path, description = "The case's reference"),
        ("If-Match" = Option<String>, Header, description = "The plan's ETag, instead of `version` in the body"),
    ),
    responses(
        (status = 200, body = PlanBody, headers(("ETag" = String))),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "The plan changed since that version (`current_plan` holds it as it is now), or the case is closed", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub(super) async fn set_goal(
    ApiCaller(caller): ApiCaller,
    State(app): State<App>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    ApiJson { value, .. }: ApiJson<GoalBody>,
) -> Result<Response, ApiError> {
    let version = plan_version(value.version, &headers)?;
    let plan = app
        .set_plan_goal(&caller, reference(&raw)?, version, value.goal.as_deref())
        .await?;
    Ok(plan_response(StatusCode::OK, plan))
}

/// Adds an action at the end of the plan.
#[utoipa::path(post, path = "/cases/{reference}/plan/actions", tag = "plan",
    request_body = NewActionBody,
    params(
        ("reference" = String, Path, description = "The case's reference"),
        ("If-Match" = Option<String>, Header, description = "The plan's ETag, instead of `version` in the body"),
    ),
    responses(
        (status = 201, description = "The action was added", body = PlanBody,
            headers(("Location" = String, description = "The new action's URL"), ("ETag" = String))),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "The plan changed since that version (`current_plan` holds it as it is now), or the case is closed", body = ErrorBody),
        (status = 422, description = "Missing or wrong fields, or a plan that already has 50 actions", body = ErrorBody),
    ))]
pub(super) async fn add_action(
    ApiCaller(caller): ApiCaller,
    State(app): State<App>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    ApiJson { value, .. }: ApiJson<NewActionBody>,
) -> Result<Response, ApiError> {
    let version = plan_version(value.version, &headers)?;
    let reference = reference(&raw)?;
    let (plan, id) = app
        .add_plan_action(&caller, reference, version, value.into())
        .await?;
    let location = HeaderValue::from_str(&format!("/api/v1/cases/{reference}/plan/actions/{id}"))
        .expect("a reference and a UUID are a valid header value");
    let mut response = plan_response(StatusCode::CREATED, plan);
    response.headers_mut().insert(header::LOCATION, location);
    Ok(response)
}

/// One action on the plan.
#[utoipa::path(get, path = "/cases/{reference}/plan/actions/{id}", tag = "plan",
    params(
        ("reference" = String, Path, description = "The case's reference"),
        ("id" = String, Path, format = Uuid, description = "The action's id"),
    ),
    responses(
        (status = 200, body = ActionBody, headers(("ETag" = String, description = "The plan's version"))),
        (status = 400, description = "An id that is not a UUID", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub(super) async fn show_action(
    ApiCaller(caller): ApiCaller,
    State(app): State<App>,
    Path((raw, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let id = action_id(&id)?;
    let (_, plan) = app.plan(&caller, reference(&raw)?).await?;
    let version = etag(&plan);
    let action = plan
        .actions
        .into_iter()
        .find(|a| a.id == id)
        .ok_or_else(unknown_action)?;
    Ok(([(header::ETAG, version)], Json(ActionBody::from(action))).into_response())
}

/// Changes an action, or moves it. Fields left out keep their value.
#[utoipa::path(patch, path = "/cases/{reference}/plan/actions/{id}", tag = "plan",
    request_body = ActionChangeBody,
    params(
        ("reference" = String, Path, description = "The case's reference"),
        ("id" = String, Path, format = Uuid, description = "The action's id"),
        ("If-Match" = Option<String>, Header, description = "The plan's ETag, instead of `version` in the body"),
    ),
    responses(
        (status = 200, body = PlanBody, headers(("ETag" = String))),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "The plan changed since that version (`current_plan` holds it as it is now), or the case is closed", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub(super) async fn change_action(
    ApiCaller(caller): ApiCaller,
    State(app): State<App>,
    Path((raw, id)): Path<(String, String)>,
    headers: HeaderMap,
    ApiJson { value, .. }: ApiJson<ActionChangeBody>,
) -> Result<Response, ApiError> {
    let id = action_id(&id)?;
    let reference = reference(&raw)?;
    let version = plan_version(value.version, &headers)?;
    let to = value.index()?;
    // A PATCH names only what changes; the rest is read from the plan, and the version check
    // makes sure that it is the plan the client saw.
    let (_, current) = app.plan(&caller, reference).await?;
    let action = current.action(id).ok_or_else(unknown_action)?;
    let mut plan = app
        .change_plan_action(&caller, reference, version, id, value.draft(action))
        .await?;
    if let Some(to) = to {
        // Against the version the change just made, so that one request does not conflict
        // with itself.
        plan = app
            .move_plan_action(&caller, reference, plan.version, id, to)
            .await?;
    }
    Ok(plan_response(StatusCode::OK, plan))
}

/// Removes an action from the plan.
#[utoipa::path(delete, path = "/cases/{reference}/plan/actions/{id}", tag = "plan",
    params(
        ("reference" = String, Path, description = "The case's reference"),
        ("id" = String, Path, format = Uuid, description = "The action's id"),
        VersionParams,
        ("If-Match" = Option<String>, Header, description = "The plan's ETag, instead of `version`"),
    ),
    responses(
        (status = 200, description = "The plan without the action", body = PlanBody, headers(("ETag" = String))),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "The plan changed since that version (`current_plan` holds it as it is now), or the case is closed", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub(super) async fn remove_action(
    ApiCaller(caller): ApiCaller,
    State(app): State<App>,
    Path((raw, id)): Path<(String, String)>,
    headers: HeaderMap,
    ApiQuery(params): ApiQuery<VersionParams>,
) -> Result<Response, ApiError> {
    let id = action_id(&id)?;
    let version = plan_version(params.version, &headers)?;
    let plan = app
        .remove_plan_action(&caller, reference(&raw)?, version, id)
        .await?;
    Ok(plan_response(StatusCode::OK, plan))
}

/// Ticks an action off for the council. Needs no version: ticking a done action again
/// changes nothing.
#[utoipa::path(post, path = "/cases/{reference}/plan/actions/{id}/complete", tag = "plan",
    params(
        ("reference" = String, Path, description = "The case's reference"),
        ("id" = String, Path, format = Uuid, description = "The action's id"),
    ),
    responses(
        (status = 200, body = PlanBody, headers(("ETag" = String))),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "The case is closed", body = ErrorBody),
    ))]
pub(super) async fn complete_action(
    ApiCaller(caller): ApiCaller,
    State(app): State<App>,
    Path((raw, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let id = action_id(&id)?;
    let plan = app
        .complete_plan_action(&caller, reference(&raw)?, id)
        .await?;
    Ok(plan_response(StatusCode::OK, plan))
}

/// Undoes a tick. Needs no version: reopening an action not done changes nothing.
#[utoipa::path(post, path = "/cases/{reference}/plan/actions/{id}/reopen", tag = "plan",
    params(
        ("reference" = String, Path, description = "The case's reference"),
        ("id" = String, Path, format = Uuid, description = "The action's id"),
    ),
    responses(
        (status = 200, body = PlanBody, headers(("ETag" = String))),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "The case is closed", body = ErrorBody),
    ))]
pub(super) async fn reopen_action(
    ApiCaller(caller): ApiCaller,
    State(app): State<App>,
    Path((raw, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let id = action_id(&id)?;
    let plan = app
        .reopen_plan_action(&caller, reference(&raw)?, id)
        .await?;
    Ok(plan_response(StatusCode::OK, plan))
}

/// Makes a new link for the resident to open the plan with. Earlier links keep working until
/// they expire or are revoked.
#[utoipa::path(post, path = "/cases/{reference}/plan/links", tag = "plan",
    params(("reference" = String, Path, description = "The case's reference")),
    responses(
        (status = 201, description = "The link; its token is shown only this once", body = NewLinkBody),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "The case is closed", body = ErrorBody),
    ))]
pub(super) async fn share_plan(
    ApiCaller(caller): ApiCaller,
    State(app): State<App>,
    Extension(BaseUrl(base)): Extension<BaseUrl>,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let shared = app.share_plan(&caller, reference(&raw)?).await?;
    let body = NewLinkBody {
        id: shared.link.id,
        url: format!("{base}/plan/{}", shared.token),
        token: shared.token,
        expires_at: shared.link.expires_at,
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// The case's links to its plan, newest first, without their tokens.
#[utoipa::path(get, path = "/cases/{reference}/plan/links", tag = "plan",
    params(("reference" = String, Path, description = "The case's reference")),
    responses(
        (status = 200, body = LinkList),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub(super) async fn list_links(
    ApiCaller(caller): ApiCaller,
    State(app): State<App>,
    Path(raw): Path<String>,
) -> Result<Json<LinkList>, ApiError> {
    let links = app.access_links(&caller, reference(&raw)?).await?;
    Ok(Json(LinkList {
        links: links.into_iter().map(LinkBody::from).collect(),
    }))
}

/// Stops a link working. Revoking a revoked link changes nothing.
#[utoipa::path(post, path = "/cases/{reference}/plan/links/{id}/revoke", tag = "plan",
    params(
        ("reference" = String, Path, description = "The case's reference"),
        ("id" = i64, Path, description = "The link's id"),
    ),
    responses(
        (status = 204, description = "The link no longer works"),
        (status = 400, description = "An id that is not a number", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub(super) async fn revoke_link(
    ApiCaller(caller): ApiCaller,
    State(app): State<App>,
    Path((raw, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let id = path_id(&id, "a link's id (a number)")?;
    app.revoke_access_link(&caller, reference(&raw)?, id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
