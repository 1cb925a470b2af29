//! Who is who: staff by their email address and teams by their code, so that pages show names
//! where cases and events hold addresses and codes. Both tables are small, so a page reads
//! them whole, once, rather than looking each name up.

use casework_store::Team;

use crate::{App, AppError, StaffMember};

/// Every member of staff and every team, as read for one request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Directory {
    /// By name, active or not: a case may still be assigned to someone who has left.
    staff: Vec<StaffMember>,
    /// By code, with the teams that only a service names so far.
    teams: Vec<Team>,
}

impl Directory {
    pub fn new(staff: Vec<StaffMember>, teams: Vec<Team>) -> Self {
        Self { staff, teams }
    }

    /// The member of staff with this email address, in any case.
    pub fn person(&self, email: &str) -> Option<&StaffMember> {
        self.staff
            .iter()
            .find(|s| s.email.eq_ignore_ascii_case(email))
    }

    /// The name of the member of staff with this email address, or the address itself for
    /// someone who is not staff (another system may assign its own people).
    pub fn person_name<'a>(&'a self, email: &'a str) -> &'a str {
        self.person(email).map_or(email, |s| s.name.as_str())
    }

    /// The team's name, or its code for a team that no longer exists.
    pub fn team_name<'a>(&'a self, code: &'a str) -> &'a str {
        self.teams
            .iter()
            .find(|t| t.code == code)
            .map_or(code, |t| t.name.as_str())
    }

    pub fn teams(&self) -> &[Team] {
        &self.teams
    }

    /// The active members of a team, by name: those a case of the team can be assigned to.
    pub fn members<'a>(&'a self, team: &'a str) -> impl Iterator<Item = &'a StaffMember> {
        self.staff
            .iter()
            .filter(move |s| s.active && s.teams.iter().any(|t| t == team))
    }
}

impl App {
    /// Every member of staff and every team, for showing their names.
    pub async fn directory(&self) -> Result<Directory, AppError> {
        let (staff, teams) = tokio::try_join!(self.list_staff(), self.joinable_teams())?;
        Ok(Directory::new(staff, teams))
    }
}

#[cfg(test)]
mod tests {
    use casework_domain::service::Role;

    use super::*;

    fn member(email: &str, name: &str, teams: &[&str], active: bool) -> StaffMember {
        StaffMember {
            id: 1,
            email: email.into(),
            name: name.into(),
            role: Role::Agent,
            teams: teams.iter().map(|t| (*t).to_owned()).collect(),
            active,
        }
    }

    #[test]
    fn names_people_and_teams_and_falls_back_to_what_it_was_given() {
        let directory = Directory::new(
            vec![
                member("alice@council.example", "Alice Jones", &["waste"], true),
                member("bob@council.example", "Bob Smith", &["waste"], false),
            ],
            vec![Team {
                code: "waste".into(),
                name: "Waste and recycling".into(),
            }],
        );
        assert_eq!(
            directory.person_name("Alice@Council.example"),
            "Alice Jones"
        );
        assert_eq!(directory.person_name("crm-user-7"), "crm-user-7");
        assert_eq!(directory.team_name("waste"), "Waste and recycling");
        assert_eq!(directory.team_name("gone"), "gone");
        let members: Vec<&str> = directory
            .members("waste")
            .map(|s| s.name.as_str())
            .collect();
        assert_eq!(members, ["Alice Jones"]);
    }
}
