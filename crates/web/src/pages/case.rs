//! The case page: a case's summary, its resident, its answers, what can be done to it next, and
//! its timeline. Every form posts the case's version. A stale one re-renders the page with what
//! changed since the member of staff opened it, keeping what they typed; a refused one shows the
//! GOV.UK error summary, also keeping what they typed. A change that succeeds redirects back to
//! the page (Post/Redirect/Get), which says what was done.

use std::collections::BTreeMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use casework_app::domain::calendar::uk_date;
use casework_app::domain::case::{Case, CaseError, EventKind, Reference};
use casework_app::domain::service::answers::FieldError;
use casework_app::domain::service::{Answers, Field, FieldKind, Role, Service};
use casework_app::store::Event;
use casework_app::{App, AppError, Caller, CaseChangeRequest, Directory, Feature, StaffMember};
use serde::Deserialize;
use serde_json::Value;

use super::format::{self, Tag};
use super::{Chrome, ErrorItem, PageError, messages, plan_editor, reference};
use crate::auth::SignedIn;

/// A posted form's fields as sent, in order; a name may repeat (checkboxes).
type Fields = Vec<(String, String)>;

/// Which of the page's forms was posted.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Which {
    Transition(String),
    Assign,
    Note,
    Answers,
}

impl Which {
    /// The form's id, which also starts the ids of its inputs so that they are unique on a page
    /// that shows the same field in several forms.
    fn prefix(&self) -> String {
        match self {
            Self::Transition(code) => format!("transition-{code}"),
            Self::Assign => "assign".to_owned(),
            Self::Note => "note".to_owned(),
            Self::Answers => "edit".to_owned(),
        }
    }

    /// The query parameter of the page the form's success redirects to.
    fn done(&self) -> &'static str {
        match self {
            Self::Transition(_) => "transition",
            Self::Assign => "assignment",
            Self::Note => "note",
            Self::Answers => "answers",
        }
    }
}

/// A form as the member of staff posted it.
struct Posted {
    which: Which,
    fields: Fields,
}

impl Posted {
    fn value(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn values(&self, name: &str) -> Vec<String> {
        self.fields
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// The version of the case the form was made from. A missing one is version 0, which no case
    /// has: it is answered like any stale version.
    fn version(&self) -> i64 {
        self.value("version")
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    }

    /// The newest event the page showed when the form was made.
    fn seen(&self) -> i64 {
        self.value("seen")
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    }

    /// The answers in the form, for the app to check: `answer.CODE` once is a value, several
    /// times a list; `answer.CODE-day`, `-month` and `-year` make a `YYYY-MM-DD` date.
    fn answers(&self) -> Answers {
        let mut answers = Answers::new();
        let mut dates: BTreeMap<&str, [&str; 3]> = BTreeMap::new();
        for (name, value) in &self.fields {
            let Some(code) = name.strip_prefix("answer.") else {
                continue;
            };
            let part = code.rsplit_once('-').and_then(|(code, part)| {
                let index = ["day", "month", "year"].iter().position(|p| *p == part)?;
                Some((code, index))
            });
            if let Some((code, index)) = part {
                dates.entry(code).or_default()[index] = value.as_str();
                continue;
            }
            match answers.get_mut(code) {
                None => {
                    answers.insert(code.to_owned(), Value::String(value.clone()));
                }
                Some(Value::Array(items)) => items.push(Value::String(value.clone())),
                Some(first) => {
                    *first = Value::Array(vec![first.take(), Value::String(value.clone())])
                }
            }
        }
        for (code, [day, month, year]) in dates {
            answers.insert(
                code.to_owned(),
                Value::String(format::date_input(day, month, year)),
            );
        }
        answers
    }
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ShowParams {
    /// Set by the redirect after a change: what was done, for the success banner.
    done: Option<String>,
}

pub(crate) async fn show(
    State(app): State<App>,
    SignedIn(member): SignedIn,
    Path(raw): Path<String>,
    Query(params): Query<ShowParams>,
) -> Result<Response, PageError> {
    let reference = reference(&raw)?;
    let caller = member.caller();
    let (case, events, directory) = tokio::try_join!(
        app.case(&caller, reference),
        app.events(&caller, reference),
        app.directory(),
    )?;
    let mut page = CasePage::new(&app, &directory, &member, case, &events, None);
    page.banner = params.done.and_then(|done| page.banner_for(&done));
    page.plan = PlanSummary::load(&app, &caller, reference).await?;
    Ok(page.into_response())
}

pub(crate) async fn transition(
    State(app): State<App>,
    SignedIn(member): SignedIn,
    Path(raw): Path<String>,
    Form(fields): Form<Fields>,
) -> Result<Response, PageError> {
    let reference = reference(&raw)?;
    let code = fields
        .iter()
        .find(|(name, _)| name == "transition")
        .map(|(_, code)| code.clone())
        .unwrap_or_default();
    let posted = Posted {
        which: Which::Transition(code.clone()),
        fields,
    };
    let result = app
        .transition_case(
            &member.caller(),
            reference,
            posted.version(),
            &code,
            &posted.answers(),
        )
        .await;
    respond(&app, &member, reference, posted, result).await
}

pub(crate) async fn assign(
    State(app): State<App>,
    SignedIn(member): SignedIn,
    Path(raw): Path<String>,
    Form(fields): Form<Fields>,
) -> Result<Response, PageError> {
    let reference = reference(&raw)?;
    let posted = Posted {
        which: Which::Assign,
        fields,
    };
    let (team, assignee) = match posted.value("assignee").map(str::trim) {
        Some(value) => match value.split_once(':') {
            Some((team, email)) => (Some(team.to_owned()), Some(email.to_owned())),
            None => (None, Some(value.to_owned())),
        },
        None => (None, None),
    };
    let result = app
        .assign_case(
            &member.caller(),
            reference,
            posted.version(),
            team,
            assignee,
        )
        .await;
    respond(&app, &member, reference, posted, result).await
}

pub(crate) async fn add_note(
    State(app): State<App>,
    SignedIn(member): SignedIn,
    Path(raw): Path<String>,
    Form(fields): Form<Fields>,
) -> Result<Response, PageError> {
    let reference = reference(&raw)?;
    let posted = Posted {
        which: Which::Note,
        fields,
    };
    let text = posted.value("text").unwrap_or_default().to_owned();
    let result = app
        .add_note(&member.caller(), reference, posted.version(), &text)
        .await;
    respond(&app, &member, reference, posted, result).await
}

pub(crate) async fn change_answers(
    State(app): State<App>,
    SignedIn(member): SignedIn,
    Path(raw): Path<String>,
    Form(fields): Form<Fields>,
) -> Result<Response, PageError> {
    let reference = reference(&raw)?;
    let posted = Posted {
        which: Which::Answers,
        fields,
    };
    let request = CaseChangeRequest {
        version: posted.version(),
        answers: Some(posted.answers()),
        priority: posted
            .value("priority")
            .filter(|p| !p.is_empty())
            .map(str::to_owned),
    };
    let result = app.change_case(&member.caller(), reference, request).await;
    respond(&app, &member, reference, posted, result).await
}

/// The shared plan in a line, with the way to it.
pub(crate) struct PlanSummary {
    done: usize,
    total: usize,
    /// The resident's actions still to do.
    resident_to_do: usize,
}

impl PlanSummary {
    async fn load(
        app: &App,
        caller: &Caller,
        reference: Reference,
    ) -> Result<Option<Self>, PageError> {
        if !app.features().is_on(Feature::Plan) {
            return Ok(None);
        }
        let (_, plan) = app.plan(caller, reference).await?;
        Ok(Some(Self {
            done: plan.actions.iter().filter(|a| a.is_done()).count(),
            total: plan.actions.len(),
            resident_to_do: plan.resident_to_do().count(),
        }))
    }
}

/// Why a posted form was not carried out, as the page explains it.
enum Problem {
    /// The case changed since the page was loaded.
    Stale,
    Invalid(Vec<FieldError>),
    Refused(String),
}

/// Redirects back to the case after a change, or shows the page again with the problem and
/// with what was typed.
async fn respond(
    app: &App,
    member: &StaffMember,
    reference: Reference,
    posted: Posted,
    result: Result<Case, AppError>,
) -> Result<Response, PageError> {
    let error = match result {
        Ok(_) => {
            let to = format!("/staff/cases/{reference}?done={}", posted.which.done());
            return Ok(Redirect::to(&to).into_response());
        }
        Err(error) => error,
    };
    let (status, problem, current) = match error {
        AppError::Conflict { current, .. } => {
            (StatusCode::CONFLICT, Problem::Stale, Some(*current))
        }
        AppError::Case(CaseError::Invalid(fields)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Problem::Invalid(fields),
            None,
        ),
        AppError::Case(CaseError::RoleRequired { transition, needed }) => (
            StatusCode::FORBIDDEN,
            Problem::Refused(role_required(app, member, reference, &transition, needed).await?),
            None,
        ),
        AppError::LeadRequired => (
            StatusCode::FORBIDDEN,
            Problem::Refused(
                "Only a team lead can assign a case to someone else or to another team".into(),
            ),
            None,
        ),
        AppError::Case(CaseError::Closed) => (
            StatusCode::CONFLICT,
            Problem::Refused(
                "This case is closed. Reopen it before changing its answers or priority".into(),
            ),
            None,
        ),
        AppError::Case(
            CaseError::UnknownTransition(_) | CaseError::TransitionNotAllowed { .. },
        ) => (
            StatusCode::CONFLICT,
            Problem::Refused("That action cannot be used on this case as it is now".into()),
            None,
        ),
        other => return Err(other.into()),
    };
    let caller = member.caller();
    let case = match current {
        Some(case) => case,
        None => app.case(&caller, reference).await?,
    };
    let (events, directory) = tokio::try_join!(app.events(&caller, reference), app.directory())?;
    let mut page = CasePage::new(
        app,
        &directory,
        member,
        case,
        &events,
        Some((&posted, problem)),
    );
    page.plan = PlanSummary::load(app, &caller, reference).await?;
    Ok((status, page).into_response())
}

async fn role_required(
    app: &App,
    member: &StaffMember,
    reference: Reference,
    transition: &str,
    needed: Role,
) -> Result<String, PageError> {
    let case = app.case(&member.caller(), reference).await?;
    let label = app
        .services()
        .get(&case.service)
        .and_then(|s| s.workflow.transition(transition))
        .map_or(transition, |t| t.label.as_str());
    let who = match needed {
        Role::Admin => "an admin",
        _ => "a team lead or an admin",
    };
    Ok(format!("Only {who} can use “{label}”"))
}

/// An input, or group of inputs, for one of a service's fields.
pub(crate) struct FieldInput {
    kind: InputKind,
    /// The id of the input, or the first of its group: where the error summary links.
    id: String,
    name: String,
    label: String,
    hint: Option<String>,
    error: Option<String>,
    /// The ids of the hint and error, for `aria-describedby`.
    described_by: String,
    value: String,
    /// A date's three boxes.
    day: String,
    month: String,
    year: String,
    options: Vec<InputOption>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InputKind {
    Text,
    Email,
    Phone,
    Number,
    Textarea,
    Date,
    Radios,
    Checkboxes,
}

pub(crate) struct InputOption {
    id: String,
    value: String,
    text: String,
    checked: bool,
}

/// What an input holds: as typed into a posted form, or else the case's answer.
enum Raw {
    One(String),
    Date([String; 3]),
    Many(Vec<String>),
}

impl Raw {
    fn from_answer(field: &Field, answer: Option<&Value>) -> Self {
        match (field.kind, answer) {
            (FieldKind::Date, Some(Value::String(text))) => match format::iso_date(text) {
                Some(d) => Self::Date([
                    d.day().to_string(),
                    u8::from(d.month()).to_string(),
                    d.year().to_string(),
                ]),
                None => Self::Date(Default::default()),
            },
            (FieldKind::Date, _) => Self::Date(Default::default()),
            (FieldKind::MultipleChoice, Some(Value::Array(items))) => Self::Many(
                items
                    .iter()
                    .filter_map(|i| i.as_str().map(str::to_owned))
                    .collect(),
            ),
            (FieldKind::MultipleChoice, _) => Self::Many(Vec::new()),
            (FieldKind::YesNo, Some(Value::Bool(yes))) => {
                Self::One(if *yes { "yes" } else { "no" }.to_owned())
            }
            (_, Some(Value::String(text))) => Self::One(text.clone()),
            (_, Some(Value::Null) | None) => Self::One(String::new()),
            (_, Some(other)) => Self::One(other.to_string()),
        }
    }

    fn from_posted(field: &Field, posted: &Posted) -> Self {
        let name = format!("answer.{}", field.code);
        match field.kind {
            FieldKind::Date => Self::Date(["day", "month", "year"].map(|part| {
                posted
                    .value(&format!("{name}-{part}"))
                    .unwrap_or_default()
                    .to_owned()
            })),
            FieldKind::MultipleChoice => Self::Many(posted.values(&name)),
            _ => Self::One(posted.value(&name).unwrap_or_default().to_owned()),
        }
    }
}

impl FieldInput {
    fn new(field: &Field, prefix: &str, raw: Raw, error: Option<String>) -> Self {
        let id = format!("{prefix}-{}", field.code);
        let kind = match field.kind {
            FieldKind::Text | FieldKind::Location => InputKind::Text,
            FieldKind::Email => InputKind::Email,
            FieldKind::Phone => InputKind::Phone,
            FieldKind::Number => InputKind::Number,
            FieldKind::LongText | FieldKind::Address => InputKind::Textarea,
            FieldKind::Date => InputKind::Date,
            FieldKind::YesNo | FieldKind::SingleChoice => InputKind::Radios,
            FieldKind::MultipleChoice => InputKind::Checkboxes,
        };
        let described_by = [
            field.hint.as_ref().map(|_| format!("{id}-hint")),
            error.as_ref().map(|_| format!("{id}-error")),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
        let choices: Vec<(String, String)> = match field.kind {
            FieldKind::YesNo => vec![("yes".into(), "Yes".into()), ("no".into(), "No".into())],
            _ => field
                .choices
                .iter()
                .map(|c| (c.code.clone(), c.label.clone()))
                .collect(),
        };
        let (value, date, ticked) = match raw {
            Raw::One(value) => (value, Default::default(), Vec::new()),
            Raw::Date(date) => (String::new(), date, Vec::new()),
            Raw::Many(ticked) => (String::new(), Default::default(), ticked),
        };
        let options = choices
            .into_iter()
            .enumerate()
            .map(|(i, (code, text))| InputOption {
                // The first option has the field's id, so that the error summary links to it.
                id: if i == 0 {
                    id.clone()
                } else {
                    format!("{id}-{}", i + 1)
                },
                checked: code == value || ticked.contains(&code),
                value: code,
                text,
            })
            .collect();
        let [day, month, year] = date;
        Self {
            kind,
            name: format!("answer.{}", field.code),
            label: field.label.clone(),
            hint: field.hint.clone(),
            error,
            described_by,
            value,
            day,
            month,
            year,
            options,
            id,
        }
    }
}

/// A workflow transition the member may use now, as a form.
pub(crate) struct ActionForm {
    code: String,
    label: String,
    id: String,
    inputs: Vec<FieldInput>,
    /// Shown open: it was the form posted and needs another look.
    open: bool,
}

pub(crate) struct Choice {
    value: String,
    text: String,
    selected: bool,
}

/// The members of one team, as a group of the assign select's options.
pub(crate) struct ChoiceGroup {
    label: String,
    choices: Vec<Choice>,
}

pub(crate) struct EditForm {
    inputs: Vec<FieldInput>,
    /// Empty when the service has only one priority.
    priorities: Vec<Choice>,
    priority_error: Option<String>,
    open: bool,
}

pub(crate) struct TimelineItem {
    title: String,
    byline: String,
    datetime: String,
    date: String,
    description: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "case.html")]
pub(crate) struct CasePage {
    page: Chrome,
    reference: String,
    href: String,
    service_name: String,
    state: Tag,
    sla: Tag,
    priority: String,
    team: String,
    assignee: Option<String>,
    due: String,
    created: String,
    updated: String,
    description: Option<String>,
    address: Option<String>,
    external: Option<String>,
    contact_name: String,
    contact_email: Option<String>,
    contact_phone: Option<String>,
    contact_channel: &'static str,
    contact_language: &'static str,
    answers: Vec<(String, String)>,
    /// The success banner after a change.
    banner: Option<String>,
    /// How far the shared plan has got, when the plan is switched on.
    plan: Option<PlanSummary>,
    error_title: &'static str,
    errors: Vec<ErrorItem>,
    /// For a stale form: what others did since the page was loaded.
    changes: Vec<String>,
    version: i64,
    seen: i64,
    actions: Vec<ActionForm>,
    assign_to_me: Option<String>,
    /// Only a lead or an admin gives cases to others; an agent can only give back their own.
    assign_others: bool,
    unassign_me: bool,
    /// Whom a lead or admin can assign the case to: the active members of the case's team, and
    /// of their other teams (which moves the case there), as `team:email`.
    assignees: Vec<ChoiceGroup>,
    /// Nobody is chosen: the case is unassigned, or the member chose to unassign it.
    unassigned_selected: bool,
    assignee_error: Option<String>,
    note: String,
    note_error: Option<String>,
    /// `None` for a closed case, whose answers cannot change until it is reopened.
    edit: Option<EditForm>,
    timeline: Vec<TimelineItem>,
}

impl CasePage {
    fn new(
        app: &App,
        directory: &Directory,
        member: &StaffMember,
        case: Case,
        events: &[Event],
        posted: Option<(&Posted, Problem)>,
    ) -> Self {
        let service = app.services().get(&case.service);
        let reference = case.reference.to_string();
        let service_name = service.map_or_else(|| case.service.clone(), |s| s.name.clone());
        let newest = events.iter().map(|e| e.id).max().unwrap_or(0);
        let (posted, problem) = posted.unzip();
        let stale = matches!(problem, Some(Problem::Stale));
        let field_errors: &[FieldError] = match &problem {
            Some(Problem::Invalid(fields)) => fields,
            _ => &[],
        };
        // What the member typed is shown in the form they posted; every other form shows the
        // case as it is.
        let typed = |which: &Which| posted.filter(|p| p.which == *which);
        let error_for = |which: &Which, field: &str| {
            typed(which)
                .and_then(|_| field_errors.iter().find(|e| e.field == field))
                .map(|e| e.message.clone())
        };
        let inputs = |which: &Which, fields: &[&Field]| -> Vec<FieldInput> {
            let prefix = which.prefix();
            fields
                .iter()
                .filter(|f| f.kind != FieldKind::Location)
                .map(|field| {
                    let raw = match typed(which) {
                        Some(posted) => Raw::from_posted(field, posted),
                        None => Raw::from_answer(field, case.answers.get(&field.code)),
                    };
                    let error = error_for(which, &format!("answers.{}", field.code));
                    FieldInput::new(field, &prefix, raw, error)
                })
                .collect()
        };

        let actions: Vec<ActionForm> = service
            .map(|s| {
                s.workflow
                    .transitions_from(&case.state)
                    .filter(|t| member.role >= t.role)
                    .map(|t| {
                        let which = Which::Transition(t.code.clone());
                        let fields: Vec<&Field> =
                            t.fields.iter().filter_map(|code| s.field(code)).collect();
                        ActionForm {
                            code: t.code.clone(),
                            label: t.label.clone(),
                            id: which.prefix(),
                            inputs: inputs(&which, &fields),
                            open: typed(&which).is_some(),
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();

        let edit = match (service, case.is_open()) {
            (Some(s), true) => Some(EditForm {
                inputs: inputs(&Which::Answers, &s.fields.iter().collect::<Vec<_>>()),
                priorities: if s.priorities.len() > 1 {
                    let chosen = typed(&Which::Answers)
                        .and_then(|p| p.value("priority"))
                        .unwrap_or(&case.priority);
                    s.priorities
                        .iter()
                        .map(|p| Choice {
                            value: p.code.clone(),
                            text: p.label.clone(),
                            selected: p.code == chosen,
                        })
                        .collect()
                } else {
                    Vec::new()
                },
                priority_error: error_for(&Which::Answers, "priority"),
                open: typed(&Which::Answers).is_some(),
            }),
            _ => None,
        };

        let assignee_value = typed(&Which::Assign)
            .and_then(|p| p.value("assignee"))
            .map(str::to_owned)
            .or_else(|| {
                let email = case.assignee.as_ref()?;
                Some(format!("{}:{email}", case.team))
            })
            .unwrap_or_default();
        let assignees = if member.role >= Role::Lead {
            assignee_groups(directory, member, &case, &assignee_value)
        } else {
            Vec::new()
        };
        let unassigned_selected = !assignees
            .iter()
            .flat_map(|g| &g.choices)
            .any(|c| c.selected);
        let note = typed(&Which::Note)
            .and_then(|p| p.value("text"))
            .unwrap_or_default()
            .to_owned();

        let (error_title, errors, changes) = match (&problem, posted) {
            (Some(Problem::Stale), Some(posted)) => (
                "Someone else changed this case",
                vec![ErrorItem {
                    text: "Check what changed, then send your change again if it is still right"
                        .to_owned(),
                    href: Some(format!("#{}", posted.which.prefix())),
                }],
                events
                    .iter()
                    .filter(|e| e.id > posted.seen())
                    .rev()
                    .map(|e| {
                        let item = timeline_item(service, directory, e);
                        match item.description {
                            Some(d) => {
                                format!("{}: {d} ({}, {})", item.title, item.byline, item.date)
                            }
                            None => format!("{} ({}, {})", item.title, item.byline, item.date),
                        }
                    })
                    .collect(),
            ),
            (Some(Problem::Invalid(fields)), Some(posted)) => (
                "There is a problem",
                fields
                    .iter()
                    .map(|e| ErrorItem {
                        text: e.message.clone(),
                        href: Some(format!("#{}", anchor(service, &posted.which, &e.field))),
                    })
                    .collect(),
                Vec::new(),
            ),
            // Nothing typed was wrong, so there is no field to link to.
            (Some(Problem::Refused(message)), Some(_)) => (
                "There is a problem",
                vec![ErrorItem {
                    text: message.clone(),
                    href: None,
                }],
                Vec::new(),
            ),
            _ => ("There is a problem", Vec::new(), Vec::new()),
        };

        let now = app.now();
        let location = case.location.as_ref();
        let mine = case
            .assignee
            .as_deref()
            .is_some_and(|a| a.eq_ignore_ascii_case(&member.email));
        Self {
            page: Chrome {
                has_errors: !errors.is_empty(),
                ..Chrome::new(format!("{reference} – {service_name}"), Some(member))
            },
            href: format!("/staff/cases/{reference}"),
            state: format::state(app, &case.service, &case.state),
            sla: format::sla(app, &case, now),
            priority: service
                .and_then(|s| s.priority(&case.priority))
                .map_or_else(|| case.priority.clone(), |p| p.label.clone()),
            team: directory.team_name(&case.team).to_owned(),
            assignee: case
                .assignee
                .as_deref()
                .map(|email| directory.person_name(email).to_owned()),
            due: format::date(uk_date(case.sla_due_at)),
            created: format::date_time(case.created_at),
            updated: format::date_time(case.updated_at),
            description: case.description.clone(),
            address: location.and_then(|l| l.address.clone()),
            external: case
                .external
                .as_ref()
                .map(|x| format!("{} in {}", x.reference, x.system)),
            contact_name: case.contact.name.clone(),
            contact_email: case.contact.email.clone(),
            contact_phone: case.contact.phone.clone(),
            contact_channel: match case.contact.preferred_channel.as_str() {
                "sms" => "Text message",
                "post" => "Post",
                _ => "Email",
            },
            contact_language: match case.contact.language.as_str() {
                "cy" => "Welsh",
                _ => "English",
            },
            answers: service
                .map(|s| {
                    s.fields
                        .iter()
                        .map(|field| {
                            let value = case.answers.get(&field.code).map_or_else(
                                || "Not answered".to_owned(),
                                |v| format::answer(field, v),
                            );
                            (field.label.clone(), value)
                        })
                        .collect()
                })
                .unwrap_or_default(),
            banner: None,
            plan: None,
            error_title,
            errors,
            changes,
            // A refused form keeps the version it was made from, so that sending it again still
            // notices a change made meanwhile; a stale one has now been shown what changed.
            version: match posted {
                Some(posted) if !stale => posted.version(),
                _ => case.version,
            },
            seen: match posted {
                Some(posted) if !stale => posted.seen(),
                _ => newest,
            },
            actions,
            assign_to_me: (!mine).then(|| member.email.clone()),
            assign_others: member.role >= Role::Lead,
            unassign_me: mine && member.role < Role::Lead,
            assignees,
            unassigned_selected,
            assignee_error: error_for(&Which::Assign, "assignee"),
            note,
            note_error: error_for(&Which::Note, "text"),
            edit,
            timeline: events
                .iter()
                .rev()
                .map(|e| timeline_item(service, directory, e))
                .collect(),
            service_name,
            reference,
        }
    }

    /// The success banner for the `done` a redirect carries.
    fn banner_for(&self, done: &str) -> Option<String> {
        Some(match done {
            "transition" => format!("Status changed to {}", self.state.text),
            "assignment" => match &self.assignee {
                Some(assignee) => format!("Case assigned to {assignee}"),
                None => "Case unassigned".to_owned(),
            },
            "note" => "Note added".to_owned(),
            "answers" => "Answers saved".to_owned(),
            _ => return None,
        })
    }
}

/// The active members of the case's team and then of the member's other teams (every team for
/// an admin), each team a group; `chosen` is selected. Whoever has the case stays on the list
/// even if they have left its team, so that sending the form unchanged leaves the case with them.
fn assignee_groups(
    directory: &Directory,
    member: &StaffMember,
    case: &Case,
    chosen: &str,
) -> Vec<ChoiceGroup> {
    let caller = member.caller();
    let others = directory
        .teams()
        .iter()
        .map(|t| t.code.as_str())
        .filter(|code| *code != case.team && caller.works(code));
    let option = |team: &str, email: &str, name: &str| {
        let value = format!("{team}:{email}");
        Choice {
            selected: value.eq_ignore_ascii_case(chosen),
            text: name.to_owned(),
            value,
        }
    };
    let mut groups: Vec<ChoiceGroup> = std::iter::once(case.team.as_str())
        .chain(others)
        .map(|team| ChoiceGroup {
            label: directory.team_name(team).to_owned(),
            choices: directory
                .members(team)
                .map(|person| option(team, &person.email, &person.name))
                .collect(),
        })
        .collect();
    if let Some(email) = &case.assignee
        && !groups[0].choices.iter().any(|c| {
            c.value
                .eq_ignore_ascii_case(&format!("{}:{email}", case.team))
        })
    {
        let name = directory.person_name(email);
        groups[0].choices.insert(0, option(&case.team, email, name));
    }
    groups.retain(|group| !group.choices.is_empty());
    groups
}

/// The id an error about `field` links to, in the form that was posted.
fn anchor(service: Option<&Service>, which: &Which, field: &str) -> String {
    let prefix = which.prefix();
    if let Some(code) = field.strip_prefix("answers.") {
        let is_date = service
            .and_then(|s| s.field(code))
            .is_some_and(|f| f.kind == FieldKind::Date);
        return if is_date {
            format!("{prefix}-{code}-day")
        } else {
            format!("{prefix}-{code}")
        };
    }
    match field {
        "text" => "note-text".to_owned(),
        "priority" => "edit-priority".to_owned(),
        "assignee" => "assign-assignee".to_owned(),
        _ => prefix,
    }
}

/// One event as the MOJ timeline shows it.
fn timeline_item(service: Option<&Service>, directory: &Directory, event: &Event) -> TimelineItem {
    let state = |code: &str| {
        service
            .and_then(|s| s.workflow.state(code))
            .map_or_else(|| code.to_owned(), |s| s.label.clone())
    };
    let priority = |code: &str| {
        service
            .and_then(|s| s.priority(code))
            .map_or_else(|| code.to_owned(), |p| p.label.clone())
    };
    let (title, description) = match &event.kind {
        EventKind::Created {
            state: initial,
            priority: p,
            external,
            via,
        } => {
            let mut description = format!("Status: {}. Priority: {}.", state(initial), priority(p));
            if let Some(x) = external {
                description.push_str(&format!(" Reference {} in {}.", x.reference, x.system));
            }
            if let Some(via) = via {
                description.push_str(&format!(" Reported through the {}.", via.label()));
            }
            ("Case reported".to_owned(), Some(description))
        }
        EventKind::FieldChanged { field, from, to } => {
            let definition = service.and_then(|s| s.field(field));
            let show = |value: &Value| match definition {
                Some(f) => format::answer(f, value),
                None => value.to_string(),
            };
            let label = definition.map_or(field.as_str(), |f| f.label.as_str());
            let description = match (from, to) {
                (Some(from), Some(to)) => format!("From “{}” to “{}”", show(from), show(to)),
                (None, Some(to)) => format!("Set to “{}”", show(to)),
                (Some(from), None) => format!("Cleared: it was “{}”", show(from)),
                (None, None) => String::new(),
            };
            (format!("Changed: {label}"), Some(description))
        }
        EventKind::PriorityChanged {
            from,
            to,
            sla_due_at,
        } => (
            format!("Priority changed to {}", priority(to)),
            Some(format!(
                "It was {}. Now due by {}.",
                priority(from),
                format::date(uk_date(*sla_due_at))
            )),
        ),
        EventKind::Transitioned { from, to, .. } => (
            format!("Status changed to {}", state(to)),
            Some(format!("It was {}.", state(from))),
        ),
        EventKind::Assigned {
            from_team,
            to_team,
            from_assignee,
            to_assignee,
        } => {
            let title = match to_assignee {
                Some(to) => format!("Assigned to {}", directory.person_name(to)),
                None => "Unassigned".to_owned(),
            };
            let mut description = match from_assignee {
                Some(from) => format!("It was assigned to {}.", directory.person_name(from)),
                None => "It was unassigned.".to_owned(),
            };
            if from_team != to_team {
                description.push_str(&format!(
                    " Team changed from {} to {}.",
                    directory.team_name(from_team),
                    directory.team_name(to_team)
                ));
            }
            (title, Some(description))
        }
        EventKind::NoteAdded { text } => ("Note".to_owned(), Some(text.clone())),
        EventKind::SlaBreached { due_at } => (
            "Overdue".to_owned(),
            Some(format!("It was due by {}.", format::date_time(*due_at))),
        ),
        other => {
            messages::timeline_entry(other).unwrap_or_else(|| plan_editor::timeline_entry(other))
        }
    };
    TimelineItem {
        title,
        byline: format::actor(directory, &event.actor),
        datetime: format::machine_time(event.at),
        date: format::date_time(event.at),
        description,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn posted(fields: &[(&str, &str)]) -> Posted {
        Posted {
            which: Which::Answers,
            fields: fields
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    #[test]
    fn form_answers_become_the_apps_answers() {
        let answers = posted(&[
            ("version", "3"),
            ("answer.crew", "Round 4"),
            ("answer.return_date-day", "7"),
            ("answer.return_date-month", "12"),
            ("answer.return_date-year", "2026"),
            ("answer.priority_need", ""),
            ("answer.priority_need", "children"),
            ("answer.priority_need", "pregnancy"),
            ("answer.cleared-day", ""),
            ("answer.cleared-month", ""),
            ("answer.cleared-year", ""),
        ])
        .answers();
        assert_eq!(answers["crew"], json!("Round 4"));
        assert_eq!(answers["return_date"], json!("2026-12-07"));
        assert_eq!(
            answers["priority_need"],
            json!(["", "children", "pregnancy"])
        );
        assert_eq!(answers["cleared"], json!(""));
        assert!(!answers.contains_key("version"));
    }

    #[test]
    fn a_date_that_is_not_three_numbers_is_passed_on_for_the_app_to_refuse() {
        assert_eq!(format::date_input("31", "2", "2027"), "2027-02-31");
        assert_eq!(format::date_input("7", "Dec", "2026"), "7/Dec/2026");
        assert_eq!(format::date_input("", "12", "2026"), "/12/2026");
    }

    #[test]
    fn a_missing_or_unreadable_version_is_stale() {
        assert_eq!(posted(&[]).version(), 0);
        assert_eq!(posted(&[("version", "x")]).version(), 0);
        assert_eq!(posted(&[("version", " 12 ")]).version(), 12);
    }
}
