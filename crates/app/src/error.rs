use casework_domain::case::{Case, CaseError, Reference};
use casework_domain::inbound::PlanReplyProblem;
use casework_domain::message::MessageError;
use casework_domain::plan::{Plan, PlanError};
use casework_domain::service::answers::FieldError;
use casework_store::StoreError;

use crate::plans::LinkProblem;

/// Why a use case did not happen. The web crate maps each to one HTTP status and body.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("no case {0}")]
    CaseNotFound(Reference),
    #[error("no service \"{0}\"")]
    UnknownService(String),
    #[error(transparent)]
    Case(#[from] CaseError),
    /// The case changed since the caller read it.
    #[error("the case changed since version {expected}; it is now at version {}", current.version)]
    Conflict { expected: i64, current: Box<Case> },
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(transparent)]
    Message(#[from] MessageError),
    /// A resident's message on their plan page is refused.
    #[error(transparent)]
    PlanReply(#[from] PlanReplyProblem),
    #[error("the service has no message template \"{0}\"")]
    UnknownTemplate(String),
    /// The plan changed since the caller read it.
    #[error("the plan changed since version {expected}; it is now at version {}", current.version)]
    PlanConflict { expected: i64, current: Box<Plan> },
    /// A resident's link does not open a plan.
    #[error(transparent)]
    Link(LinkProblem),
    #[error("the case has no access link {0}")]
    LinkNotFound(i64),
    #[error("this Idempotency-Key was already used with a different request")]
    IdempotencyMismatch,
    #[error("another case, {0}, already has this external reference")]
    DuplicateExternal(Reference),
    /// Some of what was entered is missing or wrong (for use cases outside a case, such as
    /// adding staff).
    #[error("{}", describe(.0))]
    Invalid(Vec<FieldError>),
    #[error("no member of staff {0}")]
    StaffNotFound(i64),
    #[error("no webhook endpoint {0}, or no such delivery of it")]
    WebhookNotFound(i64),
    /// An agent tried to give a case to someone else, or to another team.
    #[error("only a team lead can assign a case to someone else or to another team")]
    LeadRequired,
    #[error("only an admin may manage staff and teams")]
    AdminOnly,
    /// Replies not yet filed on a case may come from anyone: only staff read them.
    #[error("only council staff may see replies waiting to be filed")]
    StaffOnly,
    #[error("hashing a password failed: {0}")]
    Hashing(String),
    #[error("the database is unavailable")]
    Unavailable(#[source] StoreError),
    #[error("internal error: {0}")]
    Internal(#[source] StoreError),
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict { expected, current } => Self::Conflict { expected, current },
            StoreError::PlanConflict { expected, current } => {
                Self::PlanConflict { expected, current }
            }
            StoreError::DuplicateExternal(reference) => Self::DuplicateExternal(reference),
            StoreError::Unavailable(_) => Self::Unavailable(error),
            other => Self::Internal(other),
        }
    }
}

/// `field: message` for each problem, for a person reading a terminal or a log.
fn describe(fields: &[FieldError]) -> String {
    let problems: Vec<String> = fields
        .iter()
        .map(|f| format!("{}: {}", f.field, f.message))
        .collect();
    problems.join("; ")
}
