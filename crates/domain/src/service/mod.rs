//! Services as data: each service (missed bin, housing repair, …) is a TOML definition file
//! naming its fields, workflow, SLA priorities, starting plan and message templates.
//!
//! [`parse_service`] turns one file's text into a [`Service`], or into every problem found in
//! it, each with the file name and line so that whoever edits the file can find it.

pub mod answers;
mod parse;
mod validate;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use answers::{Answers, FieldError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Service {
    pub code: String,
    pub name: String,
    pub description: String,
    /// The name and description in Welsh, for residents reading in Welsh, if the file has them.
    pub name_cy: Option<String>,
    pub description_cy: Option<String>,
    pub team: String,
    pub fields: Vec<Field>,
    pub workflow: Workflow,
    pub priorities: Vec<Priority>,
    pub default_priority: String,
    pub plan: PlanTemplate,
    pub templates: Vec<MessageTemplate>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Field {
    pub code: String,
    pub label: String,
    pub hint: Option<String>,
    /// The label and hint in Welsh, if the file has them.
    pub label_cy: Option<String>,
    pub hint_cy: Option<String>,
    pub kind: FieldKind,
    pub required: bool,
    pub staff_only: bool,
    pub choices: Vec<Choice>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Choice {
    pub code: String,
    pub label: String,
    /// The label in Welsh, if the file has it.
    pub label_cy: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    Text,
    LongText,
    Number,
    Date,
    YesNo,
    SingleChoice,
    MultipleChoice,
    Email,
    Phone,
    Address,
    Location,
}

impl FieldKind {
    /// The name used for this kind in definition files.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldKind::Text => "text",
            FieldKind::LongText => "long_text",
            FieldKind::Number => "number",
            FieldKind::Date => "date",
            FieldKind::YesNo => "yes_no",
            FieldKind::SingleChoice => "single_choice",
            FieldKind::MultipleChoice => "multiple_choice",
            FieldKind::Email => "email",
            FieldKind::Phone => "phone",
            FieldKind::Address => "address",
            FieldKind::Location => "location",
        }
    }

    /// Whether answers pick from the field's `choices`.
    pub fn has_choices(self) -> bool {
        matches!(self, FieldKind::SingleChoice | FieldKind::MultipleChoice)
    }
}

impl fmt::Display for FieldKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Workflow {
    pub initial: String,
    pub states: Vec<State>,
    pub transitions: Vec<Transition>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct State {
    pub code: String,
    pub label: String,
    pub closed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Transition {
    pub code: String,
    pub label: String,
    pub from: Vec<String>,
    pub to: String,
    pub role: Role,
    /// Field codes that must have a value once the transition has happened.
    pub fields: Vec<String>,
    pub reopen: bool,
}

/// Staff roles, ordered so that `role >= required` answers "may this person do it?": a lead
/// may do what an agent may, an admin what a lead may.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    #[default]
    Agent,
    Lead,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Lead => "lead",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role \"{0}\": expected agent, lead or admin")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "agent" => Ok(Role::Agent),
            "lead" => Ok(Role::Lead),
            "admin" => Ok(Role::Admin),
            other => Err(UnknownRole(other.to_owned())),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Priority {
    pub code: String,
    pub label: String,
    pub working_days: u32,
}

/// What a case's shared plan starts with, and how its links and reminders behave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanTemplate {
    pub goal: Option<String>,
    pub actions: Vec<PlanActionTemplate>,
    /// How long a link to the plan works for a resident.
    pub link_expires_after_days: u32,
    /// How many working days before a resident's action is due they are reminded of it (they
    /// are reminded on the day as well).
    pub remind_before_working_days: u32,
}

impl PlanTemplate {
    pub const LINK_EXPIRES_AFTER_DAYS: u32 = 90;
    pub const REMIND_BEFORE_WORKING_DAYS: u32 = 2;
    /// A year: a link that lasts longer is as good as one that never expires.
    pub const MAX_LINK_DAYS: u32 = 366;
}

impl Default for PlanTemplate {
    fn default() -> Self {
        Self {
            goal: None,
            actions: Vec::new(),
            link_expires_after_days: Self::LINK_EXPIRES_AFTER_DAYS,
            remind_before_working_days: Self::REMIND_BEFORE_WORKING_DAYS,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanActionTemplate {
    pub owner: ActionOwner,
    pub title: String,
    pub details: Option<String>,
    pub due_in_working_days: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionOwner {
    Resident,
    Council,
}

impl ActionOwner {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Resident => "resident",
            Self::Council => "council",
        }
    }
}

impl std::str::FromStr for ActionOwner {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "resident" => Ok(Self::Resident),
            "council" => Ok(Self::Council),
            _ => Err(()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageTemplate {
    pub code: String,
    pub name: String,
    pub subject: Option<String>,
    pub body: String,
}

impl Service {
    pub fn field(&self, code: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.code == code)
    }

    pub fn priority(&self, code: &str) -> Option<&Priority> {
        self.priorities.iter().find(|p| p.code == code)
    }

    /// Where `code` stands in the service's priorities, most urgent (listed first) at 0, so
    /// that cases can be sorted by priority across services. A code the service does not list
    /// ranks after all of those it does.
    pub fn priority_rank(&self, code: &str) -> i32 {
        let position = self
            .priorities
            .iter()
            .position(|p| p.code == code)
            .unwrap_or(self.priorities.len());
        i32::try_from(position).unwrap_or(i32::MAX)
    }
}

impl Workflow {
    pub fn state(&self, code: &str) -> Option<&State> {
        self.states.iter().find(|s| s.code == code)
    }

    /// Unknown states count as open, so a case in a state removed from the file stays visible
    /// in the worktray rather than silently disappearing from it.
    pub fn is_closed(&self, state: &str) -> bool {
        self.state(state).is_some_and(|s| s.closed)
    }

    pub fn transition(&self, code: &str) -> Option<&Transition> {
        self.transitions.iter().find(|t| t.code == code)
    }

    pub fn transitions_from<'a>(
        &'a self,
        state: &'a str,
    ) -> impl Iterator<Item = &'a Transition> + 'a {
        self.transitions
            .iter()
            .filter(move |t| t.from.iter().any(|f| f == state))
    }
}

/// Built-in placeholders every template may use besides field codes.
pub const BUILT_IN_PLACEHOLDERS: &[&str] = &[
    "reference",
    "name",
    "service",
    "state",
    "due_date",
    "plan_link",
    "council",
];

/// A problem in a definition file, printed as `file:line: message`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct Problem {
    pub file: String,
    pub line: usize,
    pub message: String,
}

/// Parses and validates one definition file's text. `file` is the name used in problems (e.g.
/// "services/missed-bin.toml"). Problems come back sorted by line.
pub fn parse_service(file: &str, text: &str) -> Result<Service, Vec<Problem>> {
    parse_with_code_line(file, text).map(|(service, _)| service)
}

/// Also returns the line of the service's `code`, for problems found across files.
fn parse_with_code_line(file: &str, text: &str) -> Result<(Service, usize), Vec<Problem>> {
    let raw = parse::parse(file, text)?;
    let mut problems = validate::validate(file, text, &raw);
    if problems.is_empty() {
        let code_line = parse::line_at(text, raw.code.span().start);
        Ok((raw.into_service(), code_line))
    } else {
        problems.sort_by_key(|p| p.line);
        Err(problems)
    }
}

/// The set of services loaded at start, in file-name order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ServiceCatalogue {
    services: Vec<Service>,
}

impl ServiceCatalogue {
    /// Keeps the services in the order given, which callers make file-name order. A `Service`
    /// does not know its file, so a duplicate code is reported against the code itself; use
    /// [`ServiceCatalogue::from_files`] to have it reported against the second file.
    pub fn new(services: Vec<Service>) -> Result<Self, Vec<Problem>> {
        let mut problems = Vec::new();
        for (i, service) in services.iter().enumerate() {
            if services[..i].iter().any(|s| s.code == service.code) {
                problems.push(Problem {
                    file: format!("service \"{}\"", service.code),
                    line: 1,
                    message: format!(
                        "service code \"{}\" is used by more than one service",
                        service.code
                    ),
                });
            }
        }
        if problems.is_empty() {
            Ok(ServiceCatalogue { services })
        } else {
            Err(problems)
        }
    }

    /// Parses every `(file name, text)` pair, sorts by file name and reports every problem in
    /// every file, including a service code already used by an earlier file.
    pub fn from_files<'a>(
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, Vec<Problem>> {
        let mut files: Vec<(&str, &str)> = files.into_iter().collect();
        files.sort_by(|a, b| a.0.cmp(b.0));
        let mut services: Vec<Service> = Vec::new();
        let mut problems = Vec::new();
        for (file, text) in files {
            match parse_with_code_line(file, text) {
                Ok((service, line)) if services.iter().any(|s| s.code == service.code) => {
                    problems.push(Problem {
                        file: file.to_owned(),
                        line,
                        message: format!(
                            "service code \"{}\" is already used by another definition file",
                            service.code
                        ),
                    });
                }
                Ok((service, _)) => services.push(service),
                Err(mut found) => problems.append(&mut found),
            }
        }
        if problems.is_empty() {
            Ok(ServiceCatalogue { services })
        } else {
            Err(problems)
        }
    }

    pub fn get(&self, code: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.code == code)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Service> {
        self.services.iter()
    }

    pub fn len(&self) -> usize {
        self.services.len()
    }

    pub fn is_empty(&self) -> bool {
        self.services.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
code = "minimal"
name = "Minimal"
description = "The smallest valid service."
team = "test"

[workflow]
initial = "open"
states = [{ code = "open", label = "Open" }, { code = "closed", label = "Closed", closed = true }]
[[workflow.transitions]]
code = "close"
label = "Close"
from = ["open"]
to = "closed"

[sla]
default_priority = "standard"
priorities = [{ code = "standard", label = "Standard", working_days = 5 }]
"#;

    fn minimal(code: &str) -> Service {
        let text = MINIMAL.replacen("code = \"minimal\"", &format!("code = \"{code}\""), 1);
        parse_service("minimal.toml", &text).expect("minimal service is valid")
    }

    #[test]
    fn defaults_fill_optional_keys() {
        let service = minimal("minimal");
        let close = service.workflow.transition("close").unwrap();
        assert_eq!(close.role, Role::Agent);
        assert!(close.fields.is_empty());
        assert!(!close.reopen);
        assert!(service.fields.is_empty());
        assert_eq!(service.plan, PlanTemplate::default());
        assert!(service.templates.is_empty());
    }

    #[test]
    fn welsh_text_is_kept_where_a_file_has_it() {
        assert_eq!(minimal("minimal").name_cy, None);
        let text = MINIMAL.replacen(
            "team = \"test\"",
            "name_cy = \"Lleiaf\"\nteam = \"test\"\n\n[[fields]]\ncode = \"bin\"\nlabel = \"Which bin?\"\n\
             label_cy = \"Pa fin?\"\nhint_cy = \"Dewiswch un\"\ntype = \"single_choice\"\n\
             choices = [{ code = \"glass\", label = \"Glass\", label_cy = \"Gwydr\" }]",
            1,
        );
        let service = parse_service("welsh.toml", &text).unwrap();
        assert_eq!(service.name_cy.as_deref(), Some("Lleiaf"));
        assert_eq!(service.description_cy, None);
        let field = service.field("bin").unwrap();
        assert_eq!(field.label_cy.as_deref(), Some("Pa fin?"));
        assert_eq!(field.hint_cy.as_deref(), Some("Dewiswch un"));
        assert_eq!(field.hint, None);
        assert_eq!(field.choices[0].label_cy.as_deref(), Some("Gwydr"));
    }

    #[test]
    fn lookups() {
        let service = minimal("minimal");
        assert_eq!(service.priority("standard").unwrap().working_days, 5);
        assert!(service.priority("urgent").is_none());
        assert!(service.field("anything").is_none());
        let workflow = &service.workflow;
        assert_eq!(workflow.state("open").unwrap().label, "Open");
        assert!(workflow.is_closed("closed"));
        assert!(!workflow.is_closed("open"));
        assert!(!workflow.is_closed("no-such-state"));
        let codes: Vec<&str> = workflow
            .transitions_from("open")
            .map(|t| t.code.as_str())
            .collect();
        assert_eq!(codes, ["close"]);
        assert_eq!(workflow.transitions_from("closed").count(), 0);
    }

    #[test]
    fn roles_are_ordered_and_round_trip() {
        assert!(Role::Agent < Role::Lead && Role::Lead < Role::Admin);
        for role in [Role::Agent, Role::Lead, Role::Admin] {
            assert_eq!(role.to_string().parse::<Role>(), Ok(role));
            assert_eq!(serde_json::to_value(role).unwrap(), role.to_string());
        }
        assert_eq!("boss".parse::<Role>(), Err(UnknownRole("boss".to_owned())));
    }

    #[test]
    fn kinds_serialise_as_in_files() {
        assert_eq!(
            serde_json::to_value(FieldKind::MultipleChoice).unwrap(),
            "multiple_choice"
        );
        assert_eq!(FieldKind::YesNo.to_string(), "yes_no");
        assert_eq!(
            serde_json::to_value(ActionOwner::Resident).unwrap(),
            "resident"
        );
    }

    #[test]
    fn problems_print_as_file_line_message() {
        let problem = Problem {
            file: "services/noise.toml".into(),
            line: 41,
            message: "transition \"close\" goes to unknown state \"closd\"".into(),
        };
        assert_eq!(
            problem.to_string(),
            "services/noise.toml:41: transition \"close\" goes to unknown state \"closd\""
        );
    }

    #[test]
    fn catalogue_keeps_order_and_finds_by_code() {
        let catalogue =
            ServiceCatalogue::new(vec![minimal("b-service"), minimal("a-service")]).unwrap();
        assert_eq!(catalogue.len(), 2);
        assert!(!catalogue.is_empty());
        let codes: Vec<&str> = catalogue.iter().map(|s| s.code.as_str()).collect();
        assert_eq!(codes, ["b-service", "a-service"]);
        assert_eq!(catalogue.get("a-service").unwrap().code, "a-service");
        assert!(catalogue.get("c-service").is_none());
        assert!(ServiceCatalogue::new(Vec::new()).unwrap().is_empty());
    }

    #[test]
    fn catalogue_rejects_duplicate_codes() {
        let problems =
            ServiceCatalogue::new(vec![minimal("same"), minimal("other"), minimal("same")])
                .unwrap_err();
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0]
                .message
                .contains("\"same\" is used by more than one service")
        );
    }

    #[test]
    fn catalogue_from_files_sorts_and_names_the_second_file() {
        let a = MINIMAL.replacen("code = \"minimal\"", "code = \"same\"", 1);
        let broken = MINIMAL.replacen("working_days = 5", "working_days = 0", 1);
        let problems = ServiceCatalogue::from_files([
            ("z.toml", a.as_str()),
            ("a.toml", a.as_str()),
            ("m.toml", broken.as_str()),
        ])
        .unwrap_err();
        let printed: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            printed,
            [
                "m.toml:18: priority \"standard\" has a bad SLA: working_days must be from 1 to 365, not 0",
                "z.toml:2: service code \"same\" is already used by another definition file",
            ]
        );
        let catalogue =
            ServiceCatalogue::from_files([("b.toml", MINIMAL), ("a.toml", a.as_str())]).unwrap();
        let codes: Vec<&str> = catalogue.iter().map(|s| s.code.as_str()).collect();
        assert_eq!(codes, ["same", "minimal"]);
    }

    fn shipped() -> Vec<(String, String)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../services");
        let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|e| e == "toml"))
            .map(|path| {
                let name = format!("services/{}", path.file_name().unwrap().to_string_lossy());
                (name, std::fs::read_to_string(&path).unwrap())
            })
            .collect();
        files.sort();
        files
    }

    #[test]
    fn shipped_definitions_are_valid() {
        let files = shipped();
        let catalogue =
            ServiceCatalogue::from_files(files.iter().map(|(n, t)| (n.as_str(), t.as_str())))
                .unwrap_or_else(|problems| {
                    panic!(
                        "{}",
                        problems
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join("\n")
                    )
                });
        for (code, team) in [
            ("missed-bin", "waste"),
            ("housing-repair", "repairs"),
            ("noise-complaint", "environmental-health"),
            ("homelessness-prevention", "housing-options"),
        ] {
            let service = catalogue
                .get(code)
                .unwrap_or_else(|| panic!("{code} is not shipped"));
            assert_eq!(service.team, team);
            assert!(
                service.templates.len() >= 2,
                "{code} has fewer than two templates"
            );
            assert!(
                service.templates.iter().all(|t| t.body.contains("((")),
                "{code} has a template without placeholders"
            );
            assert!(
                !service.plan.actions.is_empty(),
                "{code} has no plan actions"
            );
            let file = format!("services/{code}.toml");
            assert!(
                files.iter().any(|(name, _)| *name == file),
                "{code} is not in {file}"
            );
        }
    }

    #[test]
    fn shipped_slas() {
        let files = shipped();
        let catalogue =
            ServiceCatalogue::from_files(files.iter().map(|(n, t)| (n.as_str(), t.as_str())))
                .unwrap();
        let days = |service: &str, priority: &str| {
            catalogue
                .get(service)
                .unwrap()
                .priority(priority)
                .unwrap()
                .working_days
        };
        assert_eq!(days("missed-bin", "standard"), 2);
        assert_eq!(days("noise-complaint", "standard"), 5);
        assert_eq!(days("housing-repair", "emergency"), 1);
        assert_eq!(days("housing-repair", "urgent"), 5);
        assert_eq!(days("housing-repair", "routine"), 20);
    }
}
