//! Changing a selection of cases at once, from the worktray: a lead (or an admin) assigns them
//! or moves them along their workflow. Each case changes on its own, through the same use case
//! as one at a time and against the version the lead saw, so that a case changed meanwhile is
//! refused rather than overwritten, and one refused case neither holds back nor undoes the
//! others.

use casework_domain::case::{Case, CaseError, Reference};
use casework_domain::service::answers::FieldError;
use casework_domain::service::{Answers, Role};

use crate::{App, AppError, Caller};

/// The most cases one bulk change takes: a worktray page and then some, and a bound on the
/// transactions one request can start.
pub const MAX_BULK_CASES: usize = 100;

/// A selected case, with the version of it that the caller saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SelectedCase {
    pub reference: Reference,
    pub version: i64,
}

/// What became of each selected case, in the order selected.
#[derive(Debug, Default)]
pub struct BulkOutcome {
    pub changed: Vec<Case>,
    /// Each refused case with why: changed meanwhile, outside the caller's teams, or a change
    /// its service, state or team does not allow.
    pub refused: Vec<(Reference, AppError)>,
}

impl BulkOutcome {
    /// Files one case's result; a failure of the database itself ends the whole change, as it
    /// would end the rest of them too.
    fn record(
        &mut self,
        reference: Reference,
        result: Result<Case, AppError>,
    ) -> Result<(), AppError> {
        match result {
            Ok(case) => self.changed.push(case),
            Err(error @ (AppError::Unavailable(_) | AppError::Internal(_))) => return Err(error),
            Err(refused) => self.refused.push((reference, refused)),
        }
        Ok(())
    }
}

impl App {
    /// Gives each selected case to `assignee`, an active member of staff of the case's team, or
    /// to nobody, as `assign_case` would one at a time. Only a lead or an admin may.
    pub async fn bulk_assign(
        &self,
        caller: &Caller,
        selected: &[SelectedCase],
        assignee: Option<String>,
    ) -> Result<BulkOutcome, AppError> {
        let selected = checked_selection(caller, selected)?;
        let mut outcome = BulkOutcome::default();
        for case in selected {
            let result = self
                .assign_case(caller, case.reference, case.version, None, assignee.clone())
                .await;
            outcome.record(case.reference, result)?;
        }
        Ok(outcome)
    }

    /// Moves each selected case along its service's transition `code`, as `transition_case`
    /// would one at a time. A transition that asks for answers is refused: a bulk change has
    /// nowhere to give them. Only a lead or an admin may.
    pub async fn bulk_transition(
        &self,
        caller: &Caller,
        selected: &[SelectedCase],
        code: &str,
    ) -> Result<BulkOutcome, AppError> {
        let selected = checked_selection(caller, selected)?;
        let now = self.now();
        let mut outcome = BulkOutcome::default();
        for case in selected {
            let result = self
                .decide(caller, case.reference, case.version, |current, service| {
                    if let Some(transition) = service.workflow.transition(code)
                        && !transition.fields.is_empty()
                    {
                        return Err(CaseError::Invalid(vec![FieldError::new(
                            "transition",
                            format!(
                                "“{}” needs more details: use it from the case’s own page",
                                transition.label
                            ),
                        )]));
                    }
                    current.transition(
                        service,
                        &self.calendar,
                        code,
                        caller.role,
                        &Answers::new(),
                        now,
                    )
                })
                .await;
            outcome.record(case.reference, result)?;
        }
        Ok(outcome)
    }
}

/// The selection, each case once, if the caller may change cases in bulk and chose between one
/// and [`MAX_BULK_CASES`] of them.
fn checked_selection(
    caller: &Caller,
    selected: &[SelectedCase],
) -> Result<Vec<SelectedCase>, AppError> {
    if caller.role < Role::Lead {
        return Err(AppError::LeadRequired);
    }
    let mut unique: Vec<SelectedCase> = Vec::with_capacity(selected.len());
    for case in selected {
        if !unique.iter().any(|c| c.reference == case.reference) {
            unique.push(*case);
        }
    }
    if unique.is_empty() || unique.len() > MAX_BULK_CASES {
        return Err(AppError::Invalid(vec![FieldError::new(
            "cases",
            format!("Select between 1 and {MAX_BULK_CASES} cases"),
        )]));
    }
    Ok(unique)
}

#[cfg(test)]
mod tests {
    use casework_domain::case::Actor;

    use super::*;

    fn caller(role: Role) -> Caller {
        Caller {
            actor: Actor::Staff("me@example.com".into()),
            role,
            api_key_id: None,
            teams: Some(vec!["waste".into()]),
        }
    }

    fn selected(numbers: impl IntoIterator<Item = i64>) -> Vec<SelectedCase> {
        numbers
            .into_iter()
            .map(|n| SelectedCase {
                reference: Reference::new(n),
                version: 1,
            })
            .collect()
    }

    #[test]
    fn only_leads_and_admins_change_a_selection_of_cases() {
        let one = selected([1]);
        assert!(matches!(
            checked_selection(&caller(Role::Agent), &one),
            Err(AppError::LeadRequired)
        ));
        assert!(checked_selection(&caller(Role::Lead), &one).is_ok());
        assert!(checked_selection(&caller(Role::Admin), &one).is_ok());
    }

    #[test]
    fn a_selection_takes_each_case_once_and_is_bounded() {
        let lead = caller(Role::Lead);
        let unique = checked_selection(&lead, &selected([3, 1, 3, 2, 1])).unwrap();
        assert_eq!(unique, selected([3, 1, 2]));
        let max = i64::try_from(MAX_BULK_CASES).unwrap();
        assert!(checked_selection(&lead, &selected(1..=max)).is_ok());
        for refused in [selected([]), selected(1..=max + 1)] {
            assert!(matches!(
                checked_selection(&lead, &refused),
                Err(AppError::Invalid(_))
            ));
        }
    }
}
