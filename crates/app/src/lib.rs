//! Casework's use cases: where a user's intent becomes a transaction. Each public function on
//! [`App`] is one thing a user or another system does: load what it needs, ask the domain for a
//! decision, and save the case, its events and its jobs together through the store.
//!
//! This crate must not depend on HTTP, HTML or a particular database: the web crate calls it,
//! the worker calls it, and it reaches storage only through `casework_store::Store`.

mod access;
mod api_keys;
mod bulk;
mod cases;
mod config;
pub mod demo;
mod directory;
mod error;
mod health;
mod intake;
mod jobs;
mod messages;
mod open311;
mod plans;
mod replies;
mod services;
mod staff;
mod webhooks;

use std::sync::Arc;

use casework_domain::calendar::WorkingCalendar;
use casework_domain::case::Actor;
use casework_domain::service::{Role, ServiceCatalogue};
use casework_store::Store;
use time::OffsetDateTime;

pub use api_keys::{KeyCheck, NewApiKey, sha256_hex};
pub use bulk::{BulkOutcome, MAX_BULK_CASES, SelectedCase};
pub use cases::{CaseChangeRequest, NewCaseRequest};
pub use config::{Feature, Features};
pub use directory::Directory;
pub use error::AppError;
pub use health::Readiness;
pub use intake::{
    CONFIRMATION_TEMPLATE, DUPLICATE_WINDOW, MAX_REQUESTS_PER_CLIENT, RequestOutcome,
    ResidentRequest,
};
pub use jobs::JobOutcome;
pub use messages::{Senders, TemplatePreview};
pub use open311::{
    Open311Query, Open311Receipt, Open311Report, Open311Update, Open311UpdateRequest,
};
pub use plans::{LinkProblem, ResidentPlan, SharedPlan};
pub use replies::{Filed, ReplyAddress};
pub use services::{load_calendar, load_services};
pub use staff::{
    MIN_PASSWORD_CHARS, NewStaffMember, SIGN_IN_WINDOW, SetPasswordLink, SignIn, StaffMember,
};
pub use webhooks::{NewWebhook, NewWebhookRequest};

pub use casework_domain as domain;
pub use casework_store as store;

/// Where the app reads the time. Production uses the system clock; tests may fix it.
pub type Clock = Arc<dyn Fn() -> OffsetDateTime + Send + Sync>;

pub fn system_clock() -> Clock {
    Arc::new(OffsetDateTime::now_utc)
}

/// Who is asking, and what they may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub actor: Actor,
    pub role: Role,
    /// Set for API clients, whose idempotency keys are scoped to their key.
    pub api_key_id: Option<i64>,
    /// The teams whose cases a member of staff works (see `access`); `None` for callers who
    /// work every team's: admins, the system and API clients.
    pub teams: Option<Vec<String>>,
}

/// The application: the store, the loaded services and the calendar they count SLAs in.
#[derive(Clone)]
pub struct App {
    store: Arc<dyn Store>,
    services: Arc<ServiceCatalogue>,
    calendar: Arc<WorkingCalendar>,
    features: Features,
    clock: Clock,
    senders: Senders,
    /// Where residents' email replies go, if the council takes them in.
    reply_address: Option<ReplyAddress>,
    /// How long a webhook endpoint has to answer.
    webhook_timeout: std::time::Duration,
}

impl App {
    pub fn new(
        store: Arc<dyn Store>,
        services: ServiceCatalogue,
        calendar: WorkingCalendar,
        features: Features,
    ) -> Self {
        Self {
            store,
            services: Arc::new(services),
            calendar: Arc::new(calendar),
            features,
            clock: system_clock(),
            senders: Senders::default(),
            reply_address: None,
            webhook_timeout: webhooks::DEFAULT_TIMEOUT,
        }
    }

    /// The same app sending messages by `senders`.
    pub fn with_senders(mut self, senders: Senders) -> Self {
        self.senders = senders;
        self
    }

    /// The same app giving each outbound email a reply address at `address`, by which a
    /// resident's answer finds its case.
    pub fn with_reply_address(mut self, address: ReplyAddress) -> Self {
        self.reply_address = Some(address);
        self
    }

    /// The same app reading the time from `clock`.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    pub fn services(&self) -> &ServiceCatalogue {
        &self.services
    }

    pub fn calendar(&self) -> &WorkingCalendar {
        &self.calendar
    }

    pub fn features(&self) -> &Features {
        &self.features
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn now(&self) -> OffsetDateTime {
        (self.clock)()
    }
}
