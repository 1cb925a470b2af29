//! The worktray: the cases a member of staff and their teams own, in five queues with their
//! counts, narrowed by filters and a search, sorted, and paged by keyset. Everything it shows is
//! in the URL (GET forms and links), so that a view can be bookmarked and shared. The app keeps
//! every list to the cases of the member's teams. A lead's or admin's table also has a checkbox
//! per case, in a form that changes the selected cases in bulk (`bulk.rs`).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use casework_app::domain::calendar::{start_of_uk_day, uk_date};
use casework_app::domain::case::{Case, Reference};
use casework_app::domain::service::Role;
use casework_app::store::{Assignee, CaseFilter, CaseQuery, CaseSort, Cursor};
use casework_app::{App, Directory, Feature, StaffMember};
use serde::Deserialize;
use time::{Date, Duration, Month, OffsetDateTime};

use super::format::{self, Tag};
use super::{Chrome, ErrorItem, PageError};
use crate::api::model::{decode_cursor, encode_cursor};
use crate::auth::SignedIn;

const PAGE_SIZE: u32 = 25;

/// How far back "Recently closed" looks.
const RECENTLY_CLOSED: Duration = Duration::days(30);

/// The query string as sent. Every parameter is optional and an unusable one is ignored, so that
/// an old bookmark still opens a worktray.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Params {
    view: Option<String>,
    service: Option<String>,
    state: Option<String>,
    team: Option<String>,
    priority: Option<String>,
    assignee: Option<String>,
    due: Option<String>,
    created_from_day: Option<String>,
    created_from_month: Option<String>,
    created_from_year: Option<String>,
    created_to_day: Option<String>,
    created_to_month: Option<String>,
    created_to_year: Option<String>,
    q: Option<String>,
    sort: Option<String>,
    after: Option<String>,
}

/// The worktray's queues, shown as tabs with their counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum View {
    Mine,
    Unassigned,
    Overdue,
    Open,
    Closed,
    /// Cases with replies from the resident that the member of staff has not read.
    Unread,
}

impl View {
    const ALL: [Self; 6] = [
        Self::Mine,
        Self::Unassigned,
        Self::Overdue,
        Self::Open,
        Self::Closed,
        Self::Unread,
    ];

    fn code(self) -> &'static str {
        match self {
            Self::Mine => "mine",
            Self::Unassigned => "unassigned",
            Self::Overdue => "overdue",
            Self::Open => "open",
            Self::Closed => "closed",
            Self::Unread => "unread",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Mine => "My cases",
            Self::Unassigned => "Unassigned in my teams",
            Self::Overdue => "Overdue",
            Self::Open => "All open in my teams",
            Self::Closed => "Recently closed",
            Self::Unread => "Unread replies",
        }
    }

    /// Every queue but the member's own is of their teams.
    fn by_team(self) -> bool {
        self != Self::Mine
    }

    /// Closed cases have no due date left to meet: the latest first is what is useful.
    fn default_sort(self) -> CaseSort {
        match self {
            Self::Closed | Self::Unread => CaseSort::Updated,
            _ => CaseSort::Due,
        }
    }

    /// A queue that fixes the assignee or the due date offers no filter for it.
    fn offers_assignee(self) -> bool {
        matches!(
            self,
            Self::Overdue | Self::Open | Self::Closed | Self::Unread
        )
    }

    fn offers_due(self) -> bool {
        matches!(self, Self::Mine | Self::Unassigned | Self::Open)
    }

    fn filter(self, member: &StaffMember, now: OffsetDateTime) -> CaseFilter {
        match self {
            Self::Mine => CaseFilter {
                assignee: Some(Assignee::Person(member.email.clone())),
                open: Some(true),
                ..CaseFilter::default()
            },
            Self::Unassigned => CaseFilter {
                assignee: Some(Assignee::Nobody),
                open: Some(true),
                ..CaseFilter::default()
            },
            Self::Overdue => CaseFilter {
                overdue_at: Some(now),
                ..CaseFilter::default()
            },
            Self::Open => CaseFilter {
                open: Some(true),
                ..CaseFilter::default()
            },
            Self::Closed => CaseFilter {
                open: Some(false),
                closed_since: Some(now - RECENTLY_CLOSED),
                ..CaseFilter::default()
            },
            Self::Unread => CaseFilter {
                unread_by: Some(member.email.clone()),
                ..CaseFilter::default()
            },
        }
    }
}

/// How soon open cases are due. "Today" and "this week" leave out the cases already overdue,
/// which have their own choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Due {
    Overdue,
    Today,
    Week,
}

impl Due {
    const ALL: [Self; 3] = [Self::Overdue, Self::Today, Self::Week];

    fn code(self) -> &'static str {
        match self {
            Self::Overdue => "overdue",
            Self::Today => "today",
            Self::Week => "week",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Overdue => "Overdue",
            Self::Today => "Due today",
            Self::Week => "Due this week",
        }
    }

    /// Narrows `filter` to the open cases due in this window.
    fn narrow(self, filter: &mut CaseFilter, now: OffsetDateTime) {
        let today = uk_date(now);
        let end = match self {
            Self::Overdue => now,
            Self::Today => start_of_uk_day(today.next_day().unwrap_or(today)),
            Self::Week => {
                let to_monday = 7 - i64::from(today.weekday().number_days_from_monday());
                start_of_uk_day(today + Duration::days(to_monday))
            }
        };
        filter.overdue_at = Some(end);
        if self != Self::Overdue {
            filter.due_from = Some(now);
        }
    }
}

/// A GOV.UK date input of the filter: its three boxes as typed, kept to show again.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct DateInput {
    day: String,
    month: String,
    year: String,
}

impl DateInput {
    fn new(day: Option<String>, month: Option<String>, year: Option<String>) -> Self {
        let typed = |v: Option<String>| v.map(|v| v.trim().to_owned()).unwrap_or_default();
        Self {
            day: typed(day),
            month: typed(month),
            year: typed(year),
        }
    }

    fn is_empty(&self) -> bool {
        self.day.is_empty() && self.month.is_empty() && self.year.is_empty()
    }

    /// The date typed, `Ok(None)` when nothing was, or `Err` when it is not a real date.
    fn date(&self) -> Result<Option<Date>, ()> {
        if self.is_empty() {
            return Ok(None);
        }
        let number = |text: &str| text.parse::<i32>().map_err(|_| ());
        let (day, month, year) = (
            number(&self.day)?,
            number(&self.month)?,
            number(&self.year)?,
        );
        let month = u8::try_from(month)
            .ok()
            .and_then(|m| Month::try_from(m).ok())
            .ok_or(())?;
        let day = u8::try_from(day).map_err(|_| ())?;
        // A four-figure year, so that "26" is not read as the year 26.
        if !(1000..=9999).contains(&year) {
            return Err(());
        }
        Date::from_calendar_date(year, month, day)
            .map(Some)
            .map_err(|_| ())
    }

    fn pairs(&self, prefix: &'static [&'static str; 3]) -> Vec<(&'static str, String)> {
        [&self.day, &self.month, &self.year]
            .into_iter()
            .zip(prefix)
            .filter(|(value, _)| !value.is_empty())
            .map(|(value, name)| (*name, value.clone()))
            .collect()
    }
}

const CREATED_FROM: [&str; 3] = [
    "created_from_day",
    "created_from_month",
    "created_from_year",
];
const CREATED_TO: [&str; 3] = ["created_to_day", "created_to_month", "created_to_year"];

fn sort_code(sort: CaseSort) -> &'static str {
    match sort {
        CaseSort::Due => "due",
        CaseSort::Updated => "updated",
        CaseSort::Created => "created",
        CaseSort::Priority => "priority",
    }
}

/// What the worktray shows, made from the URL: unknown values are dropped, and so are filters
/// that the queue fixes itself.
#[derive(Debug, Clone, PartialEq)]
struct Selection {
    view: View,
    service: Option<String>,
    state: Option<String>,
    team: Option<String>,
    priority: Option<String>,
    assignee: Option<String>,
    due: Option<Due>,
    /// Created between these days, both included; kept as typed so that a mistake can be shown.
    created_from: DateInput,
    created_to: DateInput,
    q: Option<String>,
    sort: CaseSort,
    after: Option<Cursor>,
}

/// A query-string value, trimmed, if there is one.
fn given(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

impl Selection {
    fn new(params: Params, member: &StaffMember, app: &App) -> Self {
        let view = params
            .view
            .as_deref()
            .and_then(|code| View::ALL.into_iter().find(|v| v.code() == code))
            .unwrap_or(View::Mine);
        let sort = match params.sort.as_deref() {
            Some("due") => CaseSort::Due,
            Some("updated") => CaseSort::Updated,
            Some("created") => CaseSort::Created,
            Some("priority") => CaseSort::Priority,
            _ => view.default_sort(),
        };
        let due = params
            .due
            .as_deref()
            .and_then(|code| Due::ALL.into_iter().find(|d| d.code() == code))
            .filter(|_| view.offers_due());
        Self {
            view,
            service: given(params.service).filter(|code| app.services().get(code).is_some()),
            state: given(params.state),
            team: given(params.team).filter(|team| member.caller().works(team)),
            priority: given(params.priority).filter(|code| {
                app.services()
                    .iter()
                    .any(|s| s.priorities.iter().any(|p| p.code == *code))
            }),
            assignee: given(params.assignee).filter(|_| view.offers_assignee()),
            due,
            created_from: DateInput::new(
                params.created_from_day,
                params.created_from_month,
                params.created_from_year,
            ),
            created_to: DateInput::new(
                params.created_to_day,
                params.created_to_month,
                params.created_to_year,
            ),
            q: given(params.q),
            sort,
            after: params.after.and_then(|raw| decode_cursor(&raw, sort).ok()),
        }
    }

    /// A queue with no filters. Going from one queue of "my teams" to another keeps the team
    /// being looked at, if one is.
    fn tab(&self, view: View) -> Self {
        let team = (view.by_team() && self.view.by_team())
            .then(|| self.team.clone())
            .flatten();
        Self {
            view,
            service: None,
            state: None,
            team,
            priority: None,
            assignee: None,
            due: None,
            created_from: DateInput::default(),
            created_to: DateInput::default(),
            q: None,
            sort: view.default_sort(),
            after: None,
        }
    }

    fn filter(&self, member: &StaffMember, now: OffsetDateTime) -> CaseFilter {
        let mut filter = self.view.filter(member, now);
        filter.service.clone_from(&self.service);
        filter.state.clone_from(&self.state);
        filter.team.clone_from(&self.team);
        filter.priority.clone_from(&self.priority);
        if let Some(assignee) = &self.assignee {
            filter.assignee = Some(Assignee::Person(assignee.clone()));
        }
        if let Some(due) = self.due {
            due.narrow(&mut filter, now);
        }
        let (from, to) = self.created();
        filter.created_from = from.map(start_of_uk_day);
        filter.created_before = to.map(|to| start_of_uk_day(to.next_day().unwrap_or(to)));
        filter.q.clone_from(&self.q);
        filter
    }

    /// The created-between days that are real dates; the others are left out of the filter
    /// and explained by `errors`.
    fn created(&self) -> (Option<Date>, Option<Date>) {
        (
            self.created_from.date().ok().flatten(),
            self.created_to.date().ok().flatten(),
        )
    }

    /// What is wrong with the dates typed, for the error summary.
    fn errors(&self) -> Vec<ErrorItem> {
        let mut errors = Vec::new();
        for (input, name, id) in [
            (&self.created_from, "Created from", "filter-created-from"),
            (&self.created_to, "Created to", "filter-created-to"),
        ] {
            if input.date().is_err() {
                errors.push(ErrorItem {
                    text: format!("{name} must be a real date, such as 27 3 2026"),
                    href: Some(format!("#{id}-day")),
                });
            }
        }
        if let (Some(from), Some(to)) = self.created()
            && to < from
        {
            errors.push(ErrorItem {
                text: "Created to must be the same as or after created from".to_owned(),
                href: Some("#filter-created-to-day".to_owned()),
            });
        }
        errors
    }

    /// Whether the member has narrowed the queue.
    fn is_filtered(&self) -> bool {
        let (from, to) = self.created();
        self.service.is_some()
            || self.state.is_some()
            || self.team.is_some()
            || self.priority.is_some()
            || self.assignee.is_some()
            || self.due.is_some()
            || from.is_some()
            || to.is_some()
            || self.q.is_some()
    }

    /// The URL of this selection.
    fn href(&self) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (name, value) in self.pairs() {
            query.append_pair(name, &value);
        }
        let query = query.finish();
        if query.is_empty() {
            "/staff".to_owned()
        } else {
            format!("/staff?{query}")
        }
    }

    /// The query-string parameters of this selection, leaving out defaults.
    fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if self.view != View::Mine {
            pairs.push(("view", self.view.code().to_owned()));
        }
        let optional = [
            ("service", self.service.clone()),
            ("state", self.state.clone()),
            ("team", self.team.clone()),
            ("priority", self.priority.clone()),
            ("assignee", self.assignee.clone()),
            ("due", self.due.map(|d| d.code().to_owned())),
            ("q", self.q.clone()),
        ];
        pairs.extend(optional.into_iter().filter_map(|(n, v)| v.map(|v| (n, v))));
        pairs.extend(self.created_from.pairs(&CREATED_FROM));
        pairs.extend(self.created_to.pairs(&CREATED_TO));
        if self.sort != self.view.default_sort() {
            pairs.push(("sort", sort_code(self.sort).to_owned()));
        }
        if let Some(after) = &self.after {
            pairs.push(("after", encode_cursor(after)));
        }
        pairs
    }

    /// The parameters a form must carry in hidden inputs to keep the rest of the selection.
    fn hidden(&self, except: &[&str]) -> Vec<(&'static str, String)> {
        self.pairs()
            .into_iter()
            .filter(|(name, _)| *name != "after" && !except.contains(name))
            .collect()
    }

    fn with(&self, change: impl FnOnce(&mut Self)) -> Self {
        let mut changed = self.clone();
        changed.after = None;
        change(&mut changed);
        changed
    }
}

pub(crate) struct TabLink {
    label: &'static str,
    count: String,
    href: String,
    current: bool,
}

/// An option of a select or radios.
pub(crate) struct Choice {
    value: String,
    text: String,
    selected: bool,
}

/// A filter that is applied, as an MOJ filter tag that removes it.
pub(crate) struct SelectedFilter {
    heading: &'static str,
    text: String,
    href: String,
}

pub(crate) struct SortHeading {
    href: String,
    /// `aria-sort`: the sorted column's direction, `none` for the others.
    aria_sort: &'static str,
}

pub(crate) struct Row {
    reference: String,
    href: String,
    /// The bulk checkbox's value: the case and the version shown, so that a case changed since
    /// is refused rather than overwritten.
    selection: String,
    service: String,
    resident: String,
    state: Tag,
    sla: Tag,
    priority: String,
    assignee: String,
    updated: String,
    created: String,
    /// The resident has replied since the member of staff last read the case's messages.
    unread: bool,
}

/// A group of a select's options, such as the members of one team.
pub(crate) struct ChoiceGroup {
    label: String,
    choices: Vec<Choice>,
}

/// What a lead can do to the cases they select: assign them to a member of one of their teams
/// (or to nobody), or move them along a transition that asks for nothing more.
pub(crate) struct BulkForm {
    /// Where the result page leads back to: this worktray as it is.
    back: String,
    assignees: Vec<ChoiceGroup>,
    transitions: Vec<Choice>,
}

#[derive(Template, WebTemplate)]
#[template(path = "worktray.html")]
pub(crate) struct WorktrayPage {
    page: Chrome,
    heading: &'static str,
    tabs: Vec<TabLink>,
    selected: Vec<SelectedFilter>,
    clear_href: String,
    filter_hidden: Vec<(&'static str, String)>,
    search_hidden: Vec<(&'static str, String)>,
    q: String,
    services: Vec<Choice>,
    states: Vec<Choice>,
    /// Empty when there is no choice of team to make.
    teams: Vec<Choice>,
    /// Empty when no service has more than one priority.
    priorities: Vec<Choice>,
    /// Empty for a queue that fixes the assignee.
    assignees: Vec<Choice>,
    dues: Vec<Choice>,
    created_from: DateInput,
    created_to: DateInput,
    created_from_error: Option<String>,
    created_to_error: Option<String>,
    errors: Vec<ErrorItem>,
    /// How many cases the filters leave, when there are filters.
    matching: Option<String>,
    sort_description: &'static str,
    due_heading: SortHeading,
    updated_heading: SortHeading,
    created_heading: SortHeading,
    priority_heading: SortHeading,
    /// `None` for agents, who work cases one at a time.
    bulk: Option<BulkForm>,
    rows: Vec<Row>,
    /// How many replies wait to be filed on a case, when any do.
    replies_to_file: Option<String>,
    next_href: Option<String>,
    first_href: Option<String>,
}

/// Queues and filters count up to this many cases and then show "1,000+": an exact count of a
/// council's open cases costs a scan of all of them on every page view.
const COUNT_LIMIT: i64 = 1000;

fn bounded_count(n: i64) -> String {
    if n >= COUNT_LIMIT {
        format!("{}+", format::count(COUNT_LIMIT))
    } else {
        format::count(n)
    }
}

pub(crate) async fn show(
    State(app): State<App>,
    SignedIn(member): SignedIn,
    Query(params): Query<Params>,
) -> Result<WorktrayPage, PageError> {
    let now = app.now();
    let caller = member.caller();
    let selection = Selection::new(params, &member, &app);
    let messaging = app.features().is_on(Feature::Messaging);
    let tabs: Vec<Selection> = View::ALL
        .into_iter()
        .filter(|view| messaging || *view != View::Unread)
        .map(|view| selection.tab(view))
        .collect();
    let count = |s: Option<&Selection>| {
        let filter = s.map(|s| s.filter(&member, now));
        let (app, caller) = (app.clone(), caller.clone());
        async move {
            match filter {
                Some(filter) => app.count_cases_up_to(&caller, &filter, COUNT_LIMIT).await,
                None => Ok(0),
            }
        }
    };
    let query = CaseQuery {
        filter: selection.filter(&member, now),
        sort: selection.sort,
        after: selection.after.clone(),
        limit: PAGE_SIZE,
    };
    let matching = async {
        if selection.is_filtered() {
            app.count_cases_up_to(&caller, &query.filter, COUNT_LIMIT)
                .await
                .map(Some)
        } else {
            Ok(None)
        }
    };
    let (mine, unassigned, overdue, open, closed, unread, matching, page, directory) = tokio::try_join!(
        count(tabs.first()),
        count(tabs.get(1)),
        count(tabs.get(2)),
        count(tabs.get(3)),
        count(tabs.get(4)),
        count(tabs.get(5)),
        matching,
        app.list_cases(&caller, &query),
        app.directory(),
    )?;
    let counts = [mine, unassigned, overdue, open, closed, unread];
    let shown: Vec<Reference> = page.cases.iter().map(|c| c.reference).collect();
    let (unread_cases, waiting) = if messaging {
        tokio::try_join!(
            app.unread_cases(&caller, &shown),
            app.count_unmatched_replies(&caller)
        )?
    } else {
        (Vec::new(), 0)
    };
    let errors = selection.errors();
    let error_for = |id: &str| {
        errors
            .iter()
            .find(|e| e.href.as_deref() == Some(&format!("#{id}-day")))
            .map(|e| e.text.clone())
    };
    Ok(WorktrayPage {
        page: Chrome {
            wide: true,
            has_errors: !errors.is_empty(),
            ..Chrome::new(selection.view.label(), Some(&member))
        },
        heading: selection.view.label(),
        tabs: tabs
            .iter()
            .zip(counts)
            .map(|(tab, count)| TabLink {
                label: tab.view.label(),
                count: bounded_count(count),
                href: tab.href(),
                current: tab.view == selection.view,
            })
            .collect(),
        selected: selected_filters(&selection, &app, &directory),
        clear_href: selection.tab(selection.view).href(),
        filter_hidden: selection.hidden(
            &["service", "state", "team", "priority", "assignee", "due"]
                .into_iter()
                .chain(CREATED_FROM)
                .chain(CREATED_TO)
                .collect::<Vec<_>>(),
        ),
        search_hidden: selection.hidden(&["q"]),
        q: selection.q.clone().unwrap_or_default(),
        services: app
            .services()
            .iter()
            .map(|s| Choice {
                value: s.code.clone(),
                text: s.name.clone(),
                selected: selection.service.as_deref() == Some(s.code.as_str()),
            })
            .collect(),
        states: state_choices(&selection, &app),
        teams: team_choices(&selection, &member, &app, &directory),
        priorities: priority_choices(&app, selection.service.as_deref())
            .into_iter()
            .map(|choice| Choice {
                selected: selection.priority.as_ref() == Some(&choice.value),
                ..choice
            })
            .collect(),
        assignees: assignee_choices(&selection, &member, &directory),
        dues: due_choices(&selection),
        created_from: selection.created_from.clone(),
        created_to: selection.created_to.clone(),
        created_from_error: error_for("filter-created-from"),
        created_to_error: error_for("filter-created-to"),
        errors,
        matching: matching.map(|n| match n {
            1 => "1 case matches the filters".to_owned(),
            n => format!("{} cases match the filters", bounded_count(n)),
        }),
        sort_description: match selection.sort {
            CaseSort::Due => "due date, soonest first",
            CaseSort::Updated => "last update, latest first",
            CaseSort::Created => "date reported, newest first",
            CaseSort::Priority => "priority, most urgent first, then due date",
        },
        due_heading: sort_heading(&selection, CaseSort::Due),
        updated_heading: sort_heading(&selection, CaseSort::Updated),
        created_heading: sort_heading(&selection, CaseSort::Created),
        priority_heading: sort_heading(&selection, CaseSort::Priority),
        bulk: (member.role >= Role::Lead && !page.cases.is_empty()).then(|| BulkForm {
            back: selection.href(),
            assignees: bulk_assignees(&member, &directory),
            transitions: bulk_transitions(&app, &member, &page.cases),
        }),
        rows: page
            .cases
            .iter()
            .map(|case| Row {
                unread: unread_cases.contains(&case.reference),
                ..row(&app, &directory, case, now)
            })
            .collect(),
        replies_to_file: match waiting {
            0 => None,
            1 => Some("1 reply from a resident is waiting to be filed on a case".to_owned()),
            n => Some(format!(
                "{} replies from residents are waiting to be filed on a case",
                format::count(n)
            )),
        },
        next_href: page
            .next
            .map(|next| selection.with(|s| s.after = Some(next)).href()),
        first_href: selection
            .after
            .is_some()
            .then(|| selection.with(|_| {}).href()),
    })
}

fn row(app: &App, directory: &Directory, case: &Case, now: OffsetDateTime) -> Row {
    let reference = case.reference.to_string();
    let service = app.services().get(&case.service);
    Row {
        href: format!("/staff/cases/{reference}"),
        selection: format!("{reference}:{}", case.version),
        reference,
        service: service.map_or_else(|| case.service.clone(), |s| s.name.clone()),
        resident: case.contact.name.clone(),
        state: format::state(app, &case.service, &case.state),
        sla: format::sla(app, case, now),
        priority: service
            .and_then(|s| s.priority(&case.priority))
            .map_or_else(|| case.priority.clone(), |p| p.label.clone()),
        assignee: case.assignee.as_deref().map_or_else(
            || "Unassigned".to_owned(),
            |email| directory.person_name(email).to_owned(),
        ),
        updated: format::short_date(uk_date(case.updated_at)),
        created: format::short_date(uk_date(case.created_at)),
        unread: false,
    }
}

fn selected_filters(
    selection: &Selection,
    app: &App,
    directory: &Directory,
) -> Vec<SelectedFilter> {
    let mut selected = Vec::new();
    let mut add = |heading, text: String, remove: fn(&mut Selection)| {
        selected.push(SelectedFilter {
            heading,
            text,
            href: selection.with(remove).href(),
        });
    };
    if let Some(code) = &selection.service {
        let name = app.services().get(code).map_or(code.as_str(), |s| &s.name);
        add("Service", name.to_owned(), |s| s.service = None);
    }
    if let Some(state) = &selection.state {
        add("Status", state_label(app, selection, state), |s| {
            s.state = None
        });
    }
    if let Some(team) = &selection.team {
        add("Team", directory.team_name(team).to_owned(), |s| {
            s.team = None
        });
    }
    if let Some(code) = &selection.priority {
        let label = priority_choices(app, selection.service.as_deref())
            .into_iter()
            .find(|p| p.value == *code)
            .map_or_else(|| code.clone(), |p| p.text);
        add("Priority", label, |s| s.priority = None);
    }
    if let Some(assignee) = &selection.assignee {
        add(
            "Assigned to",
            directory.person_name(assignee).to_owned(),
            |s| s.assignee = None,
        );
    }
    if let Some(due) = selection.due {
        add("Due", due.label().to_owned(), |s| s.due = None);
    }
    let (from, to) = selection.created();
    if let Some(from) = from {
        add("Created from", format::date(from), |s| {
            s.created_from = DateInput::default()
        });
    }
    if let Some(to) = to {
        add("Created to", format::date(to), |s| {
            s.created_to = DateInput::default()
        });
    }
    if let Some(q) = &selection.q {
        add("Search", format!("“{q}”"), |s| s.q = None);
    }
    selected
}

/// The states of the chosen service, or of every service, that the queue can hold: closed ones
/// for recently closed cases, open ones for the rest. A code that several services share is
/// offered once.
fn state_choices(selection: &Selection, app: &App) -> Vec<Choice> {
    let closed = selection.view == View::Closed;
    let mut choices: Vec<Choice> = Vec::new();
    for service in app.services().iter() {
        if selection
            .service
            .as_ref()
            .is_some_and(|s| *s != service.code)
        {
            continue;
        }
        for state in &service.workflow.states {
            if state.closed != closed || choices.iter().any(|c| c.value == state.code) {
                continue;
            }
            choices.push(Choice {
                value: state.code.clone(),
                text: state.label.clone(),
                selected: selection.state.as_ref() == Some(&state.code),
            });
        }
    }
    choices
}

fn state_label(app: &App, selection: &Selection, code: &str) -> String {
    state_choices(selection, app)
        .into_iter()
        .find(|c| c.value == code)
        .map_or_else(|| code.to_owned(), |c| c.text)
}

/// The teams the member may narrow a queue to: their own, or, for an admin, who works every
/// team, every team that services send cases to or that they belong to. One team is no choice.
fn team_choices(
    selection: &Selection,
    member: &StaffMember,
    app: &App,
    directory: &Directory,
) -> Vec<Choice> {
    let mut teams: Vec<String> = if member.caller().teams.is_some() {
        member.teams.clone()
    } else {
        app.services()
            .iter()
            .map(|s| s.team.clone())
            .chain(member.teams.iter().cloned())
            .collect()
    };
    teams.sort();
    teams.dedup();
    if teams.len() < 2 {
        return Vec::new();
    }
    teams
        .into_iter()
        .map(|team| Choice {
            selected: selection.team.as_ref() == Some(&team),
            text: directory.team_name(&team).to_owned(),
            value: team,
        })
        .collect()
}

/// The teams whose members the member may give cases to: their own, or every team for an
/// admin, by name.
fn workable_teams<'a>(member: &StaffMember, directory: &'a Directory) -> Vec<&'a str> {
    let caller = member.caller();
    let mut teams: Vec<&str> = directory
        .teams()
        .iter()
        .filter(|team| caller.works(&team.code))
        .map(|team| team.code.as_str())
        .collect();
    teams.sort_by(|a, b| directory.team_name(a).cmp(directory.team_name(b)));
    teams
}

/// The people the queue can be narrowed to, by name, each once: the members of the member's
/// teams, and whoever the URL names already, so that the choice shows as made.
fn assignee_choices(
    selection: &Selection,
    member: &StaffMember,
    directory: &Directory,
) -> Vec<Choice> {
    if !selection.view.offers_assignee() {
        return Vec::new();
    }
    let mut choices: Vec<Choice> = Vec::new();
    for team in workable_teams(member, directory) {
        for person in directory.members(team) {
            if !choices.iter().any(|c| c.value == person.email) {
                choices.push(Choice {
                    value: person.email.clone(),
                    text: person.name.clone(),
                    selected: false,
                });
            }
        }
    }
    if let Some(assignee) = &selection.assignee
        && !choices
            .iter()
            .any(|c| c.value.eq_ignore_ascii_case(assignee))
    {
        choices.push(Choice {
            value: assignee.clone(),
            text: directory.person_name(assignee).to_owned(),
            selected: false,
        });
    }
    choices.sort_by(|a, b| a.text.cmp(&b.text));
    for choice in &mut choices {
        choice.selected = selection
            .assignee
            .as_deref()
            .is_some_and(|a| a.eq_ignore_ascii_case(&choice.value));
    }
    choices
}

/// Whom a lead can give the selected cases to: the active members of each of their teams,
/// team by team. Each case goes to the person only if they are in its team.
fn bulk_assignees(member: &StaffMember, directory: &Directory) -> Vec<ChoiceGroup> {
    workable_teams(member, directory)
        .into_iter()
        .map(|team| ChoiceGroup {
            label: directory.team_name(team).to_owned(),
            choices: directory
                .members(team)
                .map(|person| Choice {
                    value: person.email.clone(),
                    text: person.name.clone(),
                    selected: false,
                })
                .collect(),
        })
        .filter(|group| !group.choices.is_empty())
        .collect()
}

/// The transitions a lead can apply to a selection from this page: those that ask for no
/// answers, that their role allows, and that some case shown can take now, each code once.
/// A selected case that cannot take the one chosen is refused on its own.
fn bulk_transitions(app: &App, member: &StaffMember, cases: &[Case]) -> Vec<Choice> {
    let mut choices: Vec<Choice> = Vec::new();
    for case in cases {
        let Some(service) = app.services().get(&case.service) else {
            continue;
        };
        for transition in service.workflow.transitions_from(&case.state) {
            if transition.fields.is_empty()
                && member.role >= transition.role
                && !choices.iter().any(|c| c.value == transition.code)
            {
                choices.push(Choice {
                    value: transition.code.clone(),
                    text: transition.label.clone(),
                    selected: false,
                });
            }
        }
    }
    choices.sort_by(|a, b| a.text.cmp(&b.text));
    choices
}

/// The priorities of the chosen service, or of every service, each code once, or none when
/// there is no choice. Services may give one code different labels ("urgent" is within 5
/// working days for repairs, another time for housing): the code itself is shown then.
fn priority_choices(app: &App, service: Option<&str>) -> Vec<Choice> {
    let mut choices: Vec<Choice> = Vec::new();
    let services = app
        .services()
        .iter()
        .filter(|s| service.is_none_or(|code| s.code == code));
    for priority in services.flat_map(|s| &s.priorities) {
        match choices.iter_mut().find(|c| c.value == priority.code) {
            Some(choice) if choice.text != priority.label => {
                let mut code = priority.code.replace(['-', '_'], " ");
                if let Some(first) = code.get_mut(..1) {
                    first.make_ascii_uppercase();
                }
                choice.text = code;
            }
            Some(_) => {}
            None => choices.push(Choice {
                value: priority.code.clone(),
                text: priority.label.clone(),
                selected: false,
            }),
        }
    }
    if choices.len() < 2 {
        choices.clear();
    }
    choices
}

/// The due-date radios, "any time" first, for the queues that offer them.
fn due_choices(selection: &Selection) -> Vec<Choice> {
    if !selection.view.offers_due() {
        return Vec::new();
    }
    let any = Choice {
        value: String::new(),
        text: "Any time".to_owned(),
        selected: selection.due.is_none(),
    };
    let dues = Due::ALL.into_iter().map(|due| Choice {
        value: due.code().to_owned(),
        text: due.label().to_owned(),
        selected: selection.due == Some(due),
    });
    std::iter::once(any).chain(dues).collect()
}

fn sort_heading(selection: &Selection, sort: CaseSort) -> SortHeading {
    // Most urgent first is the priorities from highest to lowest: descending.
    let aria_sort = match (selection.sort == sort, sort) {
        (false, _) => "none",
        (true, CaseSort::Due) => "ascending",
        (true, _) => "descending",
    };
    SortHeading {
        href: selection.with(|s| s.sort = sort).href(),
        aria_sort,
    }
}
