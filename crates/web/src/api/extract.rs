//! Extractors that answer bad input with a JSON error naming the field, where axum's own
//! would answer in plain text.

use std::str::FromStr;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::HeaderMap;
use axum::http::header::{CONTENT_TYPE, IF_MATCH};
use axum::http::request::Parts;
use casework_app::App;
use casework_app::domain::case::Reference;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A JSON body, with the raw bytes kept (idempotency compares them).
pub(crate) struct ApiJson<T> {
    pub value: T,
    pub bytes: Bytes,
}

impl<T: DeserializeOwned> FromRequest<App> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, app: &App) -> Result<Self, Self::Rejection> {
        let is_json = request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if !is_json {
            return Err(ApiError::malformed(
                None,
                "Send the body as JSON, with `Content-Type: application/json`",
            ));
        }
        let bytes = Bytes::from_request(request, app)
            .await
            .map_err(|e| ApiError::malformed(None, format!("The body could not be read: {e}")))?;
        let mut deserializer = serde_json::Deserializer::from_slice(&bytes);
        let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
            let (field, message) = describe(e.path(), &e.inner().to_string());
            ApiError::malformed(field, message)
        })?;
        deserializer.end().map_err(|e| {
            ApiError::malformed(None, format!("The request could not be read: {e}"))
        })?;
        Ok(Self { value, bytes })
    }
}

/// Query-string parameters, each named when wrong.
pub(crate) struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer)
            .map(ApiQuery)
            .map_err(|e| {
                let (field, message) = describe(e.path(), &e.inner().to_string());
                ApiError::malformed(field, message)
            })
    }
}

/// The field a serde error is about: its path, or the name in "missing field `x`".
fn describe(path: &serde_path_to_error::Path, message: &str) -> (Option<String>, String) {
    let mut field = path.to_string();
    if field == "." {
        field.clear();
    }
    if let Some(missing) = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
    {
        field = if field.is_empty() {
            missing.to_owned()
        } else {
            format!("{field}.{missing}")
        };
    }
    let field = (!field.is_empty()).then_some(field);
    let message = match &field {
        Some(field) => format!("{field}: {message}"),
        None => format!("The request could not be read: {message}"),
    };
    (field, message)
}

/// A case reference from the path. An unreadable one names no case, so it is "not found".
pub(crate) fn reference(raw: &str) -> Result<Reference, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::not_found(format!("No case {raw}: references look like CW-000123")))
}

/// An identifier from the path, such as an action's UUID or a link's number: one that cannot
/// be read is named, since it is the client's mistake rather than a missing record.
pub(crate) fn path_id<T: FromStr>(raw: &str, what: &str) -> Result<T, ApiError> {
    raw.parse().map_err(|_| {
        ApiError::malformed(
            Some("id".to_owned()),
            format!("id: \"{raw}\" is not {what}"),
        )
    })
}

/// The case version a change is made against: from the body, or else an `If-Match` header
/// carrying the ETag the case was served with.
pub(crate) fn version(body: Option<i64>, headers: &HeaderMap) -> Result<i64, ApiError> {
    given_version("case", body, headers)
}

/// The plan version a change is made against, as [`version`] is for the case: the plan has
/// its own, so that a resident ticking an action does not make the case stale.
pub(crate) fn plan_version(body: Option<i64>, headers: &HeaderMap) -> Result<i64, ApiError> {
    given_version("plan", body, headers)
}

fn given_version(of: &str, body: Option<i64>, headers: &HeaderMap) -> Result<i64, ApiError> {
    if let Some(version) = body {
        return Ok(version);
    }
    headers
        .get(IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.trim()
                .trim_start_matches("W/")
                .trim_matches('"')
                .parse()
                .ok()
        })
        .ok_or_else(|| {
            ApiError::invalid_field(
                "version",
                format!("Give the version of the {of} you read, in the body or an If-Match header"),
            )
        })
}
