//! The API's representations. They are the published contract, so they are kept apart from
//! the domain's types: the domain may change shape without breaking a council's integrations.

use std::collections::BTreeMap;

use casework_app::domain::case::{
    Case, CaseDraft, Channel, Contact, ExternalReference, Language, Location,
};
use casework_app::domain::service::{Field, FieldKind, Priority, Role, Service, State, Transition};
use casework_app::store::{CaseSort, Cursor, Event};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;

/// A service in the list of services.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceSummary {
    /// The service's code, used to report a case to it.
    pub code: String,
    pub name: String,
    pub description: String,
}

impl From<&Service> for ServiceSummary {
    fn from(service: &Service) -> Self {
        Self {
            code: service.code.clone(),
            name: service.name.clone(),
            description: service.description.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceList {
    pub services: Vec<ServiceSummary>,
}

/// A service's definition: what it asks, and how its cases move.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceDefinition {
    pub code: String,
    pub name: String,
    pub description: String,
    /// The team new cases go to.
    pub team: String,
    pub fields: Vec<FieldBody>,
    pub initial_state: String,
    pub states: Vec<StateBody>,
    pub transitions: Vec<TransitionBody>,
    pub priorities: Vec<PriorityBody>,
    pub default_priority: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FieldBody {
    pub code: String,
    pub label: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// One of `text`, `long_text`, `number`, `date` (YYYY-MM-DD), `yes_no` (boolean),
    /// `single_choice` (a choice code), `multiple_choice` (a list of choice codes), `email`,
    /// `phone`, `address`, `location` (`{"lat", "long"}`).
    #[schema(value_type = String)]
    pub kind: FieldKind,
    pub required: bool,
    /// Filled in by staff, never asked of a resident.
    pub staff_only: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<ChoiceBody>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChoiceBody {
    pub code: String,
    pub label: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StateBody {
    pub code: String,
    pub label: String,
    /// A case in a closed state is complete.
    pub closed: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TransitionBody {
    pub code: String,
    pub label: String,
    pub from: Vec<String>,
    pub to: String,
    /// The least role that may use it: `agent`, `lead` or `admin`.
    #[schema(value_type = String)]
    pub role: Role,
    /// Fields that must have an answer once the transition is made.
    pub fields: Vec<String>,
    /// Moves a closed case back to an open state.
    pub reopen: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PriorityBody {
    pub code: String,
    pub label: String,
    /// The SLA: working days (weekends and bank holidays do not count).
    pub working_days: u32,
}

impl From<&Field> for FieldBody {
    fn from(field: &Field) -> Self {
        Self {
            code: field.code.clone(),
            label: field.label.clone(),
            hint: field.hint.clone(),
            kind: field.kind,
            required: field.required,
            staff_only: field.staff_only,
            choices: field
                .choices
                .iter()
                .map(|c| ChoiceBody {
                    code: c.code.clone(),
                    label: c.label.clone(),
                })
                .collect(),
        }
    }
}

impl From<&State> for StateBody {
    fn from(state: &State) -> Self {
        Self {
            code: state.code.clone(),
            label: state.label.clone(),
            closed: state.closed,
        }
    }
}

impl From<&Transition> for TransitionBody {
    fn from(t: &Transition) -> Self {
        Self {
            code: t.code.clone(),
            label: t.label.clone(),
            from: t.from.clone(),
            to: t.to.clone(),
            role: t.role,
            fields: t.fields.clone(),
            reopen: t.reopen,
        }
    }
}

impl From<&Priority> for PriorityBody {
    fn from(p: &Priority) -> Self {
        Self {
            code: p.code.clone(),
            label: p.label.clone(),
            working_days: p.working_days,
        }
    }
}

impl From<&Service> for ServiceDefinition {
    fn from(service: &Service) -> Self {
        Self {
            code: service.code.clone(),
            name: service.name.clone(),
            description: service.description.clone(),
            team: service.team.clone(),
            fields: service.fields.iter().map(FieldBody::from).collect(),
            initial_state: service.workflow.initial.clone(),
            states: service
                .workflow
                .states
                .iter()
                .map(StateBody::from)
                .collect(),
            transitions: service
                .workflow
                .transitions
                .iter()
                .map(TransitionBody::from)
                .collect(),
            priorities: service.priorities.iter().map(PriorityBody::from).collect(),
            default_priority: service.default_priority.clone(),
        }
    }
}

/// The resident a case is for.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactBody {
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
    /// A UK phone number.
    #[serde(default)]
    pub phone: Option<String>,
    /// `email` (the default), `sms` or `post`.
    #[serde(default)]
    #[schema(value_type = String)]
    pub preferred_channel: Channel,
    /// `en` (the default) or `cy`.
    #[serde(default)]
    #[schema(value_type = String)]
    pub language: Language,
}

impl From<ContactBody> for Contact {
    fn from(c: ContactBody) -> Self {
        Self {
            name: c.name,
            email: c.email,
            phone: c.phone,
            preferred_channel: c.preferred_channel,
            language: c.language,
        }
    }
}

impl From<Contact> for ContactBody {
    fn from(c: Contact) -> Self {
        Self {
            name: c.name,
            email: c.email,
            phone: c.phone,
            preferred_channel: c.preferred_channel,
            language: c.language,
        }
    }
}

/// Where the request is about: a point (WGS84), an address, or both.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocationBody {
    #[serde(default)]
    pub lat: Option<f64>,
    #[serde(default)]
    pub long: Option<f64>,
    #[serde(default)]
    pub address: Option<String>,
}

impl From<LocationBody> for Location {
    fn from(l: LocationBody) -> Self {
        Self {
            lat: l.lat,
            long: l.long,
            address: l.address,
        }
    }
}

impl From<Location> for LocationBody {
    fn from(l: Location) -> Self {
        Self {
            lat: l.lat,
            long: l.long,
            address: l.address,
        }
    }
}

/// A case that lives in another system, and its reference there.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExternalBody {
    /// The other system's name, such as `northgate` or `civica`.
    pub system: String,
    pub reference: String,
}

/// A new case.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCaseBody {
    /// The service's code.
    pub service: String,
    /// One of the service's priorities; its default when left out.
    #[serde(default)]
    pub priority: Option<String>,
    /// The team to give the case to; the service's team when left out.
    #[serde(default)]
    pub team: Option<String>,
    pub contact: ContactBody,
    /// Answers to the service's fields, keyed by field code.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub answers: BTreeMap<String, Value>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub location: Option<LocationBody>,
    /// Set when the case lives in another system.
    #[serde(default)]
    pub external: Option<ExternalBody>,
}

impl From<NewCaseBody> for CaseDraft {
    fn from(body: NewCaseBody) -> Self {
        Self {
            priority: body.priority,
            team: body.team,
            contact: Some(body.contact.into()),
            answers: body.answers,
            description: body.description,
            location: body.location.map(Into::into),
            external: body.external.map(|x| ExternalReference {
                system: x.system,
                reference: x.reference,
            }),
        }
    }
}

/// A case (a service request).
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseBody {
    /// The public reference, such as `CW-000123`.
    pub reference: String,
    pub service: String,
    pub state: String,
    /// Whether the case is still being worked.
    pub open: bool,
    pub priority: String,
    pub team: String,
    pub assignee: Option<String>,
    pub contact: ContactBody,
    #[schema(value_type = Object)]
    pub answers: BTreeMap<String, Value>,
    pub description: Option<String>,
    pub location: Option<LocationBody>,
    pub external: Option<ExternalBody>,
    /// When the SLA runs out: the end of the last working day allowed.
    #[serde(with = "time::serde::rfc3339")]
    pub sla_due_at: OffsetDateTime,
    /// When the case was marked overdue, if it has been.
    #[serde(with = "time::serde::rfc3339::option")]
    pub sla_breached_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub closed_at: Option<OffsetDateTime>,
    /// Send this back with a change (or as `If-Match`); a change against an old version is
    /// refused with 409.
    pub version: i64,
}

impl From<Case> for CaseBody {
    fn from(case: Case) -> Self {
        Self {
            reference: case.reference.to_string(),
            open: case.is_open(),
            service: case.service,
            state: case.state,
            priority: case.priority,
            team: case.team,
            assignee: case.assignee,
            contact: case.contact.into(),
            answers: case.answers,
            description: case.description,
            location: case.location.map(Into::into),
            external: case.external.map(|x| ExternalBody {
                system: x.system,
                reference: x.reference,
            }),
            sla_due_at: case.sla_due_at,
            sla_breached_at: case.sla_breached_at,
            created_at: case.created_at,
            updated_at: case.updated_at,
            closed_at: case.closed_at,
            version: case.version,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CaseList {
    pub cases: Vec<CaseBody>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Filters, order and paging for the case list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CaseListParams {
    /// Only this service's cases.
    pub service: Option<String>,
    /// Only cases in this state.
    pub state: Option<String>,
    pub team: Option<String>,
    /// Only cases of this priority (a code from the service's priorities, such as `urgent`).
    pub priority: Option<String>,
    /// Only cases assigned to this person.
    pub assignee: Option<String>,
    /// Only cases assigned to nobody.
    pub unassigned: Option<bool>,
    /// `true` for open cases only, `false` for closed ones only.
    pub open: Option<bool>,
    /// `true` for open cases past their SLA due time.
    pub overdue: Option<bool>,
    /// Text to find: a reference, or part of the resident's name, email or phone, or of the
    /// description.
    pub q: Option<String>,
    /// With `external_reference`: find the case another system knows by this reference.
    pub external_system: Option<String>,
    pub external_reference: Option<String>,
    /// `due` (soonest first, the default), `updated` or `created` (newest first), or `priority`
    /// (most urgent first by the service's priorities, then soonest due).
    #[param(value_type = Option<String>)]
    pub sort: Option<CaseSort>,
    /// From the previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Cases per page, 1 to 200; 50 when left out.
    pub limit: Option<u32>,
}

/// Encodes where a page ended as an opaque string: the order, its keys and the reference, such
/// as `due.1765101600000000.42`, or with the priority's rank first,
/// `priority.1.1765101600000000.42`.
pub fn encode_cursor(cursor: &Cursor) -> String {
    let sort = match cursor.sort {
        CaseSort::Due => "due",
        CaseSort::Updated => "updated",
        CaseSort::Created => "created",
        CaseSort::Priority => "priority",
    };
    match cursor.rank {
        Some(rank) => format!("{sort}.{rank}.{}.{}", cursor.key, cursor.reference),
        None => format!("{sort}.{}.{}", cursor.key, cursor.reference),
    }
}

pub fn decode_cursor(raw: &str, sort: CaseSort) -> Result<Cursor, ApiError> {
    let bad = || ApiError::invalid_field("cursor", "Use the next_cursor of the previous page");
    let mut parts = raw.split('.');
    let decoded_sort = match parts.next() {
        Some("due") => CaseSort::Due,
        Some("updated") => CaseSort::Updated,
        Some("created") => CaseSort::Created,
        Some("priority") => CaseSort::Priority,
        _ => return Err(bad()),
    };
    let rank = match decoded_sort {
        CaseSort::Priority => Some(parts.next().and_then(|r| r.parse().ok()).ok_or_else(bad)?),
        _ => None,
    };
    let key = parts.next().and_then(|k| k.parse().ok()).ok_or_else(bad)?;
    let reference = parts.next().and_then(|r| r.parse().ok()).ok_or_else(bad)?;
    if parts.next().is_some() || decoded_sort != sort {
        return Err(bad());
    }
    Ok(Cursor {
        sort,
        rank,
        key,
        reference,
    })
}

/// A change to a case's answers or priority.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseChangeBody {
    /// The version of the case you read (or send `If-Match`).
    #[serde(default)]
    pub version: Option<i64>,
    /// Answers to change, keyed by field code; `null` clears an answer.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub answers: Option<BTreeMap<String, Value>>,
    #[serde(default)]
    pub priority: Option<String>,
}

/// Moves a case along one of its service's transitions.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionBodyIn {
    #[serde(default)]
    pub version: Option<i64>,
    /// The transition's code, from the service definition.
    pub transition: String,
    /// Answers to save with the transition, such as the fields it needs.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub answers: BTreeMap<String, Value>,
}

/// Gives a case to a team and a person; leave `assignee` out to unassign.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    #[serde(default)]
    pub version: Option<i64>,
    /// The team; unchanged when left out.
    #[serde(default)]
    pub team: Option<String>,
    /// The person (their email); nobody when left out.
    #[serde(default)]
    pub assignee: Option<String>,
}

/// An internal note for the case's timeline.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    #[serde(default)]
    pub version: Option<i64>,
    pub text: String,
}

/// One entry on a case's timeline.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventBody {
    pub id: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Who: `staff:EMAIL`, `api:KEY-NAME`, `resident` or `system`.
    pub actor: String,
    /// `created`, `field_changed`, `priority_changed`, `transitioned`, `assigned`,
    /// `note_added` or `sla_breached`.
    pub kind: String,
    /// What changed; its fields depend on the kind.
    #[schema(value_type = Object)]
    pub data: Value,
}

impl From<Event> for EventBody {
    fn from(event: Event) -> Self {
        let mut data = serde_json::to_value(&event.kind).unwrap_or(Value::Null);
        if let Value::Object(map) = &mut data {
            map.remove("kind");
        }
        Self {
            id: event.id,
            at: event.at,
            actor: event.actor.to_string(),
            kind: event.kind.name().to_owned(),
            data,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventList {
    pub events: Vec<EventBody>,
}
