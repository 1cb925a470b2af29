//! A case's shared plan: a goal, and actions that the resident ("What you need to do") or the
//! council ("What we will do") complete. This module decides every change to a plan, who may
//! make it, and when a resident is reminded; like [`crate::case`], each decision returns the plan
//! as it will be and the events to append to the case's timeline, and nothing here is saved.
//!
//! Identifiers come from the caller (the app makes UUIDs), so that an event can name an action
//! before the store has seen it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::calendar::{WorkingCalendar, uk_date};
use crate::case::{Actor, Case, EventKind};
use crate::service::answers::FieldError;
use crate::service::{ActionOwner, PlanTemplate};

const MAX_TITLE: usize = 200;
const MAX_DETAILS: usize = 5_000;
const MAX_GOAL: usize = 500;
/// A plan is a short list both sides read on a phone; more than this is a sign of misuse.
pub const MAX_ACTIONS: usize = 50;

/// Identifies one action on any case's plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ActionId(Uuid);

impl ActionId {
    pub fn new(id: Uuid) -> Self {
        Self(id)
    }

    pub fn uuid(self) -> Uuid {
        self.0
    }
}

impl fmt::Display for ActionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for ActionId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s.trim()).map(Self)
    }
}

/// The parts of an action that staff write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionDraft {
    pub owner: ActionOwner,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::case::iso_date::option"
    )]
    pub due_on: Option<Date>,
}

/// One thing to do, by the resident or the council.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanAction {
    pub id: ActionId,
    pub owner: ActionOwner,
    pub title: String,
    /// Markdown, rendered safely where it is shown.
    pub details: Option<String>,
    #[serde(with = "crate::case::iso_date::option")]
    pub due_on: Option<Date>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub completed_at: Option<OffsetDateTime>,
    pub completed_by: Option<Actor>,
}

impl PlanAction {
    pub fn is_done(&self) -> bool {
        self.completed_at.is_some()
    }

    /// Not done, and its due day has passed.
    pub fn is_overdue(&self, today: Date) -> bool {
        !self.is_done() && self.due_on.is_some_and(|due| due < today)
    }

    fn draft(&self) -> ActionDraft {
        ActionDraft {
            owner: self.owner,
            title: self.title.clone(),
            details: self.details.clone(),
            due_on: self.due_on,
        }
    }
}

/// A case's plan, with its own optimistic-concurrency `version` so that a resident ticking an
/// action does not make a member of staff's open case page stale. Version 0 is a plan never
/// saved.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub goal: Option<String>,
    /// In the order both sides see them.
    pub actions: Vec<PlanAction>,
    pub version: i64,
}

/// The decision to change a plan: the plan as it will be and the events to append.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanChange {
    pub plan: Plan,
    pub events: Vec<EventKind>,
}

impl PlanChange {
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }
}

/// Who is changing a plan: the resident through their link, or the council (staff and other
/// systems).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Resident,
    Council,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanError {
    #[error("some fields are missing or wrong")]
    Invalid(Vec<FieldError>),
    #[error("the plan has no such action")]
    UnknownAction,
    /// A resident may only tick their own actions, and undo only what they ticked.
    #[error("only the council can change this action")]
    NotYours,
    #[error("the case is closed: its plan can no longer change")]
    Closed,
    #[error("a plan can have at most {MAX_ACTIONS} actions")]
    TooManyActions,
}

/// Which reminder a resident is owed for an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reminder {
    /// A few working days before it is due.
    DueSoon,
    /// On the day it is due.
    DueToday,
}

impl Reminder {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DueSoon => "due_soon",
            Self::DueToday => "due_today",
        }
    }
}

impl Plan {
    /// A new case's plan: its service's template, with due dates counted in working days from
    /// the day the case opened.
    pub fn from_template(
        template: &PlanTemplate,
        calendar: &WorkingCalendar,
        opened: OffsetDateTime,
        mut new_id: impl FnMut() -> ActionId,
    ) -> Self {
        let today = uk_date(opened);
        Self {
            goal: template.goal.clone(),
            actions: template
                .actions
                .iter()
                .map(|a| PlanAction {
                    id: new_id(),
                    owner: a.owner,
                    title: a.title.clone(),
                    details: a.details.clone(),
                    due_on: a
                        .due_in_working_days
                        .map(|n| calendar.add_working_days(today, n)),
                    completed_at: None,
                    completed_by: None,
                })
                .collect(),
            version: 0,
        }
    }

    pub fn action(&self, id: ActionId) -> Option<&PlanAction> {
        self.actions.iter().find(|a| a.id == id)
    }

    fn position(&self, id: ActionId) -> Result<usize, PlanError> {
        self.actions
            .iter()
            .position(|a| a.id == id)
            .ok_or(PlanError::UnknownAction)
    }

    fn change(&self, events: Vec<EventKind>, plan: Plan) -> PlanChange {
        PlanChange { plan, events }
    }

    /// Sets or clears the goal. Blank clears it.
    pub fn set_goal(&self, goal: Option<&str>) -> Result<PlanChange, PlanError> {
        let goal = non_blank(goal);
        if goal.as_ref().is_some_and(|g| g.chars().count() > MAX_GOAL) {
            return Err(PlanError::Invalid(vec![FieldError::new(
                "goal",
                format!("Goal must be {MAX_GOAL} characters or fewer"),
            )]));
        }
        if goal == self.goal {
            return Ok(self.change(Vec::new(), self.clone()));
        }
        let event = EventKind::PlanGoalSet {
            from: self.goal.clone(),
            to: goal.clone(),
        };
        Ok(self.change(
            vec![event],
            Plan {
                goal,
                ..self.clone()
            },
        ))
    }

    /// Adds an action at the end. A due date set by staff may not be in the past.
    pub fn add_action(
        &self,
        id: ActionId,
        draft: ActionDraft,
        today: Date,
    ) -> Result<PlanChange, PlanError> {
        if self.actions.len() >= MAX_ACTIONS {
            return Err(PlanError::TooManyActions);
        }
        let draft = checked_draft(draft, None, today)?;
        let event = EventKind::PlanActionAdded {
            action: id,
            owner: draft.owner,
            title: draft.title.clone(),
            due_on: draft.due_on,
        };
        let mut plan = self.clone();
        plan.actions.push(PlanAction {
            id,
            owner: draft.owner,
            title: draft.title,
            details: draft.details,
            due_on: draft.due_on,
            completed_at: None,
            completed_by: None,
        });
        Ok(self.change(vec![event], plan))
    }

    /// Changes what an action says, who owns it or when it is due. An unchanged past due date
    /// may stay; a new one may not be in the past.
    pub fn change_action(
        &self,
        id: ActionId,
        draft: ActionDraft,
        today: Date,
    ) -> Result<PlanChange, PlanError> {
        let at = self.position(id)?;
        let current = &self.actions[at];
        let from = current.draft();
        let to = checked_draft(draft, current.due_on, today)?;
        if to == from {
            return Ok(self.change(Vec::new(), self.clone()));
        }
        let mut plan = self.clone();
        let action = &mut plan.actions[at];
        action.owner = to.owner;
        action.title = to.title.clone();
        action.details = to.details.clone();
        action.due_on = to.due_on;
        Ok(self.change(
            vec![EventKind::PlanActionChanged {
                action: id,
                from,
                to,
            }],
            plan,
        ))
    }

    pub fn remove_action(&self, id: ActionId) -> Result<PlanChange, PlanError> {
        let at = self.position(id)?;
        let mut plan = self.clone();
        let removed = plan.actions.remove(at);
        Ok(self.change(
            vec![EventKind::PlanActionRemoved {
                action: id,
                title: removed.title,
            }],
            plan,
        ))
    }

    /// Moves an action to position `to` (0 is first; past the end is last).
    pub fn move_action(&self, id: ActionId, to: usize) -> Result<PlanChange, PlanError> {
        let from = self.position(id)?;
        let to = to.min(self.actions.len() - 1);
        if from == to {
            return Ok(self.change(Vec::new(), self.clone()));
        }
        let mut plan = self.clone();
        let action = plan.actions.remove(from);
        let title = action.title.clone();
        plan.actions.insert(to, action);
        Ok(self.change(
            vec![EventKind::PlanActionMoved {
                action: id,
                title,
                from: from + 1,
                to: to + 1,
            }],
            plan,
        ))
    }

    /// Ticks an action off. Ticking a done action again changes nothing, so a resident who
    /// presses the button twice, or a retried API call, records it once.
    pub fn complete_action(
        &self,
        id: ActionId,
        side: Side,
        by: &Actor,
        now: OffsetDateTime,
    ) -> Result<PlanChange, PlanError> {
        let at = self.position(id)?;
        let action = &self.actions[at];
        if side == Side::Resident && action.owner != ActionOwner::Resident {
            return Err(PlanError::NotYours);
        }
        if action.is_done() {
            return Ok(self.change(Vec::new(), self.clone()));
        }
        let event = EventKind::PlanActionCompleted {
            action: id,
            owner: action.owner,
            title: action.title.clone(),
        };
        let mut plan = self.clone();
        plan.actions[at].completed_at = Some(now);
        plan.actions[at].completed_by = Some(by.clone());
        Ok(self.change(vec![event], plan))
    }

    /// Undoes a tick. A resident may undo only their own ticks: one the council confirmed
    /// stays done until the council reopens it.
    pub fn reopen_action(&self, id: ActionId, side: Side) -> Result<PlanChange, PlanError> {
        let at = self.position(id)?;
        let action = &self.actions[at];
        if side == Side::Resident
            && (action.owner != ActionOwner::Resident
                || action
                    .completed_by
                    .as_ref()
                    .is_some_and(|by| *by != Actor::Resident))
        {
            return Err(PlanError::NotYours);
        }
        if !action.is_done() {
            return Ok(self.change(Vec::new(), self.clone()));
        }
        let event = EventKind::PlanActionReopened {
            action: id,
            owner: action.owner,
            title: action.title.clone(),
        };
        let mut plan = self.clone();
        plan.actions[at].completed_at = None;
        plan.actions[at].completed_by = None;
        Ok(self.change(vec![event], plan))
    }

    /// The actions still to do, in order, that the resident owns.
    pub fn resident_to_do(&self) -> impl Iterator<Item = &PlanAction> {
        self.actions
            .iter()
            .filter(|a| a.owner == ActionOwner::Resident && !a.is_done())
    }
}

/// A closed case's plan is a record of what was done: it no longer changes, on either side.
pub fn check_changeable(case: &Case) -> Result<(), PlanError> {
    if case.is_open() {
        Ok(())
    } else {
        Err(PlanError::Closed)
    }
}

/// Which reminder, if any, a resident is owed today for an action due on `due_on`, given the
/// service's number of working days' notice. A due date already past is not reminded: the
/// staff see it as overdue instead.
pub fn reminder_due(
    calendar: &WorkingCalendar,
    due_on: Date,
    today: Date,
    days_before: u32,
) -> Option<Reminder> {
    if due_on == today {
        return Some(Reminder::DueToday);
    }
    if due_on < today || days_before == 0 {
        return None;
    }
    // Working days between today (excluded) and the due day (included): reminded once this
    // is within the notice, so a Monday due date with two days' notice reminds on Thursday.
    (calendar.working_days_between(today, due_on) <= i64::from(days_before))
        .then_some(Reminder::DueSoon)
}

fn checked_draft(
    draft: ActionDraft,
    current_due: Option<Date>,
    today: Date,
) -> Result<ActionDraft, PlanError> {
    let mut errors = Vec::new();
    let title = draft.title.trim().to_owned();
    if title.is_empty() {
        errors.push(FieldError::new("title", "Enter what needs to be done"));
    } else if title.chars().count() > MAX_TITLE {
        errors.push(FieldError::new(
            "title",
            format!("Title must be {MAX_TITLE} characters or fewer"),
        ));
    }
    let details = non_blank(draft.details.as_deref());
    if details
        .as_ref()
        .is_some_and(|d| d.chars().count() > MAX_DETAILS)
    {
        errors.push(FieldError::new(
            "details",
            format!("Details must be {MAX_DETAILS} characters or fewer"),
        ));
    }
    if let Some(due) = draft.due_on
        && due < today
        && Some(due) != current_due
    {
        errors.push(FieldError::new(
            "due_on",
            "Due date must be today or in the future",
        ));
    }
    if !errors.is_empty() {
        return Err(PlanError::Invalid(errors));
    }
    Ok(ActionDraft {
        owner: draft.owner,
        title,
        details,
        due_on: draft.due_on,
    })
}

fn non_blank(text: Option<&str>) -> Option<String> {
    text.map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use time::macros::{date, datetime};

    use super::*;
    use crate::service::PlanActionTemplate;

    fn ids() -> impl FnMut() -> ActionId {
        let mut n = 0u128;
        move || {
            n += 1;
            ActionId::new(Uuid::from_u128(n))
        }
    }

    fn id(n: u128) -> ActionId {
        ActionId::new(Uuid::from_u128(n))
    }

    const TODAY: Date = date!(2026 - 12 - 04);
    const NOW: OffsetDateTime = datetime!(2026-12-04 10:00 UTC);

    fn plan() -> Plan {
        let template = PlanTemplate {
            goal: Some("Keep your home".into()),
            actions: vec![
                PlanActionTemplate {
                    owner: ActionOwner::Resident,
                    title: "Send us your notice".into(),
                    details: None,
                    due_in_working_days: Some(2),
                },
                PlanActionTemplate {
                    owner: ActionOwner::Council,
                    title: "Check the notice".into(),
                    details: Some("We will *check* it.".into()),
                    due_in_working_days: None,
                },
            ],
            ..PlanTemplate::default()
        };
        let mut plan =
            Plan::from_template(&template, &WorkingCalendar::england_and_wales(), NOW, ids());
        plan.version = 1;
        plan
    }

    fn draft(title: &str, due_on: Option<Date>) -> ActionDraft {
        ActionDraft {
            owner: ActionOwner::Resident,
            title: title.into(),
            details: None,
            due_on,
        }
    }

    #[test]
    fn template_counts_working_days_from_opening() {
        let plan = plan();
        assert_eq!(plan.goal.as_deref(), Some("Keep your home"));
        // Friday plus two working days is Tuesday.
        assert_eq!(plan.actions[0].due_on, Some(date!(2026 - 12 - 08)));
        assert_eq!(plan.actions[1].due_on, None);
        assert_eq!(plan.actions[0].id, id(1));
        assert_eq!(plan.actions[1].id, id(2));
    }

    #[test]
    fn goal_is_trimmed_blank_clears_and_same_goal_changes_nothing() {
        let plan = plan();
        assert!(plan.set_goal(Some("  Keep your home ")).unwrap().is_empty());
        let cleared = plan.set_goal(Some("   ")).unwrap();
        assert_eq!(cleared.plan.goal, None);
        assert_eq!(
            cleared.events,
            vec![EventKind::PlanGoalSet {
                from: Some("Keep your home".into()),
                to: None
            }]
        );
        assert!(matches!(
            plan.set_goal(Some(&"x".repeat(501))),
            Err(PlanError::Invalid(e)) if e[0].field == "goal"
        ));
    }

    #[test]
    fn adding_checks_title_details_and_due_date() {
        let plan = plan();
        let added = plan
            .add_action(id(9), draft(" Bring ID ", Some(TODAY)), TODAY)
            .unwrap();
        assert_eq!(added.plan.actions.len(), 3);
        assert_eq!(added.plan.actions[2].title, "Bring ID");
        assert!(
            matches!(added.events[0], EventKind::PlanActionAdded { action, .. } if action == id(9))
        );

        let Err(PlanError::Invalid(errors)) = plan.add_action(
            id(9),
            ActionDraft {
                details: Some("d".repeat(5_001)),
                ..draft(" ", Some(date!(2026 - 12 - 03)))
            },
            TODAY,
        ) else {
            panic!("expected errors");
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["title", "details", "due_on"]);
    }

    #[test]
    fn a_plan_holds_at_most_fifty_actions() {
        let mut plan = plan();
        let mut next = ids();
        while plan.actions.len() < MAX_ACTIONS {
            plan = plan
                .add_action(next(), draft("More", None), TODAY)
                .unwrap()
                .plan;
        }
        assert_eq!(
            plan.add_action(id(999), draft("One too many", None), TODAY),
            Err(PlanError::TooManyActions)
        );
    }

    #[test]
    fn changing_keeps_an_old_due_date_but_refuses_a_new_past_one() {
        let plan = plan();
        let later = date!(2026 - 12 - 10);
        // Days later, the old due date has passed; editing the title keeps it.
        let changed = plan
            .change_action(
                id(1),
                draft("Send us a copy of your notice", Some(date!(2026 - 12 - 08))),
                later,
            )
            .unwrap();
        assert_eq!(
            changed.plan.actions[0].title,
            "Send us a copy of your notice"
        );
        let EventKind::PlanActionChanged { from, to, .. } = &changed.events[0] else {
            panic!("expected a change event");
        };
        assert_eq!(from.title, "Send us your notice");
        assert_eq!(to.title, "Send us a copy of your notice");
        assert!(matches!(
            plan.change_action(id(1), draft("Send", Some(date!(2026 - 12 - 09))), later),
            Err(PlanError::Invalid(_))
        ));
        let same = plan.actions[0].draft();
        assert!(plan.change_action(id(1), same, TODAY).unwrap().is_empty());
        assert_eq!(
            plan.change_action(id(7), draft("x", None), TODAY),
            Err(PlanError::UnknownAction)
        );
    }

    #[test]
    fn moving_and_removing() {
        let plan = plan();
        let moved = plan.move_action(id(2), 0).unwrap();
        assert_eq!(moved.plan.actions[0].id, id(2));
        assert!(matches!(
            moved.events[0],
            EventKind::PlanActionMoved { from: 2, to: 1, .. }
        ));
        assert_eq!(
            plan.move_action(id(1), 99).unwrap().plan.actions[1].id,
            id(1)
        );
        assert!(plan.move_action(id(1), 0).unwrap().is_empty());
        let removed = plan.remove_action(id(1)).unwrap();
        assert_eq!(removed.plan.actions.len(), 1);
        assert_eq!(plan.remove_action(id(7)), Err(PlanError::UnknownAction));
    }

    #[test]
    fn a_resident_ticks_and_undoes_only_their_own_actions() {
        let plan = plan();
        let done = plan
            .complete_action(id(1), Side::Resident, &Actor::Resident, NOW)
            .unwrap();
        assert_eq!(done.plan.actions[0].completed_at, Some(NOW));
        assert_eq!(done.plan.actions[0].completed_by, Some(Actor::Resident));
        // Twice is once.
        assert!(
            done.plan
                .complete_action(id(1), Side::Resident, &Actor::Resident, NOW)
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            plan.complete_action(id(2), Side::Resident, &Actor::Resident, NOW),
            Err(PlanError::NotYours)
        );
        let undone = done.plan.reopen_action(id(1), Side::Resident).unwrap();
        assert_eq!(undone.plan.actions[0].completed_at, None);

        let staff = Actor::Staff("amy@council.example".into());
        let confirmed = plan
            .complete_action(id(1), Side::Council, &staff, NOW)
            .unwrap()
            .plan;
        assert_eq!(
            confirmed.reopen_action(id(1), Side::Resident),
            Err(PlanError::NotYours)
        );
        assert!(confirmed.reopen_action(id(1), Side::Council).is_ok());
        assert_eq!(
            plan.reopen_action(id(2), Side::Resident),
            Err(PlanError::NotYours)
        );
    }

    #[test]
    fn reminders_come_within_the_notice_and_on_the_day() {
        let calendar = WorkingCalendar::england_and_wales();
        let monday = date!(2026 - 12 - 07);
        // Two working days' notice before Monday: Thursday and Friday.
        assert_eq!(
            reminder_due(&calendar, monday, date!(2026 - 12 - 02), 2),
            None
        );
        assert_eq!(
            reminder_due(&calendar, monday, date!(2026 - 12 - 03), 2),
            Some(Reminder::DueSoon)
        );
        assert_eq!(
            reminder_due(&calendar, monday, date!(2026 - 12 - 05), 2),
            Some(Reminder::DueSoon)
        );
        assert_eq!(
            reminder_due(&calendar, monday, monday, 2),
            Some(Reminder::DueToday)
        );
        assert_eq!(
            reminder_due(&calendar, monday, date!(2026 - 12 - 08), 2),
            None
        );
        assert_eq!(
            reminder_due(&calendar, monday, date!(2026 - 12 - 04), 0),
            None
        );
    }

    #[test]
    fn overdue_means_not_done_and_past_its_day() {
        let plan = plan();
        let action = &plan.actions[0];
        assert!(!action.is_overdue(date!(2026 - 12 - 08)));
        assert!(action.is_overdue(date!(2026 - 12 - 09)));
        let done = plan
            .complete_action(id(1), Side::Resident, &Actor::Resident, NOW)
            .unwrap()
            .plan;
        assert!(!done.actions[0].is_overdue(date!(2026 - 12 - 09)));
    }
}
