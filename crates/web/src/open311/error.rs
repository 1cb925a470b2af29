//! Open311's errors, as the spec has them: a list of `{code, description}` (in XML,
//! `<errors><error><code>…`) with the HTTP status 400, 403 or 404.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use casework_app::AppError;
use casework_app::domain::case::CaseError;
use casework_app::domain::service::answers::FieldError;

use super::document::{Document, Format, Node};

#[derive(Debug)]
pub(crate) struct Open311Error {
    status: StatusCode,
    format: Format,
    descriptions: Vec<String>,
}

impl Open311Error {
    fn new(status: StatusCode, format: Format, description: impl Into<String>) -> Self {
        Self {
            status,
            format,
            descriptions: vec![description.into()],
        }
    }

    /// A missing or wrong argument.
    pub(crate) fn bad_request(format: Format, description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, format, description)
    }

    /// A missing or wrong key, or one not made for Open311.
    pub(crate) fn forbidden(format: Format, description: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, format, description)
    }

    pub(crate) fn not_found(format: Format, description: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, format, description)
    }

    /// Every problem with the arguments, each naming its argument as the client sent it.
    pub(crate) fn fields(format: Format, fields: Vec<FieldError>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            format,
            descriptions: fields
                .into_iter()
                .map(|f| format!("{}: {}", argument(&f.field), f.message))
                .collect(),
        }
    }

    pub(crate) fn from_app(format: Format, error: AppError) -> Self {
        match error {
            AppError::CaseNotFound(reference) => Self::not_found(
                format,
                format!("service_request_id {reference} was not found"),
            ),
            AppError::UnknownService(code) => {
                Self::not_found(format, format!("service_code {code} was not found"))
            }
            AppError::Case(CaseError::Invalid(fields)) | AppError::Invalid(fields) => {
                Self::fields(format, fields)
            }
            AppError::Case(other) => Self::bad_request(format, other.to_string()),
            AppError::Conflict { .. } => Self::new(
                StatusCode::CONFLICT,
                format,
                "The request changed while the update was saved: send it again",
            ),
            AppError::Unavailable(source) => {
                tracing::error!(error = %source, "the database is unavailable");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format,
                    "The service is unavailable: try again shortly",
                )
            }
            other => {
                tracing::error!(error = %other, "internal error");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format,
                    "Something went wrong on our side. It has been logged",
                )
            }
        }
    }
}

/// The argument a problem is about, as an Open311 client names it.
fn argument(field: &str) -> String {
    if let Some(code) = field.strip_prefix("answers.") {
        return format!("attribute[{code}]");
    }
    match field {
        "contact" | "contact.name" => "first_name",
        "contact.email" => "email",
        "contact.phone" => "phone",
        "location" | "location.lat" => "lat",
        "location.long" => "long",
        "text" => "description",
        other => other,
    }
    .to_owned()
}

impl IntoResponse for Open311Error {
    fn into_response(self) -> Response {
        let code = self.status.as_u16();
        let errors = self
            .descriptions
            .into_iter()
            .map(|description| {
                Node::Record(vec![
                    ("code", Node::number(code)),
                    ("description", Node::Text(description)),
                ])
            })
            .collect();
        Document {
            status: self.status,
            format: self.format,
            root: "errors",
            body: Node::List("error", errors),
        }
        .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::argument;

    #[test]
    fn problems_name_the_argument_the_client_sent() {
        assert_eq!(argument("answers.bin_type"), "attribute[bin_type]");
        assert_eq!(argument("contact.name"), "first_name");
        assert_eq!(argument("contact.email"), "email");
        assert_eq!(argument("location.long"), "long");
        assert_eq!(argument("service_code"), "service_code");
    }
}
