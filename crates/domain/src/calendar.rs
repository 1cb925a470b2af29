//! The working-day calendar behind SLA due dates.
//!
//! Councils count SLAs in working days: Monday to Friday, less bank holidays and the council's own
//! closure days. Due instants are the end of the due day in UK local time, so this module also
//! knows the UK's GMT/BST rule. Everything is computed from arguments; there is no clock here.
//!
//! Arithmetic past the ends of `time`'s date range (year ±9999) panics, as integer overflow does.

use std::collections::BTreeSet;
use std::ops::Bound::{Excluded, Included};

use time::macros::{format_description, offset, time};
use time::{Date, Duration, Month, OffsetDateTime, UtcOffset, Weekday};

const BANK_HOLIDAYS_ENGLAND_AND_WALES: &str =
    include_str!("../data/bank-holidays-england-and-wales.txt");

/// Working days for SLAs: Monday–Friday, less the bank holidays of England and Wales and any
/// closure days a council adds.
#[derive(Debug, Clone)]
pub struct WorkingCalendar {
    /// Non-working weekdays only. Weekends are closed by rule, and keeping them out of the set
    /// lets a count of working days be "weekdays minus closures in range" without a day-by-day walk.
    closed_weekdays: BTreeSet<Date>,
    covered_until: i32,
}

impl WorkingCalendar {
    /// Weekends plus the published bank holidays of England and Wales (shipped as data).
    pub fn england_and_wales() -> Self {
        let holidays = parse_closure_days(BANK_HOLIDAYS_ENGLAND_AND_WALES)
            .expect("the shipped bank-holiday file is valid (checked by a test)");
        let covered_until = holidays
            .iter()
            .map(|day| day.year())
            .max()
            .expect("the shipped bank-holiday file is not empty (checked by a test)");
        Self {
            closed_weekdays: BTreeSet::new(),
            covered_until,
        }
        .with_closure_days(holidays)
    }

    /// Adds a council's own closure days (e.g. the days between Christmas and New Year).
    /// Days that fall at a weekend are accepted and change nothing.
    pub fn with_closure_days(mut self, days: impl IntoIterator<Item = Date>) -> Self {
        self.closed_weekdays
            .extend(days.into_iter().filter(|&day| !is_weekend(day)));
        self
    }

    pub fn is_working_day(&self, day: Date) -> bool {
        !is_weekend(day) && !self.closed_weekdays.contains(&day)
    }

    /// The day `n` working days after `start` (start itself never counts). `n = 0` gives `start`
    /// if it is a working day, else the next working day.
    pub fn add_working_days(&self, start: Date, n: u32) -> Date {
        if n == 0 {
            return if self.is_working_day(start) {
                start
            } else {
                self.add_working_days(start, 1)
            };
        }
        // Jump `remaining` weekdays ahead, then make up for the closures jumped over. The make-up
        // span can hold closures of its own, hence the loop; it ends because each pass looks at
        // a fresh stretch of the (finite) closure set.
        let mut day = start;
        let mut remaining = i64::from(n);
        while remaining > 0 {
            let next = add_weekdays(day, remaining);
            remaining = self.closures_in(day, next);
            day = next;
        }
        day
    }

    /// Working days from `from` (exclusive) to `to` (inclusive); negative when `to` is before
    /// `from`, counting the working days in `(to, from]`. Gives "due in N working days" and
    /// "N working days overdue".
    pub fn working_days_between(&self, from: Date, to: Date) -> i64 {
        let (low, high, sign) = if from <= to {
            (from, to, 1)
        } else {
            (to, from, -1)
        };
        sign * (weekdays_up_to(high) - weekdays_up_to(low) - self.closures_in(low, high))
    }

    /// The last year the shipped bank-holiday data covers, so an operator can be warned before it
    /// runs out. Council closure days don't extend it.
    pub fn covered_until(&self) -> i32 {
        self.covered_until
    }

    /// The SLA due instant for a case opened at `opened`: the end of the UK day that is
    /// `working_days` working days after the UK date it was opened on.
    pub fn sla_due(&self, opened: OffsetDateTime, working_days: u32) -> OffsetDateTime {
        end_of_uk_day(self.add_working_days(uk_date(opened), working_days))
    }

    /// Closed weekdays in `(after, up_to]`.
    fn closures_in(&self, after: Date, up_to: Date) -> i64 {
        self.closed_weekdays
            .range((Excluded(after), Included(up_to)))
            .count() as i64
    }
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum CalendarError {
    #[error("line {line}: {message}")]
    BadLine { line: usize, message: String },
}

/// Parses a closure-days file: one ISO date (YYYY-MM-DD) per line; blank lines and lines
/// starting with '#' are ignored, and a trailing `# comment` is allowed. Errors name the 1-based
/// line number and the bad text.
pub fn parse_closure_days(text: &str) -> Result<Vec<Date>, CalendarError> {
    text.lines()
        .enumerate()
        .filter_map(|(index, line)| {
            let content = line
                .split_once('#')
                .map_or(line, |(before, _)| before)
                .trim();
            (!content.is_empty()).then(|| {
                Date::parse(content, format_description!("[year]-[month]-[day]")).map_err(|e| {
                    CalendarError::BadLine {
                        line: index + 1,
                        message: format!("{content:?} is not a date as YYYY-MM-DD ({e})"),
                    }
                })
            })
        })
        .collect()
}

const GMT: UtcOffset = UtcOffset::UTC;
const BST: UtcOffset = offset!(+1);

/// The date in the UK (Europe/London) at the instant `now`.
pub fn uk_date(now: OffsetDateTime) -> Date {
    uk_time(now).date()
}

/// The instant `now` as UK local time (GMT or BST), for showing staff and residents the time
/// on their own clocks.
pub fn uk_time(now: OffsetDateTime) -> OffsetDateTime {
    now.to_offset(uk_offset(now))
}

/// The last second (23:59:59) of `day` in UK local time, in UTC. SLA due times are the end of the
/// due day.
pub fn end_of_uk_day(day: Date) -> OffsetDateTime {
    let local = day.with_time(time!(23:59:59));
    // Clocks change at 01:00 UTC, far from local midnight, so 23:59:59 is never skipped or
    // repeated: it is BST exactly when its BST reading falls inside summer time.
    let as_bst = local.assume_offset(BST);
    if uk_offset(as_bst) == BST {
        as_bst.to_offset(GMT)
    } else {
        local.assume_offset(GMT)
    }
}

/// The first instant of `day` in UK local time, in UTC: where a range of whole days starts,
/// and, for the day after, where it ends (an SLA due at 23:59:59 is then still inside it).
pub fn start_of_uk_day(day: Date) -> OffsetDateTime {
    end_of_uk_day(day.previous_day().unwrap_or(Date::MIN)) + Duration::SECOND
}

/// The Summer Time Order 2002: BST (UTC+1) from 01:00 UTC on the last Sunday of March to 01:00 UTC
/// on the last Sunday of October, GMT otherwise.
fn uk_offset(now: OffsetDateTime) -> UtcOffset {
    let year = now.to_offset(GMT).year();
    let in_bst =
        clocks_change(year, Month::March) <= now && now < clocks_change(year, Month::October);
    if in_bst { BST } else { GMT }
}

/// 01:00 UTC on the last Sunday of `month`, which must have 31 days (March and October do).
fn clocks_change(year: i32, month: Month) -> OffsetDateTime {
    let last_day = Date::from_calendar_date(year, month, 31)
        .expect("March and October have 31 days in every year");
    let sunday = last_day - Duration::days(last_day.weekday().number_days_from_sunday().into());
    sunday.with_time(time!(01:00)).assume_utc()
}

fn is_weekend(day: Date) -> bool {
    matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday)
}

/// Weekdays from a fixed Monday (Julian day 0) up to and including `day`; differences of these
/// count weekdays in a range in constant time.
fn weekdays_up_to(day: Date) -> i64 {
    let days = i64::from(day.to_julian_day()) + 1;
    5 * days.div_euclid(7) + days.rem_euclid(7).min(5)
}

/// The `k`th weekday after `from` (`from` itself never counts), for `k >= 1`.
fn add_weekdays(from: Date, k: i64) -> Date {
    // Saturday and Sunday have the same weekdays after them as the Friday before, so count from
    // that Friday to keep the arithmetic to Monday-to-Friday.
    let from_monday = i64::from(from.weekday().number_days_from_monday());
    let base = from - Duration::days((from_monday - 4).max(0));
    let position = from_monday.min(4);
    let (weeks, rest) = (k / 5, k % 5);
    let weekend = if position + rest > 4 { 2 } else { 0 };
    base + Duration::days(7 * weeks + rest + weekend)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::datetime;

    // Not time's `date!`: rustfmt spaces out its dashes (time-rs/time#714).
    fn iso(text: &str) -> Date {
        Date::parse(text, format_description!("[year]-[month]-[day]")).unwrap()
    }

    fn calendar() -> WorkingCalendar {
        WorkingCalendar::england_and_wales()
    }

    #[test]
    fn shipped_bank_holidays_parse_and_cover_2020_to_2027() {
        let days =
            parse_closure_days(BANK_HOLIDAYS_ENGLAND_AND_WALES).expect("shipped file parses");
        let years: BTreeSet<i32> = days.iter().map(|d| d.year()).collect();
        assert_eq!(years, (2020..=2027).collect());
        assert_eq!(calendar().covered_until(), 2027);
        assert!(
            days.iter().all(|&d| !is_weekend(d)),
            "bank holidays are always weekdays"
        );
    }

    /// An independent derivation of the England and Wales bank holidays from the rules (Easter,
    /// first/last Mondays, weekend substitutes) plus the announced one-off changes, so a typo in
    /// the data file can't pass unnoticed.
    #[test]
    fn shipped_bank_holidays_match_the_rules_and_one_off_changes() {
        let first_weekday_from = |day: Date| {
            (0..)
                .map(|i| day + Duration::days(i))
                .find(|&d| !is_weekend(d))
        };
        let mondays = |year: i32, month: Month| -> Vec<Date> {
            (1..=month.length(year))
                .filter_map(|d| Date::from_calendar_date(year, month, d).ok())
                .filter(|d| d.weekday() == Weekday::Monday)
                .collect()
        };
        let mut expected = BTreeSet::new();
        for year in 2020..=2027 {
            let easter = easter_sunday(year);
            let christmas = Date::from_calendar_date(year, Month::December, 25).unwrap();
            let christmas_1 = first_weekday_from(christmas).unwrap();
            expected.extend([
                first_weekday_from(Date::from_calendar_date(year, Month::January, 1).unwrap())
                    .unwrap(),
                easter - Duration::days(2),
                easter + Duration::days(1),
                mondays(year, Month::May)[0],
                *mondays(year, Month::May).last().unwrap(),
                *mondays(year, Month::August).last().unwrap(),
                christmas_1,
                first_weekday_from(christmas_1 + Duration::DAY).unwrap(),
            ]);
        }
        // VE Day 75th anniversary and the Platinum Jubilee moved two holidays.
        expected.remove(&iso("2020-05-04"));
        expected.insert(iso("2020-05-08"));
        expected.remove(&iso("2022-05-30"));
        expected.extend([iso("2022-06-02"), iso("2022-06-03")]);
        expected.extend([iso("2022-09-19"), iso("2023-05-08")]);

        let shipped: BTreeSet<Date> = parse_closure_days(BANK_HOLIDAYS_ENGLAND_AND_WALES)
            .unwrap()
            .into_iter()
            .collect();
        assert_eq!(shipped, expected);
    }

    /// Anonymous Gregorian algorithm (Meeus/Jones/Butcher).
    fn easter_sunday(year: i32) -> Date {
        let (a, b, c) = (year % 19, year / 100, year % 100);
        let (d, e) = (b / 4, b % 4);
        let g = (8 * b + 13) / 25;
        let h = (19 * a + b - d - g + 15) % 30;
        let (i, k) = (c / 4, c % 4);
        let l = (32 + 2 * e + 2 * i - h - k) % 7;
        let m = (a + 11 * h + 19 * l) / 433;
        let month = (h + l - 7 * m + 90) / 25;
        let day = (h + l - 7 * m + 33 * month + 19) % 32;
        Date::from_calendar_date(year, Month::try_from(month as u8).unwrap(), day as u8).unwrap()
    }

    #[test]
    fn christmas_2026_skips_the_boxing_day_substitute() {
        let cal = calendar();
        // Thu 24 Dec; Fri 25 and Mon 28 (Boxing Day substitute) are holidays.
        assert_eq!(
            cal.add_working_days(iso("2026-12-24"), 2),
            iso("2026-12-30")
        );
        assert_eq!(
            cal.sla_due(datetime!(2026-12-24 10:00 UTC), 2),
            datetime!(2026-12-30 23:59:59 UTC)
        );
        assert_eq!(
            cal.working_days_between(iso("2026-12-24"), iso("2026-12-30")),
            2
        );
        assert_eq!(
            cal.working_days_between(iso("2026-12-30"), iso("2026-12-24")),
            -2
        );
    }

    #[test]
    fn zero_working_days_rolls_forward_only_from_a_closed_day() {
        let cal = calendar();
        assert_eq!(
            cal.add_working_days(iso("2026-12-24"), 0),
            iso("2026-12-24")
        );
        assert_eq!(
            cal.add_working_days(iso("2026-12-25"), 0),
            iso("2026-12-29")
        );
        assert_eq!(
            cal.add_working_days(iso("2026-12-26"), 1),
            iso("2026-12-29")
        );
    }

    #[test]
    fn council_closure_days_are_not_working_days() {
        let cal =
            calendar().with_closure_days([iso("2026-12-29"), iso("2026-12-30"), iso("2026-12-31")]);
        assert_eq!(
            cal.add_working_days(iso("2026-12-24"), 2),
            iso("2027-01-05")
        );
        assert!(!cal.is_working_day(iso("2026-12-31")));
        assert!(cal.is_working_day(iso("2027-01-04")));
        assert_eq!(cal.covered_until(), 2027);
    }

    #[test]
    fn sla_due_counts_from_the_uk_date_the_case_was_opened_on() {
        let cal = calendar();
        // 22:30 UTC on Thu 1 Oct 2026 is still Thursday in BST; 23:30 UTC is already Friday.
        assert_eq!(
            cal.sla_due(datetime!(2026-10-01 22:30 UTC), 1),
            datetime!(2026-10-02 22:59:59 UTC)
        );
        assert_eq!(
            cal.sla_due(datetime!(2026-10-01 23:30 UTC), 1),
            datetime!(2026-10-05 22:59:59 UTC)
        );
        // Opened on a Saturday (UK) with no working days allowed: due at the end of Monday.
        assert_eq!(
            cal.sla_due(datetime!(2026-10-02 23:30 UTC), 0),
            datetime!(2026-10-05 22:59:59 UTC)
        );
    }

    #[test]
    fn uk_date_follows_bst_in_2026() {
        // BST 2026: 01:00 UTC Sun 29 March to 01:00 UTC Sun 25 October.
        assert_eq!(uk_date(datetime!(2026-03-28 23:30 UTC)), iso("2026-03-28"));
        assert_eq!(
            uk_date(datetime!(2026-03-29 22:59:59 UTC)),
            iso("2026-03-29")
        );
        assert_eq!(uk_date(datetime!(2026-03-29 23:00 UTC)), iso("2026-03-30"));
        assert_eq!(uk_date(datetime!(2026-10-24 23:00 UTC)), iso("2026-10-25"));
        assert_eq!(uk_date(datetime!(2026-10-25 23:30 UTC)), iso("2026-10-25"));
        assert_eq!(uk_date(datetime!(2026-10-26 00:00 UTC)), iso("2026-10-26"));
        // The input's own offset doesn't matter, only the instant.
        assert_eq!(
            uk_date(datetime!(2026-07-01 08:30 +10:00)),
            iso("2026-06-30")
        );

        assert_eq!(uk_offset(datetime!(2026-03-29 00:59:59 UTC)), GMT);
        assert_eq!(uk_offset(datetime!(2026-03-29 01:00 UTC)), BST);
        assert_eq!(uk_offset(datetime!(2026-10-25 00:59:59 UTC)), BST);
        assert_eq!(uk_offset(datetime!(2026-10-25 01:00 UTC)), GMT);
    }

    #[test]
    fn uk_time_is_the_same_instant_on_uk_clocks() {
        let summer = uk_time(datetime!(2026-07-01 14:15 UTC));
        assert_eq!(summer, datetime!(2026-07-01 14:15 UTC));
        assert_eq!((summer.hour(), summer.offset()), (15, BST));
        let winter = uk_time(datetime!(2026-12-07 14:15 +01:00));
        assert_eq!((winter.hour(), winter.offset()), (13, GMT));
    }

    #[test]
    fn end_of_uk_day_around_the_2026_clock_changes() {
        assert_eq!(
            end_of_uk_day(iso("2026-03-28")),
            datetime!(2026-03-28 23:59:59 UTC)
        );
        assert_eq!(
            end_of_uk_day(iso("2026-03-29")),
            datetime!(2026-03-29 22:59:59 UTC)
        );
        assert_eq!(
            end_of_uk_day(iso("2026-10-24")),
            datetime!(2026-10-24 22:59:59 UTC)
        );
        assert_eq!(
            end_of_uk_day(iso("2026-10-25")),
            datetime!(2026-10-25 23:59:59 UTC)
        );
    }

    #[test]
    fn closure_days_file_allows_comments_and_blank_lines() {
        let text =
            "# Council closures\n\n2026-12-29 # between Christmas and New Year\n  2026-12-30  \r\n";
        assert_eq!(
            parse_closure_days(text),
            Ok(vec![iso("2026-12-29"), iso("2026-12-30")])
        );
        assert_eq!(parse_closure_days(""), Ok(vec![]));
    }

    #[test]
    fn closure_days_file_errors_name_the_line_and_text() {
        for (text, line, bad) in [
            ("2026-12-29\n\n2026-02-30\n", 3, "\"2026-02-30\""),
            ("# header\n29/12/2026 # UK style\n", 2, "\"29/12/2026\""),
            ("2026-1-5", 1, "\"2026-1-5\""),
            ("2026-12-29 2026-12-30", 1, "\"2026-12-29 2026-12-30\""),
        ] {
            let err = parse_closure_days(text).unwrap_err();
            let CalendarError::BadLine { line: got, message } = &err;
            assert_eq!(*got, line, "{text:?}");
            assert!(message.contains(bad), "{message}");
            assert!(
                err.to_string().starts_with(&format!("line {line}: ")),
                "{err}"
            );
        }
    }

    /// Dates from 2018 to 2030, so properties run over shipped holidays, the gaps on either side
    /// and some years without data.
    fn any_date() -> impl Strategy<Value = Date> {
        let range = iso("2018-01-01").to_julian_day()..=iso("2030-12-31").to_julian_day();
        range.prop_map(|j| Date::from_julian_day(j).unwrap())
    }

    fn any_calendar() -> impl Strategy<Value = WorkingCalendar> {
        prop::collection::vec(any_date(), 0..40).prop_map(|days| calendar().with_closure_days(days))
    }

    fn any_instant() -> impl Strategy<Value = OffsetDateTime> {
        let range = datetime!(2018-01-01 00:00 UTC).unix_timestamp()
            ..datetime!(2031-01-01 00:00 UTC).unix_timestamp();
        range.prop_map(|seconds| OffsetDateTime::from_unix_timestamp(seconds).unwrap())
    }

    /// The obvious day-by-day definitions, to check the arithmetic against.
    fn walk_add(cal: &WorkingCalendar, start: Date, n: u32) -> Date {
        let mut day = start;
        let mut left = n;
        if n == 0 {
            while !cal.is_working_day(day) {
                day = day.next_day().unwrap();
            }
        }
        while left > 0 {
            day = day.next_day().unwrap();
            if cal.is_working_day(day) {
                left -= 1;
            }
        }
        day
    }

    fn walk_between(cal: &WorkingCalendar, from: Date, to: Date) -> i64 {
        let (low, high, sign) = if from <= to {
            (from, to, 1)
        } else {
            (to, from, -1)
        };
        let mut count = 0;
        let mut day = low;
        while day < high {
            day = day.next_day().unwrap();
            count += i64::from(cal.is_working_day(day));
        }
        sign * count
    }

    proptest! {
        #[test]
        fn arithmetic_matches_walking_day_by_day(cal in any_calendar(), start in any_date(), end in any_date(), n in 0u32..400) {
            prop_assert_eq!(cal.add_working_days(start, n), walk_add(&cal, start, n));
            prop_assert_eq!(cal.working_days_between(start, end), walk_between(&cal, start, end));
        }

        #[test]
        fn add_working_days_lands_on_a_working_day(cal in any_calendar(), start in any_date(), n in 0u32..2000) {
            prop_assert!(cal.is_working_day(cal.add_working_days(start, n)));
        }

        #[test]
        fn add_working_days_is_monotonic(cal in any_calendar(), start in any_date(), n in 0u32..1000, more in 1u32..100) {
            let (near, far) = (cal.add_working_days(start, n), cal.add_working_days(start, n + more));
            prop_assert!(near <= far);
            // Only n = 0 from a closed day shares its answer with n = 1.
            if n >= 1 {
                prop_assert!(near < far);
            }
        }

        /// add_working_days(start, n) is the first day with n working days in (start, day].
        #[test]
        fn add_then_count_round_trips(cal in any_calendar(), start in any_date(), n in 1u32..2000) {
            let due = cal.add_working_days(start, n);
            prop_assert_eq!(cal.working_days_between(start, due), i64::from(n));
            prop_assert_eq!(cal.working_days_between(start, due.previous_day().unwrap()), i64::from(n) - 1);
            prop_assert_eq!(cal.working_days_between(due, start), -i64::from(n));
        }

        #[test]
        fn working_days_between_adds_up(cal in any_calendar(), a in any_date(), b in any_date(), c in any_date()) {
            prop_assert_eq!(cal.working_days_between(a, a), 0);
            prop_assert_eq!(cal.working_days_between(a, b), -cal.working_days_between(b, a));
            prop_assert_eq!(
                cal.working_days_between(a, b) + cal.working_days_between(b, c),
                cal.working_days_between(a, c)
            );
        }

        #[test]
        fn a_uk_day_starts_a_second_after_the_day_before_ends(day in any_date()) {
            let start = start_of_uk_day(day);
            prop_assert_eq!(uk_date(start), day);
            prop_assert_eq!(uk_date(start - Duration::SECOND), day.previous_day().unwrap());
        }

        #[test]
        fn end_of_uk_day_is_the_last_second_of_that_uk_day(day in any_date()) {
            let end = end_of_uk_day(day);
            prop_assert_eq!(uk_date(end), day);
            prop_assert_eq!(uk_date(end + Duration::SECOND), day.next_day().unwrap());
        }

        #[test]
        fn uk_time_is_gmt_in_winter_and_bst_in_summer(now in any_instant()) {
            let (gmt, bst) = (now.date(), (now + Duration::HOUR).date());
            let date = uk_date(now);
            match now.month() {
                Month::November | Month::December | Month::January | Month::February => {
                    prop_assert_eq!(date, gmt);
                }
                Month::May | Month::June | Month::July | Month::August | Month::September => {
                    prop_assert_eq!(date, bst);
                }
                _ => prop_assert!(date == gmt || date == bst),
            }
        }
    }
}
