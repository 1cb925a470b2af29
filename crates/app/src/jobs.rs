//! What each kind of job does. The worker crate claims jobs and decides when to retry; this
//! module only runs one.

use casework_domain::calendar::uk_time;
use casework_domain::case::{Actor, Case};
use casework_domain::service::Role;
use casework_store::{CaseFilter, CaseQuery, CaseSort, DELIVERY_JOB, Job, NewJob};
use time::{Duration, OffsetDateTime};

use crate::messages::SEND_MESSAGE;
use crate::{App, AppError, Caller, Feature};

const SLA_SWEEP: &str = "sla_sweep";
const PLAN_REMINDERS: &str = "plan_reminders";
/// How often residents' reminders are looked for: a reminder is about a day, so a quarter of
/// an hour late is on time.
const REMIND_EVERY: Duration = Duration::minutes(15);
/// Reminders reach residents in the day, not at night (UK local time, hours).
const REMIND_HOURS: std::ops::Range<u8> = 8..20;
/// How often the SLA sweep looks for cases past their due time. SLAs are counted in working
/// days, so a minute late is on time.
const SWEEP_EVERY: Duration = Duration::minutes(1);
/// How many cases one sweep marks; a full batch runs the next sweep at once.
const SWEEP_BATCH: u32 = 500;

/// How a job run ended, for the worker to act on.
#[derive(Debug)]
pub enum JobOutcome {
    Done,
    /// Run it again at this time (a recurring job, or one with nothing to do yet).
    Later(OffsetDateTime),
    /// Failed, and may succeed if tried again later.
    Retry(String),
    /// Failed, and trying again will not help: keep it for an operator.
    Failed(String),
}

impl App {
    /// Makes sure the recurring jobs are scheduled. `serve` and `worker` call it at start; with
    /// several replicas each does, and the job's key keeps one of each.
    pub async fn schedule_recurring_jobs(&self) -> Result<(), AppError> {
        let recurring = |kind: &str| NewJob {
            kind: kind.into(),
            payload: serde_json::json!({}),
            run_at: self.now(),
            key: Some(kind.into()),
        };
        let mut jobs = vec![recurring(SLA_SWEEP)];
        if self.features.is_on(Feature::Plan) {
            jobs.push(recurring(PLAN_REMINDERS));
        }
        Ok(self.store.enqueue_jobs(&jobs).await?)
    }

    /// Runs one claimed job.
    pub async fn run_job(&self, job: &Job) -> JobOutcome {
        let result = match job.kind.as_str() {
            SLA_SWEEP => self.sweep_sla().await,
            PLAN_REMINDERS => self.plan_reminders().await,
            SEND_MESSAGE => {
                let id = job
                    .payload
                    .get("message")
                    .and_then(|id| id.as_str())
                    .and_then(|id| id.parse().ok());
                return match id {
                    // The claim counts as an attempt: more than one means an earlier one.
                    Some(id) => self
                        .deliver(id, job.attempts > 1)
                        .await
                        .unwrap_or_else(|e| JobOutcome::Retry(e.to_string())),
                    None => JobOutcome::Failed(format!("no message id in {}", job.payload)),
                };
            }
            DELIVERY_JOB => {
                return match job.payload.get("delivery").and_then(|id| id.as_i64()) {
                    Some(id) => self
                        .deliver_webhook(id, job.attempts)
                        .await
                        .unwrap_or_else(|e| JobOutcome::Retry(e.to_string())),
                    None => JobOutcome::Failed(format!("no delivery id in {}", job.payload)),
                };
            }
            other => return JobOutcome::Failed(format!("no job kind \"{other}\"")),
        };
        match result {
            Ok(at) => JobOutcome::Later(at),
            Err(e) => JobOutcome::Retry(e.to_string()),
        }
    }

    /// Marks every open case past its SLA due time as breached, once each, and says when to
    /// sweep again. Safe with several workers: the domain breaches a case once, and the store
    /// refuses the slower writer's stale version.
    async fn sweep_sla(&self) -> Result<OffsetDateTime, AppError> {
        let now = self.now();
        let due = self
            .store
            .list_cases(&CaseQuery {
                filter: CaseFilter {
                    overdue_at: Some(now),
                    sla_breached: Some(false),
                    ..Default::default()
                },
                sort: CaseSort::Due,
                after: None,
                limit: SWEEP_BATCH,
            })
            .await?;
        let full = due.cases.len() == SWEEP_BATCH as usize;
        for case in due.cases {
            self.breach_sla(case, now).await?;
        }
        Ok(if full { now } else { now + SWEEP_EVERY })
    }

    /// Gives residents the reminders they are due, in the day.
    async fn plan_reminders(&self) -> Result<OffsetDateTime, AppError> {
        let now = self.now();
        if !REMIND_HOURS.contains(&uk_time(now).hour()) {
            return Ok(now + REMIND_EVERY);
        }
        let (_, more) = self.remind_residents().await?;
        Ok(if more { now } else { now + REMIND_EVERY })
    }

    async fn breach_sla(&self, case: Case, now: OffsetDateTime) -> Result<(), AppError> {
        let Some(change) = case.breach_sla(now) else {
            return Ok(());
        };
        let system = Caller {
            actor: Actor::System,
            role: Role::Admin,
            api_key_id: None,
            teams: None,
        };
        match self.save(&system, change).await {
            Ok(_) => {
                metrics::counter!("casework_sla_breaches_total").increment(1);
                Ok(())
            }
            // Someone changed the case meanwhile; the next sweep decides on what it is now.
            Err(AppError::Conflict { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }
}
