//! Semantic checks on a definition file that is well-formed TOML of the right shape. Every
//! problem is collected, each at the line of the value it is about, so that one run of
//! `casework check` lists everything to fix.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::ops::Range;

use toml::Spanned;

use super::parse::{RawService, RawTemplate, RawTransition, line_at};
use super::{BUILT_IN_PLACEHOLDERS, PlanTemplate, Problem};

const MAX_WORKING_DAYS: u32 = 365;

pub(super) fn validate(file: &str, text: &str, raw: &RawService) -> Vec<Problem> {
    let mut check = Checker {
        file,
        text,
        problems: Vec::new(),
    };
    check.service(raw);
    check.fields(raw);
    check.workflow(raw);
    check.sla(raw);
    check.plan(raw);
    check.templates(raw);
    check.problems
}

struct Checker<'a> {
    file: &'a str,
    text: &'a str,
    problems: Vec<Problem>,
}

/// Service and team codes appear in URLs, so they are kebab-case.
fn is_slug(s: &str) -> bool {
    let bytes = s.as_bytes();
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && bytes[0] != b'-'
        && bytes[bytes.len() - 1] != b'-'
}

/// Codes inside a service appear as template placeholders and form field names, so they are
/// identifiers.
fn is_identifier(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_lowercase())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl Checker<'_> {
    fn line(&self, at: usize) -> usize {
        line_at(self.text, at)
    }

    fn problem(&mut self, at: usize, message: String) {
        self.problems.push(Problem {
            file: self.file.to_owned(),
            line: self.line(at),
            message,
        });
    }

    fn identifier(&mut self, what: &str, code: &Spanned<String>, example: &str) {
        if !is_identifier(code.get_ref()) {
            self.problem(
                code.span().start,
                format!(
                    "{what} code \"{}\" must be lowercase letters, digits and underscores, \
                     starting with a letter, like \"{example}\"",
                    code.get_ref()
                ),
            );
        }
    }

    fn not_empty(&mut self, value: &Spanned<String>, message: impl FnOnce() -> String) {
        if value.get_ref().trim().is_empty() {
            self.problem(value.span().start, message());
        }
    }

    /// Reports each repeat of a code at the repeat, naming the line of the first.
    fn unique<'s>(&mut self, what: &str, codes: impl IntoIterator<Item = &'s Spanned<String>>) {
        let mut first: HashMap<&str, usize> = HashMap::new();
        for code in codes {
            match first.get(code.get_ref().as_str()) {
                Some(&line) => self.problem(
                    code.span().start,
                    format!(
                        "duplicate {what} \"{}\" (first defined on line {line})",
                        code.get_ref()
                    ),
                ),
                None => {
                    first.insert(code.get_ref(), self.line(code.span().start));
                }
            }
        }
    }

    fn service(&mut self, raw: &RawService) {
        if !is_slug(raw.code.get_ref()) {
            self.problem(
                raw.code.span().start,
                format!(
                    "service code \"{}\" must be lowercase letters, digits and hyphens, like \"missed-bin\"",
                    raw.code.get_ref()
                ),
            );
        }
        self.not_empty(&raw.name, || "service name is empty".to_owned());
        self.not_empty(&raw.description, || {
            "service description is empty".to_owned()
        });
        if !is_slug(raw.team.get_ref()) {
            self.problem(
                raw.team.span().start,
                format!(
                    "team \"{}\" must be lowercase letters, digits and hyphens, like \"waste\"",
                    raw.team.get_ref()
                ),
            );
        }
    }

    fn fields(&mut self, raw: &RawService) {
        for field in &raw.fields {
            let field = field.get_ref();
            let code = field.code.get_ref();
            self.identifier("field", &field.code, "bin_type");
            if BUILT_IN_PLACEHOLDERS.contains(&code.as_str()) {
                self.problem(
                    field.code.span().start,
                    format!(
                        "field code \"{code}\" is reserved for a built-in template placeholder"
                    ),
                );
            }
            self.not_empty(&field.label, || {
                format!("field \"{code}\" has an empty label")
            });
            let kind = *field.kind.get_ref();
            match &field.choices {
                Some(choices) if !kind.has_choices() => self.problem(
                    choices.span().start,
                    format!("field \"{code}\" is a {kind} field, so it cannot have choices"),
                ),
                Some(choices) if !choices.get_ref().is_empty() => {
                    for choice in choices.get_ref() {
                        let choice = choice.get_ref();
                        self.identifier("choice", &choice.code, "general");
                        self.not_empty(&choice.label, || {
                            format!(
                                "choice \"{}\" of field \"{code}\" has an empty label",
                                choice.code.get_ref()
                            )
                        });
                    }
                    self.unique(
                        &format!("choice in field \"{code}\""),
                        choices.get_ref().iter().map(|c| &c.get_ref().code),
                    );
                }
                _ if kind.has_choices() => self.problem(
                    field.kind.span().start,
                    format!("field \"{code}\" is a {kind} field but has no choices"),
                ),
                _ => {}
            }
        }
        self.unique("field", raw.fields.iter().map(|f| &f.get_ref().code));
    }

    fn workflow(&mut self, raw: &RawService) {
        let workflow = raw.workflow.get_ref();
        let states = workflow.states.get_ref();
        if states.is_empty() {
            self.problem(
                workflow.states.span().start,
                "workflow has no states".to_owned(),
            );
        }
        for state in states {
            let state = state.get_ref();
            self.identifier("state", &state.code, "reported");
            self.not_empty(&state.label, || {
                format!("state \"{}\" has an empty label", state.code.get_ref())
            });
        }
        self.unique("state", states.iter().map(|s| &s.get_ref().code));

        // First definition wins, as it does for the duplicate report above.
        let mut closed: BTreeMap<&str, bool> = BTreeMap::new();
        for state in states {
            let state = state.get_ref();
            closed.entry(state.code.get_ref()).or_insert(state.closed);
        }
        if !states.is_empty() && !closed.values().any(|&c| c) {
            self.problem(
                workflow.states.span().start,
                "workflow has no closed state: mark at least one state with closed = true"
                    .to_owned(),
            );
        }

        let initial = &workflow.initial;
        match closed.get(initial.get_ref().as_str()) {
            None if !states.is_empty() => self.problem(
                initial.span().start,
                format!("workflow starts in unknown state \"{}\"", initial.get_ref()),
            ),
            Some(true) => self.problem(
                initial.span().start,
                format!(
                    "workflow starts in closed state \"{}\": a new case must start open",
                    initial.get_ref()
                ),
            ),
            _ => {}
        }

        let field_codes: BTreeSet<&str> = raw
            .fields
            .iter()
            .map(|f| f.get_ref().code.get_ref().as_str())
            .collect();
        for transition in &workflow.transitions {
            self.transition(transition.get_ref(), &closed, &field_codes);
        }
        // With a transition pointing nowhere, reachability would only echo that problem as a
        // list of stuck states.
        let graph_complete = workflow.transitions.iter().all(|t| {
            let t = t.get_ref();
            !t.from.get_ref().is_empty()
                && t.from
                    .get_ref()
                    .iter()
                    .all(|f| closed.contains_key(f.get_ref().as_str()))
                && closed.contains_key(t.to.get_ref().as_str())
        });
        self.unique(
            "transition",
            workflow.transitions.iter().map(|t| &t.get_ref().code),
        );

        if graph_complete {
            self.reachability(raw, &closed);
        }
    }

    fn transition(
        &mut self,
        t: &RawTransition,
        closed: &BTreeMap<&str, bool>,
        field_codes: &BTreeSet<&str>,
    ) {
        let code = t.code.get_ref();
        self.identifier("transition", &t.code, "collect");
        self.not_empty(&t.label, || {
            format!("transition \"{code}\" has an empty label")
        });
        if t.from.get_ref().is_empty() {
            self.problem(
                t.from.span().start,
                format!("transition \"{code}\" has no from states"),
            );
        }
        for from in t.from.get_ref() {
            match closed.get(from.get_ref().as_str()) {
                None => self.problem(
                    from.span().start,
                    format!("transition \"{code}\" comes from unknown state \"{}\"", from.get_ref()),
                ),
                Some(true) if !t.reopen() => self.problem(
                    from.span().start,
                    format!(
                        "transition \"{code}\" leaves closed state \"{}\", so it must have reopen = true",
                        from.get_ref()
                    ),
                ),
                Some(false) if t.reopen() => self.problem(
                    from.span().start,
                    format!(
                        "transition \"{code}\" has reopen = true but comes from open state \"{}\"",
                        from.get_ref()
                    ),
                ),
                _ => {}
            }
        }
        match closed.get(t.to.get_ref().as_str()) {
            None => self.problem(
                t.to.span().start,
                format!(
                    "transition \"{code}\" goes to unknown state \"{}\"",
                    t.to.get_ref()
                ),
            ),
            Some(true) if t.reopen() => self.problem(
                t.to.span().start,
                format!(
                    "transition \"{code}\" has reopen = true but goes to closed state \"{}\"",
                    t.to.get_ref()
                ),
            ),
            _ => {}
        }
        for field in &t.fields {
            if !field_codes.contains(field.get_ref().as_str()) {
                self.problem(
                    field.span().start,
                    format!(
                        "transition \"{code}\" requires unknown field \"{}\"",
                        field.get_ref()
                    ),
                );
            }
        }
    }

    /// Every state must be reachable from the initial one, and every open state must lead to
    /// some closed state, or cases get stuck where nobody can finish them.
    fn reachability(&mut self, raw: &RawService, closed: &BTreeMap<&str, bool>) {
        let workflow = raw.workflow.get_ref();
        let mut forward: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        let mut backward: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for t in &workflow.transitions {
            let t = t.get_ref();
            for from in t.from.get_ref() {
                forward
                    .entry(from.get_ref())
                    .or_default()
                    .push(t.to.get_ref());
                backward
                    .entry(t.to.get_ref())
                    .or_default()
                    .push(from.get_ref());
            }
        }

        let initial = workflow.initial.get_ref().as_str();
        let reachable = if closed.contains_key(initial) {
            Some(search([initial], &forward))
        } else {
            // An unknown initial state is reported already; every state would look unreachable.
            None
        };
        let can_close = search(
            closed.iter().filter(|&(_, &c)| c).map(|(&s, _)| s),
            &backward,
        );

        let mut seen = BTreeSet::new();
        for state in workflow.states.get_ref() {
            let state = state.get_ref();
            let code = state.code.get_ref().as_str();
            if !seen.insert(code) {
                continue;
            }
            if reachable.as_ref().is_some_and(|r| !r.contains(code)) {
                self.problem(
                    state.code.span().start,
                    format!(
                        "state \"{code}\" cannot be reached from the initial state \"{initial}\""
                    ),
                );
            }
            if !state.closed && !can_close.is_empty() && !can_close.contains(code) {
                self.problem(
                    state.code.span().start,
                    format!(
                        "state \"{code}\" is a dead end: no closed state can be reached from it"
                    ),
                );
            }
        }
    }

    fn sla(&mut self, raw: &RawService) {
        let sla = raw.sla.get_ref();
        let priorities = sla.priorities.get_ref();
        if priorities.is_empty() {
            self.problem(
                sla.priorities.span().start,
                "[sla] has no priorities".to_owned(),
            );
        }
        for priority in priorities {
            let priority = priority.get_ref();
            let code = priority.code.get_ref();
            self.identifier("priority", &priority.code, "standard");
            self.not_empty(&priority.label, || {
                format!("priority \"{code}\" has an empty label")
            });
            let days = *priority.working_days.get_ref();
            if days == 0 || days > MAX_WORKING_DAYS {
                self.problem(
                    priority.working_days.span().start,
                    format!(
                        "priority \"{code}\" has a bad SLA: working_days must be from 1 to \
                         {MAX_WORKING_DAYS}, not {days}"
                    ),
                );
            }
        }
        self.unique("priority", priorities.iter().map(|p| &p.get_ref().code));
        let default = &sla.default_priority;
        if !priorities.is_empty()
            && !priorities
                .iter()
                .any(|p| p.get_ref().code.get_ref() == default.get_ref())
        {
            self.problem(
                default.span().start,
                format!(
                    "default_priority \"{}\" is an unknown priority",
                    default.get_ref()
                ),
            );
        }
    }

    fn plan(&mut self, raw: &RawService) {
        if let Some(days) = &raw.plan.link_expires_after_days
            && !(1..=PlanTemplate::MAX_LINK_DAYS).contains(days.get_ref())
        {
            self.problem(
                days.span().start,
                format!(
                    "link_expires_after_days must be from 1 to {}, not {}",
                    PlanTemplate::MAX_LINK_DAYS,
                    days.get_ref()
                ),
            );
        }
        for action in &raw.plan.actions {
            self.not_empty(&action.get_ref().title, || {
                "plan action has an empty title".to_owned()
            });
        }
    }

    fn templates(&mut self, raw: &RawService) {
        let known: BTreeSet<&str> = raw
            .fields
            .iter()
            .map(|f| f.get_ref().code.get_ref().as_str())
            .chain(BUILT_IN_PLACEHOLDERS.iter().copied())
            .collect();
        for template in &raw.templates {
            let template = template.get_ref();
            let code = template.code.get_ref();
            self.identifier("template", &template.code, "acknowledgement");
            self.not_empty(&template.name, || {
                format!("template \"{code}\" has an empty name")
            });
            self.not_empty(&template.body, || {
                format!("template \"{code}\" has an empty body")
            });
            if let Some(subject) = &template.subject {
                self.placeholders(template, "subject", subject, &known);
            }
            self.placeholders(template, "body", &template.body, &known);
        }
        self.unique("template", raw.templates.iter().map(|t| &t.get_ref().code));
    }

    fn placeholders(
        &mut self,
        template: &RawTemplate,
        part: &str,
        value: &Spanned<String>,
        known: &BTreeSet<&str>,
    ) {
        let code = template.code.get_ref();
        for piece in scan_placeholders(value.get_ref()) {
            let (at, message) = match piece {
                Piece::Unclosed { at } => (
                    at,
                    format!("template \"{code}\" has an unclosed placeholder \"((\" in its {part}"),
                ),
                Piece::Placeholder { at, name } if !is_placeholder_name(name) => (
                    at,
                    format!(
                        "template \"{code}\" has a malformed placeholder (({name})) in its {part}"
                    ),
                ),
                Piece::Placeholder { at, name } if !known.contains(name) => (
                    at,
                    format!(
                        "template \"{code}\" uses unknown placeholder (({name})) in its {part}: \
                         use a field code or one of {}",
                        BUILT_IN_PLACEHOLDERS.join(", ")
                    ),
                ),
                Piece::Placeholder { .. } => continue,
            };
            let offset = self.source_offset(value, at);
            self.problem(offset, message);
        }
    }

    /// Maps a byte in a string's value back to the file, for multi-line bodies. Escapes make
    /// the value and its source differ, but not in the count of `((` before a placeholder.
    fn source_offset(&self, value: &Spanned<String>, at: usize) -> usize {
        let span: Range<usize> = value.span();
        let preceding = value.get_ref()[..at].matches("((").count();
        self.text
            .get(span.clone())
            .and_then(|source| source.match_indices("((").nth(preceding))
            .map_or(span.start, |(i, _)| span.start + i)
    }
}

fn search<'a>(
    start: impl IntoIterator<Item = &'a str>,
    edges: &BTreeMap<&'a str, Vec<&'a str>>,
) -> BTreeSet<&'a str> {
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut queue: VecDeque<&str> = start.into_iter().collect();
    while let Some(state) = queue.pop_front() {
        if seen.insert(state) {
            queue.extend(edges.get(state).into_iter().flatten().copied());
        }
    }
    seen
}

fn is_placeholder_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[derive(Debug, PartialEq)]
enum Piece<'a> {
    Placeholder { at: usize, name: &'a str },
    Unclosed { at: usize },
}

/// Finds GOV.UK Notify-style `((name))` placeholders.
fn scan_placeholders(text: &str) -> Vec<Piece<'_>> {
    let mut pieces = Vec::new();
    let mut pos = 0;
    while let Some(found) = text[pos..].find("((") {
        let at = pos + found;
        let rest = &text[at + 2..];
        match rest.find("))") {
            Some(end) if !rest[..end].contains("((") => {
                pieces.push(Piece::Placeholder {
                    at,
                    name: &rest[..end],
                });
                pos = at + 2 + end + 2;
            }
            Some(_) => {
                pieces.push(Piece::Unclosed { at });
                pos = at + 2;
            }
            None => {
                pieces.push(Piece::Unclosed { at });
                break;
            }
        }
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::parse_service;

    #[test]
    fn scans_placeholders() {
        assert_eq!(
            scan_placeholders("Dear ((name)), ref ((reference)) ((oops"),
            vec![
                Piece::Placeholder {
                    at: 5,
                    name: "name"
                },
                Piece::Placeholder {
                    at: 19,
                    name: "reference"
                },
                Piece::Unclosed { at: 33 },
            ]
        );
        assert_eq!(
            scan_placeholders("((a ((b))"),
            vec![
                Piece::Unclosed { at: 0 },
                Piece::Placeholder { at: 4, name: "b" }
            ]
        );
        assert!(scan_placeholders("no placeholders (here)").is_empty());
    }

    #[test]
    fn slugs_and_identifiers() {
        assert!(is_slug("missed-bin"));
        assert!(is_slug("a1"));
        assert!(!is_slug("-bin"));
        assert!(!is_slug("bin-"));
        assert!(!is_slug("Missed bin"));
        assert!(!is_slug(""));
        assert!(is_identifier("bin_type"));
        assert!(!is_identifier("1st"));
        assert!(!is_identifier("bin-type"));
        assert!(!is_identifier(""));
    }

    /// A valid service; each test breaks one thing in it by text replacement so that the
    /// expected line numbers can be read off this listing.
    const BASE: &str = r#"code = "test-service"
name = "Test service"
description = "A service for tests."
team = "waste"

[[fields]]
code = "bin_type"
label = "Which bin was missed?"
type = "single_choice"
required = true
choices = [{ code = "general", label = "General waste" }, { code = "recycling", label = "Recycling" }]

[[fields]]
code = "notes"
label = "Anything else we should know?"
type = "long_text"

[workflow]
initial = "reported"
states = [
  { code = "reported", label = "Reported" },
  { code = "scheduled", label = "Scheduled" },
  { code = "collected", label = "Collected", closed = true },
]

[[workflow.transitions]]
code = "schedule"
label = "Schedule"
from = ["reported"]
to = "scheduled"

[[workflow.transitions]]
code = "collect"
label = "Mark as collected"
from = ["reported", "scheduled"]
to = "collected"
role = "agent"
fields = ["notes"]

[[workflow.transitions]]
code = "reopen"
label = "Reopen"
from = ["collected"]
to = "reported"
role = "lead"
reopen = true

[sla]
default_priority = "standard"
priorities = [{ code = "standard", label = "Standard", working_days = 2 }]

[plan]
goal = "Empty your bin"
[[plan.actions]]
owner = "resident"
title = "Leave your bin out"
due_in_working_days = 0

[[templates]]
code = "acknowledgement"
name = "Acknowledgement"
subject = "We have your report ((reference))"
body = """
Dear ((name)),

We will empty your ((bin_type)) bin by ((due_date)).
"""
"#;

    const FILE: &str = "services/test.toml";

    fn broken(from: &str, to: &str) -> Vec<String> {
        assert!(BASE.contains(from), "BASE does not contain {from:?}");
        let text = BASE.replacen(from, to, 1);
        match parse_service(FILE, &text) {
            Ok(_) => Vec::new(),
            Err(problems) => problems.iter().map(ToString::to_string).collect(),
        }
    }

    fn assert_problems(from: &str, to: &str, expected: &[&str]) {
        let expected: Vec<String> = expected.iter().map(|e| format!("{FILE}:{e}")).collect();
        assert_eq!(broken(from, to), expected);
    }

    #[test]
    fn base_is_valid() {
        let service = parse_service(FILE, BASE).expect("BASE is valid");
        assert_eq!(service.code, "test-service");
        assert_eq!(service.workflow.transitions.len(), 3);
        assert!(service.workflow.transition("reopen").unwrap().reopen);
        assert_eq!(
            service.templates[0].body,
            "Dear ((name)),\n\nWe will empty your ((bin_type)) bin by ((due_date)).\n"
        );
    }

    #[test]
    fn syntax_errors_are_all_reported_with_lines() {
        let problems = broken("team = \"waste\"", "team = = \"waste\"");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with("services/test.toml:4: "),
            "{problems:?}"
        );

        let text = BASE
            .replacen("team = \"waste\"", "team = = \"waste\"", 1)
            .replacen("[sla]", "[sla", 1);
        let problems = parse_service(FILE, &text).unwrap_err();
        let lines: Vec<usize> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, [4, 48]);
    }

    #[test]
    fn unknown_key_is_a_problem_at_its_line() {
        let problems = broken("required = true", "requred = true");
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].starts_with("services/test.toml:10: in fields: unknown field `requred`"),
            "{problems:?}"
        );
    }

    #[test]
    fn wrong_type_is_a_problem_at_its_line() {
        let problems = broken("working_days = 2", "working_days = \"two\"");
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].starts_with("services/test.toml:50: in sla.priorities.working_days: invalid type: string \"two\""),
            "{problems:?}"
        );
        let problems = broken("type = \"long_text\"", "type = \"essay\"");
        assert!(
            problems[0]
                .starts_with("services/test.toml:16: in fields.type: unknown variant `essay`"),
            "{problems:?}"
        );
        let problems = broken("role = \"lead\"", "role = \"boss\"");
        assert!(
            problems[0].starts_with("services/test.toml:45: "),
            "{problems:?}"
        );
    }

    #[test]
    fn missing_key_is_a_problem() {
        let problems = broken("team = \"waste\"\n", "");
        assert_eq!(problems, ["services/test.toml:1: missing field `team`"]);
    }

    #[test]
    fn code_formats() {
        assert_problems(
            "code = \"test-service\"",
            "code = \"Test Service\"",
            &[
                "1: service code \"Test Service\" must be lowercase letters, digits and hyphens, like \"missed-bin\"",
            ],
        );
        assert_problems(
            "team = \"waste\"",
            "team = \"Waste\"",
            &["4: team \"Waste\" must be lowercase letters, digits and hyphens, like \"waste\""],
        );
        let problems = broken("code = \"notes\"", "code = \"Notes\"");
        assert!(problems.iter().any(|p| p.starts_with(
            "services/test.toml:14: field code \"Notes\" must be lowercase letters, digits and underscores"
        )), "{problems:?}");
    }

    #[test]
    fn empty_name() {
        assert_problems(
            "name = \"Test service\"",
            "name = \"  \"",
            &["2: service name is empty"],
        );
    }

    #[test]
    fn empty_description() {
        assert_problems(
            "description = \"A service for tests.\"",
            "description = \"\"",
            &["3: service description is empty"],
        );
    }

    #[test]
    fn duplicate_field_code() {
        assert_problems(
            "code = \"notes\"",
            "code = \"bin_type\"",
            &[
                "14: duplicate field \"bin_type\" (first defined on line 7)",
                "38: transition \"collect\" requires unknown field \"notes\"",
            ],
        );
    }

    #[test]
    fn field_code_that_is_a_built_in_placeholder() {
        assert_problems(
            "code = \"notes\"",
            "code = \"name\"",
            &[
                "14: field code \"name\" is reserved for a built-in template placeholder",
                "38: transition \"collect\" requires unknown field \"notes\"",
            ],
        );
    }

    #[test]
    fn choice_field_without_choices() {
        assert_problems(
            "choices = [{ code = \"general\", label = \"General waste\" }, { code = \"recycling\", label = \"Recycling\" }]\n",
            "",
            &["9: field \"bin_type\" is a single_choice field but has no choices"],
        );
        assert_problems(
            "choices = [{ code = \"general\", label = \"General waste\" }, { code = \"recycling\", label = \"Recycling\" }]\n",
            "choices = []\n",
            &["9: field \"bin_type\" is a single_choice field but has no choices"],
        );
    }

    #[test]
    fn non_choice_field_with_choices() {
        assert_problems(
            "type = \"long_text\"",
            "type = \"long_text\"\nchoices = [{ code = \"a\", label = \"A\" }]",
            &["17: field \"notes\" is a long_text field, so it cannot have choices"],
        );
    }

    #[test]
    fn duplicate_choice_code() {
        assert_problems(
            "{ code = \"recycling\", label = \"Recycling\" }",
            "{ code = \"general\", label = \"Again\" }",
            &["11: duplicate choice in field \"bin_type\" \"general\" (first defined on line 11)"],
        );
    }

    #[test]
    fn no_states() {
        let text = BASE.replacen(
            "states = [\n  { code = \"reported\", label = \"Reported\" },\n  { code = \"scheduled\", label = \"Scheduled\" },\n  { code = \"collected\", label = \"Collected\", closed = true },\n]",
            "states = []",
            1,
        );
        let problems: Vec<String> = parse_service(FILE, &text)
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(problems[0], "services/test.toml:20: workflow has no states");
        // Transitions now name unknown states; the initial state is not reported twice.
        assert!(
            problems.iter().all(|p| !p.contains("starts in")),
            "{problems:?}"
        );
    }

    #[test]
    fn duplicate_state_code() {
        assert_problems(
            "{ code = \"scheduled\", label = \"Scheduled\" }",
            "{ code = \"reported\", label = \"Scheduled\" }",
            &[
                "22: duplicate state \"reported\" (first defined on line 21)",
                "30: transition \"schedule\" goes to unknown state \"scheduled\"",
                "35: transition \"collect\" comes from unknown state \"scheduled\"",
            ],
        );
    }

    #[test]
    fn initial_state_unknown() {
        assert_problems(
            "initial = \"reported\"",
            "initial = \"reportd\"",
            &["19: workflow starts in unknown state \"reportd\""],
        );
    }

    #[test]
    fn initial_state_closed() {
        let problems = broken("initial = \"reported\"", "initial = \"collected\"");
        assert_eq!(
            problems[0],
            "services/test.toml:19: workflow starts in closed state \"collected\": a new case must start open"
        );
    }

    #[test]
    fn transition_to_unknown_state() {
        assert_problems(
            "to = \"collected\"",
            "to = \"colected\"",
            &["36: transition \"collect\" goes to unknown state \"colected\""],
        );
    }

    #[test]
    fn transition_from_unknown_state() {
        assert_problems(
            "from = [\"reported\", \"scheduled\"]",
            "from = [\"reported\", \"sheduled\"]",
            &["35: transition \"collect\" comes from unknown state \"sheduled\""],
        );
    }

    #[test]
    fn transition_with_no_from_states() {
        assert_problems(
            "from = [\"reported\", \"scheduled\"]",
            "from = []",
            &["35: transition \"collect\" has no from states"],
        );
    }

    #[test]
    fn transition_fields_unknown() {
        assert_problems(
            "fields = [\"notes\"]",
            "fields = [\"note\"]",
            &["38: transition \"collect\" requires unknown field \"note\""],
        );
    }

    #[test]
    fn duplicate_transition_code() {
        assert_problems(
            "code = \"schedule\"",
            "code = \"collect\"",
            &["33: duplicate transition \"collect\" (first defined on line 27)"],
        );
    }

    #[test]
    fn no_closed_state() {
        assert_problems(
            "{ code = \"collected\", label = \"Collected\", closed = true }",
            "{ code = \"collected\", label = \"Collected\" }",
            &[
                "20: workflow has no closed state: mark at least one state with closed = true",
                "43: transition \"reopen\" has reopen = true but comes from open state \"collected\"",
            ],
        );
    }

    #[test]
    fn unreachable_state() {
        assert_problems(
            "  { code = \"scheduled\", label = \"Scheduled\" },\n",
            "  { code = \"scheduled\", label = \"Scheduled\" },\n  { code = \"lost\", label = \"Lost\", closed = true },\n",
            &["23: state \"lost\" cannot be reached from the initial state \"reported\""],
        );
    }

    #[test]
    fn dead_end_state() {
        assert_problems(
            "from = [\"reported\", \"scheduled\"]",
            "from = [\"reported\"]",
            &["22: state \"scheduled\" is a dead end: no closed state can be reached from it"],
        );
    }

    #[test]
    fn transition_from_closed_state_needs_reopen() {
        assert_problems(
            "reopen = true\n",
            "",
            &[
                "43: transition \"reopen\" leaves closed state \"collected\", so it must have reopen = true",
            ],
        );
    }

    #[test]
    fn reopen_from_open_state() {
        assert_problems(
            "from = [\"collected\"]",
            "from = [\"collected\", \"scheduled\"]",
            &[
                "43: transition \"reopen\" has reopen = true but comes from open state \"scheduled\"",
            ],
        );
    }

    #[test]
    fn reopen_to_closed_state() {
        assert_problems(
            "to = \"reported\"",
            "to = \"collected\"",
            &["44: transition \"reopen\" has reopen = true but goes to closed state \"collected\""],
        );
    }

    #[test]
    fn no_priorities() {
        assert_problems(
            "priorities = [{ code = \"standard\", label = \"Standard\", working_days = 2 }]",
            "priorities = []",
            &["50: [sla] has no priorities"],
        );
    }

    #[test]
    fn duplicate_priority() {
        assert_problems(
            "working_days = 2 }]",
            "working_days = 2 },\n  { code = \"standard\", label = \"Again\", working_days = 3 }]",
            &["51: duplicate priority \"standard\" (first defined on line 50)"],
        );
    }

    #[test]
    fn default_priority_unknown() {
        assert_problems(
            "default_priority = \"standard\"",
            "default_priority = \"normal\"",
            &["49: default_priority \"normal\" is an unknown priority"],
        );
    }

    #[test]
    fn bad_sla() {
        assert_problems(
            "working_days = 2",
            "working_days = 0",
            &["50: priority \"standard\" has a bad SLA: working_days must be from 1 to 365, not 0"],
        );
        assert_problems(
            "working_days = 2",
            "working_days = 366",
            &[
                "50: priority \"standard\" has a bad SLA: working_days must be from 1 to 365, not 366",
            ],
        );
        assert_eq!(
            broken("working_days = 2", "working_days = 365"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn bad_link_expiry() {
        assert_problems(
            "[plan]",
            "[plan]\nlink_expires_after_days = 0",
            &["53: link_expires_after_days must be from 1 to 366, not 0"],
        );
        assert_eq!(
            broken("[plan]", "[plan]\nlink_expires_after_days = 30"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn plan_action_with_empty_title() {
        assert_problems(
            "title = \"Leave your bin out\"",
            "title = \"\"",
            &["56: plan action has an empty title"],
        );
    }

    #[test]
    fn unknown_placeholder_in_body_points_at_its_line() {
        assert_problems(
            "by ((due_date))",
            "by ((due_dat))",
            &[
                "66: template \"acknowledgement\" uses unknown placeholder ((due_dat)) in its body: use a field code or one of reference, name, service, state, due_date, plan_link, council",
            ],
        );
    }

    #[test]
    fn unknown_placeholder_in_subject() {
        let problems = broken("report ((reference))", "report ((ref))");
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].starts_with("services/test.toml:62: template \"acknowledgement\" uses unknown placeholder ((ref)) in its subject"),
            "{problems:?}"
        );
    }

    #[test]
    fn malformed_placeholders() {
        assert_problems(
            "Dear ((name)),",
            "Dear ((name),",
            &["64: template \"acknowledgement\" has an unclosed placeholder \"((\" in its body"],
        );
        assert_problems(
            "Dear ((name)),",
            "Dear ((first name)),",
            &[
                "64: template \"acknowledgement\" has a malformed placeholder ((first name)) in its body",
            ],
        );
    }

    #[test]
    fn duplicate_template_code() {
        let text = format!(
            "{BASE}\n[[templates]]\ncode = \"acknowledgement\"\nname = \"Again\"\nbody = \"Hello\"\n"
        );
        let problems: Vec<String> = parse_service(FILE, &text)
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            problems,
            [
                "services/test.toml:70: duplicate template \"acknowledgement\" (first defined on line 60)"
            ]
        );
    }

    #[test]
    fn all_problems_are_reported_in_line_order() {
        let text = BASE
            .replacen("name = \"Test service\"", "name = \"\"", 1)
            .replacen("to = \"collected\"", "to = \"closd\"", 1)
            .replacen("working_days = 2", "working_days = 0", 1);
        let lines: Vec<usize> = parse_service(FILE, &text)
            .unwrap_err()
            .iter()
            .map(|p| p.line)
            .collect();
        assert_eq!(lines, [2, 36, 50]);
    }
}
