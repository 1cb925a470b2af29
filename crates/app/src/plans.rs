//! Use cases on the shared plan: staff (and other systems) edit it, share it with the resident
//! through an access link, and the resident opens it and ticks their own actions off.
//!
//! A resident's token is 32 random bytes; only its SHA-256 is stored, so a fast hash is enough
//! (there is nothing to guess) and a lookup is one indexed read.

use std::net::IpAddr;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use casework_domain::calendar::uk_date;
use casework_domain::case::{Actor, Case, EventKind, Language, Reference};
use casework_domain::message::Message;
use casework_domain::plan::{
    self, ActionDraft, ActionId, Plan, PlanChange, PlanError, Side, reminder_due,
};
use casework_store::{AccessLink, DueAction, NewAccessLink};
use rand::RngCore;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::staff::failure_key;
use crate::{App, AppError, Caller, SIGN_IN_WINDOW, sha256_hex};

/// A link's use is put on the case's timeline at most this often, so that a resident reloading
/// their plan does not bury everything else; each use is still counted on the link.
const VIEW_EVENT_EVERY: Duration = Duration::hours(1);
/// Ticking an action can meet another change to the plan; the intent ("this is done") does not
/// depend on the rest of the plan, so it is tried again on the new version this many times.
const TICK_RETRIES: usize = 3;
const TOKEN_BYTES: usize = 32;
/// A token's length in unpadded base64url.
const TOKEN_CHARS: usize = (TOKEN_BYTES * 4).div_ceil(3);
/// Links that do not work, tried from one address within [`SIGN_IN_WINDOW`], before that
/// address is refused for a while: a person mistyping a link gets there rarely; a program
/// guessing tokens soon does.
const MAX_LINK_FAILURES_PER_CLIENT: i64 = 20;

/// A new action's identifier: UUID v7, so that identifiers sort in the order they were made.
pub(crate) fn new_action_id() -> ActionId {
    ActionId::new(Uuid::now_v7())
}

/// A link just made: the token is here and nowhere else.
#[derive(Debug, Clone)]
pub struct SharedPlan {
    pub link: AccessLink,
    pub token: String,
}

/// Why a resident's link does not open a plan. What a resident is told must not reveal which:
/// the web crate shows one page, and only the status differs (gone for expired or revoked).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkProblem {
    #[error("no such link")]
    Unknown,
    #[error("the link has expired")]
    Expired,
    #[error("the link was withdrawn")]
    Revoked,
}

/// What a resident's link shows: their case's plan and only what they need to read it, never
/// the case's internal fields or notes.
#[derive(Debug, Clone)]
pub struct ResidentPlan {
    pub reference: Reference,
    /// The service's name, as residents read it.
    pub service_name: String,
    pub description: Option<String>,
    pub open: bool,
    pub language: Language,
    pub plan: Plan,
    pub link: AccessLink,
    /// The conversation between the council and the resident, oldest first.
    pub messages: Vec<Message>,
}

impl App {
    /// The case and its plan, if the caller may see the case.
    pub async fn plan(
        &self,
        caller: &Caller,
        reference: Reference,
    ) -> Result<(Case, Plan), AppError> {
        let case = self.case(caller, reference).await?;
        let plan = self.store.plan(reference).await?;
        Ok((case, plan))
    }

    pub async fn set_plan_goal(
        &self,
        caller: &Caller,
        reference: Reference,
        version: i64,
        goal: Option<&str>,
    ) -> Result<Plan, AppError> {
        self.decide_plan(caller, reference, version, |plan| plan.set_goal(goal))
            .await
    }

    /// Adds an action; returns the plan and the new action's identifier.
    pub async fn add_plan_action(
        &self,
        caller: &Caller,
        reference: Reference,
        version: i64,
        draft: ActionDraft,
    ) -> Result<(Plan, ActionId), AppError> {
        let id = new_action_id();
        let today = uk_date(self.now());
        let plan = self
            .decide_plan(caller, reference, version, |plan| {
                plan.add_action(id, draft, today)
            })
            .await?;
        Ok((plan, id))
    }

    pub async fn change_plan_action(
        &self,
        caller: &Caller,
        reference: Reference,
        version: i64,
        id: ActionId,
        draft: ActionDraft,
    ) -> Result<Plan, AppError> {
        let today = uk_date(self.now());
        self.decide_plan(caller, reference, version, |plan| {
            plan.change_action(id, draft, today)
        })
        .await
    }

    pub async fn remove_plan_action(
        &self,
        caller: &Caller,
        reference: Reference,
        version: i64,
        id: ActionId,
    ) -> Result<Plan, AppError> {
        self.decide_plan(caller, reference, version, |plan| plan.remove_action(id))
            .await
    }

    /// Moves an action to `to` (0 is first).
    pub async fn move_plan_action(
        &self,
        caller: &Caller,
        reference: Reference,
        version: i64,
        id: ActionId,
        to: usize,
    ) -> Result<Plan, AppError> {
        self.decide_plan(caller, reference, version, |plan| plan.move_action(id, to))
            .await
    }

    /// Ticks an action off for the council. Needs no version: ticking is the same whatever
    /// else changed, and ticking twice records it once.
    pub async fn complete_plan_action(
        &self,
        caller: &Caller,
        reference: Reference,
        id: ActionId,
    ) -> Result<Plan, AppError> {
        let case = self.case(caller, reference).await?;
        let now = self.now();
        self.retrying(&case, &caller.actor, |plan| {
            plan.complete_action(id, Side::Council, &caller.actor, now)
        })
        .await
    }

    pub async fn reopen_plan_action(
        &self,
        caller: &Caller,
        reference: Reference,
        id: ActionId,
    ) -> Result<Plan, AppError> {
        let case = self.case(caller, reference).await?;
        self.retrying(&case, &caller.actor, |plan| {
            plan.reopen_action(id, Side::Council)
        })
        .await
    }

    /// Makes a new link to the case's plan for the resident, valid for the service's number
    /// of days. Earlier links keep working until they expire or are revoked.
    pub async fn share_plan(
        &self,
        caller: &Caller,
        reference: Reference,
    ) -> Result<SharedPlan, AppError> {
        let case = self.case(caller, reference).await?;
        plan::check_changeable(&case)?;
        let days = self.service(&case.service)?.plan.link_expires_after_days;
        let mut bytes = [0u8; TOKEN_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        let token = URL_SAFE_NO_PAD.encode(bytes);
        let now = self.now();
        let link = self
            .store
            .insert_access_link(&NewAccessLink {
                case: reference,
                token_hash: sha256_hex(token.as_bytes()),
                created_at: now,
                created_by: caller.actor.clone(),
                expires_at: now + Duration::days(i64::from(days)),
            })
            .await?;
        Ok(SharedPlan { link, token })
    }

    /// The case's links, newest first.
    pub async fn access_links(
        &self,
        caller: &Caller,
        reference: Reference,
    ) -> Result<Vec<AccessLink>, AppError> {
        self.case(caller, reference).await?;
        Ok(self.store.access_links(reference).await?)
    }

    /// Stops one of the case's links working. Revoking a revoked link changes nothing.
    pub async fn revoke_access_link(
        &self,
        caller: &Caller,
        reference: Reference,
        link: i64,
    ) -> Result<(), AppError> {
        self.case(caller, reference).await?;
        let links = self.store.access_links(reference).await?;
        if !links.iter().any(|l| l.id == link) {
            return Err(AppError::LinkNotFound(link));
        }
        self.store
            .revoke_access_link(reference, link, &caller.actor, self.now())
            .await?;
        Ok(())
    }

    /// Whether `client` has tried too many links that do not work lately to be answered now.
    /// Failures are counted with failed sign-ins, in the database, so that every replica sees
    /// them.
    pub async fn link_lookups_refused(&self, client: Option<IpAddr>) -> Result<bool, AppError> {
        let Some(ip) = client else {
            return Ok(false);
        };
        let key = failure_key("plan-link", &ip.to_string());
        let since = self.now() - SIGN_IN_WINDOW;
        Ok(self.store.sign_in_failures(&key, since).await? >= MAX_LINK_FAILURES_PER_CLIENT)
    }

    /// Counts a link that did not work against `client`.
    pub async fn record_link_failure(&self, client: Option<IpAddr>) -> Result<(), AppError> {
        let Some(ip) = client else {
            return Ok(());
        };
        let now = self.now();
        let key = failure_key("plan-link", &ip.to_string());
        self.store
            .record_sign_in_failure(&[key], now, now - SIGN_IN_WINDOW)
            .await?;
        tracing::info!("a plan link that does not work was used");
        Ok(())
    }

    /// Opens a resident's plan from their token, and records the use.
    pub async fn resident_plan(&self, token: &str) -> Result<ResidentPlan, AppError> {
        let link = self.working_link(token).await?;
        let now = self.now();
        let viewed = link
            .last_used_at
            .is_none_or(|last| now - last >= VIEW_EVENT_EVERY)
            .then_some(EventKind::PlanViewed { link: link.id });
        self.store
            .record_access_link_use(&link, now, viewed.as_ref())
            .await?;
        self.resident_view(link).await
    }

    /// The resident's plan, without counting a use of the link: for showing it again with
    /// why a change was refused.
    pub async fn resident_plan_unrecorded(&self, token: &str) -> Result<ResidentPlan, AppError> {
        let link = self.working_link(token).await?;
        self.resident_view(link).await
    }

    /// The resident ticks one of their own actions off.
    pub async fn resident_complete_action(
        &self,
        token: &str,
        id: ActionId,
    ) -> Result<ResidentPlan, AppError> {
        let now = self.now();
        self.resident_change(token, |plan| {
            plan.complete_action(id, Side::Resident, &Actor::Resident, now)
        })
        .await
    }

    /// The resident undoes one of their own ticks.
    pub async fn resident_reopen_action(
        &self,
        token: &str,
        id: ActionId,
    ) -> Result<ResidentPlan, AppError> {
        self.resident_change(token, |plan| plan.reopen_action(id, Side::Resident))
            .await
    }

    /// Records reminders for residents' actions due soon or today, once per action and due
    /// date. Returns how many it recorded, and whether there may be more to do now.
    pub(crate) async fn remind_residents(&self) -> Result<(usize, bool), AppError> {
        const BATCH: u32 = 500;
        let now = self.now();
        let today = uk_date(now);
        let mut recorded = 0;
        let mut more = false;
        for service in self.services.iter() {
            let days_before = service.plan.remind_before_working_days;
            let until = self
                .calendar
                .add_working_days(today, days_before)
                .max(today);
            let due = self
                .store
                .unreminded_actions(&service.code, today, until, BATCH)
                .await?;
            more |= due.len() == BATCH as usize;
            for due in due {
                recorded += usize::from(self.remind(&due, today, days_before, now).await?);
            }
        }
        Ok((recorded, more))
    }

    async fn remind(
        &self,
        due: &DueAction,
        today: time::Date,
        days_before: u32,
        now: OffsetDateTime,
    ) -> Result<bool, AppError> {
        let Some(due_on) = due.action.due_on else {
            return Ok(false);
        };
        let Some(reminder) = reminder_due(&self.calendar, due_on, today, days_before) else {
            return Ok(false);
        };
        let event = EventKind::PlanReminder {
            action: due.action.id,
            title: due.action.title.clone(),
            due_on,
            reminder,
        };
        Ok(self
            .store
            .record_reminder(due, reminder, &event, now)
            .await?)
    }

    pub(crate) async fn working_link(&self, token: &str) -> Result<AccessLink, AppError> {
        // Anything that cannot be a token is not looked up.
        if token.len() != TOKEN_CHARS || URL_SAFE_NO_PAD.decode(token).is_err() {
            return Err(AppError::Link(LinkProblem::Unknown));
        }
        let link = self
            .store
            .access_link_by_hash(&sha256_hex(token.as_bytes()))
            .await?
            .ok_or(AppError::Link(LinkProblem::Unknown))?;
        if link.revoked_at.is_some() {
            return Err(AppError::Link(LinkProblem::Revoked));
        }
        if link.expires_at <= self.now() {
            return Err(AppError::Link(LinkProblem::Expired));
        }
        Ok(link)
    }

    async fn resident_view(&self, link: AccessLink) -> Result<ResidentPlan, AppError> {
        let case = self
            .store
            .case(link.case)
            .await?
            .ok_or(AppError::Link(LinkProblem::Unknown))?;
        let plan = self.store.plan(link.case).await?;
        let messages = self.store.messages(link.case).await?;
        let service_name = self
            .services
            .get(&case.service)
            .map_or_else(|| case.service.clone(), |s| s.name.clone());
        Ok(ResidentPlan {
            reference: case.reference,
            service_name,
            description: case.description.clone(),
            open: case.is_open(),
            language: case.contact.language,
            plan,
            link,
            messages,
        })
    }

    async fn resident_change(
        &self,
        token: &str,
        decide: impl Fn(&Plan) -> Result<PlanChange, PlanError>,
    ) -> Result<ResidentPlan, AppError> {
        let link = self.working_link(token).await?;
        let case = self
            .store
            .case(link.case)
            .await?
            .ok_or(AppError::Link(LinkProblem::Unknown))?;
        self.retrying(&case, &Actor::Resident, decide).await?;
        self.store
            .record_access_link_use(&link, self.now(), None)
            .await?;
        self.resident_view(link).await
    }

    /// Applies a change that does not depend on the version the caller saw, trying again on
    /// the new version if the plan changed meanwhile.
    async fn retrying(
        &self,
        case: &Case,
        actor: &Actor,
        decide: impl Fn(&Plan) -> Result<PlanChange, PlanError>,
    ) -> Result<Plan, AppError> {
        plan::check_changeable(case)?;
        let mut attempt = 0;
        loop {
            let current = self.store.plan(case.reference).await?;
            match self
                .save_plan(case.reference, actor, decide(&current)?)
                .await
            {
                Err(AppError::PlanConflict { .. }) if attempt < TICK_RETRIES => attempt += 1,
                other => return other,
            }
        }
    }

    /// The shape of every versioned plan change: the caller may see the case, the case is
    /// open, the version is the one they read; then the domain decides and the store saves.
    async fn decide_plan(
        &self,
        caller: &Caller,
        reference: Reference,
        version: i64,
        decide: impl FnOnce(&Plan) -> Result<PlanChange, PlanError>,
    ) -> Result<Plan, AppError> {
        let case = self.case(caller, reference).await?;
        plan::check_changeable(&case)?;
        let current = self.store.plan(reference).await?;
        if current.version != version {
            return Err(AppError::PlanConflict {
                expected: version,
                current: Box::new(current),
            });
        }
        self.save_plan(reference, &caller.actor, decide(&current)?)
            .await
    }

    async fn save_plan(
        &self,
        reference: Reference,
        actor: &Actor,
        change: PlanChange,
    ) -> Result<Plan, AppError> {
        if change.is_empty() {
            return Ok(change.plan);
        }
        Ok(self
            .store
            .save_plan(reference, &change.plan, actor, &change.events, self.now())
            .await?)
    }
}
