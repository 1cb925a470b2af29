//! The worktray: the cases a member of staff and their teams own, in five queues with their
//! counts, narrowed by filters and a search, sorted, and paged by keyset. Everything it shows is
//! in the URL (GET forms and links), so that a view can be bookmarked and shared.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use casework_app::domain::calendar::{end_of_uk_day, uk_date};
use casework_app::domain::case::Case;
use casework_app::store::{Assignee, CaseFilter, CaseQuery, CaseSort, Cursor};
use casework_app::{App, StaffMember};
use serde::Deserialize;
use time::OffsetDateTime;

use super::format::{self, Tag};
use super::{Chrome, PageError};
use crate::api::model::{decode_cursor, encode_cursor};
use crate::auth::SignedIn;

const PAGE_SIZE: u32 = 25;

/// The query string as sent. Every parameter is optional and an unusable one is ignored, so that
/// an old bookmark still opens a worktray.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Params {
    view: Option<String>,
    service: Option<String>,
    state: Option<String>,
    team: Option<String>,
    assignee: Option<String>,
    due: Option<String>,
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
}

impl View {
    const ALL: [Self; 5] = [
        Self::Mine,
        Self::Unassigned,
        Self::Overdue,
        Self::Open,
        Self::Closed,
    ];

    fn code(self) -> &'static str {
        match self {
            Self::Mine => "mine",
            Self::Unassigned => "unassigned",
            Self::Overdue => "overdue",
            Self::Open => "open",
            Self::Closed => "closed",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Mine => "My cases",
            Self::Unassigned => "Unassigned in my teams",
            Self::Overdue => "Overdue",
            Self::Open => "All open in my teams",
            Self::Closed => "Recently closed",
        }
    }

    /// Every queue but the member's own is of their teams.
    fn by_team(self) -> bool {
        self != Self::Mine
    }

    /// Closed cases have no due date left to meet: the latest first is what is useful.
    fn default_sort(self) -> CaseSort {
        match self {
            Self::Closed => CaseSort::Updated,
            _ => CaseSort::Due,
        }
    }

    /// A queue that fixes the assignee or the due date offers no filter for it.
    fn offers_assignee(self) -> bool {
        matches!(self, Self::Overdue | Self::Open | Self::Closed)
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
                ..CaseFilter::default()
            },
        }
    }
}

/// How soon open cases are due. Each includes the cases already overdue: what must be done by
/// then.
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
            Self::Today => "Due by the end of today",
            Self::Week => "Due by the end of this week",
        }
    }

    /// The instant the cases must be due before.
    fn before(self, now: OffsetDateTime) -> OffsetDateTime {
        let today = uk_date(now);
        match self {
            Self::Overdue => now,
            Self::Today => end_of_uk_day(today),
            Self::Week => {
                let to_sunday = 6 - i64::from(today.weekday().number_days_from_monday());
                end_of_uk_day(today + time::Duration::days(to_sunday))
            }
        }
    }
}

fn sort_code(sort: CaseSort) -> &'static str {
    match sort {
        CaseSort::Due => "due",
        CaseSort::Updated => "updated",
        CaseSort::Created => "created",
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
    assignee: Option<String>,
    due: Option<Due>,
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
            team: team_for(view, given(params.team), member),
            assignee: given(params.assignee).filter(|_| view.offers_assignee()),
            due,
            q: given(params.q),
            sort,
            after: params.after.and_then(|raw| decode_cursor(&raw, sort).ok()),
        }
    }

    /// A queue with no filters. Going from one queue of "my teams" to another keeps the team
    /// being looked at; the member's own queue covers every team.
    fn tab(&self, view: View, member: &StaffMember) -> Self {
        let team = (view.by_team() && self.view.by_team())
            .then(|| self.team.clone())
            .flatten();
        Self {
            view,
            service: None,
            state: None,
            team: team_for(view, team, member),
            assignee: None,
            due: None,
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
        if let Some(assignee) = &self.assignee {
            filter.assignee = Some(Assignee::Person(assignee.clone()));
        }
        if let Some(due) = self.due {
            filter.overdue_at = Some(due.before(now));
        }
        filter.q.clone_from(&self.q);
        filter
    }

    /// Whether the member has narrowed the queue.
    fn is_filtered(&self) -> bool {
        self.service.is_some()
            || self.state.is_some()
            || (!self.view.by_team() && self.team.is_some())
            || self.assignee.is_some()
            || self.due.is_some()
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
            ("assignee", self.assignee.clone()),
            ("due", self.due.map(|d| d.code().to_owned())),
            ("q", self.q.clone()),
        ];
        pairs.extend(optional.into_iter().filter_map(|(n, v)| v.map(|v| (n, v))));
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

/// The team a queue looks at. A queue of "my teams" looks at one of the member's teams at a
/// time, the one asked for or else their first: the store filters by one team. Their own queue
/// may be narrowed to any team.
fn team_for(view: View, asked: Option<String>, member: &StaffMember) -> Option<String> {
    if !view.by_team() || member.teams.is_empty() {
        return asked;
    }
    match asked {
        Some(team) if member.teams.contains(&team) => Some(team),
        _ => member.teams.first().cloned(),
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
    service: String,
    resident: String,
    state: Tag,
    sla: Tag,
    assignee: String,
    updated: String,
    created: String,
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
    /// A queue of "my teams" always looks at one of them, so offers no "any team".
    selection_by_team: bool,
    offers_assignee: bool,
    assignee: String,
    dues: Vec<Choice>,
    /// How many cases the filters leave, when there are filters.
    matching: Option<String>,
    sort_description: &'static str,
    due_heading: SortHeading,
    updated_heading: SortHeading,
    created_heading: SortHeading,
    rows: Vec<Row>,
    next_href: Option<String>,
    first_href: Option<String>,
}

pub(crate) async fn show(
    State(app): State<App>,
    SignedIn(member): SignedIn,
    Query(params): Query<Params>,
) -> Result<WorktrayPage, PageError> {
    let now = app.now();
    let selection = Selection::new(params, &member, &app);
    let tabs: Vec<Selection> = View::ALL
        .into_iter()
        .map(|view| selection.tab(view, &member))
        .collect();
    let count = |s: &Selection| {
        let filter = s.filter(&member, now);
        let app = app.clone();
        async move { app.count_cases(&filter).await }
    };
    let query = CaseQuery {
        filter: selection.filter(&member, now),
        sort: selection.sort,
        after: selection.after.clone(),
        limit: PAGE_SIZE,
    };
    let matching = async {
        if selection.is_filtered() {
            app.count_cases(&query.filter).await.map(Some)
        } else {
            Ok(None)
        }
    };
    let (mine, unassigned, overdue, open, closed, matching, page) = tokio::try_join!(
        count(&tabs[0]),
        count(&tabs[1]),
        count(&tabs[2]),
        count(&tabs[3]),
        count(&tabs[4]),
        matching,
        app.list_cases(&query),
    )?;
    let counts = [mine, unassigned, overdue, open, closed];
    Ok(WorktrayPage {
        page: Chrome {
            wide: true,
            ..Chrome::new(selection.view.label(), Some(&member))
        },
        heading: selection.view.label(),
        tabs: tabs
            .iter()
            .zip(counts)
            .map(|(tab, count)| TabLink {
                label: tab.view.label(),
                count: format::count(count),
                href: tab.href(),
                current: tab.view == selection.view,
            })
            .collect(),
        selected: selected_filters(&selection, &app),
        clear_href: selection.tab(selection.view, &member).href(),
        filter_hidden: selection.hidden(&["service", "state", "team", "assignee", "due"]),
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
        teams: team_choices(&selection, &member, &app),
        selection_by_team: selection.view.by_team(),
        offers_assignee: selection.view.offers_assignee(),
        assignee: selection.assignee.clone().unwrap_or_default(),
        dues: due_choices(&selection),
        matching: matching.map(|n| match n {
            1 => "1 case matches the filters".to_owned(),
            n => format!("{} cases match the filters", format::count(n)),
        }),
        sort_description: match selection.sort {
            CaseSort::Due => "due date, soonest first",
            CaseSort::Updated => "last update, latest first",
            CaseSort::Created => "date reported, newest first",
        },
        due_heading: sort_heading(&selection, CaseSort::Due),
        updated_heading: sort_heading(&selection, CaseSort::Updated),
        created_heading: sort_heading(&selection, CaseSort::Created),
        rows: page.cases.iter().map(|case| row(&app, case, now)).collect(),
        next_href: page
            .next
            .map(|next| selection.with(|s| s.after = Some(next)).href()),
        first_href: selection
            .after
            .is_some()
            .then(|| selection.with(|_| {}).href()),
    })
}

fn row(app: &App, case: &Case, now: OffsetDateTime) -> Row {
    let reference = case.reference.to_string();
    Row {
        href: format!("/staff/cases/{reference}"),
        reference,
        service: app
            .services()
            .get(&case.service)
            .map_or_else(|| case.service.clone(), |s| s.name.clone()),
        resident: case.contact.name.clone(),
        state: format::state(app, &case.service, &case.state),
        sla: format::sla(app, case, now),
        assignee: case
            .assignee
            .clone()
            .unwrap_or_else(|| "Unassigned".to_owned()),
        updated: format::short_date(uk_date(case.updated_at)),
        created: format::short_date(uk_date(case.created_at)),
    }
}

fn selected_filters(selection: &Selection, app: &App) -> Vec<SelectedFilter> {
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
    if let (Some(team), false) = (&selection.team, selection.view.by_team()) {
        add("Team", team.clone(), |s| s.team = None);
    }
    if let Some(assignee) = &selection.assignee {
        add("Assigned to", assignee.clone(), |s| s.assignee = None);
    }
    if let Some(due) = selection.due {
        add("Due", due.label().to_owned(), |s| s.due = None);
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

/// A queue of "my teams" chooses among the member's teams, if they have more than one; their own
/// queue among every team that services send cases to or the member belongs to.
fn team_choices(selection: &Selection, member: &StaffMember, app: &App) -> Vec<Choice> {
    let mut teams: Vec<String> = if selection.view.by_team() && !member.teams.is_empty() {
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
    if selection.view.by_team() && teams.len() < 2 {
        return Vec::new();
    }
    teams
        .into_iter()
        .map(|team| Choice {
            selected: selection.team.as_ref() == Some(&team),
            text: team.clone(),
            value: team,
        })
        .collect()
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
