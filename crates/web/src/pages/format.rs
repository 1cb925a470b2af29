//! Dates, times, people and answers as staff read them, in the GOV.UK style: "7 December 2026",
//! "3:15pm", times on UK clocks. Dates and times are also written in the resident's language
//! (`*_in`), with the month and day names and the word order of its messages file.

use casework_app::domain::calendar::{uk_date, uk_time};
use casework_app::domain::case::{Actor, Case};
use casework_app::domain::service::{Field, FieldKind};
use casework_app::{App, Directory};
use serde_json::Value;
use time::{Date, OffsetDateTime};

use crate::i18n::Lang;

/// "7 December 2026".
pub(crate) fn date(day: Date) -> String {
    date_in(Lang::En, day)
}

/// "7 December 2026", "7 Rhagfyr 2026".
pub(crate) fn date_in(lang: Lang, day: Date) -> String {
    let (day_of_month, year) = (day.day().to_string(), day.year().to_string());
    let month = lang.t(&format!("month-{}", u8::from(day.month())));
    lang.t_args(
        "date",
        &[
            ("day", day_of_month.as_str()),
            ("month", &month),
            ("year", &year),
        ],
    )
}

/// "Monday 7 December 2026", "Dydd Llun 7 Rhagfyr 2026".
pub(crate) fn weekday_date_in(lang: Lang, day: Date) -> String {
    let (day_of_month, year) = (day.day().to_string(), day.year().to_string());
    let month = lang.t(&format!("month-{}", u8::from(day.month())));
    let weekday = lang.t(&format!("weekday-{}", day.weekday().number_from_monday()));
    lang.t_args(
        "date-with-weekday",
        &[
            ("weekday", weekday.as_str()),
            ("day", &day_of_month),
            ("month", &month),
            ("year", &year),
        ],
    )
}

/// "7 Dec 2026": the GOV.UK style for dates in tables, where space is short.
pub(crate) fn short_date(day: Date) -> String {
    let month = day.month().to_string();
    format!("{} {} {}", day.day(), &month[..3], day.year())
}

/// "7 December 2026 at 3:15pm", on UK clocks.
pub(crate) fn date_time(at: OffsetDateTime) -> String {
    date_time_in(Lang::En, at)
}

/// "7 December 2026 at 3:15pm", "7 Rhagfyr 2026 am 3:15yh", on UK clocks.
pub(crate) fn date_time_in(lang: Lang, at: OffsetDateTime) -> String {
    let local = uk_time(at);
    let (period, time) = time_of_day(local);
    let date = date_in(lang, local.date());
    lang.t_args(
        "date-at-time",
        &[("date", date.as_str()), ("period", period), ("time", &time)],
    )
}

/// The time's part of the day (`midnight`, `midday`, `am`, `pm`) and its hour, with minutes
/// unless they are 0, on a 12-hour clock: the GOV.UK style for times is "3:15pm", "10am",
/// "midday", "midnight".
fn time_of_day(local: OffsetDateTime) -> (&'static str, String) {
    let (hour, minute) = (local.hour(), local.minute());
    match (hour, minute) {
        (0, 0) => ("midnight", String::new()),
        (12, 0) => ("midday", String::new()),
        _ => {
            let period = if hour < 12 { "am" } else { "pm" };
            let hour = match hour % 12 {
                0 => 12,
                h => h,
            };
            if minute == 0 {
                (period, hour.to_string())
            } else {
                (period, format!("{hour}:{minute:02}"))
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
/// A file's size as people read it: "840 bytes", "12 KB", "3.4 MB".
pub(crate) fn file_size(bytes: i64) -> String {
    const KB: i64 = 1024;
    const MB: i64 = 1024 * KB;
    match bytes {
        b if b < KB => format!("{b} bytes"),
        b if b < MB => format!("{} KB", (b + KB / 2) / KB),
        b => format!("{:.1} MB", b as f64 / MB as f64),
    }
}

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

/// A date typed into the three boxes of a GOV.UK date input, as `YYYY-MM-DD` for the app to
/// check. Anything that is not three numbers is passed on as typed, for the app to refuse.
pub(crate) fn date_input(day: &str, month: &str, year: &str) -> String {
    let parts = [day.trim(), month.trim(), year.trim()];
    if parts.iter().all(|p| p.is_empty()) {
        return String::new();
    }
    if parts
        .iter()
        .all(|p| !p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit()))
    {
        let [day, month, year] = parts;
        return format!("{year:0>4}-{month:0>2}-{day:0>2}");
    }
    parts.join("/")
}

/// A date as stored, `YYYY-MM-DD`.
pub(crate) fn iso(day: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        day.year(),
        u8::from(day.month()),
        day.day()
    )
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
    fn file_sizes_read_as_people_write_them() {
        assert_eq!(file_size(840), "840 bytes");
        assert_eq!(file_size(12 * 1024 + 100), "12 KB");
        assert_eq!(file_size(3_565_158), "3.4 MB");
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

    #[test]
    fn dates_in_english_and_welsh() {
        let friday = datetime!(2026-12-04 0:00 UTC).date();
        assert_eq!(date_in(Lang::En, friday), "4 December 2026");
        assert_eq!(date_in(Lang::Cy, friday), "4 Rhagfyr 2026");
        assert_eq!(weekday_date_in(Lang::En, friday), "Friday 4 December 2026");
        assert_eq!(
            weekday_date_in(Lang::Cy, friday),
            "Dydd Gwener 4 Rhagfyr 2026"
        );
        let sunday = datetime!(2027-01-31 0:00 UTC).date();
        assert_eq!(weekday_date_in(Lang::Cy, sunday), "Dydd Sul 31 Ionawr 2027");
        assert_eq!(date(friday), "4 December 2026");
    }

    #[test]
    fn every_month_and_weekday_has_a_welsh_name() {
        let welsh: Vec<String> = (1..=12)
            .map(|month| {
                let day = Date::from_calendar_date(2026, month.try_into().unwrap(), 1).unwrap();
                date_in(Lang::Cy, day)
            })
            .collect();
        assert_eq!(welsh[1], "1 Chwefror 2026");
        assert_eq!(welsh[6], "1 Gorffennaf 2026");
        assert!(welsh.iter().all(|d| !d.contains("month-")), "{welsh:?}");
        let week: Vec<String> = (7..=13)
            .map(|d| {
                weekday_date_in(
                    Lang::Cy,
                    datetime!(2026-12-01 0:00 UTC)
                        .date()
                        .replace_day(d)
                        .unwrap(),
                )
            })
            .collect();
        assert_eq!(week[0], "Dydd Llun 7 Rhagfyr 2026");
        assert_eq!(week[3], "Dydd Iau 10 Rhagfyr 2026");
        assert!(week.iter().all(|d| d.starts_with("Dydd ")), "{week:?}");
    }

    #[test]
    fn instants_are_shown_on_uk_clocks_in_either_language() {
        // 23:30 UTC in summer is already the next day in the UK.
        let late = datetime!(2026-07-01 23:30 UTC);
        assert_eq!(date_time_in(Lang::En, late), "2 July 2026 at 12:30am");
        assert_eq!(date_time_in(Lang::Cy, late), "2 Gorffennaf 2026 am 12:30yb");
        assert_eq!(
            date_time_in(Lang::Cy, datetime!(2026-12-04 15:15 UTC)),
            "4 Rhagfyr 2026 am 3:15yh"
        );
        assert_eq!(
            date_time_in(Lang::Cy, datetime!(2026-12-04 09:00 UTC)),
            "4 Rhagfyr 2026 am 9yb"
        );
        assert_eq!(
            date_time_in(Lang::Cy, datetime!(2026-12-04 12:00 UTC)),
            "4 Rhagfyr 2026 am ganol dydd"
        );
        assert_eq!(
            date_time_in(Lang::Cy, datetime!(2026-12-04 00:00 UTC)),
            "4 Rhagfyr 2026 am hanner nos"
        );
    }
}
