//! The staff side of the shared plan: how its changes read on the case's timeline.

use casework_app::domain::case::EventKind;
use casework_app::domain::service::ActionOwner;

use super::format;

/// Who an action is for, as staff read it.
fn owner(owner: ActionOwner) -> &'static str {
    match owner {
        ActionOwner::Resident => "for the resident",
        ActionOwner::Council => "for the council",
    }
}

/// A plan event's title and description on the MOJ timeline. Case events are described in
/// `case`; this covers the rest.
pub(super) fn timeline_entry(kind: &EventKind) -> (String, Option<String>) {
    match kind {
        EventKind::PlanGoalSet { to, .. } => (
            "Plan goal changed".to_owned(),
            Some(match to {
                Some(goal) => format!("Goal: “{goal}”"),
                None => "The goal was removed.".to_owned(),
            }),
        ),
        EventKind::PlanActionAdded {
            owner: who,
            title,
            due_on,
            ..
        } => (
            "Plan action added".to_owned(),
            Some(match due_on {
                Some(due) => format!("“{title}”, {}, due by {}.", owner(*who), format::date(*due)),
                None => format!("“{title}”, {}.", owner(*who)),
            }),
        ),
        EventKind::PlanActionChanged { from, to, .. } => {
            let mut changes = Vec::new();
            if from.title != to.title {
                changes.push(format!("Title was “{}”.", from.title));
            }
            if from.owner != to.owner {
                changes.push(format!("Now {}.", owner(to.owner)));
            }
            if from.details != to.details {
                changes.push("Details changed.".to_owned());
            }
            if from.due_on != to.due_on {
                changes.push(match to.due_on {
                    Some(due) => format!("Now due by {}.", format::date(due)),
                    None => "No due date now.".to_owned(),
                });
            }
            (
                format!("Plan action changed: “{}”", to.title),
                Some(changes.join(" ")),
            )
        }
        EventKind::PlanActionRemoved { title, .. } => {
            ("Plan action removed".to_owned(), Some(format!("“{title}”")))
        }
        EventKind::PlanActionMoved {
            title, from, to, ..
        } => (
            "Plan action moved".to_owned(),
            Some(format!(
                "“{title}” moved from number {from} to number {to}."
            )),
        ),
        EventKind::PlanActionCompleted {
            title, owner: who, ..
        } => (
            "Plan action done".to_owned(),
            Some(format!("“{title}”, {}.", owner(*who))),
        ),
        EventKind::PlanActionReopened {
            title, owner: who, ..
        } => (
            "Plan action marked as not done".to_owned(),
            Some(format!("“{title}”, {}.", owner(*who))),
        ),
        EventKind::PlanShared { expires_at, .. } => (
            "Plan shared with the resident".to_owned(),
            Some(format!(
                "The link works until {}.",
                format::date_time(*expires_at)
            )),
        ),
        EventKind::PlanLinkRevoked { .. } => (
            "Plan link withdrawn".to_owned(),
            Some("The resident can no longer open the plan with that link.".to_owned()),
        ),
        EventKind::PlanViewed { .. } => ("Resident viewed the plan".to_owned(), None),
        EventKind::PlanReminder { title, due_on, .. } => (
            "Reminder due to the resident".to_owned(),
            Some(format!("“{title}” is due by {}.", format::date(*due_on))),
        ),
        EventKind::Created { .. }
        | EventKind::FieldChanged { .. }
        | EventKind::PriorityChanged { .. }
        | EventKind::Transitioned { .. }
        | EventKind::Assigned { .. }
        | EventKind::NoteAdded { .. }
        | EventKind::SlaBreached { .. } => (kind.name().replace('_', " "), None),
    }
}
