//! A case's answers to its service's fields: checked against each field's kind and choices,
//! and normalised so that stored answers have one form whichever form or API sent them.
//!
//! Error messages follow the GOV.UK Design System's error message style, as residents read
//! them in the error summary beside the question.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Number, Value};
use time::Date;
use time::macros::format_description;

use super::{Field, FieldKind, Service};

/// A case's answers to its service's fields, keyed by field code.
///
/// Values are JSON: text kinds, email, phone and address are strings, number a number, date a
/// `"YYYY-MM-DD"` string, yes_no a bool, single_choice a choice code, multiple_choice an array
/// of choice codes, location `{"lat": f64, "long": f64}` and/or `{"address": "…"}`.
pub type Answers = BTreeMap<String, Value>;

/// One problem with one answer, for a person to read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    /// The field code, so that a form can link the message to its question.
    pub field: String,
    pub message: String,
}

/// The most characters a text or address answer may have.
pub const MAX_TEXT: usize = 500;
/// The most characters a long text answer may have.
pub const MAX_LONG_TEXT: usize = 10_000;
const MAX_EMAIL: usize = 254;
/// Wider than Great Britain and Northern Ireland with their islands, so that every UK address
/// fits and obviously wrong points (0, 0 or swapped coordinates) do not.
const UK_LATITUDE: (f64, f64) = (49.0, 61.0);
const UK_LONGITUDE: (f64, f64) = (-9.0, 2.5);

impl Service {
    /// Checks a full set of answers for a new case: unknown field codes, each answer's type
    /// and choices, and that every required field a resident is asked has an answer.
    /// Staff-only fields may be answered (staff also create cases) but are never required here.
    ///
    /// Returns the normalised answers, without the empty ones, or every error in the order of
    /// the fields, then unknown codes.
    pub fn check_answers(&self, answers: &Answers) -> Result<Answers, Vec<FieldError>> {
        let mut checked = Answers::new();
        let mut errors = Vec::new();
        for field in &self.fields {
            let required = field.required && !field.staff_only;
            match answers.get(&field.code).map(|v| normalise(field, v)) {
                Some(Err(message)) => errors.push(error(field, message)),
                Some(Ok(Some(value))) => {
                    checked.insert(field.code.clone(), value);
                }
                Some(Ok(None)) | None if required => {
                    errors.push(error(field, missing_message(field)));
                }
                Some(Ok(None)) | None => {}
            }
        }
        errors.extend(self.unknown_codes(answers));
        if errors.is_empty() {
            Ok(checked)
        } else {
            Err(errors)
        }
    }

    /// Checks a partial update: only the given fields, staff-only ones included. An empty
    /// answer (JSON null, a blank string, no choices) clears a field that is not required and
    /// comes back as JSON null, so the caller knows to remove it.
    pub fn check_answer_changes(&self, changes: &Answers) -> Result<Answers, Vec<FieldError>> {
        let mut checked = Answers::new();
        let mut errors = Vec::new();
        for field in &self.fields {
            let Some(value) = changes.get(&field.code) else {
                continue;
            };
            match normalise(field, value) {
                Err(message) => errors.push(error(field, message)),
                Ok(Some(value)) => {
                    checked.insert(field.code.clone(), value);
                }
                Ok(None) if field.required => errors.push(error(field, missing_message(field))),
                Ok(None) => {
                    checked.insert(field.code.clone(), Value::Null);
                }
            }
        }
        errors.extend(self.unknown_codes(changes));
        if errors.is_empty() {
            Ok(checked)
        } else {
            Err(errors)
        }
    }

    fn unknown_codes<'a>(&'a self, answers: &'a Answers) -> impl Iterator<Item = FieldError> + 'a {
        answers
            .keys()
            .filter(|code| self.field(code).is_none())
            .map(|code| FieldError {
                field: code.clone(),
                message: format!("\"{code}\" is not a question for this service"),
            })
    }
}

fn error(field: &Field, message: String) -> FieldError {
    FieldError {
        field: field.code.clone(),
        message,
    }
}

/// The label as the object of a sentence: "Which bin was missed?" → "which bin was missed".
/// A leading acronym ("UPRN") keeps its capitals.
fn subject(field: &Field) -> String {
    let label = field
        .label
        .trim()
        .trim_end_matches(['?', '.', ':'])
        .trim_end();
    let mut chars = label.chars();
    match (chars.next(), chars.next()) {
        (Some(first), second) if !second.is_some_and(char::is_uppercase) => first
            .to_lowercase()
            .chain(label[first.len_utf8()..].chars())
            .collect(),
        _ => label.to_owned(),
    }
}

/// The label as the start of a sentence: "Which bin was missed?" → "Which bin was missed".
fn sentence_start(field: &Field) -> String {
    let label = field
        .label
        .trim()
        .trim_end_matches(['?', '.', ':'])
        .trim_end();
    let mut chars = label.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// What to say when `field` is left empty: "Select …" for a choice, "Enter …" for the rest, as
/// the GOV.UK Design System words it.
pub(crate) fn missing_message(field: &Field) -> String {
    match field.kind {
        FieldKind::SingleChoice | FieldKind::MultipleChoice | FieldKind::Location => {
            format!("Select {}", subject(field))
        }
        FieldKind::YesNo => "Select yes or no".to_owned(),
        _ => format!("Enter {}", subject(field)),
    }
}

/// `Ok(None)` is an empty answer: missing for a new case, a clearing for an update.
fn normalise(field: &Field, value: &Value) -> Result<Option<Value>, String> {
    if value.is_null() {
        return Ok(None);
    }
    match field.kind {
        FieldKind::Text => text(field, value, MAX_TEXT).map(|t| t.map(Value::String)),
        FieldKind::LongText => long_text(field, value).map(|t| t.map(Value::String)),
        FieldKind::Address => address(field, value).map(|t| t.map(Value::String)),
        FieldKind::Number => number(field, value),
        FieldKind::Date => date(field, value),
        FieldKind::YesNo => yes_no(value),
        FieldKind::SingleChoice => single_choice(field, value),
        FieldKind::MultipleChoice => multiple_choice(field, value),
        FieldKind::Email => email(field, value),
        FieldKind::Phone => phone(field, value),
        FieldKind::Location => location(field, value),
    }
}

fn string<'v>(field: &Field, value: &'v Value) -> Result<Option<&'v str>, String> {
    match value {
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => Ok(Some(s.trim())),
        _ => Err(missing_message(field)),
    }
}

fn limit(field: &Field, text: String, max: usize) -> Result<Option<String>, String> {
    if text.chars().count() > max {
        Err(format!(
            "{} must be {max} characters or fewer",
            sentence_start(field)
        ))
    } else {
        Ok(Some(text))
    }
}

fn text(field: &Field, value: &Value, max: usize) -> Result<Option<String>, String> {
    match string(field, value)? {
        None => Ok(None),
        Some(s) => limit(field, s.to_owned(), max),
    }
}

/// Keeps the resident's paragraphs but not the carriage returns browsers send.
fn long_text(field: &Field, value: &Value) -> Result<Option<String>, String> {
    match string(field, value)? {
        None => Ok(None),
        Some(s) => limit(field, s.replace("\r\n", "\n"), MAX_LONG_TEXT),
    }
}

/// One address line per line, without blank lines or stray spaces.
fn address(field: &Field, value: &Value) -> Result<Option<String>, String> {
    match string(field, value)? {
        None => Ok(None),
        Some(s) => {
            let lines: Vec<&str> = s.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
            limit(field, lines.join("\n"), MAX_TEXT)
        }
    }
}

/// HTML forms send numbers as text, so a string holding a number is accepted too.
fn number(field: &Field, value: &Value) -> Result<Option<Value>, String> {
    let not_a_number = || format!("{} must be a number", sentence_start(field));
    match value {
        Value::Number(n) => Ok(Some(Value::Number(n.clone()))),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => {
            let s = s.trim();
            if let Ok(i) = s.parse::<i64>() {
                Ok(Some(Value::from(i)))
            } else {
                s.parse::<f64>()
                    .ok()
                    .and_then(Number::from_f64)
                    .map(|n| Some(Value::Number(n)))
                    .ok_or_else(not_a_number)
            }
        }
        _ => Err(not_a_number()),
    }
}

fn date(field: &Field, value: &Value) -> Result<Option<Value>, String> {
    let Some(s) = string(field, value)? else {
        return Ok(None);
    };
    let format = format_description!("[year]-[month]-[day]");
    match Date::parse(s, format) {
        // Bounded so that a typo such as 0225 for 2025 is caught rather than stored.
        Ok(d) if (1900..=2200).contains(&d.year()) => Ok(Some(Value::String(
            d.format(format).map_err(|e| e.to_string())?,
        ))),
        _ => Err(format!("{} must be a real date", sentence_start(field))),
    }
}

/// HTML radios send "yes" or "no", so those are accepted too.
fn yes_no(value: &Value) -> Result<Option<Value>, String> {
    match value {
        Value::Bool(b) => Ok(Some(Value::Bool(*b))),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "" => Ok(None),
            "yes" | "true" => Ok(Some(Value::Bool(true))),
            "no" | "false" => Ok(Some(Value::Bool(false))),
            _ => Err("Select yes or no".to_owned()),
        },
        _ => Err("Select yes or no".to_owned()),
    }
}

fn single_choice(field: &Field, value: &Value) -> Result<Option<Value>, String> {
    match string(field, value)? {
        None => Ok(None),
        Some(code) if field.choices.iter().any(|c| c.code == code) => {
            Ok(Some(Value::String(code.to_owned())))
        }
        Some(_) => Err(format!("Select {}", subject(field))),
    }
}

/// A form with one box ticked sends a lone string, so that is read as a list of one. The
/// result lists each choice once, in the order the file gives the choices.
fn multiple_choice(field: &Field, value: &Value) -> Result<Option<Value>, String> {
    let invalid = || format!("Select {}", subject(field));
    let given: Vec<&str> = match value {
        Value::String(s) => vec![s.trim()],
        Value::Array(items) => items
            .iter()
            .map(|item| item.as_str().map(str::trim).ok_or_else(invalid))
            .collect::<Result<_, _>>()?,
        _ => return Err(invalid()),
    };
    let given: Vec<&str> = given.into_iter().filter(|c| !c.is_empty()).collect();
    if given
        .iter()
        .any(|code| !field.choices.iter().any(|c| c.code == *code))
    {
        return Err(invalid());
    }
    if given.is_empty() {
        return Ok(None);
    }
    Ok(Some(Value::Array(
        field
            .choices
            .iter()
            .filter(|c| given.contains(&c.code.as_str()))
            .map(|c| Value::String(c.code.clone()))
            .collect(),
    )))
}

fn email(field: &Field, value: &Value) -> Result<Option<Value>, String> {
    let Some(s) = string(field, value)? else {
        return Ok(None);
    };
    normalise_email(s)
        .map(|address| Some(Value::String(address)))
        .ok_or_else(|| {
            "Enter an email address in the correct format, like name@example.com".to_owned()
        })
}

/// A practical check, as GOV.UK Notify makes: one `@`, a plausible local part and a domain
/// with at least two labels. Deliverability is the email channel's business.
fn is_email(address: &str) -> bool {
    let Some((local, domain)) = address.split_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
        && labels.last().is_some_and(|tld| tld.chars().count() >= 2);
    address.len() <= MAX_EMAIL && local_ok && domain_ok
}

fn phone(field: &Field, value: &Value) -> Result<Option<Value>, String> {
    let Some(s) = string(field, value)? else {
        return Ok(None);
    };
    normalise_phone(s)
        .map(|p| Some(Value::String(p)))
        .ok_or_else(|| {
            "Enter a telephone number, like 01632 960 001, 07700 900 982 or +44 808 157 0192"
                .to_owned()
        })
}

/// A UK number without its spacing and punctuation, in the form the person used: national
/// (0 then 9 or 10 digits) or international (+44 then 9 or 10 digits, the national number
/// without its 0). "0044" is read as "+44", and the "(0)" people write after +44 is dropped.
fn uk_phone(entered: &str) -> Option<String> {
    let (international, rest) = match entered.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, entered),
    };
    if !rest
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')' | '.'))
    {
        return None;
    }
    let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
    let international_number = if international {
        Some(digits.strip_prefix("44")?)
    } else {
        digits.strip_prefix("0044")
    };
    match international_number {
        Some(national) => {
            let national = national.strip_prefix('0').unwrap_or(national);
            (matches!(national.len(), 9 | 10)).then(|| format!("+44{national}"))
        }
        None => (digits.starts_with('0') && matches!(digits.len(), 10 | 11)).then_some(digits),
    }
}

/// A place: a point (`lat` and `long`), a description of where (`address`, as a form without
/// a map takes it), or both.
fn location(field: &Field, value: &Value) -> Result<Option<Value>, String> {
    let Value::Object(object) = value else {
        return Err(missing_message(field));
    };
    if object
        .keys()
        .any(|key| !matches!(key.as_str(), "lat" | "long" | "address"))
    {
        return Err(missing_message(field));
    }
    let coordinate = |key: &str| object.get(key).map(|v| v.as_f64().ok_or(()));
    let point = match (coordinate("lat"), coordinate("long")) {
        (Some(Ok(lat)), Some(Ok(long))) => Some((lat, long)),
        (None, None) => None,
        _ => return Err(missing_message(field)),
    };
    let address = match object.get("address") {
        None => None,
        Some(Value::String(text)) if text.trim().is_empty() => None,
        Some(Value::String(text)) if text.trim().chars().count() > MAX_TEXT => {
            return Err(format!(
                "{} must be {MAX_TEXT} characters or fewer",
                sentence_start(field)
            ));
        }
        Some(Value::String(text)) => Some(text.trim().to_owned()),
        Some(_) => return Err(missing_message(field)),
    };
    let mut normalised = Map::new();
    if let Some((lat, long)) = point {
        let inside = |(low, high): (f64, f64), v: f64| (low..=high).contains(&v);
        if !inside(UK_LATITUDE, lat) || !inside(UK_LONGITUDE, long) {
            return Err(format!("{} must be in the UK", sentence_start(field)));
        }
        normalised.insert("lat".to_owned(), Value::from(lat));
        normalised.insert("long".to_owned(), Value::from(long));
    }
    if let Some(address) = address {
        normalised.insert("address".to_owned(), Value::from(address));
    }
    if normalised.is_empty() {
        return Err(missing_message(field));
    }
    Ok(Some(Value::Object(normalised)))
}

/// The most text a resident's answers to one request may hold together, in characters of their
/// JSON form. Each answer has its own limit; this one bounds a service with many long answers,
/// and what a half-finished request keeps between pages.
pub const MAX_ANSWERS_CHARS: usize = 30_000;

/// Whether `answers` together are over [`MAX_ANSWERS_CHARS`].
pub fn answers_too_large(answers: &Answers) -> bool {
    serde_json::to_string(answers).map_or(true, |json| json.chars().count() > MAX_ANSWERS_CHARS)
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// An email address lower-cased, or `None` if it is not one. Contact details use the same
/// rules as answers.
pub fn normalise_email(entered: &str) -> Option<String> {
    let address = entered.trim().to_lowercase();
    is_email(&address).then_some(address)
}

/// A UK phone number without its spacing, or `None` if it is not one.
pub fn normalise_phone(entered: &str) -> Option<String> {
    uk_phone(entered.trim())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::parse_service;
    use proptest::prelude::*;
    use serde_json::json;

    const SERVICE: &str = r#"code = "every-kind"
name = "Every kind of field"
description = "A service with one field of each kind."
team = "test"

[[fields]]
code = "summary"
label = "What is the problem?"
type = "text"
required = true

[[fields]]
code = "details"
label = "Tell us more"
type = "long_text"

[[fields]]
code = "count"
label = "How many bins?"
type = "number"

[[fields]]
code = "missed_on"
label = "Date the bin was missed"
type = "date"

[[fields]]
code = "bin_out"
label = "Was the bin out by 7am?"
type = "yes_no"
required = true

[[fields]]
code = "bin_type"
label = "Which bin was missed?"
type = "single_choice"
required = true
choices = [{ code = "general", label = "General waste" }, { code = "recycling", label = "Recycling" }, { code = "garden", label = "Garden waste" }]

[[fields]]
code = "access"
label = "Access problems"
type = "multiple_choice"
choices = [{ code = "gate", label = "Locked gate" }, { code = "dog", label = "Dog" }, { code = "cars", label = "Parked cars" }]

[[fields]]
code = "email"
label = "Email address"
type = "email"

[[fields]]
code = "phone"
label = "Phone number"
type = "phone"

[[fields]]
code = "address"
label = "Address of the property"
type = "address"

[[fields]]
code = "location"
label = "Where is the bin?"
type = "location"

[[fields]]
code = "operative"
label = "Crew"
type = "text"
required = true
staff_only = true

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
priorities = [{ code = "standard", label = "Standard", working_days = 2 }]
"#;

    fn service() -> Service {
        parse_service("every-kind.toml", SERVICE).expect("test service is valid")
    }

    fn answers(value: Value) -> Answers {
        serde_json::from_value(value).unwrap()
    }

    fn minimal() -> Answers {
        answers(json!({"summary": "Bin not emptied", "bin_out": true, "bin_type": "general"}))
    }

    fn with(code: &str, value: Value) -> Answers {
        let mut a = minimal();
        a.insert(code.to_owned(), value);
        a
    }

    /// The normalised value of one answer added to a valid minimal set.
    fn accepted(code: &str, value: Value) -> Value {
        service()
            .check_answers(&with(code, value))
            .unwrap_or_else(|e| panic!("rejected: {e:?}"))
            .remove(code)
            .expect("answer kept")
    }

    fn rejected(code: &str, value: Value) -> String {
        let errors = service().check_answers(&with(code, value)).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].field, code);
        errors[0].message.clone()
    }

    #[test]
    fn minimal_answers_pass_and_are_returned() {
        assert_eq!(service().check_answers(&minimal()).unwrap(), minimal());
    }

    #[test]
    fn required_fields_are_reported_in_field_order() {
        let errors = service().check_answers(&Answers::new()).unwrap_err();
        assert_eq!(
            errors,
            [
                FieldError {
                    field: "summary".into(),
                    message: "Enter what is the problem".into()
                },
                FieldError {
                    field: "bin_out".into(),
                    message: "Select yes or no".into()
                },
                FieldError {
                    field: "bin_type".into(),
                    message: "Select which bin was missed".into()
                },
            ]
        );
    }

    #[test]
    fn blank_and_null_answers_count_as_missing() {
        let errors = service()
            .check_answers(&with("summary", json!("   ")))
            .unwrap_err();
        assert_eq!(errors[0].field, "summary");
        let errors = service()
            .check_answers(&with("summary", Value::Null))
            .unwrap_err();
        assert_eq!(errors[0].message, "Enter what is the problem");
        let checked = service()
            .check_answers(&with("details", json!("")))
            .unwrap();
        assert!(!checked.contains_key("details"));
    }

    #[test]
    fn staff_only_fields_are_not_required_but_are_checked() {
        assert_eq!(accepted("operative", json!(" Crew 4 ")), json!("Crew 4"));
        assert_eq!(rejected("operative", json!(4)), "Enter crew");
    }

    #[test]
    fn unknown_codes_are_errors() {
        let errors = service()
            .check_answers(&with("colour", json!("green")))
            .unwrap_err();
        assert_eq!(
            errors,
            [FieldError {
                field: "colour".into(),
                message: "\"colour\" is not a question for this service".into()
            }]
        );
    }

    #[test]
    fn all_errors_are_returned() {
        let mut a = with("email", json!("nope"));
        a.insert("phone".into(), json!("123"));
        a.remove("bin_type");
        let fields: Vec<String> = service()
            .check_answers(&a)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["bin_type", "email", "phone"]);
    }

    #[test]
    fn text() {
        assert_eq!(
            accepted("summary", json!("  Overflowing  ")),
            json!("Overflowing")
        );
        assert_eq!(rejected("summary", json!(12)), "Enter what is the problem");
        assert_eq!(
            rejected("summary", json!("x".repeat(501))),
            "What is the problem must be 500 characters or fewer"
        );
    }

    #[test]
    fn long_text() {
        assert_eq!(
            accepted("details", json!("Line one\r\nLine two\n")),
            json!("Line one\nLine two")
        );
        assert_eq!(rejected("details", json!(["a"])), "Enter tell us more");
        assert_eq!(
            rejected("details", json!("x".repeat(10_001))),
            "Tell us more must be 10000 characters or fewer"
        );
    }

    #[test]
    fn number() {
        assert_eq!(accepted("count", json!(2)), json!(2));
        assert_eq!(accepted("count", json!(2.5)), json!(2.5));
        assert_eq!(accepted("count", json!(" 3 ")), json!(3));
        assert_eq!(accepted("count", json!("1.5")), json!(1.5));
        assert_eq!(
            rejected("count", json!("two")),
            "How many bins must be a number"
        );
        assert_eq!(
            rejected("count", json!("NaN")),
            "How many bins must be a number"
        );
        assert_eq!(
            rejected("count", json!(true)),
            "How many bins must be a number"
        );
    }

    #[test]
    fn date() {
        assert_eq!(
            accepted("missed_on", json!(" 2025-03-27 ")),
            json!("2025-03-27")
        );
        assert_eq!(
            rejected("missed_on", json!("2025-02-30")),
            "Date the bin was missed must be a real date"
        );
        assert_eq!(
            rejected("missed_on", json!("27/03/2025")),
            "Date the bin was missed must be a real date"
        );
        assert_eq!(
            rejected("missed_on", json!("0225-03-27")),
            "Date the bin was missed must be a real date"
        );
        assert_eq!(
            rejected("missed_on", json!(20250327)),
            "Enter date the bin was missed"
        );
    }

    #[test]
    fn yes_no() {
        assert_eq!(accepted("bin_out", json!(false)), json!(false));
        assert_eq!(accepted("bin_out", json!("Yes")), json!(true));
        assert_eq!(accepted("bin_out", json!("no")), json!(false));
        assert_eq!(rejected("bin_out", json!("maybe")), "Select yes or no");
        assert_eq!(rejected("bin_out", json!(1)), "Select yes or no");
    }

    #[test]
    fn single_choice() {
        assert_eq!(accepted("bin_type", json!("recycling")), json!("recycling"));
        assert_eq!(
            rejected("bin_type", json!("glass")),
            "Select which bin was missed"
        );
        assert_eq!(
            rejected("bin_type", json!(["general"])),
            "Select which bin was missed"
        );
    }

    #[test]
    fn multiple_choice() {
        assert_eq!(
            accepted("access", json!(["cars", "gate", "cars"])),
            json!(["gate", "cars"])
        );
        assert_eq!(accepted("access", json!("dog")), json!(["dog"]));
        assert_eq!(
            rejected("access", json!(["gate", "fox"])),
            "Select access problems"
        );
        assert_eq!(rejected("access", json!([1])), "Select access problems");
        assert_eq!(
            rejected("access", json!({"gate": true})),
            "Select access problems"
        );
        let checked = service().check_answers(&with("access", json!([]))).unwrap();
        assert!(!checked.contains_key("access"));
    }

    #[test]
    fn email() {
        assert_eq!(
            accepted("email", json!(" Jo.Bloggs@Example.GOV.uk ")),
            json!("jo.bloggs@example.gov.uk")
        );
        assert_eq!(
            accepted("email", json!("a+b@sub.example.co.uk")),
            json!("a+b@sub.example.co.uk")
        );
        let message = "Enter an email address in the correct format, like name@example.com";
        for bad in [
            "jo",
            "jo@",
            "@example.com",
            "jo@example",
            "jo@@example.com",
            "jo bloggs@example.com",
            "jo..b@example.com",
            "jo@-example.com",
            "jo@example.c",
        ] {
            assert_eq!(rejected("email", json!(bad)), message, "{bad}");
        }
    }

    #[test]
    fn phone() {
        assert_eq!(
            accepted("phone", json!("07700 900 982")),
            json!("07700900982")
        );
        assert_eq!(
            accepted("phone", json!("(01632) 960-001")),
            json!("01632960001")
        );
        assert_eq!(accepted("phone", json!("0800 123456")), json!("0800123456"));
        assert_eq!(
            accepted("phone", json!("+44 7700 900982")),
            json!("+447700900982")
        );
        assert_eq!(
            accepted("phone", json!("+44 (0)20 7946 0000")),
            json!("+442079460000")
        );
        assert_eq!(
            accepted("phone", json!("0044 7700 900982")),
            json!("+447700900982")
        );
        for bad in [
            "123",
            "7700 900982",
            "077009009821",
            "+33 1 23 45 67 89",
            "+44 7700",
            "07700 ext 1",
            "+447700900982x",
            "++447700900982",
        ] {
            assert!(
                rejected("phone", json!(bad)).starts_with("Enter a telephone number"),
                "{bad}"
            );
        }
    }

    #[test]
    fn address() {
        assert_eq!(
            accepted(
                "address",
                json!(" 1 High Street \r\n\r\n  Anytown\nAB1 2CD ")
            ),
            json!("1 High Street\nAnytown\nAB1 2CD")
        );
        assert_eq!(
            rejected("address", json!({"line1": "x"})),
            "Enter address of the property"
        );
    }

    #[test]
    fn location() {
        assert_eq!(
            accepted("location", json!({"lat": 51.5, "long": -0.12})),
            json!({"lat": 51.5, "long": -0.12})
        );
        assert_eq!(
            accepted("location", json!({"lat": 55, "long": -3})),
            json!({"lat": 55.0, "long": -3.0})
        );
        assert_eq!(
            rejected("location", json!({"lat": 48.9, "long": 0})),
            "Where is the bin must be in the UK"
        );
        assert_eq!(
            rejected("location", json!({"lat": 51.5, "long": 2.6})),
            "Where is the bin must be in the UK"
        );
        assert_eq!(
            rejected("location", json!({"lat": 51.5})),
            "Select where is the bin"
        );
        assert_eq!(
            rejected("location", json!({"lat": "51.5", "long": 0})),
            "Select where is the bin"
        );
        assert_eq!(
            rejected("location", json!({"lat": 51.5, "long": 0, "alt": 3})),
            "Select where is the bin"
        );
        assert_eq!(
            rejected("location", json!([51.5, 0])),
            "Select where is the bin"
        );
        // Without a map, a place described in words.
        assert_eq!(
            accepted("location", json!({"address": " Outside 4 Mill Lane "})),
            json!({"address": "Outside 4 Mill Lane"})
        );
        assert_eq!(
            accepted(
                "location",
                json!({"lat": 51.5, "long": 0, "address": "The park gate"})
            ),
            json!({"lat": 51.5, "long": 0.0, "address": "The park gate"})
        );
        assert_eq!(
            rejected("location", json!({"address": "  "})),
            "Select where is the bin"
        );
        assert_eq!(
            rejected("location", json!({"address": 4})),
            "Select where is the bin"
        );
    }

    #[test]
    fn changes_check_only_the_given_fields() {
        let changes = answers(json!({"operative": "Crew 4", "email": " A@B.CO "}));
        assert_eq!(
            service().check_answer_changes(&changes).unwrap(),
            answers(json!({"operative": "Crew 4", "email": "a@b.co"}))
        );
    }

    #[test]
    fn changes_clear_optional_fields_with_null() {
        let changes = answers(json!({"details": null, "access": [], "phone": ""}));
        assert_eq!(
            service().check_answer_changes(&changes).unwrap(),
            answers(json!({"details": null, "access": null, "phone": null}))
        );
    }

    #[test]
    fn changes_cannot_clear_required_fields() {
        let changes = answers(json!({"bin_type": null, "operative": " ", "count": "x", "nope": 1}));
        let errors: Vec<(String, String)> = service()
            .check_answer_changes(&changes)
            .unwrap_err()
            .into_iter()
            .map(|e| (e.field, e.message))
            .collect();
        assert_eq!(
            errors,
            [
                (
                    "count".to_owned(),
                    "How many bins must be a number".to_owned()
                ),
                (
                    "bin_type".to_owned(),
                    "Select which bin was missed".to_owned()
                ),
                ("operative".to_owned(), "Enter crew".to_owned()),
                (
                    "nope".to_owned(),
                    "\"nope\" is not a question for this service".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn answers_together_have_a_limit() {
        let mut a = minimal();
        assert!(!answers_too_large(&a));
        a.insert("details".into(), json!("x".repeat(MAX_ANSWERS_CHARS)));
        assert!(answers_too_large(&a));
    }

    #[test]
    fn acronym_labels_keep_their_capitals() {
        let mut service = service();
        service.fields[0].label = "UPRN of the property".into();
        let errors = service.check_answers(&Answers::new()).unwrap_err();
        assert_eq!(errors[0].message, "Enter UPRN of the property");
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            ".*".prop_map(Value::String),
            "[a-z]{0,10}".prop_map(Value::String),
            "[+0-9 ()-]{0,16}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map("lat|long|[a-z]{1,4}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn key() -> impl Strategy<Value = String> {
        let codes: Vec<String> = service().fields.iter().map(|f| f.code.clone()).collect();
        prop_oneof![prop::sample::select(codes), ".{0,8}"]
    }

    proptest! {
        #[test]
        fn checking_answers_never_panics(map in prop::collection::btree_map(key(), json_value(), 0..12)) {
            let service = service();
            if let Ok(checked) = service.check_answers(&map) {
                // What comes back is already normal: checking it again changes nothing.
                prop_assert_eq!(service.check_answers(&checked), Ok(checked.clone()));
            }
            let _ = service.check_answer_changes(&map);
        }
    }
}
