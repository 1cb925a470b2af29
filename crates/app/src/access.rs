//! Who may work which cases. An agent works the cases of their teams; a lead also assigns
//! them to others and moves them between their teams; an admin, the system and API clients
//! work every team's cases (API clients act for another of the council's systems, whose
//! people need not be Casework staff).
//!
//! A case outside the caller's teams is answered as if it did not exist, for reads and
//! changes alike, so that trying references tells a caller nothing about other teams' cases.

use casework_domain::case::{Actor, Case, CaseError};
use casework_domain::service::Role;
use casework_domain::service::answers::FieldError;
use casework_store::CaseFilter;

use crate::{AppError, Caller};

impl Caller {
    /// Whether the caller may see and work the cases of `team`.
    pub fn works(&self, team: &str) -> bool {
        self.teams
            .as_ref()
            .is_none_or(|teams| teams.iter().any(|t| t == team))
    }

    /// `filter` narrowed to the caller's teams, or `None` when it can match none of the cases
    /// the caller may see (an empty `teams` would mean any team, so it is never returned).
    pub fn scope(&self, filter: &CaseFilter) -> Option<CaseFilter> {
        let Some(mine) = &self.teams else {
            return Some(filter.clone());
        };
        if filter.team.as_deref().is_some_and(|team| !self.works(team)) {
            return None;
        }
        let teams: Vec<String> = if filter.teams.is_empty() {
            mine.clone()
        } else {
            filter
                .teams
                .iter()
                .filter(|team| self.works(team))
                .cloned()
                .collect()
        };
        (!teams.is_empty()).then(|| CaseFilter {
            teams,
            ..filter.clone()
        })
    }

    /// Whether a caller restricted to teams may give `case` to `team` and `assignee` (both
    /// already trimmed, `None` for no change of team and for nobody). An agent may only take a
    /// case or give back their own; moving a case needs a lead, and only into their teams.
    /// Whether the assignee is one of the team's staff is the app's to check, with the store.
    pub(crate) fn may_assign(
        &self,
        case: &Case,
        team: &str,
        assignee: Option<&str>,
    ) -> Result<(), AppError> {
        if self.teams.is_none() || (team == case.team && assignee == case.assignee.as_deref()) {
            return Ok(());
        }
        if self.role == Role::Agent {
            let me = match &self.actor {
                Actor::Staff(email) => Some(email.as_str()),
                _ => None,
            };
            let is_me = |who: Option<&str>| {
                who.zip(me)
                    .is_some_and(|(who, me)| who.eq_ignore_ascii_case(me))
            };
            let taking = assignee.is_some() && is_me(assignee);
            let giving_back = assignee.is_none() && is_me(case.assignee.as_deref());
            if team != case.team || !(taking || giving_back) {
                return Err(AppError::LeadRequired);
            }
        }
        if !self.works(team) {
            return Err(CaseError::Invalid(vec![FieldError::new(
                "team",
                "Choose one of your teams",
            )])
            .into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use casework_domain::case::{Channel, Contact, Language, Reference};

    fn staff(role: Role, teams: &[&str]) -> Caller {
        Caller {
            actor: Actor::Staff("me@example.com".into()),
            role,
            api_key_id: None,
            teams: Some(teams.iter().map(|t| (*t).to_owned()).collect()),
        }
    }

    fn api() -> Caller {
        Caller {
            actor: Actor::ApiClient("crm".into()),
            role: Role::Agent,
            api_key_id: Some(1),
            teams: None,
        }
    }

    fn case(team: &str, assignee: Option<&str>) -> Case {
        let at = time::OffsetDateTime::UNIX_EPOCH;
        Case {
            reference: Reference::new(1),
            service: "bins".into(),
            state: "new".into(),
            priority: "normal".into(),
            priority_rank: 0,
            team: team.into(),
            assignee: assignee.map(Into::into),
            contact: Contact {
                name: "A Resident".into(),
                email: None,
                phone: None,
                preferred_channel: Channel::Post,
                language: Language::En,
            },
            answers: Default::default(),
            description: None,
            location: None,
            external: None,
            sla_due_at: at,
            sla_breached_at: None,
            created_at: at,
            updated_at: at,
            closed_at: None,
            version: 1,
        }
    }

    #[test]
    fn staff_work_their_teams_only_and_others_work_all() {
        let agent = staff(Role::Agent, &["waste", "env"]);
        assert!(agent.works("waste") && agent.works("env"));
        assert!(!agent.works("repairs"));
        assert!(api().works("repairs"));
    }

    #[test]
    fn lists_are_narrowed_to_the_callers_teams() {
        let agent = staff(Role::Agent, &["waste", "env"]);
        let any = CaseFilter::default();
        assert_eq!(agent.scope(&any).unwrap().teams, ["waste", "env"]);
        let asked = CaseFilter {
            teams: vec!["env".into(), "repairs".into()],
            ..any.clone()
        };
        assert_eq!(agent.scope(&asked).unwrap().teams, ["env"]);
        let others = CaseFilter {
            teams: vec!["repairs".into()],
            ..any.clone()
        };
        assert_eq!(agent.scope(&others), None);
        let one = CaseFilter {
            team: Some("repairs".into()),
            ..any.clone()
        };
        assert_eq!(agent.scope(&one), None);
        assert_eq!(staff(Role::Agent, &[]).scope(&any), None);
        assert_eq!(api().scope(&others), Some(others));
    }

    #[test]
    fn an_agent_takes_or_gives_back_and_a_lead_assigns_within_their_teams() {
        let agent = staff(Role::Agent, &["waste", "env"]);
        let lead = staff(Role::Lead, &["waste", "env"]);
        let open = case("waste", None);
        let mine = case("waste", Some("me@example.com"));
        let theirs = case("waste", Some("sam@example.com"));

        assert!(
            agent
                .may_assign(&open, "waste", Some("ME@example.com"))
                .is_ok()
        );
        assert!(
            agent
                .may_assign(&theirs, "waste", Some("me@example.com"))
                .is_ok()
        );
        assert!(agent.may_assign(&mine, "waste", None).is_ok());
        // Sending the form back unchanged changes nothing, so it is no one's to refuse.
        assert!(
            agent
                .may_assign(&theirs, "waste", Some("sam@example.com"))
                .is_ok()
        );
        for (case, team, assignee) in [
            (&open, "waste", Some("sam@example.com")),
            (&theirs, "waste", None),
            (&open, "env", None),
            (&mine, "env", Some("me@example.com")),
        ] {
            assert!(
                matches!(
                    agent.may_assign(case, team, assignee),
                    Err(AppError::LeadRequired)
                ),
                "{team} {assignee:?}"
            );
        }

        assert!(
            lead.may_assign(&open, "env", Some("sam@example.com"))
                .is_ok()
        );
        assert!(lead.may_assign(&theirs, "waste", None).is_ok());
        assert!(matches!(
            lead.may_assign(&open, "repairs", None),
            Err(AppError::Case(CaseError::Invalid(fields))) if fields[0].field == "team"
        ));
        assert!(api().may_assign(&open, "repairs", Some("anyone")).is_ok());
    }
}
