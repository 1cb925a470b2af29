use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use casework_app::domain::case::Case;
use casework_app::store::{Assignee, CaseFilter, CaseQuery};
use casework_app::{App, CaseChangeRequest, NewCaseRequest, sha256_hex};

use super::ApiCaller;
use super::extract::{ApiJson, ApiQuery, reference, version};
use super::model::{
    AssignBody, CaseBody, CaseChangeBody, CaseList, CaseListParams, EventBody, EventList,
    NewCaseBody, NoteBody, TransitionBodyIn, decode_cursor, encode_cursor,
};
use crate::error::{ApiError, ErrorBody};

const DEFAULT_PAGE: u32 = 50;
const MAX_PAGE: u32 = 200;
const IDEMPOTENCY_KEY: &str = "idempotency-key";
const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// A case with its version as the ETag, ready for a conditional change.
fn case_response(status: StatusCode, case: Case) -> Response {
    let etag = HeaderValue::from_str(&format!("\"{}\"", case.version))
        .expect("a number is a valid header value");
    (status, [(header::ETAG, etag)], Json(CaseBody::from(case))).into_response()
}

/// Reports a new case. Send an `Idempotency-Key` header so that a retried request returns the
/// case the first one made instead of making another.
#[utoipa::path(post, path = "/cases", tag = "cases",
    request_body = NewCaseBody,
    params(("Idempotency-Key" = Option<String>, Header,
        description = "Any unique string up to 255 characters; a retry with the same key and body returns the same case")),
    responses(
        (status = 201, description = "The case was made", body = CaseBody,
            headers(("Location" = String, description = "The case's URL"), ("ETag" = String))),
        (status = 200, description = "An earlier request with this Idempotency-Key made the case", body = CaseBody,
            headers(("Idempotent-Replayed" = String, description = "`true`"))),
        (status = 400, description = "Unreadable JSON", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 409, description = "Another case has this external reference", body = ErrorBody),
        (status = 422, description = "Missing or wrong fields, or an Idempotency-Key reused with another body", body = ErrorBody),
    ))]
pub(super) async fn create_case(
    ApiCaller(caller): ApiCaller,
    State(app): State<App>,
    headers: HeaderMap,
    ApiJson { value, bytes }: ApiJson<NewCaseBody>,
) -> Result<Response, ApiError> {
    let idempotency = match headers.get(IDEMPOTENCY_KEY) {
        None => None,
        Some(key) => {
            let key = key
                .to_str()
                .ok()
                .filter(|k| !k.is_empty() && k.len() <= 255)
                .ok_or_else(|| {
                    ApiError::invalid_field(
                        "Idempotency-Key",
                        "Use 1 to 255 visible ASCII characters",
                    )
                })?;
            Some((key.to_owned(), sha256_hex(&bytes)))
        }
    };
    let request = NewCaseRequest {
        service: value.service.clone(),
        draft: value.into(),
        idempotency,
    };
    let (case, created) = app.create_case(&caller, request).await?;
    let location = HeaderValue::from_str(&format!("/api/v1/cases/{}", case.reference))
        .expect("a reference is a valid header value");
    let mut response = case_response(
        if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        case,
    );
    response.headers_mut().insert(header::LOCATION, location);
    if !created {
        response
            .headers_mut()
            .insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
    }
    Ok(response)
}

/// Lists cases, filtered and in order, a page at a time.
#[utoipa::path(get, path = "/cases", tag = "cases",
    params(CaseListParams),
    responses(
        (status = 200, body = CaseList),
        (status = 400, description = "An unknown or unreadable parameter", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 422, description = "Parameters that do not go together, or a bad cursor", body = ErrorBody),
    ))]
pub(super) async fn list_cases(
    ApiCaller(caller): ApiCaller,
    State(app): State<App>,
    ApiQuery(params): ApiQuery<CaseListParams>,
) -> Result<Json<CaseList>, ApiError> {
    let query = case_query(&app, params)?;
    let page = app.list_cases(&caller, &query).await?;
    Ok(Json(CaseList {
        next_cursor: page.next.as_ref().map(encode_cursor),
        cases: page.cases.into_iter().map(CaseBody::from).collect(),
    }))
}

fn case_query(app: &App, params: CaseListParams) -> Result<CaseQuery, ApiError> {
    let assignee = match (params.assignee, params.unassigned) {
        (Some(_), Some(true)) => {
            return Err(ApiError::invalid_field(
                "unassigned",
                "Use either assignee or unassigned=true, not both",
            ));
        }
        (Some(person), _) => Some(Assignee::Person(person)),
        (None, Some(true)) => Some(Assignee::Nobody),
        (None, _) => None,
    };
    let external = match (params.external_system, params.external_reference) {
        (Some(system), Some(reference)) => Some((system, reference)),
        (None, None) => None,
        (Some(_), None) | (None, Some(_)) => {
            return Err(ApiError::invalid_field(
                "external_reference",
                "Give external_system and external_reference together",
            ));
        }
    };
    let limit = params.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::invalid_field(
            "limit",
            format!("Limit must be from 1 to {MAX_PAGE}"),
        ));
    }
    let sort = params.sort.unwrap_or_default();
    let after = params
        .cursor
        .as_deref()
        .map(|raw| decode_cursor(raw, sort))
        .transpose()?;
    Ok(CaseQuery {
        filter: CaseFilter {
            service: params.service,
            state: params.state,
            team: params.team,
            priority: params.priority,
            assignee,
            open: params.open,
            overdue_at: params.overdue.unwrap_or(false).then(|| app.now()),
            q: params.q.filter(|q| !q.trim().is_empty()),
            external,
            ..CaseFilter::default()
        },
        sort,
        after,
        limit,
    })
}

/// One case.
#[utoipa::path(get, path = "/cases/{reference}", tag = "cases",
    params(("reference" = String, Path, description = "The case's reference, such as CW-000123")),
    responses(
        (status = 200, body = CaseBody, headers(("ETag" = String, description = "The case's version"))),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub(super) async fn show_case(
    ApiCaller(caller): ApiCaller,
    State(app): State<App>,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let case = app.case(&caller, reference(&raw)?).await?;
    Ok(case_response(StatusCode::OK, case))
}

/// Changes a case's answers or priority. A changed priority moves the SLA due time.
#[utoipa::path(patch, path = "/cases/{reference}", tag = "cases",
    request_body = CaseChangeBody,
    params(
        ("reference" = String, Path, description = "The case's reference"),
        ("If-Match" = Option<String>, Header, description = "The case's ETag, instead of `version` in the body"),
    ),
    responses(
        (status = 200, body = CaseBody),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "The case changed since that version (the body holds it as it is now), or it is closed", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub(super) async fn change_case(
    ApiCaller(caller): ApiCaller,
    State(app): State<App>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    ApiJson { value, .. }: ApiJson<CaseChangeBody>,
) -> Result<Response, ApiError> {
    let request = CaseChangeRequest {
        version: version(value.version, &headers)?,
        answers: value.answers,
        priority: value.priority,
    };
    let case = app.change_case(&caller, reference(&raw)?, request).await?;
    Ok(case_response(StatusCode::OK, case))
}

/// Moves a case along one of its service's workflow transitions.
#[utoipa::path(post, path = "/cases/{reference}/transitions", tag = "cases",
    request_body = TransitionBodyIn,
    params(
        ("reference" = String, Path, description = "The case's reference"),
        ("If-Match" = Option<String>, Header, description = "The case's ETag, instead of `version` in the body"),
    ),
    responses(
        (status = 200, body = CaseBody),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "The transition needs a higher role than the API key has", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "The case changed since that version", body = ErrorBody),
        (status = 422, description = "An unknown transition, one not allowed from the case's state, or fields it needs", body = ErrorBody),
    ))]
pub(super) async fn transition_case(
    ApiCaller(caller): ApiCaller,
    State(app): State<App>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    ApiJson { value, .. }: ApiJson<TransitionBodyIn>,
) -> Result<Response, ApiError> {
    let version = version(value.version, &headers)?;
    let case = app
        .transition_case(
            &caller,
            reference(&raw)?,
            version,
            &value.transition,
            &value.answers,
        )
        .await?;
    Ok(case_response(StatusCode::OK, case))
}

/// Gives a case to a team, and to a person or nobody.
#[utoipa::path(post, path = "/cases/{reference}/assignment", tag = "cases",
    request_body = AssignBody,
    params(
        ("reference" = String, Path, description = "The case's reference"),
        ("If-Match" = Option<String>, Header, description = "The case's ETag, instead of `version` in the body"),
    ),
    responses(
        (status = 200, body = CaseBody),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "The case changed since that version", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub(super) async fn assign_case(
    ApiCaller(caller): ApiCaller,
    State(app): State<App>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    ApiJson { value, .. }: ApiJson<AssignBody>,
) -> Result<Response, ApiError> {
    let version = version(value.version, &headers)?;
    let case = app
        .assign_case(
            &caller,
            reference(&raw)?,
            version,
            value.team,
            value.assignee,
        )
        .await?;
    Ok(case_response(StatusCode::OK, case))
}

/// Adds an internal note to a case's timeline.
#[utoipa::path(post, path = "/cases/{reference}/notes", tag = "cases",
    request_body = NoteBody,
    params(
        ("reference" = String, Path, description = "The case's reference"),
        ("If-Match" = Option<String>, Header, description = "The case's ETag, instead of `version` in the body"),
    ),
    responses(
        (status = 200, body = CaseBody),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "The case changed since that version", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub(super) async fn add_note(
    ApiCaller(caller): ApiCaller,
    State(app): State<App>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    ApiJson { value, .. }: ApiJson<NoteBody>,
) -> Result<Response, ApiError> {
    let version = version(value.version, &headers)?;
    let case = app
        .add_note(&caller, reference(&raw)?, version, &value.text)
        .await?;
    Ok(case_response(StatusCode::OK, case))
}

/// A case's timeline, oldest first.
#[utoipa::path(get, path = "/cases/{reference}/events", tag = "cases",
    params(("reference" = String, Path, description = "The case's reference")),
    responses(
        (status = 200, body = EventList),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub(super) async fn list_events(
    ApiCaller(caller): ApiCaller,
    State(app): State<App>,
    Path(raw): Path<String>,
) -> Result<Json<EventList>, ApiError> {
    let events = app.events(&caller, reference(&raw)?).await?;
    Ok(Json(EventList {
        events: events.into_iter().map(EventBody::from).collect(),
    }))
}
