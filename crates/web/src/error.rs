//! The one mapping from errors to HTTP answers. A client always gets a JSON body naming the
//! problem (and the field, where there is one); an operator always finds the cause in the log.

use std::any::Any;

use axum::Json;
use axum::body::Body;
use axum::http::{Response, StatusCode, header};
use axum::response::IntoResponse;
use casework_app::domain::case::CaseError;
use casework_app::domain::message::MessageError;
use casework_app::domain::plan::PlanError;
use casework_app::domain::service::answers::FieldError;
use casework_app::{AppError, LinkProblem};
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::model::{CaseBody, PlanBody};

/// The body of every error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
    /// For a conflict: the case as it is now, so the client can see what changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<Box<CaseBody>>,
    /// For a conflict on a case's plan: the plan as it is now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_plan: Option<Box<PlanBody>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable code for programs: `unauthorized`, `not_found`, `malformed`, `invalid`,
    /// `forbidden`, `conflict`, `unavailable`, `internal`.
    pub code: &'static str,
    /// What went wrong, in words for a person.
    pub message: String,
    /// The fields that are missing or wrong.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldProblem>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FieldProblem {
    /// The field's path in the request, such as `contact.email` or `answers.bin_type`.
    pub field: String,
    pub message: String,
}

/// An error answer on its way to the client.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: ErrorBody,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            body: ErrorBody {
                error: ErrorDetail {
                    code,
                    message: message.into(),
                    fields: Vec::new(),
                },
                current: None,
                current_plan: None,
            },
        }
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Send a valid API key as `Authorization: Bearer KEY`",
        )
    }

    /// A working key made for other calls, such as an Open311 key on the JSON API.
    pub fn out_of_scope() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "This API key is not for the JSON API: ask for a key with the api scope",
        )
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// The request could not be read at all (bad JSON, bad query string).
    pub fn malformed(field: Option<String>, message: impl Into<String>) -> Self {
        let message = message.into();
        let mut error = Self::new(StatusCode::BAD_REQUEST, "malformed", message.clone());
        if let Some(field) = field {
            error
                .body
                .error
                .fields
                .push(FieldProblem { field, message });
        }
        error
    }

    /// The request was read but some fields are missing or wrong.
    pub fn invalid(fields: Vec<FieldError>) -> Self {
        let mut error = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "Some fields are missing or wrong",
        );
        error.body.error.fields = fields
            .into_iter()
            .map(|f| FieldProblem {
                field: f.field,
                message: f.message,
            })
            .collect();
        error
    }

    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        Self::invalid(vec![FieldError::new(field, message)])
    }
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        match error {
            AppError::CaseNotFound(reference) => Self::not_found(format!("No case {reference}")),
            AppError::UnknownService(code) => {
                Self::invalid_field("service", format!("There is no service \"{code}\""))
            }
            AppError::Case(CaseError::Invalid(fields)) => Self::invalid(fields),
            AppError::Case(e @ CaseError::UnknownTransition(_))
            | AppError::Case(e @ CaseError::TransitionNotAllowed { .. }) => {
                Self::invalid_field("transition", e.to_string())
            }
            AppError::Case(e @ CaseError::RoleRequired { .. }) => {
                Self::new(StatusCode::FORBIDDEN, "forbidden", e.to_string())
            }
            AppError::Case(e @ CaseError::Closed) => {
                Self::new(StatusCode::CONFLICT, "conflict", e.to_string())
            }
            AppError::Conflict { expected, current } => {
                let mut error = Self::new(
                    StatusCode::CONFLICT,
                    "conflict",
                    format!(
                        "The case changed since version {expected}: it is now at version {}. \
                         Read it again and retry",
                        current.version
                    ),
                );
                error.body.error.fields.push(FieldProblem {
                    field: "version".into(),
                    message: "This is not the case's current version".into(),
                });
                error.body.current = Some(Box::new(CaseBody::from(*current)));
                error
            }
            e @ AppError::IdempotencyMismatch => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", e.to_string())
            }
            AppError::DuplicateExternal(reference) => Self::new(
                StatusCode::CONFLICT,
                "conflict",
                format!("Case {reference} already has this external reference"),
            ),
            AppError::Plan(PlanError::Invalid(fields)) => Self::invalid(fields),
            AppError::Plan(PlanError::UnknownAction) => {
                Self::not_found("The plan has no such action")
            }
            AppError::Plan(e @ PlanError::NotYours) => {
                Self::new(StatusCode::FORBIDDEN, "forbidden", e.to_string())
            }
            AppError::Plan(e @ PlanError::Closed) => {
                Self::new(StatusCode::CONFLICT, "conflict", e.to_string())
            }
            AppError::Plan(e @ PlanError::TooManyActions) => {
                Self::invalid_field("actions", e.to_string())
            }
            AppError::PlanConflict { expected, current } => {
                let mut error = Self::new(
                    StatusCode::CONFLICT,
                    "conflict",
                    format!(
                        "The plan changed since version {expected}: it is now at version {}. \
                         Read it again and retry",
                        current.version
                    ),
                );
                error.body.error.fields.push(FieldProblem {
                    field: "version".into(),
                    message: "This is not the plan's current version".into(),
                });
                error.body.current_plan = Some(Box::new(PlanBody::from(*current)));
                error
            }
            AppError::Link(problem) => Self::new(
                match problem {
                    LinkProblem::Unknown => StatusCode::NOT_FOUND,
                    LinkProblem::Expired | LinkProblem::Revoked => StatusCode::GONE,
                },
                "not_found",
                "This link does not work",
            ),
            AppError::LinkNotFound(id) => {
                Self::not_found(format!("The case has no access link {id}"))
            }
            AppError::Message(MessageError::Invalid(fields)) => Self::invalid(fields),
            AppError::PlanReply(problem) => Self::invalid_field("message", problem.to_string()),
            AppError::UnknownTemplate(code) => Self::invalid_field(
                "template",
                format!("The service has no message template \"{code}\""),
            ),
            AppError::Invalid(fields) => Self::invalid(fields),
            AppError::StaffNotFound(id) => Self::not_found(format!("No member of staff {id}")),
            AppError::WebhookNotFound(id) => Self::not_found(format!("No webhook endpoint {id}")),
            e @ AppError::LeadRequired => {
                Self::new(StatusCode::FORBIDDEN, "forbidden", e.to_string())
            }
            e @ (AppError::AdminOnly | AppError::StaffOnly) => {
                Self::new(StatusCode::FORBIDDEN, "forbidden", e.to_string())
            }
            AppError::Hashing(message) => {
                tracing::error!(error = message, "password hashing failed");
                internal()
            }
            AppError::Unavailable(source) => {
                tracing::error!(error = %source, "the database is unavailable");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "The service is unavailable. Try again shortly",
                )
            }
            AppError::Internal(source) => {
                tracing::error!(error = %source, "internal error");
                internal()
            }
        }
    }
}

fn internal() -> ApiError {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "Something went wrong on our side. It has been logged",
    )
}

impl IntoResponse for ApiError {
    fn into_response(self) -> axum::response::Response {
        (self.status, Json(self.body)).into_response()
    }
}

/// A panic is a bug: log it, and answer like any other internal error.
pub(crate) fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response<Body> {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = message, "a request handler panicked");
    let mut response = internal().into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}
