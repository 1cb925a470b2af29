//! The background worker: claims due jobs from the store's job table, runs each through the
//! app, and completes, reschedules, retries (with backoff) or fails it.
//!
//! It must not know what a job does (that is `casework_app::App::run_job`) nor speak SQL (that
//! is the store). Several workers, in one process or many, may run against one database: a
//! claim is a lease, so a job is run by one worker at a time and taken over if its worker dies.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use casework_app::store::Job;
use casework_app::{App, AppError, JobOutcome};
use time::OffsetDateTime;

/// How a worker paces itself.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// How long a claimed job is this worker's before another may take it over.
    pub lease: Duration,
    /// How long to wait when no job is due.
    pub idle_poll: Duration,
    /// How many due jobs to claim at once.
    pub batch: u32,
    /// After this many failed attempts a job is marked failed and kept for an operator.
    pub max_attempts: i32,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(300),
            idle_poll: Duration::from_secs(2),
            batch: 20,
            max_attempts: 10,
        }
    }
}

pub struct Worker {
    app: App,
    id: String,
    config: WorkerConfig,
}

/// The wait before retry number `attempts`: 2^attempts minutes, at most 2^10 (about 17 hours).
pub fn backoff(attempts: i32) -> time::Duration {
    time::Duration::minutes(1i64 << attempts.clamp(0, 10))
}

impl Worker {
    pub fn new(app: App, id: impl Into<String>, config: WorkerConfig) -> Self {
        Self {
            app,
            id: id.into(),
            config,
        }
    }

    /// Claims the jobs due now and runs them; returns how many ran.
    pub async fn run_due(&self) -> Result<usize, AppError> {
        self.run_due_unless(&mut || false).await
    }

    /// As [`Worker::run_due`], but asks `stopping` before each job: once it says yes, or half
    /// the lease has passed, the jobs not yet started are handed back at once rather than left
    /// to wait out their lease.
    async fn run_due_unless(&self, stopping: &mut impl FnMut() -> bool) -> Result<usize, AppError> {
        let now = self.app.now();
        let lease_until = now + self.config.lease;
        let jobs = self
            .app
            .store()
            .claim_jobs(&self.id, now, lease_until, self.config.batch)
            .await?;
        // Half the lease is the latest a job may start: one started later could outlive its
        // lease and be taken over by another worker while it still runs.
        let last_start = now + self.config.lease / 2;
        for (ran, job) in jobs.iter().enumerate() {
            if stopping() || self.app.now() > last_start {
                for unstarted in &jobs[ran..] {
                    // Rescheduling at its own time undoes the claim and its attempt.
                    self.app
                        .store()
                        .reschedule_job(unstarted.id, unstarted.run_at)
                        .await?;
                }
                return Ok(ran);
            }
            self.run_one(job).await?;
        }
        Ok(jobs.len())
    }

    async fn run_one(&self, job: &Job) -> Result<(), AppError> {
        let store = self.app.store();
        let outcome = self.app.run_job(job).await;
        let now = self.app.now();
        let name = match &outcome {
            JobOutcome::Done => "done",
            JobOutcome::Later(_) => "later",
            JobOutcome::Retry(_) if job.attempts < self.config.max_attempts => "retry",
            JobOutcome::Retry(_) | JobOutcome::Failed(_) => "failed",
        };
        metrics::counter!("casework_job_runs_total", "kind" => job.kind.clone(), "outcome" => name)
            .increment(1);
        match outcome {
            JobOutcome::Done => store.complete_job(job.id).await?,
            JobOutcome::Later(at) => store.reschedule_job(job.id, at).await?,
            JobOutcome::Retry(error) if job.attempts < self.config.max_attempts => {
                tracing::warn!(job = job.id, kind = %job.kind, attempts = job.attempts, %error, "job failed; will retry");
                store
                    .retry_job(job.id, &error, retry_at(now, job.attempts))
                    .await?
            }
            JobOutcome::Retry(error) | JobOutcome::Failed(error) => {
                tracing::error!(job = job.id, kind = %job.kind, attempts = job.attempts, %error, "job failed for good");
                store.fail_job(job.id, &error, now).await?
            }
        }
        Ok(())
    }

    /// Runs until `shutdown` completes. A job that has started is finished first; jobs claimed
    /// but not started are handed back for other workers.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let stop = Arc::new(AtomicBool::new(false));
        let watcher = {
            let stop = stop.clone();
            async move {
                shutdown.await;
                stop.store(true, Ordering::SeqCst);
            }
        };
        tokio::pin!(watcher);
        tracing::info!(worker = %self.id, "worker started");
        let mut scheduled = false;
        let mut watched = false;
        while !stop.load(Ordering::SeqCst) {
            if !scheduled {
                scheduled = match self.app.schedule_recurring_jobs().await {
                    Ok(()) => true,
                    Err(error) => {
                        tracing::warn!(%error, "could not schedule the recurring jobs; trying again shortly");
                        false
                    }
                };
            }
            let mut stopping = || stop.load(Ordering::SeqCst);
            let work = self.run_due_unless(&mut stopping);
            tokio::pin!(work);
            // The watcher is polled beside the work, which it never interrupts: a job in
            // progress finishes, and the next one sees the stop.
            let ran = loop {
                tokio::select! {
                    ran = &mut work => break ran,
                    () = &mut watcher, if !watched => watched = true,
                }
            };
            let pause = match ran {
                Ok(0) => self.config.idle_poll,
                Ok(_) => Duration::ZERO,
                Err(error) => {
                    tracing::warn!(%error, "worker could not claim jobs; trying again shortly");
                    self.config.idle_poll
                }
            };
            tokio::select! {
                () = &mut watcher, if !watched => watched = true,
                () = tokio::time::sleep(pause) => {}
            }
        }
        tracing::info!(worker = %self.id, "worker stopped");
    }
}

fn retry_at(now: OffsetDateTime, attempts: i32) -> OffsetDateTime {
    now + backoff(attempts)
}

#[cfg(test)]
mod tests {
    use super::backoff;

    #[test]
    fn backoff_doubles_then_stops_growing() {
        assert_eq!(backoff(0).whole_minutes(), 1);
        assert_eq!(backoff(1).whole_minutes(), 2);
        assert_eq!(backoff(5).whole_minutes(), 32);
        assert_eq!(backoff(10).whole_minutes(), 1024);
        assert_eq!(backoff(30).whole_minutes(), 1024);
    }
}
