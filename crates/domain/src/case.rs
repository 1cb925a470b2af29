//! A case is one service request. This module decides what happens to a case: opening it, changing
//! its answers or priority, moving it through its service's workflow, assigning it, adding notes
//! and breaching its SLA. Each decision returns a [`Change`]: the case as it will be and the
//! events to append to its timeline. Nothing here is saved; the app layer does that in one
//! transaction.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::calendar::WorkingCalendar;
use crate::message::{MessageChannel, MessageId, MessageStatus};
use crate::plan::{ActionDraft, ActionId, Plan, Reminder};
use crate::service::answers::{
    Answers, FieldError, missing_message, normalise_email, normalise_phone,
};
use crate::service::{ActionOwner, Role, Service};

/// A case's public reference, `CW-000123`. It is the case's number in the store, which never
/// reuses a number, so a reference is never given to two cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Reference(i64);

impl Reference {
    pub const PREFIX: &'static str = "CW-";

    pub fn new(number: i64) -> Self {
        Self(number)
    }

    pub fn number(self) -> i64 {
        self.0
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{:06}", Self::PREFIX, self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a case reference looks like CW-000123")]
pub struct BadReference;

impl FromStr for Reference {
    type Err = BadReference;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let digits = s
            .trim()
            .strip_prefix(Self::PREFIX)
            .or_else(|| s.trim().strip_prefix("cw-"))
            .ok_or(BadReference)?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(BadReference);
        }
        match digits.parse::<i64>() {
            Ok(n) if n > 0 => Ok(Self(n)),
            _ => Err(BadReference),
        }
    }
}

impl Serialize for Reference {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// How a resident prefers to hear from the council.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    #[default]
    Email,
    Sms,
    Post,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Sms => "sms",
            Self::Post => "post",
        }
    }
}

impl FromStr for Channel {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "email" => Ok(Self::Email),
            "sms" => Ok(Self::Sms),
            "post" => Ok(Self::Post),
            _ => Err(()),
        }
    }
}

/// The language a resident reads: English or Welsh.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    #[default]
    En,
    Cy,
}

impl Language {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Cy => "cy",
        }
    }
}

impl FromStr for Language {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "en" => Ok(Self::En),
            "cy" => Ok(Self::Cy),
            _ => Err(()),
        }
    }
}

/// The resident on a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    #[serde(default)]
    pub preferred_channel: Channel,
    #[serde(default)]
    pub language: Language,
}

impl Contact {
    /// Trims and normalises the contact, or names every field that is wrong.
    pub fn checked(self) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = self.name.trim().to_owned();
        if name.is_empty() {
            errors.push(FieldError::new("contact.name", "Enter the resident's name"));
        } else if name.chars().count() > 200 {
            errors.push(FieldError::new(
                "contact.name",
                "Name must be 200 characters or fewer",
            ));
        }
        let email = non_blank(self.email).and_then(|e| match normalise_email(&e) {
            Some(e) => Some(e),
            None => {
                errors.push(FieldError::new(
                    "contact.email",
                    "Enter an email address in the correct format, like name@example.com",
                ));
                None
            }
        });
        let phone = non_blank(self.phone).and_then(|p| match normalise_phone(&p) {
            Some(p) => Some(p),
            None => {
                errors.push(FieldError::new(
                    "contact.phone",
                    "Enter a UK phone number, like 01632 960 001 or 07700 900 982",
                ));
                None
            }
        });
        match self.preferred_channel {
            Channel::Email if self_missing(&errors, "contact.email") && email.is_none() => errors
                .push(FieldError::new(
                    "contact.email",
                    "Enter an email address, or choose another way to contact the resident",
                )),
            Channel::Sms if self_missing(&errors, "contact.phone") && phone.is_none() => errors
                .push(FieldError::new(
                    "contact.phone",
                    "Enter a mobile number, or choose another way to contact the resident",
                )),
            _ => {}
        }
        if errors.is_empty() {
            Ok(Self {
                name,
                email,
                phone,
                preferred_channel: self.preferred_channel,
                language: self.language,
            })
        } else {
            Err(errors)
        }
    }
}

fn self_missing(errors: &[FieldError], field: &str) -> bool {
    !errors.iter().any(|e| e.field == field)
}

fn non_blank(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// Where the request is about: a point, an address, or both.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Location {
    pub lat: Option<f64>,
    pub long: Option<f64>,
    pub address: Option<String>,
}

impl Location {
    fn checked(self) -> Result<Option<Self>, Vec<FieldError>> {
        let mut errors = Vec::new();
        match (self.lat, self.long) {
            (Some(lat), Some(long)) => {
                if !(49.0..=61.0).contains(&lat) {
                    errors.push(FieldError::new(
                        "location.lat",
                        "Latitude must be in the UK (49 to 61)",
                    ));
                }
                if !(-9.0..=2.5).contains(&long) {
                    errors.push(FieldError::new(
                        "location.long",
                        "Longitude must be in the UK (-9 to 2.5)",
                    ));
                }
            }
            (None, None) => {}
            (None, Some(_)) => errors.push(FieldError::new(
                "location.lat",
                "Give a latitude with the longitude",
            )),
            (Some(_), None) => errors.push(FieldError::new(
                "location.long",
                "Give a longitude with the latitude",
            )),
        }
        let address = non_blank(self.address);
        if !errors.is_empty() {
            return Err(errors);
        }
        if self.lat.is_none() && address.is_none() {
            return Ok(None);
        }
        Ok(Some(Self {
            lat: self.lat,
            long: self.long,
            address,
        }))
    }
}

/// A case that lives in another council system, known there by its own reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalReference {
    pub system: String,
    pub reference: String,
}

impl ExternalReference {
    fn checked(self) -> Result<Self, Vec<FieldError>> {
        let system = self.system.trim().to_owned();
        let reference = self.reference.trim().to_owned();
        let mut errors = Vec::new();
        if system.is_empty() || system.len() > 100 {
            errors.push(FieldError::new(
                "external.system",
                "Name the system the case comes from, in 100 characters or fewer",
            ));
        }
        if reference.is_empty() || reference.len() > 200 {
            errors.push(FieldError::new(
                "external.reference",
                "Give the case's reference in that system, in 200 characters or fewer",
            ));
        }
        if errors.is_empty() {
            Ok(Self { system, reference })
        } else {
            Err(errors)
        }
    }
}

/// How a resident reached the council with a case, when it came in through one of Casework's
/// own front doors rather than from staff or another system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportedVia {
    /// The resident request form at `/requests/new/{service}`.
    WebForm,
}

impl ReportedVia {
    /// How staff read it: "web form".
    pub fn label(self) -> &'static str {
        match self {
            Self::WebForm => "web form",
        }
    }
}

/// Who did something to a case. Stored and shown as `staff:EMAIL`, `api:KEY-NAME`, `resident`
/// or `system`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Actor {
    Staff(String),
    ApiClient(String),
    Resident,
    System,
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Staff(email) => write!(f, "staff:{email}"),
            Self::ApiClient(name) => write!(f, "api:{name}"),
            Self::Resident => f.write_str("resident"),
            Self::System => f.write_str("system"),
        }
    }
}

impl FromStr for Actor {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "resident" => Ok(Self::Resident),
            "system" => Ok(Self::System),
            _ => match s.split_once(':') {
                Some(("staff", who)) => Ok(Self::Staff(who.to_owned())),
                Some(("api", who)) => Ok(Self::ApiClient(who.to_owned())),
                _ => Err(()),
            },
        }
    }
}

impl Serialize for Actor {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// What happened to a case: one entry on its timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    Created {
        state: String,
        priority: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        external: Option<ExternalReference>,
        /// The front door it came in by, when that was one of Casework's own.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        via: Option<ReportedVia>,
    },
    FieldChanged {
        field: String,
        from: Option<serde_json::Value>,
        to: Option<serde_json::Value>,
    },
    PriorityChanged {
        from: String,
        to: String,
        #[serde(with = "time::serde::rfc3339")]
        sla_due_at: OffsetDateTime,
    },
    Transitioned {
        transition: String,
        from: String,
        to: String,
    },
    Assigned {
        from_team: String,
        to_team: String,
        from_assignee: Option<String>,
        to_assignee: Option<String>,
    },
    NoteAdded {
        text: String,
    },
    SlaBreached {
        #[serde(with = "time::serde::rfc3339")]
        due_at: OffsetDateTime,
    },
    PlanGoalSet {
        from: Option<String>,
        to: Option<String>,
    },
    PlanActionAdded {
        action: ActionId,
        owner: ActionOwner,
        title: String,
        #[serde(default, with = "iso_date::option")]
        due_on: Option<Date>,
    },
    PlanActionChanged {
        action: ActionId,
        from: ActionDraft,
        to: ActionDraft,
    },
    PlanActionRemoved {
        action: ActionId,
        title: String,
    },
    /// Positions count from 1, as people read them.
    PlanActionMoved {
        action: ActionId,
        title: String,
        from: usize,
        to: usize,
    },
    PlanActionCompleted {
        action: ActionId,
        owner: ActionOwner,
        title: String,
    },
    PlanActionReopened {
        action: ActionId,
        owner: ActionOwner,
        title: String,
    },
    /// A link to the plan was made for the resident.
    PlanShared {
        link: i64,
        #[serde(with = "time::serde::rfc3339")]
        expires_at: OffsetDateTime,
    },
    PlanLinkRevoked {
        link: i64,
    },
    /// The resident opened their plan (recorded at most once an hour per link, so that
    /// reloading the page does not flood the timeline; every use is counted on the link).
    PlanViewed {
        link: i64,
    },
    /// The resident is due a reminder of one of their actions.
    PlanReminder {
        action: ActionId,
        title: String,
        #[serde(with = "iso_date")]
        due_on: Date,
        reminder: Reminder,
    },
    /// A message to the resident was written and queued to send.
    MessageSent {
        message: MessageId,
        channel: MessageChannel,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        template: Option<String>,
    },
    /// A message could not be delivered.
    MessageFailed {
        message: MessageId,
        channel: MessageChannel,
        status: MessageStatus,
        reason: String,
    },
    /// The resident wrote to the council.
    MessageReceived {
        message: MessageId,
        channel: MessageChannel,
    },
}

time::serde::format_description!(pub iso_date, Date, "[year]-[month]-[day]");

impl EventKind {
    /// The name stored in the event's `kind` column and shown in the API.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Created { .. } => "created",
            Self::FieldChanged { .. } => "field_changed",
            Self::PriorityChanged { .. } => "priority_changed",
            Self::Transitioned { .. } => "transitioned",
            Self::Assigned { .. } => "assigned",
            Self::NoteAdded { .. } => "note_added",
            Self::SlaBreached { .. } => "sla_breached",
            Self::PlanGoalSet { .. } => "plan_goal_set",
            Self::PlanActionAdded { .. } => "plan_action_added",
            Self::PlanActionChanged { .. } => "plan_action_changed",
            Self::PlanActionRemoved { .. } => "plan_action_removed",
            Self::PlanActionMoved { .. } => "plan_action_moved",
            Self::PlanActionCompleted { .. } => "plan_action_completed",
            Self::PlanActionReopened { .. } => "plan_action_reopened",
            Self::PlanShared { .. } => "plan_shared",
            Self::PlanLinkRevoked { .. } => "plan_link_revoked",
            Self::PlanViewed { .. } => "plan_viewed",
            Self::PlanReminder { .. } => "plan_reminder",
            Self::MessageSent { .. } => "message_sent",
            Self::MessageFailed { .. } => "message_failed",
            Self::MessageReceived { .. } => "message_received",
        }
    }
}

/// A case as stored, with its optimistic-concurrency `version`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Case {
    pub reference: Reference,
    pub service: String,
    pub state: String,
    pub priority: String,
    /// The priority's [rank](Service::priority_rank) in its service, kept with it so that the
    /// store can sort by priority.
    #[serde(skip)]
    pub priority_rank: i32,
    pub team: String,
    pub assignee: Option<String>,
    pub contact: Contact,
    pub answers: Answers,
    pub description: Option<String>,
    pub location: Option<Location>,
    pub external: Option<ExternalReference>,
    #[serde(with = "time::serde::rfc3339")]
    pub sla_due_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub sla_breached_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub closed_at: Option<OffsetDateTime>,
    pub version: i64,
}

/// What a caller asks for when reporting a new case.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CaseDraft {
    pub priority: Option<String>,
    pub team: Option<String>,
    pub contact: Option<Contact>,
    pub answers: Answers,
    pub description: Option<String>,
    pub location: Option<Location>,
    pub external: Option<ExternalReference>,
}

/// A case about to be stored for the first time; the store gives it its reference.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCase {
    pub service: String,
    pub state: String,
    pub priority: String,
    pub priority_rank: i32,
    pub team: String,
    pub contact: Contact,
    pub answers: Answers,
    pub description: Option<String>,
    pub location: Option<Location>,
    pub external: Option<ExternalReference>,
    pub sla_due_at: OffsetDateTime,
    pub created_at: OffsetDateTime,
    /// Set only when importing a case that is already closed.
    pub closed_at: Option<OffsetDateTime>,
    /// The shared plan it starts with, from its service's template.
    pub plan: Plan,
}

/// The decision to open a case.
#[derive(Debug, Clone, PartialEq)]
pub struct Opening {
    pub case: NewCase,
    pub events: Vec<EventKind>,
}

impl Opening {
    /// The same decision, recording on the case's first event the front door it came in by.
    pub fn reported_via(mut self, channel: ReportedVia) -> Self {
        for event in &mut self.events {
            if let EventKind::Created { via, .. } = event {
                *via = Some(channel);
            }
        }
        self
    }
}

/// The decision to change a case: the case as it will be and the events to append. A change
/// with no events changed nothing and need not be saved.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub case: Case,
    pub events: Vec<EventKind>,
}

impl Change {
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }
}

/// Why a change to a case was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CaseError {
    #[error("some fields are missing or wrong")]
    Invalid(Vec<FieldError>),
    #[error("the service has no transition \"{0}\"")]
    UnknownTransition(String),
    #[error("\"{transition}\" cannot be used on a case that is {state}")]
    TransitionNotAllowed { transition: String, state: String },
    #[error("\"{transition}\" needs the {needed} role")]
    RoleRequired { transition: String, needed: Role },
    #[error("the case is closed: reopen it before changing its answers or priority")]
    Closed,
}

impl From<Vec<FieldError>> for CaseError {
    fn from(errors: Vec<FieldError>) -> Self {
        Self::Invalid(errors)
    }
}

const MAX_DESCRIPTION: usize = 10_000;
const MAX_NOTE: usize = 10_000;
const MAX_TEAM: usize = 100;

/// Decides how a new case opens: its answers checked against the service, its initial state,
/// priority, team and SLA due time.
pub fn open_case(
    service: &Service,
    calendar: &WorkingCalendar,
    draft: CaseDraft,
    now: OffsetDateTime,
    new_action_id: impl FnMut() -> ActionId,
) -> Result<Opening, CaseError> {
    let mut errors = Vec::new();
    let answers = service.check_answers(&draft.answers).unwrap_or_else(|e| {
        errors.extend(under_answers(e));
        Answers::new()
    });
    let contact = match draft.contact {
        Some(contact) => contact.checked().map_err(|e| errors.extend(e)).ok(),
        None => {
            errors.push(FieldError::new(
                "contact",
                "Give the resident's contact details",
            ));
            None
        }
    };
    let priority = draft
        .priority
        .unwrap_or_else(|| service.default_priority.clone());
    let sla_days = match service.priority(&priority) {
        Some(p) => p.working_days,
        None => {
            errors.push(unknown_priority(service));
            0
        }
    };
    let team = match draft.team.map(|t| t.trim().to_owned()) {
        Some(t) if t.is_empty() || t.len() > MAX_TEAM => {
            errors.push(FieldError::new("team", "Team must be 1 to 100 characters"));
            String::new()
        }
        Some(t) => t,
        None => service.team.clone(),
    };
    let description = checked_description(draft.description).map_err(|e| errors.push(e));
    let location = match draft.location {
        Some(l) => l.checked().map_err(|e| errors.extend(e)).ok().flatten(),
        None => None,
    };
    let external = match draft.external {
        Some(x) => x.checked().map_err(|e| errors.extend(e)).ok(),
        None => None,
    };
    let (Some(contact), Ok(description), true) = (contact, description, errors.is_empty()) else {
        return Err(CaseError::Invalid(errors));
    };
    let sla_due_at = calendar.sla_due(now, sla_days);
    let state = service.workflow.initial.clone();
    Ok(Opening {
        events: vec![EventKind::Created {
            state: state.clone(),
            priority: priority.clone(),
            external: external.clone(),
            via: None,
        }],
        case: NewCase {
            service: service.code.clone(),
            state,
            priority_rank: service.priority_rank(&priority),
            priority,
            team,
            contact,
            answers,
            description,
            location,
            external,
            sla_due_at,
            created_at: now,
            closed_at: None,
            plan: Plan::from_template(&service.plan, calendar, now, new_action_id),
        },
    })
}

/// Names answer fields as they appear in a request, `answers.CODE`.
fn under_answers(errors: Vec<FieldError>) -> Vec<FieldError> {
    errors
        .into_iter()
        .map(|e| FieldError::new(format!("answers.{}", e.field), e.message))
        .collect()
}

fn unknown_priority(service: &Service) -> FieldError {
    let known: Vec<&str> = service.priorities.iter().map(|p| p.code.as_str()).collect();
    FieldError::new(
        "priority",
        format!("Priority must be one of: {}", known.join(", ")),
    )
}

fn checked_description(description: Option<String>) -> Result<Option<String>, FieldError> {
    match non_blank(description) {
        Some(d) if d.chars().count() > MAX_DESCRIPTION => Err(FieldError::new(
            "description",
            "Description must be 10,000 characters or fewer",
        )),
        d => Ok(d),
    }
}

impl Case {
    pub fn is_open(&self) -> bool {
        self.closed_at.is_none()
    }

    /// Whether the SLA due time has passed on an open case.
    pub fn is_overdue(&self, now: OffsetDateTime) -> bool {
        self.is_open() && now > self.sla_due_at
    }

    fn changed(&self, now: OffsetDateTime) -> Change {
        let mut case = self.clone();
        case.updated_at = now;
        Change {
            case,
            events: Vec::new(),
        }
    }

    /// Changes some answers; a JSON null clears one. Only fields whose value really changes
    /// produce an event.
    pub fn change_answers(
        &self,
        service: &Service,
        changes: &Answers,
        now: OffsetDateTime,
    ) -> Result<Change, CaseError> {
        if !self.is_open() {
            return Err(CaseError::Closed);
        }
        let checked = service
            .check_answer_changes(changes)
            .map_err(under_answers)?;
        let mut change = self.changed(now);
        change.apply_answers(checked);
        Ok(change)
    }

    /// Changes the priority, which moves the SLA due time: it is counted again from when the
    /// case was opened, in the new priority's working days.
    pub fn change_priority(
        &self,
        service: &Service,
        calendar: &WorkingCalendar,
        priority: &str,
        now: OffsetDateTime,
    ) -> Result<Change, CaseError> {
        if !self.is_open() {
            return Err(CaseError::Closed);
        }
        let days = service
            .priority(priority)
            .ok_or_else(|| CaseError::Invalid(vec![unknown_priority(service)]))?
            .working_days;
        let mut change = self.changed(now);
        if priority == self.priority {
            return Ok(change);
        }
        let sla_due_at = calendar.sla_due(self.created_at, days);
        change.case.priority = priority.to_owned();
        change.case.priority_rank = service.priority_rank(priority);
        change.case.sla_due_at = sla_due_at;
        change.case.sla_breached_at = None;
        change.events.push(EventKind::PriorityChanged {
            from: self.priority.clone(),
            to: priority.to_owned(),
            sla_due_at,
        });
        Ok(change)
    }

    /// Moves the case along one of its service's transitions. Answers given with the
    /// transition are saved with it, and every field the transition needs must then have a
    /// value. Reopening starts a new SLA, counted from now.
    pub fn transition(
        &self,
        service: &Service,
        calendar: &WorkingCalendar,
        code: &str,
        role: Role,
        answers: &Answers,
        now: OffsetDateTime,
    ) -> Result<Change, CaseError> {
        let transition = service
            .workflow
            .transition(code)
            .ok_or_else(|| CaseError::UnknownTransition(code.to_owned()))?;
        if !transition.from.contains(&self.state) {
            return Err(CaseError::TransitionNotAllowed {
                transition: code.to_owned(),
                state: self.state.clone(),
            });
        }
        if role < transition.role {
            return Err(CaseError::RoleRequired {
                transition: code.to_owned(),
                needed: transition.role,
            });
        }
        let checked = service
            .check_answer_changes(answers)
            .map_err(under_answers)?;
        let mut change = self.changed(now);
        change.apply_answers(checked);
        let missing: Vec<FieldError> = transition
            .fields
            .iter()
            .filter(|f| change.case.answers.get(*f).is_none_or(|v| v.is_null()))
            .map(|f| {
                let message = service
                    .field(f)
                    .map_or_else(|| format!("Enter {f}"), missing_message);
                FieldError::new(format!("answers.{f}"), message)
            })
            .collect();
        if !missing.is_empty() {
            return Err(CaseError::Invalid(missing));
        }
        let closes = service.workflow.is_closed(&transition.to);
        change.case.state = transition.to.clone();
        if closes {
            change.case.closed_at = Some(now);
        } else if !self.is_open() {
            let days = service
                .priority(&self.priority)
                .map_or(0, |p| p.working_days);
            let sla_due_at = calendar.sla_due(now, days);
            change.case.closed_at = None;
            change.case.sla_due_at = sla_due_at;
            change.case.sla_breached_at = None;
        }
        change.events.push(EventKind::Transitioned {
            transition: code.to_owned(),
            from: self.state.clone(),
            to: transition.to.clone(),
        });
        Ok(change)
    }

    /// Gives the case to a team, and to a person in it or to nobody.
    pub fn assign(
        &self,
        team: Option<String>,
        assignee: Option<String>,
        now: OffsetDateTime,
    ) -> Result<Change, CaseError> {
        let team = match team.map(|t| t.trim().to_owned()) {
            None => self.team.clone(),
            Some(t) if t.is_empty() || t.len() > MAX_TEAM => {
                return Err(CaseError::Invalid(vec![FieldError::new(
                    "team",
                    "Team must be 1 to 100 characters",
                )]));
            }
            Some(t) => t,
        };
        let assignee = non_blank(assignee);
        let mut change = self.changed(now);
        if team == self.team && assignee == self.assignee {
            return Ok(change);
        }
        change.events.push(EventKind::Assigned {
            from_team: self.team.clone(),
            to_team: team.clone(),
            from_assignee: self.assignee.clone(),
            to_assignee: assignee.clone(),
        });
        change.case.team = team;
        change.case.assignee = assignee;
        Ok(change)
    }

    /// Adds an internal note to the timeline. Notes may be added to closed cases too.
    pub fn add_note(&self, text: &str, now: OffsetDateTime) -> Result<Change, CaseError> {
        let text = text.trim();
        if text.is_empty() || text.chars().count() > MAX_NOTE {
            return Err(CaseError::Invalid(vec![FieldError::new(
                "text",
                "Enter a note of 10,000 characters or fewer",
            )]));
        }
        let mut change = self.changed(now);
        change.events.push(EventKind::NoteAdded {
            text: text.to_owned(),
        });
        Ok(change)
    }

    /// Marks the SLA breached when its due time has passed on an open case, once: a case
    /// already marked, closed, or not yet due gives `None`.
    pub fn breach_sla(&self, now: OffsetDateTime) -> Option<Change> {
        if !self.is_overdue(now) || self.sla_breached_at.is_some() {
            return None;
        }
        let mut change = self.changed(now);
        change.case.sla_breached_at = Some(now);
        change.events.push(EventKind::SlaBreached {
            due_at: self.sla_due_at,
        });
        Some(change)
    }
}

impl Change {
    fn apply_answers(&mut self, checked: Answers) {
        for (field, value) in checked {
            let before = self.case.answers.get(&field).cloned();
            let after = (!value.is_null()).then_some(value);
            if before == after {
                continue;
            }
            match &after {
                Some(v) => self.case.answers.insert(field.clone(), v.clone()),
                None => self.case.answers.remove(&field),
            };
            self.events.push(EventKind::FieldChanged {
                field,
                from: before,
                to: after,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{Value, json};
    use time::macros::datetime;

    use super::*;
    use crate::service::{Field, FieldKind, ServiceCatalogue, parse_service};

    fn shipped() -> ServiceCatalogue {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../services");
        let mut services = Vec::new();
        let mut paths: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        paths.sort();
        for path in paths {
            let text = std::fs::read_to_string(&path).unwrap();
            services.push(parse_service(&path.display().to_string(), &text).unwrap());
        }
        ServiceCatalogue::new(services).unwrap()
    }

    fn sample(field: &Field) -> Value {
        match field.kind {
            FieldKind::SingleChoice => json!(field.choices[0].code),
            FieldKind::MultipleChoice => json!([field.choices[0].code]),
            FieldKind::YesNo => json!(true),
            FieldKind::Number => json!(3),
            FieldKind::Date => json!("2026-12-01"),
            FieldKind::Email => json!("someone@example.com"),
            FieldKind::Phone => json!("01632 960001"),
            FieldKind::Location => json!({"lat": 52.0, "long": -1.3}),
            _ => json!("Some text"),
        }
    }

    fn new_action_id() -> ActionId {
        ActionId::new(uuid::Uuid::nil())
    }

    fn draft(service: &Service) -> CaseDraft {
        CaseDraft {
            contact: Some(Contact {
                name: "Amira Khan".into(),
                email: Some("amira@example.com".into()),
                phone: None,
                preferred_channel: Channel::Email,
                language: Language::En,
            }),
            answers: service
                .fields
                .iter()
                .filter(|f| f.required && !f.staff_only)
                .map(|f| (f.code.clone(), sample(f)))
                .collect(),
            ..Default::default()
        }
    }

    /// Monday 7 December 2026, 10:00 UTC.
    const NOW: OffsetDateTime = datetime!(2026-12-07 10:00 UTC);

    fn opened(service: &Service) -> Case {
        let calendar = WorkingCalendar::england_and_wales();
        let opening = open_case(service, &calendar, draft(service), NOW, new_action_id).unwrap();
        let new = opening.case;
        Case {
            reference: Reference::new(1),
            service: new.service,
            state: new.state,
            priority: new.priority,
            priority_rank: new.priority_rank,
            team: new.team,
            assignee: None,
            contact: new.contact,
            answers: new.answers,
            description: new.description,
            location: new.location,
            external: new.external,
            sla_due_at: new.sla_due_at,
            sla_breached_at: None,
            created_at: new.created_at,
            updated_at: new.created_at,
            closed_at: None,
            version: 1,
        }
    }

    #[test]
    fn references_read_and_print_alike() {
        assert_eq!(Reference::new(123).to_string(), "CW-000123");
        assert_eq!(Reference::new(12_345_678).to_string(), "CW-12345678");
        assert_eq!("CW-000123".parse(), Ok(Reference::new(123)));
        assert_eq!(" cw-42 ".parse(), Ok(Reference::new(42)));
        for bad in [
            "",
            "CW-",
            "CW-0",
            "CW-12a",
            "123",
            "CW--1",
            "CW-99999999999999999999",
        ] {
            assert_eq!(bad.parse::<Reference>(), Err(BadReference), "{bad}");
        }
    }

    #[test]
    fn a_new_case_starts_in_the_initial_state_with_its_sla() {
        let services = shipped();
        let service = services.get("missed-bin").unwrap();
        let calendar = WorkingCalendar::england_and_wales();
        let opening = open_case(service, &calendar, draft(service), NOW, new_action_id).unwrap();
        assert_eq!(opening.case.state, service.workflow.initial);
        assert_eq!(opening.case.priority, service.default_priority);
        assert_eq!(opening.case.team, service.team);
        // Two working days from Monday 7 December: the end of Wednesday 9 December (GMT).
        assert_eq!(opening.case.sla_due_at, datetime!(2026-12-09 23:59:59 UTC));
        assert!(matches!(opening.events[..], [EventKind::Created { .. }]));
    }

    #[test]
    fn an_opening_can_record_the_front_door_it_came_in_by() {
        let services = shipped();
        let service = services.get("missed-bin").unwrap();
        let calendar = WorkingCalendar::england_and_wales();
        let opening = open_case(service, &calendar, draft(service), NOW, new_action_id).unwrap();
        assert!(matches!(
            opening.events[..],
            [EventKind::Created { via: None, .. }]
        ));
        let opening = opening.reported_via(ReportedVia::WebForm);
        assert!(matches!(
            opening.events[..],
            [EventKind::Created {
                via: Some(ReportedVia::WebForm),
                ..
            }]
        ));
        let json = serde_json::to_value(&opening.events[0]).unwrap();
        assert_eq!(json["via"], "web_form");
        assert_eq!(ReportedVia::WebForm.label(), "web form");
    }

    #[test]
    fn every_problem_with_a_new_case_is_named() {
        let services = shipped();
        let service = services.get("missed-bin").unwrap();
        let calendar = WorkingCalendar::england_and_wales();
        let mut bad = draft(service);
        bad.priority = Some("whenever".into());
        bad.contact = Some(Contact {
            name: " ".into(),
            email: Some("nope".into()),
            phone: Some("12".into()),
            preferred_channel: Channel::Sms,
            language: Language::Cy,
        });
        bad.answers.insert("bin_type".into(), json!("purple"));
        bad.location = Some(Location {
            lat: Some(52.0),
            long: None,
            address: None,
        });
        let Err(CaseError::Invalid(errors)) =
            open_case(service, &calendar, bad, NOW, new_action_id)
        else {
            panic!("a bad draft opens no case");
        };
        let mut fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        fields.sort();
        assert_eq!(
            fields,
            [
                "answers.bin_type",
                "contact.email",
                "contact.name",
                "contact.phone",
                "location.long",
                "priority"
            ]
        );
    }

    #[test]
    fn a_preferred_channel_needs_its_contact_detail() {
        let contact = Contact {
            name: "Ben".into(),
            email: None,
            phone: Some("07700 900123".into()),
            preferred_channel: Channel::Email,
            language: Language::En,
        };
        let errors = contact.clone().checked().unwrap_err();
        assert_eq!(errors[0].field, "contact.email");
        let sms = Contact {
            preferred_channel: Channel::Sms,
            ..contact
        };
        assert_eq!(sms.checked().unwrap().phone.as_deref(), Some("07700900123"));
    }

    #[test]
    fn only_real_changes_make_events() {
        let services = shipped();
        let service = services.get("missed-bin").unwrap();
        let case = opened(service);
        let same = case.change_answers(service, &case.answers, NOW).unwrap();
        assert!(same.is_empty());
        let mut changes = Answers::new();
        changes.insert("bin_type".into(), json!("garden"));
        let change = case.change_answers(service, &changes, NOW).unwrap();
        assert_eq!(
            change.events,
            vec![EventKind::FieldChanged {
                field: "bin_type".into(),
                from: case.answers.get("bin_type").cloned(),
                to: Some(json!("garden")),
            }]
        );
        assert!(
            case.assign(None, None, NOW).unwrap().is_empty(),
            "assigning as it is changes nothing"
        );
    }

    /// GOV.UK words a missing choice as "Select …", and anything typed as "Enter …".
    #[test]
    fn a_transitions_missing_choices_say_select() {
        let services = shipped();
        let calendar = WorkingCalendar::england_and_wales();
        let missing = |service: &str, state: &str, transition: &str| {
            let service = services.get(service).unwrap();
            let mut case = opened(service);
            case.state = state.into();
            match case.transition(
                service,
                &calendar,
                transition,
                Role::Admin,
                &Answers::new(),
                NOW,
            ) {
                Err(CaseError::Invalid(errors)) => {
                    errors.into_iter().map(|e| e.message).collect::<Vec<_>>()
                }
                other => panic!("{transition} needs fields: {other:?}"),
            }
        };
        assert_eq!(
            missing("housing-repair", "triaged", "book_appointment"),
            [
                "Enter operative",
                "Enter appointment date",
                "Select appointment time"
            ]
        );
        assert_eq!(
            missing("homelessness-prevention", "assessment", "agree_plan"),
            [
                "Enter date the assessment was completed",
                "Select yes or no"
            ]
        );
    }

    #[test]
    fn transitions_check_state_role_and_fields() {
        let services = shipped();
        let service = services.get("missed-bin").unwrap();
        let calendar = WorkingCalendar::england_and_wales();
        let case = opened(service);
        let none = Answers::new();
        assert_eq!(
            case.transition(service, &calendar, "reopen", Role::Admin, &none, NOW),
            Err(CaseError::TransitionNotAllowed {
                transition: "reopen".into(),
                state: "reported".into()
            })
        );
        assert!(matches!(
            case.transition(service, &calendar, "fly", Role::Admin, &none, NOW),
            Err(CaseError::UnknownTransition(_))
        ));
        let Err(CaseError::Invalid(missing)) =
            case.transition(service, &calendar, "schedule", Role::Agent, &none, NOW)
        else {
            panic!("schedule needs fields");
        };
        assert!(missing.iter().all(|e| e.field.starts_with("answers.")));
        assert_eq!(
            missing
                .iter()
                .map(|e| e.message.as_str())
                .collect::<Vec<_>>(),
            ["Enter crew or round", "Enter date the crew will return"]
        );

        let closed = case
            .transition(service, &calendar, "collect", Role::Agent, &none, NOW)
            .unwrap()
            .case;
        assert_eq!(closed.closed_at, Some(NOW));
        assert_eq!(
            closed.transition(service, &calendar, "reopen", Role::Agent, &none, NOW),
            Err(CaseError::RoleRequired {
                transition: "reopen".into(),
                needed: Role::Lead
            })
        );
        let later = NOW + time::Duration::days(30);
        let reopened = closed
            .transition(service, &calendar, "reopen", Role::Lead, &none, later)
            .unwrap();
        assert!(reopened.case.is_open());
        assert!(
            reopened.case.sla_due_at > later,
            "a reopened case gets a new SLA"
        );
    }

    #[test]
    fn a_case_ranks_its_priority_by_its_services_list_most_urgent_first() {
        let services = shipped();
        let repair = services.get("housing-repair").unwrap();
        let calendar = WorkingCalendar::england_and_wales();
        let mut urgent = draft(repair);
        urgent.priority = Some("urgent".into());
        let opening = open_case(repair, &calendar, urgent, NOW, new_action_id).unwrap();
        assert_eq!(opening.case.priority_rank, 1);

        let case = opened(repair);
        assert_eq!((case.priority.as_str(), case.priority_rank), ("routine", 2));
        let change = case
            .change_priority(repair, &calendar, "emergency", NOW)
            .unwrap();
        assert_eq!(change.case.priority_rank, 0);
        assert_eq!(repair.priority_rank("no-such-priority"), 3);
    }

    #[test]
    fn an_sla_is_breached_once_and_only_when_due() {
        let services = shipped();
        let case = opened(services.get("missed-bin").unwrap());
        assert!(
            case.breach_sla(case.sla_due_at).is_none(),
            "not before it passes"
        );
        let after = case.sla_due_at + time::Duration::seconds(1);
        let breached = case.breach_sla(after).unwrap();
        assert_eq!(
            breached.events,
            vec![EventKind::SlaBreached {
                due_at: case.sla_due_at
            }]
        );
        assert!(breached.case.breach_sla(after).is_none(), "only once");
        let mut closed = case.clone();
        closed.closed_at = Some(NOW);
        assert!(closed.breach_sla(after).is_none(), "not on a closed case");
    }

    #[test]
    fn events_keep_their_shape_in_json() {
        let event = EventKind::Transitioned {
            transition: "collect".into(),
            from: "reported".into(),
            to: "collected".into(),
        };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["kind"], "transitioned");
        assert_eq!(serde_json::from_value::<EventKind>(json).unwrap(), event);
        for actor in [
            Actor::Staff("a@example.com".into()),
            Actor::ApiClient("civica".into()),
            Actor::Resident,
            Actor::System,
        ] {
            assert_eq!(actor.to_string().parse(), Ok(actor));
        }
    }

    proptest! {
        #[test]
        fn any_reference_round_trips(n in 1i64..i64::MAX) {
            let reference = Reference::new(n);
            prop_assert_eq!(reference.to_string().parse(), Ok(reference));
        }

        /// Walk each shipped service's workflow at random: a case is open exactly when its
        /// state is not closed, and leaves a closed state only by a reopen transition.
        #[test]
        fn random_walks_keep_the_workflow_rules(choices in proptest::collection::vec(0usize..100, 1..40)) {
            let services = shipped();
            let calendar = WorkingCalendar::england_and_wales();
            for service in services.iter() {
                let mut case = opened(service);
                let mut now = NOW;
                for choice in &choices {
                    let options: Vec<_> = service.workflow.transitions_from(&case.state).collect();
                    if options.is_empty() {
                        break;
                    }
                    let transition = options[choice % options.len()];
                    let answers: Answers = transition
                        .fields
                        .iter()
                        .map(|code| (code.clone(), sample(service.field(code).unwrap())))
                        .collect();
                    now += time::Duration::hours(5);
                    let was_open = case.is_open();
                    let change = case
                        .transition(service, &calendar, &transition.code, Role::Admin, &answers, now)
                        .unwrap();
                    prop_assert_eq!(change.case.is_open(), !service.workflow.is_closed(&change.case.state));
                    if !was_open {
                        prop_assert!(transition.reopen, "{} left a closed state", transition.code);
                    }
                    case = change.case;
                }
            }
        }
    }
}
