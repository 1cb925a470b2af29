//! Staff: the council's people who work cases, their teams and roles, and signing in.
//!
//! Passwords are hashed with Argon2id and a random salt each, off the async threads (a hash
//! takes tens of milliseconds of CPU on purpose). Failed sign-ins are counted in the database,
//! under hashes of the email address and of the client's address, so that the limit holds across
//! replicas and no address is kept.

use std::net::IpAddr;
use std::sync::LazyLock;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use casework_domain::case::Actor;
use casework_domain::service::Role;
use casework_domain::service::answers::{FieldError, normalise_email};
use casework_store::{NewStaff, Staff, StoreError, Team};
use rand::RngCore;
use serde::Serialize;
use time::{Duration, OffsetDateTime};

use crate::{App, AppError, Caller, sha256_hex};

/// The shortest password accepted, in characters. Length does more for a password than rules
/// about its characters (NCSC's advice), so this is the only rule.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Long enough for any passphrase; a limit so that nobody makes the server hash a megabyte.
const MAX_PASSWORD_CHARS: usize = 256;
const MAX_NAME_CHARS: usize = 200;
const MAX_TEAM_CODE_CHARS: usize = 50;
/// How long a set-password link works.
const SET_PASSWORD_LINK_LIFETIME: Duration = Duration::hours(24);

/// Failed sign-ins are counted over this window.
pub const SIGN_IN_WINDOW: Duration = Duration::minutes(15);
/// Failures for one email address within the window before its sign-ins are refused.
const MAX_FAILURES_PER_EMAIL: i64 = 5;
/// Failures from one client address within the window before its sign-ins are refused. Higher
/// than the per-address limit because a council office signs in from one address.
const MAX_FAILURES_PER_CLIENT: i64 = 50;

/// A member of staff as the rest of the app sees them: never their password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaffMember {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// The codes of the teams whose cases they work.
    pub teams: Vec<String>,
    pub active: bool,
}

impl StaffMember {
    /// The caller this member of staff is when they act on a case.
    pub fn caller(&self) -> Caller {
        Caller {
            actor: Actor::Staff(self.email.clone()),
            role: self.role,
            api_key_id: None,
            // An admin manages every team, so works every team's cases.
            teams: (self.role < Role::Admin).then(|| self.teams.clone()),
        }
    }
}

impl From<Staff> for StaffMember {
    fn from(staff: Staff) -> Self {
        Self {
            id: staff.id,
            email: staff.email,
            name: staff.name,
            role: staff.role,
            teams: staff.teams,
            active: staff.active,
        }
    }
}

/// Someone to add to the staff, as an admin entered them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStaffMember {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub teams: Vec<String>,
    /// Without one, they set their own from a one-time link.
    pub password: Option<String>,
}

/// How a sign-in went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignIn {
    Staff(StaffMember),
    /// The email address and password do not belong to an active member of staff. Which of
    /// them is wrong is not said.
    Refused,
    /// Too many failed sign-ins for this email address or client lately: the password was not
    /// even checked.
    TooManyAttempts,
}

/// A one-time link's secret, shown once: only its hash is stored.
#[derive(Debug, Clone)]
pub struct SetPasswordLink {
    pub token: String,
    pub expires_at: OffsetDateTime,
}

impl App {
    /// Adds a member of staff. Only an admin may. Teams must exist, or be named by a service
    /// (such a team is made as it gets its first member).
    pub async fn add_staff(
        &self,
        by: &Caller,
        new: NewStaffMember,
    ) -> Result<StaffMember, AppError> {
        require_admin(by)?;
        let mut errors = Vec::new();
        let email = check_email(&new.email).map_err(|e| errors.push(e)).ok();
        let name = check_name(&new.name).map_err(|e| errors.push(e)).ok();
        let teams = self
            .check_teams(new.role, &new.teams)
            .await?
            .map_err(|e| errors.push(e))
            .ok();
        if let Some(password) = &new.password
            && let Err(e) = check_password(password)
        {
            errors.push(e);
        }
        let (Some(email), Some(name), Some((teams, missing)), true) =
            (email, name, teams, errors.is_empty())
        else {
            return Err(AppError::Invalid(errors));
        };
        let password_hash = match new.password {
            Some(password) => Some(hash_password(password).await?),
            None => None,
        };
        self.store.ensure_teams(&missing).await?;
        let staff = self
            .store
            .insert_staff(&NewStaff {
                email,
                name,
                role: new.role,
                teams,
                password_hash,
                created_at: self.now(),
            })
            .await
            .map_err(|e| match e {
                StoreError::Taken(_) => AppError::Invalid(vec![FieldError::new(
                    "email",
                    "There is already a member of staff with this email address",
                )]),
                other => other.into(),
            })?;
        tracing::info!(
            staff = staff.id,
            role = %staff.role,
            by = %by.actor,
            "added a member of staff"
        );
        Ok(staff.into())
    }

    /// Checks an email address and password. Every refusal takes as long as a wrong password
    /// does, so that timing does not tell which addresses belong to staff.
    pub async fn authenticate(
        &self,
        email: &str,
        password: &str,
        client: Option<IpAddr>,
    ) -> Result<SignIn, AppError> {
        let now = self.now();
        let email = email.trim().to_lowercase();
        let email_key = failure_key("email", &email);
        let client_key = client.map(|ip| failure_key("client", &ip.to_string()));
        // Short hashes in the log: enough to see one address being tried again and again.
        let (email_log, client_log) = (&email_key[..12], client_key.as_ref().map(|k| &k[..12]));
        let since = now - SIGN_IN_WINDOW;
        let too_many = self.store.sign_in_failures(&email_key, since).await?
            >= MAX_FAILURES_PER_EMAIL
            || match &client_key {
                Some(key) => {
                    self.store.sign_in_failures(key, since).await? >= MAX_FAILURES_PER_CLIENT
                }
                None => false,
            };
        if too_many {
            tracing::warn!(
                email = email_log,
                client = client_log,
                "sign-in refused: too many failed attempts"
            );
            return Ok(SignIn::TooManyAttempts);
        }
        let staff = self
            .store
            .staff_by_email(&email)
            .await?
            .filter(|staff| staff.active);
        let hash = staff.as_ref().and_then(|s| s.password_hash.clone());
        let matches = verify_password(password.to_owned(), hash).await?;
        match staff.filter(|_| matches) {
            Some(staff) => {
                self.store.clear_sign_in_failures(&email_key).await?;
                tracing::info!(staff = staff.id, "signed in");
                Ok(SignIn::Staff(staff.into()))
            }
            None => {
                let keys: Vec<String> = std::iter::once(email_key.clone())
                    .chain(client_key.clone())
                    .collect();
                self.store.record_sign_in_failure(&keys, now, since).await?;
                tracing::info!(
                    email = email_log,
                    client = client_log,
                    "sign-in refused: wrong email address or password"
                );
                Ok(SignIn::Refused)
            }
        }
    }

    /// An active member of staff, as a signed-in session finds them again.
    pub async fn active_staff_member(&self, id: i64) -> Result<Option<StaffMember>, AppError> {
        Ok(self
            .store
            .staff_by_id(id)
            .await?
            .filter(|staff| staff.active)
            .map(StaffMember::from))
    }

    /// The member of staff with this email address, in any case, active or not.
    pub async fn staff_member_by_email(
        &self,
        email: &str,
    ) -> Result<Option<StaffMember>, AppError> {
        Ok(self
            .store
            .staff_by_email(&email.trim().to_lowercase())
            .await?
            .map(StaffMember::from))
    }

    /// Everyone, active or not, by name.
    pub async fn list_staff(&self) -> Result<Vec<StaffMember>, AppError> {
        let staff = self.store.list_staff().await?;
        Ok(staff.into_iter().map(StaffMember::from).collect())
    }

    /// Sets someone's password and ends their sessions. Only an admin may.
    pub async fn set_password(
        &self,
        by: &Caller,
        staff_id: i64,
        password: &str,
    ) -> Result<(), AppError> {
        require_admin(by)?;
        check_password(password).map_err(|e| AppError::Invalid(vec![e]))?;
        let hash = hash_password(password.to_owned()).await?;
        self.store
            .set_staff_password(staff_id, &hash)
            .await
            .map_err(|e| not_found(e, staff_id))?;
        self.store.delete_staff_sessions(staff_id).await?;
        tracing::info!(staff = staff_id, by = %by.actor, "set a password");
        Ok(())
    }

    /// Stops someone signing in and ends their sessions. Only an admin may, and not on
    /// themselves: that could leave nobody to manage staff.
    pub async fn deactivate_staff(&self, by: &Caller, staff_id: i64) -> Result<(), AppError> {
        require_admin(by)?;
        let staff = self
            .store
            .staff_by_id(staff_id)
            .await?
            .ok_or(AppError::StaffNotFound(staff_id))?;
        if by.actor == Actor::Staff(staff.email) {
            return Err(AppError::Invalid(vec![FieldError::new(
                "staff",
                "You cannot deactivate yourself: ask another admin",
            )]));
        }
        self.store
            .deactivate_staff(staff_id, self.now())
            .await
            .map_err(|e| not_found(e, staff_id))?;
        self.store.delete_staff_sessions(staff_id).await?;
        tracing::info!(staff = staff_id, by = %by.actor, "deactivated a member of staff");
        Ok(())
    }

    /// Every team, by code.
    pub async fn list_teams(&self) -> Result<Vec<Team>, AppError> {
        Ok(self.store.teams().await?)
    }

    /// The teams someone can be put in, by code: every team, and those that only a service
    /// names so far (made as they get their first member).
    pub async fn joinable_teams(&self) -> Result<Vec<Team>, AppError> {
        let mut teams = self.store.teams().await?;
        for service in self.services.iter() {
            if !teams.iter().any(|team| team.code == service.team) {
                teams.push(Team {
                    code: service.team.clone(),
                    name: team_name(&service.team),
                });
            }
        }
        teams.sort_by(|a, b| a.code.cmp(&b.code));
        Ok(teams)
    }

    /// Adds a team. Only an admin may.
    pub async fn create_team(&self, by: &Caller, code: &str, name: &str) -> Result<Team, AppError> {
        require_admin(by)?;
        let mut errors = Vec::new();
        let code = code.trim();
        if !is_team_code(code) {
            errors.push(FieldError::new(
                "code",
                format!(
                    "Enter a code of lower-case letters, digits and hyphens, starting with a \
                     letter, in {MAX_TEAM_CODE_CHARS} characters or fewer"
                ),
            ));
        }
        let name = check_name(name).map_err(|e| errors.push(e)).ok();
        let (Some(name), true) = (name, errors.is_empty()) else {
            return Err(AppError::Invalid(errors));
        };
        let team = Team {
            code: code.to_owned(),
            name,
        };
        let team = self.store.insert_team(&team).await.map_err(|e| match e {
            StoreError::Taken(_) => AppError::Invalid(vec![FieldError::new(
                "code",
                "There is already a team with this code",
            )]),
            other => other.into(),
        })?;
        tracing::info!(team = %team.code, by = %by.actor, "added a team");
        Ok(team)
    }

    /// Makes a one-time link for an active member of staff to set their password with, in
    /// place of any earlier link. Only an admin may.
    pub async fn create_set_password_link(
        &self,
        by: &Caller,
        staff_id: i64,
    ) -> Result<SetPasswordLink, AppError> {
        require_admin(by)?;
        if self.active_staff_member(staff_id).await?.is_none() {
            return Err(AppError::StaffNotFound(staff_id));
        }
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let token = URL_SAFE_NO_PAD.encode(bytes);
        let now = self.now();
        let expires_at = now + SET_PASSWORD_LINK_LIFETIME;
        self.store
            .insert_set_password_token(staff_id, &sha256_hex(token.as_bytes()), expires_at, now)
            .await?;
        tracing::info!(staff = staff_id, by = %by.actor, "made a set-password link");
        Ok(SetPasswordLink { token, expires_at })
    }

    /// Whose set-password link this is, while it works.
    pub async fn set_password_link_holder(
        &self,
        token: &str,
    ) -> Result<Option<StaffMember>, AppError> {
        let hash = sha256_hex(token.as_bytes());
        match self
            .store
            .set_password_token_staff(&hash, self.now())
            .await?
        {
            Some(id) => self.active_staff_member(id).await,
            None => Ok(None),
        }
    }

    /// Sets a password from a one-time link, which stops working, and ends the holder's other
    /// sessions. `None`: the link does not work (unknown, used or expired).
    pub async fn set_password_with_link(
        &self,
        token: &str,
        password: &str,
    ) -> Result<Option<StaffMember>, AppError> {
        check_password(password).map_err(|e| AppError::Invalid(vec![e]))?;
        let hash = hash_password(password.to_owned()).await?;
        let token_hash = sha256_hex(token.as_bytes());
        let Some(id) = self
            .store
            .set_password_with_token(&token_hash, &hash, self.now())
            .await?
        else {
            return Ok(None);
        };
        self.store.delete_staff_sessions(id).await?;
        tracing::info!(staff = id, "set their password from a link");
        self.active_staff_member(id).await
    }

    /// The teams `codes` name, sorted, and those of them to make because a service names them
    /// but nobody has joined them yet; or what is wrong with them.
    async fn check_teams(
        &self,
        role: Role,
        codes: &[String],
    ) -> Result<Result<(Vec<String>, Vec<Team>), FieldError>, AppError> {
        let existing = self.store.teams().await?;
        let mut teams: Vec<String> = codes.iter().map(|c| c.trim().to_owned()).collect();
        teams.sort();
        teams.dedup();
        teams.retain(|code| !code.is_empty());
        // An admin manages people rather than working cases, so may belong to no team.
        if teams.is_empty() && role < Role::Admin {
            return Ok(Err(FieldError::new(
                "teams",
                "Choose at least one team whose cases they work",
            )));
        }
        let mut missing = Vec::new();
        for code in &teams {
            if existing.iter().any(|team| &team.code == code) {
                continue;
            }
            if self.services.iter().any(|service| &service.team == code) {
                missing.push(Team {
                    code: code.clone(),
                    name: team_name(code),
                });
                continue;
            }
            let mut known: Vec<&str> = existing.iter().map(|t| t.code.as_str()).collect();
            known.extend(self.services.iter().map(|s| s.team.as_str()));
            known.sort_unstable();
            known.dedup();
            return Ok(Err(FieldError::new(
                "teams",
                format!(
                    "There is no team \"{code}\": the teams are {}",
                    known.join(", ")
                ),
            )));
        }
        Ok(Ok((teams, missing)))
    }
}

pub(crate) fn require_admin(by: &Caller) -> Result<(), AppError> {
    match by.role {
        Role::Admin => Ok(()),
        _ => Err(AppError::AdminOnly),
    }
}

fn not_found(error: StoreError, staff_id: i64) -> AppError {
    match error {
        StoreError::NotFound => AppError::StaffNotFound(staff_id),
        other => other.into(),
    }
}

fn check_email(entered: &str) -> Result<String, FieldError> {
    if entered.trim().is_empty() {
        return Err(FieldError::new("email", "Enter their email address"));
    }
    normalise_email(entered).ok_or_else(|| {
        FieldError::new(
            "email",
            "Enter an email address in the correct format, like name@example.com",
        )
    })
}

fn check_name(entered: &str) -> Result<String, FieldError> {
    let name = entered.trim();
    if name.is_empty() {
        return Err(FieldError::new("name", "Enter a name"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(FieldError::new(
            "name",
            format!("Name must be {MAX_NAME_CHARS} characters or fewer"),
        ));
    }
    Ok(name.to_owned())
}

/// Checks a new password. It is kept exactly as typed: spaces may be part of a passphrase.
fn check_password(password: &str) -> Result<(), FieldError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(FieldError::new(
            "password",
            format!("Password must be {MIN_PASSWORD_CHARS} characters or more"),
        ));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(FieldError::new(
            "password",
            format!("Password must be {MAX_PASSWORD_CHARS} characters or fewer"),
        ));
    }
    Ok(())
}

fn is_team_code(code: &str) -> bool {
    code.len() <= MAX_TEAM_CODE_CHARS
        && code.starts_with(|c: char| c.is_ascii_lowercase())
        && code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// A name for a team that only a service's code names: `environmental-health` becomes
/// "Environmental health". An admin can name teams properly by creating them first.
fn team_name(code: &str) -> String {
    let words = code.replace('-', " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => words,
    }
}

/// What failed sign-ins are counted under: a hash, so that the table holds no addresses.
pub(crate) fn failure_key(kind: &str, value: &str) -> String {
    sha256_hex(format!("{kind}:{value}").as_bytes())
}

async fn hash_password(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|e| AppError::Hashing(e.to_string()))
    })
    .await
    .map_err(|e| AppError::Hashing(e.to_string()))?
}

/// Whether `password` matches `hash`. Without a hash (no such member of staff, or one with no
/// password yet) it checks against a hash of a random password, which takes as long and fails.
async fn verify_password(password: String, hash: Option<String>) -> Result<bool, AppError> {
    tokio::task::spawn_blocking(move || {
        let against = hash.as_deref().unwrap_or(&STAND_IN_HASH);
        let matches = Argon2::default()
            .verify_password(password.as_bytes(), against)
            .is_ok();
        matches && hash.is_some()
    })
    .await
    .map_err(|e| AppError::Hashing(e.to_string()))
}

/// A hash of a password nobody knows, made once per process with the same parameters as real
/// ones.
static STAND_IN_HASH: LazyLock<String> = LazyLock::new(|| {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    Argon2::default()
        .hash_password(&bytes)
        .expect("hashing a random password")
        .to_string()
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_need_twelve_characters_counted_as_characters() {
        assert!(check_password("correct horse").is_ok());
        assert!(check_password("elevenchars").is_err());
        // Twelve characters, more bytes.
        assert!(check_password("ŵŵŵŵŵŵŵŵŵŵŵŵ").is_ok());
        assert!(check_password(&"x".repeat(MAX_PASSWORD_CHARS + 1)).is_err());
    }

    #[test]
    fn emails_are_checked_and_lower_cased() {
        assert_eq!(
            check_email(" Jo.Bloggs@Example.GOV.UK ").unwrap(),
            "jo.bloggs@example.gov.uk"
        );
        assert_eq!(
            check_email("").unwrap_err().message,
            "Enter their email address"
        );
        assert!(check_email("jo at example").is_err());
    }

    #[test]
    fn team_codes_and_their_default_names() {
        assert!(is_team_code("environmental-health"));
        assert!(is_team_code("team2"));
        assert!(!is_team_code("Waste"));
        assert!(!is_team_code("2team"));
        assert!(!is_team_code(""));
        assert_eq!(team_name("environmental-health"), "Environmental health");
        assert_eq!(team_name("waste"), "Waste");
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let hash = hash_password("correct horse battery".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        let again = hash_password("correct horse battery".into()).await.unwrap();
        assert_ne!(hash, again, "each hash has its own salt");
        assert!(
            verify_password("correct horse battery".into(), Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(
            !verify_password("correct horse battery!".into(), Some(hash))
                .await
                .unwrap()
        );
        assert!(
            !verify_password("anything at all".into(), None)
                .await
                .unwrap()
        );
    }
}
