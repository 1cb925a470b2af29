//! What each kind of job does. The worker crate claims jobs and decides when to retry; this
//! module only runs one.

use casework_domain::case::{Actor, Reference};
use casework_store::{Job, NewJob};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{App, AppError, Caller};

const SLA_CHECK: &str = "sla_check";

#[derive(Debug, Serialize, Deserialize)]
struct SlaCheck {
    case: i64,
}

/// Schedules the check that marks a case's SLA breached once its due time has passed. The key
/// means a case has one pending check: scheduling again moves it.
pub(crate) fn sla_check_job(reference: Reference, at: OffsetDateTime) -> NewJob {
    NewJob {
        kind: SLA_CHECK.into(),
        payload: serde_json::json!(SlaCheck {
            case: reference.number()
        }),
        run_at: at,
        key: Some(format!("{SLA_CHECK}:{}", reference.number())),
    }
}

/// How a job run ended, for the worker to act on.
#[derive(Debug)]
pub enum JobOutcome {
    Done,
    /// Nothing to do yet: run it again at this time.
    Later(OffsetDateTime),
    /// Failed, and may succeed if tried again later.
    Retry(String),
    /// Failed, and trying again will not help: keep it for an operator.
    Failed(String),
}

impl App {
    /// Runs one claimed job.
    pub async fn run_job(&self, job: &Job) -> JobOutcome {
        let result = match job.kind.as_str() {
            SLA_CHECK => match serde_json::from_value::<SlaCheck>(job.payload.clone()) {
                Ok(check) => self.check_sla(Reference::new(check.case)).await,
                Err(e) => return JobOutcome::Failed(format!("bad payload: {e}")),
            },
            other => return JobOutcome::Failed(format!("no job kind \"{other}\"")),
        };
        match result {
            Ok(None) => JobOutcome::Done,
            Ok(Some(at)) => JobOutcome::Later(at),
            Err(AppError::CaseNotFound(_)) => JobOutcome::Failed("the case is gone".into()),
            Err(e) => JobOutcome::Retry(e.to_string()),
        }
    }

    /// Marks the case's SLA breached if it is open and past due. Safe to run twice or from two
    /// workers at once: the domain breaches a case once, and the store refuses the second
    /// writer's stale version. A case not yet due (the job ran early, or the due time moved)
    /// asks to be checked again at its due time.
    async fn check_sla(&self, reference: Reference) -> Result<Option<OffsetDateTime>, AppError> {
        let case = self.case(reference).await?;
        let now = self.now();
        if case.is_open() && case.sla_breached_at.is_none() && !case.is_overdue(now) {
            return Ok(Some(case.sla_due_at));
        }
        let Some(change) = case.breach_sla(now) else {
            return Ok(None);
        };
        let system = Caller {
            actor: Actor::System,
            role: casework_domain::service::Role::Admin,
            api_key_id: None,
        };
        match self.save(&system, change).await {
            Ok(_) => Ok(None),
            // Someone changed the case meanwhile; run again and decide on what it is now.
            Err(AppError::Conflict { .. }) => Box::pin(self.check_sla(reference)).await,
            Err(e) => Err(e),
        }
    }
}
