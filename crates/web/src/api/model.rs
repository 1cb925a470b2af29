//! The API's representations. They are the published contract, so they are kept apart from
//! the domain's types: the domain may change shape without breaking a council's integrations.

use std::collections::BTreeMap;

use casework_app::domain::case::{
    Case, CaseDraft, Channel, Contact, ExternalReference, Language, Location, iso_date,
};
use casework_app::domain::message::{Message, MessageChannel, MessageDraft};
use casework_app::domain::plan::{ActionDraft, ActionId, Plan, PlanAction};
use casework_app::domain::service::{
    ActionOwner, Field, FieldKind, Priority, Role, Service, State, Transition,
};
use casework_app::store::{AccessLink, CaseSort, Cursor, Event};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use time::{Date, OffsetDateTime};
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
    /// `note_added`, `sla_breached`, or a change to the plan: `plan_goal_set`,
    /// `plan_action_added`, `plan_action_changed`, `plan_action_removed`, `plan_action_moved`,
    /// `plan_action_completed`, `plan_action_reopened`, `plan_shared`, `plan_link_revoked`,
    /// `plan_viewed`, `plan_reminder`.
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

/// A case's shared plan: the goal, and what the resident and the council each need to do.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlanBody {
    /// What the plan is for, as the resident reads it.
    pub goal: Option<String>,
    /// In the order both sides see them.
    pub actions: Vec<ActionBody>,
    /// The plan's own version, apart from the case's: send it back with a change (or as
    /// `If-Match`); a change against an old version is refused with 409. Ticking an action off
    /// or undoing a tick needs no version.
    pub version: i64,
}

impl From<Plan> for PlanBody {
    fn from(plan: Plan) -> Self {
        Self {
            goal: plan.goal,
            actions: plan.actions.into_iter().map(ActionBody::from).collect(),
            version: plan.version,
        }
    }
}

/// One thing to do on a plan.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActionBody {
    #[schema(value_type = String, format = Uuid)]
    pub id: ActionId,
    /// `resident` ("What you need to do") or `council` ("What we will do").
    #[schema(value_type = String)]
    pub owner: ActionOwner,
    pub title: String,
    /// Markdown; the resident's page renders it safely.
    pub details: Option<String>,
    /// YYYY-MM-DD.
    #[serde(with = "iso_date::option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub due_on: Option<Date>,
    pub done: bool,
    #[serde(with = "time::serde::rfc3339::option")]
    pub completed_at: Option<OffsetDateTime>,
    /// Who ticked it off: `staff:EMAIL`, `api:KEY-NAME` or `resident`.
    pub completed_by: Option<String>,
}

impl From<PlanAction> for ActionBody {
    fn from(action: PlanAction) -> Self {
        Self {
            done: action.is_done(),
            id: action.id,
            owner: action.owner,
            title: action.title,
            details: action.details,
            due_on: action.due_on,
            completed_at: action.completed_at,
            completed_by: action.completed_by.map(|actor| actor.to_string()),
        }
    }
}

/// Sets the plan's goal.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GoalBody {
    /// The version of the plan you read (or send `If-Match`).
    #[serde(default)]
    pub version: Option<i64>,
    /// Up to 500 characters; `null` or blank clears it.
    #[serde(default)]
    pub goal: Option<String>,
}

/// A new action, added at the end of the plan.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewActionBody {
    /// The version of the plan you read (or send `If-Match`).
    #[serde(default)]
    pub version: Option<i64>,
    /// `resident` ("What you need to do") or `council` ("What we will do").
    #[schema(value_type = String)]
    pub owner: ActionOwner,
    /// Up to 200 characters.
    pub title: String,
    /// Markdown, up to 5,000 characters.
    #[serde(default)]
    pub details: Option<String>,
    /// YYYY-MM-DD, today or later.
    #[serde(default, with = "iso_date::option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub due_on: Option<Date>,
}

impl From<NewActionBody> for ActionDraft {
    fn from(body: NewActionBody) -> Self {
        Self {
            owner: body.owner,
            title: body.title,
            details: body.details,
            due_on: body.due_on,
        }
    }
}

/// A change to an action. Fields left out keep their value.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionChangeBody {
    /// The version of the plan you read (or send `If-Match`).
    #[serde(default)]
    pub version: Option<i64>,
    /// `resident` or `council`.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub owner: Option<ActionOwner>,
    /// Up to 200 characters.
    #[serde(default)]
    pub title: Option<String>,
    /// Markdown, up to 5,000 characters; `null` clears them.
    #[serde(default, deserialize_with = "sent")]
    #[schema(value_type = Option<String>)]
    pub details: Option<Option<String>>,
    /// YYYY-MM-DD; `null` clears it. A new due date may not be in the past; one already past
    /// may stay.
    #[serde(default, deserialize_with = "sent_date")]
    #[schema(value_type = Option<String>, format = Date)]
    pub due_on: Option<Option<Date>>,
    /// Where to move the action: 1 is first; past the end is last.
    #[serde(default)]
    #[schema(minimum = 1)]
    pub position: Option<u32>,
}

impl ActionChangeBody {
    /// The action as it will read: `current`, with the fields sent.
    pub fn draft(&self, current: &PlanAction) -> ActionDraft {
        ActionDraft {
            owner: self.owner.unwrap_or(current.owner),
            title: self.title.clone().unwrap_or_else(|| current.title.clone()),
            details: self
                .details
                .clone()
                .unwrap_or_else(|| current.details.clone()),
            due_on: self.due_on.unwrap_or(current.due_on),
        }
    }

    /// The 0-based place to move to.
    pub fn index(&self) -> Result<Option<usize>, ApiError> {
        match self.position {
            None => Ok(None),
            Some(0) => Err(ApiError::invalid_field(
                "position",
                "Position counts from 1, the first action",
            )),
            Some(position) => Ok(Some(usize::try_from(position - 1).unwrap_or(usize::MAX))),
        }
    }
}

/// Tells a field sent as `null` (clear it) from one left out (keep it, through `default`).
fn sent<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

fn sent_date<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Option<Date>>, D::Error> {
    iso_date::option::deserialize(deserializer).map(Some)
}

/// The plan version for a change sent without a body.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct VersionParams {
    /// The version of the plan you read (or send `If-Match`).
    pub version: Option<i64>,
}

/// A new link for the resident to open their plan with, without an account.
#[derive(Debug, Serialize, ToSchema)]
pub struct NewLinkBody {
    pub id: i64,
    /// The address to send the resident: it holds the token.
    pub url: String,
    /// Shown this once: only a hash of it is kept.
    pub token: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// A resident's link to the case's plan. Its token is never shown again.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkBody {
    pub id: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// `staff:EMAIL` or `api:KEY-NAME`.
    pub created_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
    pub revoked_by: Option<String>,
    /// When the resident last opened the plan or ticked an action with it.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
    pub uses: i64,
}

impl From<AccessLink> for LinkBody {
    fn from(link: AccessLink) -> Self {
        Self {
            id: link.id,
            created_at: link.created_at,
            created_by: link.created_by.to_string(),
            expires_at: link.expires_at,
            revoked_at: link.revoked_at,
            revoked_by: link.revoked_by.map(|actor| actor.to_string()),
            last_used_at: link.last_used_at,
            uses: link.uses,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LinkList {
    /// Newest first.
    pub links: Vec<LinkBody>,
}

/// A message between the council and the resident.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageBody {
    /// A UUID.
    pub id: String,
    /// `outbound` (to the resident) or `inbound` (from them).
    pub direction: &'static str,
    /// `email`, `sms` or `plan` (the plan page).
    pub channel: &'static str,
    pub to: Option<String>,
    pub from: Option<String>,
    pub subject: Option<String>,
    /// For an email reply, without the quoted history and signature.
    pub body: String,
    /// An email reply's whole text, when `body` is trimmed from it.
    pub original: Option<String>,
    /// The service's template it was written from.
    pub template: Option<String>,
    /// Who wrote it: `staff:EMAIL`, `api:NAME`, `resident`.
    pub author: String,
    /// `queued`, `sent`, `delivered`, `permanent-failure`, `temporary-failure` or `received`.
    pub status: &'static str,
    /// Why it could not be delivered.
    pub error: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub status_at: OffsetDateTime,
}

impl From<Message> for MessageBody {
    fn from(message: Message) -> Self {
        Self {
            id: message.id.to_string(),
            direction: message.direction.as_str(),
            channel: message.channel.as_str(),
            to: message.to,
            from: message.from,
            subject: message.subject,
            body: message.body,
            original: message.original,
            template: message.template,
            author: message.author.to_string(),
            status: message.status.as_str(),
            error: message.error,
            created_at: message.created_at,
            status_at: message.status_at,
        }
    }
}

/// A case's conversation, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageList {
    pub messages: Vec<MessageBody>,
}

/// A message to send to the resident. It is queued and sent shortly after; its `status`
/// follows its delivery.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMessageBody {
    /// `email` or `sms`; left out, the resident's preferred channel.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub channel: Option<MessageChannel>,
    /// For email; left out, "Your request CW-…".
    #[serde(default)]
    pub subject: Option<String>,
    /// Plain text: up to 918 characters by SMS, 20,000 by email.
    pub body: String,
    /// The code of the service's template this was written from, for the record.
    #[serde(default)]
    pub template: Option<String>,
}

impl From<NewMessageBody> for MessageDraft {
    fn from(body: NewMessageBody) -> Self {
        Self {
            channel: body.channel,
            subject: body.subject,
            body: body.body,
            template: body.template,
        }
    }
}
