//! TOML → service. The file is first read into "raw" structs that keep the position of every
//! value a semantic check may need to point at; `validate` checks those, and only a file with
//! no problems becomes a public [`Service`].

use serde::Deserialize;
use toml::Spanned;

use super::{
    ActionOwner, Choice, Field, FieldKind, MessageTemplate, PlanActionTemplate, PlanTemplate,
    Priority, Problem, Role, Service, State, Transition, Workflow,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawService {
    pub code: Spanned<String>,
    pub name: Spanned<String>,
    pub description: Spanned<String>,
    pub name_cy: Option<String>,
    pub description_cy: Option<String>,
    pub team: Spanned<String>,
    #[serde(default)]
    pub fields: Vec<Spanned<RawField>>,
    pub workflow: Spanned<RawWorkflow>,
    pub sla: Spanned<RawSla>,
    #[serde(default)]
    pub plan: RawPlan,
    #[serde(default)]
    pub templates: Vec<Spanned<RawTemplate>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawField {
    pub code: Spanned<String>,
    pub label: Spanned<String>,
    pub hint: Option<String>,
    pub label_cy: Option<String>,
    pub hint_cy: Option<String>,
    #[serde(rename = "type")]
    pub kind: Spanned<FieldKind>,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub staff_only: bool,
    #[serde(default)]
    pub choices: Option<Spanned<Vec<Spanned<RawChoice>>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawChoice {
    pub code: Spanned<String>,
    pub label: Spanned<String>,
    pub label_cy: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWorkflow {
    pub initial: Spanned<String>,
    pub states: Spanned<Vec<Spanned<RawState>>>,
    #[serde(default)]
    pub transitions: Vec<Spanned<RawTransition>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawState {
    pub code: Spanned<String>,
    pub label: Spanned<String>,
    #[serde(default)]
    pub closed: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTransition {
    pub code: Spanned<String>,
    pub label: Spanned<String>,
    pub from: Spanned<Vec<Spanned<String>>>,
    pub to: Spanned<String>,
    #[serde(default)]
    pub role: Role,
    #[serde(default)]
    pub fields: Vec<Spanned<String>>,
    #[serde(default)]
    pub reopen: Option<Spanned<bool>>,
}

impl RawTransition {
    pub fn reopen(&self) -> bool {
        self.reopen.as_ref().is_some_and(|r| *r.get_ref())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSla {
    pub default_priority: Spanned<String>,
    pub priorities: Spanned<Vec<Spanned<RawPriority>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPriority {
    pub code: Spanned<String>,
    pub label: Spanned<String>,
    pub working_days: Spanned<u32>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPlan {
    pub goal: Option<String>,
    pub link_expires_after_days: Option<Spanned<u32>>,
    pub remind_before_working_days: Option<Spanned<u32>>,
    #[serde(default)]
    pub actions: Vec<Spanned<RawAction>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAction {
    pub owner: ActionOwner,
    pub title: Spanned<String>,
    pub details: Option<String>,
    pub due_in_working_days: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTemplate {
    pub code: Spanned<String>,
    pub name: Spanned<String>,
    pub subject: Option<Spanned<String>>,
    pub body: Spanned<String>,
}

/// The 1-based line holding byte `at` of `text`.
pub(super) fn line_at(text: &str, at: usize) -> usize {
    let end = at.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Reads the file's structure. Syntax errors are all reported; a structural error (unknown key,
/// wrong type, missing key) stops deserialisation, so only the first of those is.
pub(super) fn parse(file: &str, text: &str) -> Result<RawService, Vec<Problem>> {
    let (_, syntax_errors) = toml::de::DeTable::parse_recoverable(text);
    if !syntax_errors.is_empty() {
        let mut problems: Vec<Problem> = syntax_errors
            .into_iter()
            .map(|e| toml_problem(file, text, e))
            .collect();
        // Later errors on a line are mostly the parser losing its footing after the first.
        problems.sort_by_key(|p| p.line);
        problems.dedup_by_key(|p| p.line);
        return Err(problems);
    }
    toml::from_str(text).map_err(|e| vec![toml_problem(file, text, e)])
}

fn toml_problem(file: &str, text: &str, error: toml::de::Error) -> Problem {
    let line = error.span().map_or(1, |span| line_at(text, span.start));
    // The key path ("in `sla.priorities`") is private to the error and only shown by its
    // `Display` when no input is attached, so detach the input to read it.
    let mut detached = error.clone();
    detached.set_input(None);
    let rendered = detached.to_string();
    let key = rendered
        .lines()
        .filter_map(|l| l.strip_prefix("in `")?.strip_suffix('`'))
        .next_back();
    let message = match key {
        Some(key) => format!("in {key}: {}", error.message()),
        None => error.message().to_owned(),
    };
    Problem {
        file: file.to_owned(),
        line,
        message,
    }
}

impl RawService {
    pub fn into_service(self) -> Service {
        let workflow = self.workflow.into_inner();
        let sla = self.sla.into_inner();
        Service {
            code: self.code.into_inner(),
            name: self.name.into_inner(),
            description: self.description.into_inner(),
            name_cy: self.name_cy,
            description_cy: self.description_cy,
            team: self.team.into_inner(),
            fields: self
                .fields
                .into_iter()
                .map(|f| {
                    let f = f.into_inner();
                    Field {
                        code: f.code.into_inner(),
                        label: f.label.into_inner(),
                        hint: f.hint,
                        label_cy: f.label_cy,
                        hint_cy: f.hint_cy,
                        kind: f.kind.into_inner(),
                        required: f.required,
                        staff_only: f.staff_only,
                        choices: f
                            .choices
                            .map(Spanned::into_inner)
                            .unwrap_or_default()
                            .into_iter()
                            .map(|c| {
                                let c = c.into_inner();
                                Choice {
                                    code: c.code.into_inner(),
                                    label: c.label.into_inner(),
                                    label_cy: c.label_cy,
                                }
                            })
                            .collect(),
                    }
                })
                .collect(),
            workflow: Workflow {
                initial: workflow.initial.into_inner(),
                states: workflow
                    .states
                    .into_inner()
                    .into_iter()
                    .map(|s| {
                        let s = s.into_inner();
                        State {
                            code: s.code.into_inner(),
                            label: s.label.into_inner(),
                            closed: s.closed,
                        }
                    })
                    .collect(),
                transitions: workflow
                    .transitions
                    .into_iter()
                    .map(|t| {
                        let t = t.into_inner();
                        let reopen = t.reopen();
                        Transition {
                            code: t.code.into_inner(),
                            label: t.label.into_inner(),
                            from: t
                                .from
                                .into_inner()
                                .into_iter()
                                .map(Spanned::into_inner)
                                .collect(),
                            to: t.to.into_inner(),
                            role: t.role,
                            fields: t.fields.into_iter().map(Spanned::into_inner).collect(),
                            reopen,
                        }
                    })
                    .collect(),
            },
            priorities: sla
                .priorities
                .into_inner()
                .into_iter()
                .map(|p| {
                    let p = p.into_inner();
                    Priority {
                        code: p.code.into_inner(),
                        label: p.label.into_inner(),
                        working_days: p.working_days.into_inner(),
                    }
                })
                .collect(),
            default_priority: sla.default_priority.into_inner(),
            plan: PlanTemplate {
                goal: self.plan.goal,
                link_expires_after_days: self
                    .plan
                    .link_expires_after_days
                    .map_or(PlanTemplate::LINK_EXPIRES_AFTER_DAYS, Spanned::into_inner),
                remind_before_working_days: self.plan.remind_before_working_days.map_or(
                    PlanTemplate::REMIND_BEFORE_WORKING_DAYS,
                    Spanned::into_inner,
                ),
                actions: self
                    .plan
                    .actions
                    .into_iter()
                    .map(|a| {
                        let a = a.into_inner();
                        PlanActionTemplate {
                            owner: a.owner,
                            title: a.title.into_inner(),
                            details: a.details,
                            due_in_working_days: a.due_in_working_days,
                        }
                    })
                    .collect(),
            },
            templates: self
                .templates
                .into_iter()
                .map(|t| {
                    let t = t.into_inner();
                    MessageTemplate {
                        code: t.code.into_inner(),
                        name: t.name.into_inner(),
                        subject: t.subject.map(Spanned::into_inner),
                        body: t.body.into_inner(),
                    }
                })
                .collect(),
        }
    }
}
