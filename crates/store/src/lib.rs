//! Persistence for Casework on SQLite (the embedded default) and PostgreSQL (what a council
//! deploys): migrations, the queries behind the worktray and the API, the job queue, staff
//! with their teams, sessions and sign-in records, shared plans with their access links,
//! messages with residents and their replies, what Open311 reports carried, and outbound
//! webhooks.
//!
//! This is the only crate that speaks SQL. It knows the domain's records but none of its rules:
//! it must not depend on the app, web or worker crates, and it never decides anything a case
//! may or may not do. Both backends implement the one [`Store`] trait and run one test suite.

use async_trait::async_trait;
use casework_domain::case::{Actor, Case, EventKind, NewCase, Reference};
use casework_domain::plan::Plan;
use casework_domain::service::Role;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

mod connect;
mod db_time;
mod error;
mod intake;
mod messages;
mod open311;
mod plans;
mod postgres;
mod replies;
mod rows;
mod shared;
mod sqlite;
#[cfg(feature = "testing")]
pub mod testing;
mod webhooks;

pub use connect::connect;
pub use intake::IntakeStore;
pub use messages::{MessageStore, StatusChange};
pub use open311::{
    KeyScope, NewOpen311Request, Open311Filter, Open311Request, Open311Store, UnknownScope,
};
pub use plans::{AccessLink, DueAction, NewAccessLink, PlanStore};
pub use postgres::PgStore;
pub use replies::ReplyStore;
pub use sqlite::SqliteStore;
pub use webhooks::{
    DELIVERY_JOB, DeliveryAttempt, DeliveryStatus, DeliveryWork, NewWebhookEndpoint,
    WebhookDelivery, WebhookEndpoint, WebhookStore, delivery_job,
};

/// One entry on a case's timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub id: i64,
    pub case: Reference,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub actor: Actor,
    #[serde(flatten)]
    pub kind: EventKind,
}

/// Work for the worker, to run at or after `run_at`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    pub kind: String,
    pub payload: serde_json::Value,
    pub run_at: OffsetDateTime,
    /// A job with a key replaces any job with the same key that has not run yet, so that
    /// rescheduling (say, an SLA check after a priority change) never leaves two behind.
    pub key: Option<String>,
}

/// A job claimed by a worker. The claim is a lease: if the worker dies, the job becomes
/// claimable again once `locked_until` has passed.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub payload: serde_json::Value,
    pub run_at: OffsetDateTime,
    pub attempts: i32,
    pub last_error: Option<String>,
}

/// A job that has stopped being retried: kept, with its error, for an operator to see.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FailedJob {
    pub id: i64,
    pub kind: String,
    pub payload: serde_json::Value,
    pub attempts: i32,
    pub last_error: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub failed_at: OffsetDateTime,
}

/// An API client's key, without its secret: only a hash of the key is stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiKey {
    pub id: i64,
    pub name: String,
    pub role: Role,
    /// The first characters of the key, so that people can tell keys apart.
    pub prefix: String,
    /// What the key may call, each once, in order.
    pub scopes: Vec<KeyScope>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
}

/// How the store's connections are used now, across its pools.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolUse {
    /// Connections open, in use or idle.
    pub open: u32,
    pub idle: u32,
}

/// How the database's schema compares with the migrations this build carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchemaStatus {
    /// Migrations of this build that the database has not applied.
    pub pending: Vec<i64>,
    /// Applied migrations whose text differs from this build's.
    pub changed: Vec<i64>,
    /// A migration that started and failed, leaving the schema half changed.
    pub failed: Option<i64>,
    /// Applied migrations this build does not know: a newer release has migrated the database.
    /// A schema change must keep working for the release before it, so this alone is current.
    pub newer: Vec<i64>,
}

impl SchemaStatus {
    /// Every migration of this build is applied as this build has it.
    pub fn is_current(&self) -> bool {
        self.pending.is_empty() && self.changed.is_empty() && self.failed.is_none()
    }
}

/// Ties a create request to the case it made, so that a retried request finds that case
/// instead of making a second one.
#[derive(Debug, Clone, PartialEq)]
pub struct IdempotencyClaim {
    pub api_key_id: i64,
    pub key: String,
    /// A hash of the request body: the same key with a different body is a client error.
    pub request_hash: String,
}

/// Which cases to list. Every filter is optional and they combine with AND.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CaseFilter {
    pub service: Option<String>,
    pub state: Option<String>,
    pub team: Option<String>,
    /// Cases in any of these teams; empty means any team. A member of staff's lists pass
    /// their teams here, so that they only ever see the cases they may work.
    pub teams: Vec<String>,
    pub priority: Option<String>,
    pub assignee: Option<Assignee>,
    pub open: Option<bool>,
    /// Open cases whose SLA due time is before this instant (the caller passes now).
    pub overdue_at: Option<OffsetDateTime>,
    /// Cases already marked as past their SLA (`true`) or not yet marked (`false`).
    pub sla_breached: Option<bool>,
    /// Cases created at or after this instant.
    pub created_from: Option<OffsetDateTime>,
    /// Cases created before this instant.
    pub created_before: Option<OffsetDateTime>,
    /// Cases whose SLA due time is at or after this instant (with `overdue_at` as the upper
    /// bound, the worktray's "due today" and "due this week" leave the overdue out).
    pub due_from: Option<OffsetDateTime>,
    /// Cases closed at or after this instant.
    pub closed_since: Option<OffsetDateTime>,
    /// Free text: a reference (`CW-000123`) matches that case; other text matches the
    /// resident's name, email or phone, or the description.
    pub q: Option<String>,
    pub external: Option<(String, String)>,
    /// Cases with replies from the resident that this member of staff has not read.
    pub unread_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Assignee {
    Nobody,
    Person(String),
}

/// The orders a case list can come in; each is a keyset order with the reference as the
/// tie-breaker, so paging stays stable while cases change.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseSort {
    /// Soonest SLA due first.
    #[default]
    Due,
    /// Most recently updated first.
    Updated,
    /// Newest first.
    Created,
    /// Most urgent first, by each service's own list of priorities; soonest SLA due first within
    /// a priority.
    Priority,
}

/// The rank that cases of one service with one priority should have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriorityRank {
    pub service: String,
    pub priority: String,
    pub rank: i32,
}

/// Where the previous page ended: the sort keys and reference of its last case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub sort: CaseSort,
    /// The last case's priority rank: set in the priority order, whose first key it is, and
    /// only there.
    pub rank: Option<i32>,
    /// The last case's instant in the order (its SLA due time in the priority order) as unix
    /// microseconds.
    pub key: i64,
    pub reference: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CaseQuery {
    pub filter: CaseFilter,
    pub sort: CaseSort,
    pub after: Option<Cursor>,
    pub limit: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CasePage {
    pub cases: Vec<Case>,
    /// Set when there may be more cases after this page.
    pub next: Option<Cursor>,
}

/// A team of staff, whose cases its members work. A service names the team its cases go to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Team {
    /// A short code such as `waste`, as service definitions name it.
    pub code: String,
    pub name: String,
}

/// A member of staff as stored, with their password hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staff {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// The codes of their teams, in order.
    pub teams: Vec<String>,
    /// `None` until they set a password.
    pub password_hash: Option<String>,
    pub active: bool,
    pub created_at: OffsetDateTime,
    pub deactivated_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStaff {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub teams: Vec<String>,
    pub password_hash: Option<String>,
    pub created_at: OffsetDateTime,
}

/// A signed-in session, as the web crate's session store keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    /// A hash of the session's id: the id itself is only in the staff member's cookie.
    pub id: String,
    /// Whose session it is, so that all of someone's sessions can be ended at once.
    pub staff_id: Option<i64>,
    pub data: serde_json::Value,
    pub expires_at: OffsetDateTime,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The plan changed since the caller read it; here it is as it is now.
    #[error("the plan changed since version {expected}")]
    PlanConflict { expected: i64, current: Box<Plan> },
    /// The case changed since the caller read it; here it is as it is now.
    #[error("case {} changed since version {expected}", current.reference)]
    Conflict { expected: i64, current: Box<Case> },
    #[error("not found")]
    NotFound,
    /// The idempotency key was used before; this is the case it made.
    #[error("idempotency key already used for {reference}")]
    IdempotencyReplay {
        reference: Reference,
        request_hash: String,
    },
    /// Another case already carries this external reference.
    #[error("the external reference is already used by {0}")]
    DuplicateExternal(Reference),
    /// A record with this unique value (a team's code, a member of staff's email) exists.
    #[error("{0} is already taken")]
    Taken(&'static str),
    #[error("the database is unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    #[error("stored data could not be read: {0}")]
    Corrupt(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Everything Casework keeps. One trait, two backends, one behaviour. Each area beyond cases,
/// jobs and staff has its own trait in its own module, which `Store` includes.
#[async_trait]
pub trait Store:
    PlanStore
    + MessageStore
    + ReplyStore
    + Open311Store
    + WebhookStore
    + IntakeStore
    + Send
    + Sync
    + 'static
{
    /// Brings the schema up to date. Safe to run from several processes at once.
    async fn migrate(&self) -> Result<()>;
    /// Answers whether the database can be reached now.
    async fn ping(&self) -> Result<()>;
    /// How the connections are used now, for `/metrics`.
    fn pool_use(&self) -> PoolUse;
    /// Compares the migrations applied to the database with this build's, changing nothing.
    async fn schema_status(&self) -> Result<SchemaStatus>;

    /// Stores a new case with its first events and jobs, in one transaction, and gives it
    /// its reference.
    async fn insert_case(
        &self,
        case: &NewCase,
        actor: &Actor,
        events: &[EventKind],
        jobs: &[NewJob],
        idempotency: Option<&IdempotencyClaim>,
    ) -> Result<Case>;
    /// Stores many new cases at once, for seeding and imports: one `created` event each, no
    /// jobs.
    async fn import_cases(&self, cases: &[NewCase], actor: &Actor) -> Result<()>;
    /// Saves a changed case (its version must still be `case.version`), appends its events
    /// and schedules its jobs, in one transaction. Returns the case with its new version.
    async fn update_case(
        &self,
        case: &Case,
        actor: &Actor,
        events: &[EventKind],
        jobs: &[NewJob],
    ) -> Result<Case>;
    async fn case(&self, reference: Reference) -> Result<Option<Case>>;
    /// Sets the priority rank of every case whose service and priority `ranks` names, where it
    /// differs, without counting a change to the case: a rank follows from the service
    /// definitions, and moves when a definition reorders its priorities. Ranks that are as the
    /// last call left them are not looked for again. Returns how many cases it re-ranked.
    async fn rank_priorities(&self, ranks: &[PriorityRank]) -> Result<u64>;
    async fn list_cases(&self, query: &CaseQuery) -> Result<CasePage>;
    async fn count_cases(&self, filter: &CaseFilter) -> Result<i64>;
    /// Counts matching cases, but stops at `limit`: a worktray tab needs "1,000+", not an exact
    /// count that scans half a million rows.
    async fn count_cases_up_to(&self, filter: &CaseFilter, limit: i64) -> Result<i64>;
    /// A case's timeline, oldest first.
    async fn events(&self, reference: Reference) -> Result<Vec<Event>>;
    async fn idempotent_case(
        &self,
        api_key_id: i64,
        key: &str,
    ) -> Result<Option<(String, Reference)>>;

    async fn enqueue_jobs(&self, jobs: &[NewJob]) -> Result<()>;
    /// Claims up to `limit` due jobs for `worker` until `lease_until`. Two workers never hold
    /// the same job at once.
    async fn claim_jobs(
        &self,
        worker: &str,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<Job>>;
    /// The job ran: remove it.
    ///
    /// This, `reschedule_job`, `retry_job` and `fail_job` leave alone a job that was rescheduled
    /// by its key while it ran: the new schedule wins over the old run's outcome.
    async fn complete_job(&self, id: i64) -> Result<()>;
    /// The job had nothing to do yet: run it again at `run_at`, without counting an attempt.
    async fn reschedule_job(&self, id: i64, run_at: OffsetDateTime) -> Result<()>;
    /// The job failed and should run again at `run_at`.
    async fn retry_job(&self, id: i64, error: &str, run_at: OffsetDateTime) -> Result<()>;
    /// The job failed for good: keep it, marked failed, for an operator to see.
    async fn fail_job(&self, id: i64, error: &str, now: OffsetDateTime) -> Result<()>;
    async fn failed_jobs(&self, limit: u32) -> Result<Vec<FailedJob>>;
    /// Jobs waiting to run (due or not), for metrics and readiness.
    async fn pending_job_count(&self) -> Result<i64>;

    async fn insert_api_key(
        &self,
        name: &str,
        role: Role,
        scopes: &[KeyScope],
        prefix: &str,
        hash: &str,
        now: OffsetDateTime,
    ) -> Result<ApiKey>;
    /// The unrevoked key with this hash.
    async fn api_key_by_hash(&self, hash: &str) -> Result<Option<ApiKey>>;
    /// Stops a key working from now on; revoking a revoked key keeps its first revocation.
    async fn revoke_api_key(&self, id: i64, now: OffsetDateTime) -> Result<()>;

    /// Every team, by code.
    async fn teams(&self) -> Result<Vec<Team>>;
    /// Adds a team; a code already used is [`StoreError::Taken`].
    async fn insert_team(&self, team: &Team) -> Result<Team>;
    /// Adds those of `teams` whose codes are not used yet, and leaves the others as they are.
    async fn ensure_teams(&self, teams: &[Team]) -> Result<()>;

    /// Adds a member of staff with their teams, in one transaction. An email address already
    /// used, in any case, is [`StoreError::Taken`].
    async fn insert_staff(&self, staff: &NewStaff) -> Result<Staff>;
    async fn staff_by_id(&self, id: i64) -> Result<Option<Staff>>;
    /// The member of staff with this email address, in any case.
    async fn staff_by_email(&self, email: &str) -> Result<Option<Staff>>;
    /// Everyone, active or not, by name.
    async fn list_staff(&self) -> Result<Vec<Staff>>;
    async fn set_staff_password(&self, id: i64, password_hash: &str) -> Result<()>;
    /// Stops a member of staff signing in from now on; deactivating again keeps the first time.
    async fn deactivate_staff(&self, id: i64, now: OffsetDateTime) -> Result<()>;
    /// Ends every session of a member of staff.
    async fn delete_staff_sessions(&self, staff_id: i64) -> Result<()>;

    /// Stores a new session. Returns `false`, storing nothing, if its id is taken.
    async fn insert_session(&self, session: &SessionRecord) -> Result<bool>;
    /// Saves a session that exists. One that has been deleted meanwhile (signed out, or ended
    /// with all of its staff member's sessions) stays deleted.
    async fn update_session(&self, session: &SessionRecord) -> Result<()>;
    /// The session with this id, unless it expired by `now`.
    async fn session(&self, id: &str, now: OffsetDateTime) -> Result<Option<SessionRecord>>;
    async fn delete_session(&self, id: &str) -> Result<()>;
    async fn delete_expired_sessions(&self, now: OffsetDateTime) -> Result<()>;

    /// Counts a failed sign-in against each key, and forgets failures from before
    /// `forget_before`.
    async fn record_sign_in_failure(
        &self,
        keys: &[String],
        at: OffsetDateTime,
        forget_before: OffsetDateTime,
    ) -> Result<()>;
    /// How many failed sign-ins were counted against `key` since `since`.
    async fn sign_in_failures(&self, key: &str, since: OffsetDateTime) -> Result<i64>;
    async fn clear_sign_in_failures(&self, key: &str) -> Result<()>;

    /// Stores a one-time set-password token by its hash, in place of any earlier one for the
    /// same member of staff, and forgets tokens expired by `now`.
    async fn insert_set_password_token(
        &self,
        staff_id: i64,
        hash: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<()>;
    /// Whose token this is, if it has not expired or been used.
    async fn set_password_token_staff(
        &self,
        hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<i64>>;
    /// Uses a token: sets its member of staff's password and spends the token, in one
    /// transaction. Returns whose password it set, or `None` for a token that is unknown,
    /// spent, expired or whose member of staff was deactivated.
    async fn set_password_with_token(
        &self,
        hash: &str,
        password_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<i64>>;
}
