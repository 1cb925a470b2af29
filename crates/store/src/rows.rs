//! Rows as both backends read and write them, and their conversion to the domain's records.

use casework_domain::case::{
    Actor, Case, Contact, EventKind, ExternalReference, Location, Reference,
};
use casework_domain::inbound::{Attachment, Reply, UnmatchedReply};
use casework_domain::message::{Message, MessageId};
use casework_domain::plan::PlanAction;
use casework_domain::service::Answers;
use serde_json::Value;
use sqlx::types::Json;

use crate::db_time::DbTime;
use crate::plans::parse_date;
use crate::{AccessLink, ApiKey, Event, FailedJob, Job, SessionRecord, Staff, StoreError};

/// The columns of `cases` that make a [`Case`], in [`CaseRow`]'s order; a macro so that it can be
/// `concat!`-ed into static SQL.
macro_rules! case_columns {
    () => {
        "number, service, state, priority, priority_rank, team, assignee, contact_name, \
         contact_email, contact_phone, preferred_channel, language, answers, description, lat, \
         long, address, external_system, external_reference, sla_due_at, sla_breached_at, \
         created_at, updated_at, closed_at, version"
    };
}
pub(crate) use case_columns;

#[derive(sqlx::FromRow)]
pub(crate) struct CaseRow {
    pub(crate) number: i64,
    service: String,
    state: String,
    priority: String,
    priority_rank: i32,
    team: String,
    assignee: Option<String>,
    contact_name: String,
    contact_email: Option<String>,
    contact_phone: Option<String>,
    preferred_channel: String,
    language: String,
    answers: Json<Answers>,
    description: Option<String>,
    lat: Option<f64>,
    long: Option<f64>,
    address: Option<String>,
    external_system: Option<String>,
    external_reference: Option<String>,
    sla_due_at: DbTime,
    sla_breached_at: Option<DbTime>,
    created_at: DbTime,
    updated_at: DbTime,
    closed_at: Option<DbTime>,
    version: i64,
}

impl TryFrom<CaseRow> for Case {
    type Error = StoreError;

    fn try_from(row: CaseRow) -> Result<Self, StoreError> {
        let corrupt = |what: &str, value: &str| {
            StoreError::Corrupt(format!("case {}: unknown {what} {value:?}", row.number))
        };
        let preferred_channel = row
            .preferred_channel
            .parse()
            .map_err(|()| corrupt("channel", &row.preferred_channel))?;
        let language = row
            .language
            .parse()
            .map_err(|()| corrupt("language", &row.language))?;
        let location = (row.lat.is_some() || row.long.is_some() || row.address.is_some())
            .then_some(Location {
                lat: row.lat,
                long: row.long,
                address: row.address,
            });
        let external = match (row.external_system, row.external_reference) {
            (Some(system), Some(reference)) => Some(ExternalReference { system, reference }),
            _ => None,
        };
        Ok(Case {
            reference: Reference::new(row.number),
            service: row.service,
            state: row.state,
            priority: row.priority,
            priority_rank: row.priority_rank,
            team: row.team,
            assignee: row.assignee,
            contact: Contact {
                name: row.contact_name,
                email: row.contact_email,
                phone: row.contact_phone,
                preferred_channel,
                language,
            },
            answers: row.answers.0,
            description: row.description,
            location,
            external,
            sla_due_at: row.sla_due_at.get(),
            sla_breached_at: row.sla_breached_at.map(DbTime::get),
            created_at: row.created_at.get(),
            updated_at: row.updated_at.get(),
            closed_at: row.closed_at.map(DbTime::get),
            version: row.version,
        })
    }
}

/// An event's `data`: the `EventKind` as JSON, tagged with its kind.
#[derive(sqlx::FromRow)]
pub(crate) struct EventRow {
    id: i64,
    case_number: i64,
    at: DbTime,
    actor: String,
    data: Json<EventKind>,
}

impl TryFrom<EventRow> for Event {
    type Error = StoreError;

    fn try_from(row: EventRow) -> Result<Self, StoreError> {
        let actor: Actor = row.actor.parse().map_err(|()| {
            StoreError::Corrupt(format!("event {}: unknown actor {:?}", row.id, row.actor))
        })?;
        Ok(Event {
            id: row.id,
            case: Reference::new(row.case_number),
            at: row.at.get(),
            actor,
            kind: row.data.0,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct JobRow {
    id: i64,
    kind: String,
    payload: Json<Value>,
    run_at: DbTime,
    attempts: i32,
    last_error: Option<String>,
}

impl From<JobRow> for Job {
    fn from(row: JobRow) -> Self {
        Job {
            id: row.id,
            kind: row.kind,
            payload: row.payload.0,
            run_at: row.run_at.get(),
            attempts: row.attempts,
            last_error: row.last_error,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct FailedJobRow {
    id: i64,
    kind: String,
    payload: Json<Value>,
    attempts: i32,
    last_error: Option<String>,
    failed_at: DbTime,
}

impl From<FailedJobRow> for FailedJob {
    fn from(row: FailedJobRow) -> Self {
        FailedJob {
            id: row.id,
            kind: row.kind,
            payload: row.payload.0,
            attempts: row.attempts,
            last_error: row.last_error,
            failed_at: row.failed_at.get(),
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ApiKeyRow {
    id: i64,
    name: String,
    role: String,
    scopes: String,
    prefix: String,
    created_at: DbTime,
    revoked_at: Option<DbTime>,
}

impl TryFrom<ApiKeyRow> for ApiKey {
    type Error = StoreError;

    fn try_from(row: ApiKeyRow) -> Result<Self, StoreError> {
        let role = row
            .role
            .parse()
            .map_err(|e| StoreError::Corrupt(format!("api key {}: {e}", row.id)))?;
        let scopes = crate::open311::parse_scopes(&row.scopes)
            .map_err(|e| StoreError::Corrupt(format!("api key {}: {e}", row.id)))?;
        Ok(ApiKey {
            id: row.id,
            name: row.name,
            role,
            scopes,
            prefix: row.prefix,
            created_at: row.created_at.get(),
            revoked_at: row.revoked_at.map(DbTime::get),
        })
    }
}

/// The columns of `staff` that make a [`StaffRow`], in its order.
macro_rules! staff_columns {
    () => {
        "id, email, name, role, password_hash, active, created_at, deactivated_at"
    };
}
pub(crate) use staff_columns;

#[derive(sqlx::FromRow)]
pub(crate) struct StaffRow {
    pub(crate) id: i64,
    email: String,
    name: String,
    role: String,
    password_hash: Option<String>,
    active: bool,
    created_at: DbTime,
    deactivated_at: Option<DbTime>,
}

impl StaffRow {
    /// The member of staff, with the codes of their teams.
    pub(crate) fn with_teams(self, teams: Vec<String>) -> Result<Staff, StoreError> {
        let role = self
            .role
            .parse()
            .map_err(|e| StoreError::Corrupt(format!("staff {}: {e}", self.id)))?;
        Ok(Staff {
            id: self.id,
            email: self.email,
            name: self.name,
            role,
            teams,
            password_hash: self.password_hash,
            active: self.active,
            created_at: self.created_at.get(),
            deactivated_at: self.deactivated_at.map(DbTime::get),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct SessionRow {
    id: String,
    staff_id: Option<i64>,
    data: Json<Value>,
    expires_at: DbTime,
}

impl From<SessionRow> for SessionRecord {
    fn from(row: SessionRow) -> Self {
        SessionRecord {
            id: row.id,
            staff_id: row.staff_id,
            data: row.data.0,
            expires_at: row.expires_at.get(),
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct PlanRow {
    pub(crate) goal: Option<String>,
    pub(crate) version: i64,
}

#[derive(sqlx::FromRow)]
pub(crate) struct PlanActionRow {
    id: String,
    pub(crate) case_number: i64,
    owner: String,
    title: String,
    details: Option<String>,
    due_on: Option<String>,
    completed_at: Option<DbTime>,
    completed_by: Option<String>,
}

impl TryFrom<PlanActionRow> for PlanAction {
    type Error = StoreError;

    fn try_from(row: PlanActionRow) -> Result<Self, StoreError> {
        let corrupt = |what: &str, value: &str| {
            StoreError::Corrupt(format!("plan action {}: bad {what} {value:?}", row.id))
        };
        let id = row.id.parse().map_err(|_| corrupt("id", &row.id))?;
        let owner = row
            .owner
            .parse()
            .map_err(|()| corrupt("owner", &row.owner))?;
        let due_on = match &row.due_on {
            Some(text) => Some(parse_date(text).ok_or_else(|| corrupt("due date", text))?),
            None => None,
        };
        let completed_by = match &row.completed_by {
            Some(text) => Some(text.parse().map_err(|()| corrupt("actor", text))?),
            None => None,
        };
        Ok(PlanAction {
            id,
            owner,
            title: row.title,
            details: row.details,
            due_on,
            completed_at: row.completed_at.map(DbTime::get),
            completed_by,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct AccessLinkRow {
    pub(crate) id: i64,
    case_number: i64,
    created_at: DbTime,
    created_by: String,
    expires_at: DbTime,
    revoked_at: Option<DbTime>,
    revoked_by: Option<String>,
    last_used_at: Option<DbTime>,
    uses: i64,
}

impl TryFrom<AccessLinkRow> for AccessLink {
    type Error = StoreError;

    fn try_from(row: AccessLinkRow) -> Result<Self, StoreError> {
        let actor = |text: &str| {
            text.parse::<Actor>().map_err(|()| {
                StoreError::Corrupt(format!("access link {}: unknown actor {text:?}", row.id))
            })
        };
        Ok(AccessLink {
            id: row.id,
            case: Reference::new(row.case_number),
            created_at: row.created_at.get(),
            created_by: actor(&row.created_by)?,
            expires_at: row.expires_at.get(),
            revoked_at: row.revoked_at.map(DbTime::get),
            revoked_by: row.revoked_by.as_deref().map(actor).transpose()?,
            last_used_at: row.last_used_at.map(DbTime::get),
            uses: row.uses,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct MessageRow {
    id: String,
    case_number: i64,
    direction: String,
    channel: String,
    to_address: Option<String>,
    from_address: Option<String>,
    subject: Option<String>,
    body: String,
    original: Option<String>,
    template: Option<String>,
    author: String,
    status: String,
    provider_id: Option<String>,
    sender: Option<String>,
    error: Option<String>,
    created_at: DbTime,
    status_at: DbTime,
}

impl TryFrom<MessageRow> for Message {
    type Error = StoreError;

    fn try_from(row: MessageRow) -> Result<Self, StoreError> {
        let corrupt = |what: &str, value: &str| {
            StoreError::Corrupt(format!("message {}: bad {what} {value:?}", row.id))
        };
        Ok(Message {
            id: row.id.parse().map_err(|_| corrupt("id", &row.id))?,
            case: Reference::new(row.case_number),
            direction: row
                .direction
                .parse()
                .map_err(|()| corrupt("direction", &row.direction))?,
            channel: row
                .channel
                .parse()
                .map_err(|()| corrupt("channel", &row.channel))?,
            to: row.to_address,
            from: row.from_address,
            subject: row.subject,
            body: row.body,
            original: row.original,
            template: row.template,
            author: row
                .author
                .parse()
                .map_err(|()| corrupt("author", &row.author))?,
            status: row
                .status
                .parse()
                .map_err(|()| corrupt("status", &row.status))?,
            provider_id: row.provider_id,
            sender: row.sender,
            error: row.error,
            created_at: row.created_at.get(),
            status_at: row.status_at.get(),
        })
    }
}

/// An attachment without its content, with the message it came with.
#[derive(sqlx::FromRow)]
pub(crate) struct AttachmentRow {
    message_id: String,
    position: i32,
    filename: String,
    content_type: String,
    size: i64,
}

impl TryFrom<AttachmentRow> for (MessageId, Attachment) {
    type Error = StoreError;

    fn try_from(row: AttachmentRow) -> Result<Self, StoreError> {
        let message = row
            .message_id
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("attachment of {:?}", row.message_id)))?;
        let attachment = Attachment {
            position: row.position,
            filename: row.filename,
            content_type: row.content_type,
            size: row.size,
        };
        Ok((message, attachment))
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct UnmatchedRow {
    id: String,
    channel: String,
    from_address: String,
    to_address: Option<String>,
    subject: Option<String>,
    body: String,
    original: Option<String>,
    provider_id: Option<String>,
    reason: String,
    received_at: DbTime,
}

impl TryFrom<UnmatchedRow> for UnmatchedReply {
    type Error = StoreError;

    fn try_from(row: UnmatchedRow) -> Result<Self, StoreError> {
        let corrupt = |what: &str, value: &str| {
            StoreError::Corrupt(format!(
                "unmatched message {}: bad {what} {value:?}",
                row.id
            ))
        };
        Ok(UnmatchedReply {
            reply: Reply {
                id: row.id.parse().map_err(|_| corrupt("id", &row.id))?,
                channel: row
                    .channel
                    .parse()
                    .map_err(|()| corrupt("channel", &row.channel))?,
                from: row.from_address,
                to: row.to_address,
                subject: row.subject,
                body: row.body,
                original: row.original,
                provider_id: row.provider_id,
                received_at: row.received_at.get(),
            },
            reason: row.reason,
        })
    }
}
