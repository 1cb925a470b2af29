//! Dates, times, people and answers as staff read them, in the GOV.UK style: "7 December 2026",
//! "3:15pm", times on UK clocks.

use casework_app::domain::calendar::{uk_date, uk_time};
use casework_app::domain::case::{Actor, Case};
use casework_app::domain::service::{Field, FieldKind};
use casework_app::{App, Directory};
use serde_json::Value;
use time::{Date, OffsetDateTime};

/// "7 December 2026".
pub(crate) fn date(day: Date) -> String {
    format!("{} {} {}", day.day(), day.month(), day.year())
}

/// "7 Dec 2026": the GOV.UK style for dates in tables, where space is short.
pub(crate) fn short_date(day: Date) -> String {
    let month = day.month().to_string();
    format!("{} {} {}", day.day(), &month[..3], day.year())
}

/// "7 December 2026 at 3:15pm", on UK clocks.
pub(crate) fn date_time(at: OffsetDateTime) -> String {
    let local = uk_time(at);
    format!("{} at {}", date(local.date()), time_of_day(local))
}

/// "3:15pm", "10am", "midday", "midnight": the GOV.UK style for times.
fn time_of_day(local: OffsetDateTime) -> String {
    let (hour, minute) = (local.hour(), local.minute());
    match (hour, minute) {
        (0, 0) => "midnight".to_owned(),
        (12, 0) => "midday".to_owned(),
        _ => {
            let suffix = if hour < 12 { "am" } else { "pm" };
            let hour = match hour % 12 {
                0 => 12,
                h => h,
            };
            if minute == 0 {
                format!("{hour}{suffix}")
            } else {
                format!("{hour}:{minute:02}{suffix}")
            }
        }
    }
}

/// A count with thousands separated: "12,345".
pub(crate) fn count(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        grouped.push('-');
    }
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

/// An instant for a `<time datetime>` attribute.
pub(crate) fn machine_time(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Who did something, as the timeline names them.
pub(crate) fn actor(directory: &Directory, actor: &Actor) -> String {
    match actor {
        Actor::Staff(email) => directory.person_name(email).to_owned(),
        Actor::ApiClient(name) => format!("{name} (another system)"),
        Actor::Resident => "the resident".to_owned(),
        Actor::System => "Casework".to_owned(),
    }
}

/// A GOV.UK tag: its words and its colour class (none for the default blue).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tag {
    pub text: String,
    pub class: &'static str,
}

/// Where a case stands against its SLA: overdue (red), due today, or due in N working days.
/// A closed case has no SLA left to meet.
pub(crate) fn sla(app: &App, case: &Case, now: OffsetDateTime) -> Tag {
    if !case.is_open() {
        return Tag {
            text: "Closed".to_owned(),
            class: "govuk-tag--grey",
        };
    }
    if case.is_overdue(now) {
        return Tag {
            text: "Overdue".to_owned(),
            class: "govuk-tag--red",
        };
    }
    let days = app
        .calendar()
        .working_days_between(uk_date(now), uk_date(case.sla_due_at));
    match days {
        ..=0 => Tag {
            text: "Due today".to_owned(),
            class: "govuk-tag--orange",
        },
        1 => Tag {
            text: "Due in 1 working day".to_owned(),
            class: "",
        },
        n => Tag {
            text: format!("Due in {n} working days"),
            class: "",
        },
    }
}

/// A case's state, by its label in the service's workflow; closed states are grey.
pub(crate) fn state(app: &App, service: &str, state: &str) -> Tag {
    let found = app
        .services()
        .get(service)
        .and_then(|s| s.workflow.state(state));
    match found {
        Some(s) if s.closed => Tag {
            text: s.label.clone(),
            class: "govuk-tag--grey",
        },
        Some(s) => Tag {
            text: s.label.clone(),
            class: "govuk-tag--turquoise",
        },
        // A state no longer in the definition file is still shown, by its code.
        None => Tag {
            text: state.to_owned(),
            class: "govuk-tag--turquoise",
        },
    }
}

/// An answer as a person reads it: choice labels rather than codes, "Yes" or "No", dates in
/// words. Lists and addresses keep one item a line.
pub(crate) fn answer(field: &Field, value: &Value) -> String {
    match (field.kind, value) {
        (FieldKind::YesNo, Value::Bool(true)) => "Yes".to_owned(),
        (FieldKind::YesNo, Value::Bool(false)) => "No".to_owned(),
        (FieldKind::Date, Value::String(text)) => iso_date(text).map_or_else(|| text.clone(), date),
        (FieldKind::SingleChoice, Value::String(code)) => choice(field, code),
        (FieldKind::MultipleChoice, Value::Array(codes)) => codes
            .iter()
            .map(|code| {
                code.as_str()
                    .map_or_else(|| code.to_string(), |c| choice(field, c))
            })
            .collect::<Vec<_>>()
            .join("\n"),
        (FieldKind::Location, Value::Object(point)) => {
            match (point.get("lat"), point.get("long")) {
                (Some(lat), Some(long)) => format!("{lat}, {long}"),
                _ => value.to_string(),
            }
        }
        (_, Value::String(text)) => text.clone(),
        (_, other) => other.to_string(),
    }
}

fn choice(field: &Field, code: &str) -> String {
    field
        .choices
        .iter()
        .find(|c| c.code == code)
        .map_or_else(|| code.to_owned(), |c| c.label.clone())
}

/// A stored `YYYY-MM-DD` date.
pub(crate) fn iso_date(text: &str) -> Option<Date> {
    Date::parse(
        text,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn table_dates_shorten_the_month() {
        assert_eq!(
            short_date(datetime!(2026-09-07 0:00 UTC).date()),
            "7 Sep 2026"
        );
    }

    #[test]
    fn counts_group_thousands() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(1_234_567), "1,234,567");
    }

    #[test]
    fn times_follow_the_gov_uk_style_on_uk_clocks() {
        assert_eq!(
            date_time(datetime!(2026-12-07 15:15 UTC)),
            "7 December 2026 at 3:15pm"
        );
        assert_eq!(
            date_time(datetime!(2026-07-01 09:00 UTC)),
            "1 July 2026 at 10am"
        );
        assert_eq!(
            date_time(datetime!(2026-12-07 12:00 UTC)),
            "7 December 2026 at midday"
        );
        assert_eq!(
            date_time(datetime!(2026-12-07 00:00 UTC)),
            "7 December 2026 at midnight"
        );
        assert_eq!(
            date_time(datetime!(2026-12-07 00:05 UTC)),
            "7 December 2026 at 12:05am"
        );
    }
}
