//! Realistic made-up cases, for `serve --demo`, `seed` and benchmarks. Phone numbers come from
//! Ofcom's ranges for drama and email addresses from `example.com`, so nothing reaches a real
//! person.

use casework_domain::calendar::WorkingCalendar;
use casework_domain::case::{Actor, Channel, Contact, Language, Location, NewCase};
use casework_domain::plan::Plan;
use casework_domain::service::{Answers, Field, FieldKind, Role, Service, ServiceCatalogue};
use casework_store::{CaseFilter, CaseQuery, CaseSort};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

use crate::plans::new_action_id;
use crate::{App, AppError, Caller, NewStaffMember, StaffMember};

/// The demo's member of staff, who has some cases assigned.
const DEMO_AGENT: &str = "agent@example.com";

/// The demo's staff, one of each role: (email, name, role).
const DEMO_STAFF: [(&str, &str, Role); 3] = [
    (DEMO_AGENT, "Alex Agent", Role::Agent),
    ("lead@example.com", "Lee Lead", Role::Lead),
    ("admin@example.com", "Ada Admin", Role::Admin),
];

/// Characters for demo passwords: lower case and digits, without those easily misread.
const PASSWORD_CHARS: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

const FIRST_NAMES: &[&str] = &[
    "Amira", "Ben", "Chloe", "Dafydd", "Eleanor", "Farhan", "Grace", "Harpreet", "Isaac",
    "Jasmine", "Kwame", "Lowri", "Mohammed", "Niamh", "Olu", "Priya", "Rhys", "Sofia", "Tomasz",
    "Zainab",
];
const LAST_NAMES: &[&str] = &[
    "Ahmed", "Bennett", "Clarke", "Davies", "Evans", "Fraser", "Green", "Hughes", "Iqbal", "Jones",
    "Khan", "Lewis", "Morgan", "Nowak", "Okafor", "Patel", "Roberts", "Singh", "Thomas",
    "Williams",
];
const STREETS: &[&str] = &[
    "Mill Lane",
    "Station Road",
    "Church Street",
    "Victoria Avenue",
    "Park View",
    "The Crescent",
    "Orchard Close",
    "Meadow Way",
    "High Street",
    "Canal Walk",
];

fn descriptions(service: &str) -> &'static [&'static str] {
    match service {
        "missed-bin" => &[
            "Bin was out by 7am but the lorry went past without stopping.",
            "Recycling not collected again this week, the whole street was missed.",
            "Garden waste bin left full, the tag was on the handle.",
        ],
        "housing-repair" => &[
            "Boiler not working, no heating or hot water since Sunday.",
            "Black mould spreading on the bedroom ceiling above the window.",
            "Kitchen tap leaking under the sink, water on the floor.",
            "Front door lock broken, cannot lock the flat.",
        ],
        "noise-complaint" => &[
            "Loud music from the flat upstairs most nights until 3am.",
            "Dog barking for hours every day while the owners are at work.",
            "Building works starting at 6am on Saturdays.",
        ],
        "homelessness-prevention" => &[
            "Landlord has served a section 21 notice, we must leave by the end of next month.",
            "Living with my parents, they have asked me to leave after an argument.",
            "Rent arrears after losing my job, landlord says we will be evicted.",
        ],
        _ => &["Please can someone look into this."],
    }
}

/// How far back demo cases were reported.
const DEMO_WINDOW: Duration = Duration::days(60);
/// The newest a demo case can be.
const DEMO_NEWEST: Duration = Duration::minutes(5);

/// Makes demo cases from a seed, so the same seed gives the same cases.
pub struct DemoCases<'a> {
    services: Vec<&'a Service>,
    calendar: &'a WorkingCalendar,
    now: OffsetDateTime,
    rng: StdRng,
    arrival: Arrival,
}

/// When each demo case was reported.
enum Arrival {
    /// At any time in the window.
    Random,
    /// One after another across the window, as a service receives them, so that references
    /// follow the order of reporting. Stored this way, a million cases append to the indexes
    /// by date instead of scattering over them, which keeps seeding within the page cache.
    InTurn { gap: Duration, made: u32 },
}

impl<'a> DemoCases<'a> {
    pub fn new(
        services: &'a ServiceCatalogue,
        calendar: &'a WorkingCalendar,
        now: OffsetDateTime,
        seed: u64,
    ) -> Self {
        Self {
            services: services.iter().collect(),
            calendar,
            now,
            rng: StdRng::seed_from_u64(seed),
            arrival: Arrival::Random,
        }
    }

    /// Cases reported one after another, `count` of them across the window.
    pub fn in_turn(mut self, count: u64) -> Self {
        let gap = (DEMO_WINDOW - DEMO_NEWEST) / u32::try_from(count.max(1)).unwrap_or(u32::MAX);
        self.arrival = Arrival::InTurn { gap, made: 0 };
        self
    }

    fn reported_at(&mut self) -> OffsetDateTime {
        match &mut self.arrival {
            Arrival::Random => {
                let ago = DEMO_NEWEST.whole_minutes()..DEMO_WINDOW.whole_minutes();
                self.now - Duration::minutes(self.rng.random_range(ago))
            }
            Arrival::InTurn { gap, made } => {
                *made = made.saturating_add(1);
                (self.now - DEMO_WINDOW + *gap * *made).min(self.now - DEMO_NEWEST)
            }
        }
    }

    /// One case reported in the last 60 days, in any state of its service's workflow.
    pub fn case(&mut self) -> NewCase {
        let service = *self
            .services
            .choose(&mut self.rng)
            .expect("a catalogue has at least one service");
        let first = *FIRST_NAMES.choose(&mut self.rng).expect("names");
        let last = *LAST_NAMES.choose(&mut self.rng).expect("names");
        let house = self.rng.random_range(1..=120);
        let street = *STREETS.choose(&mut self.rng).expect("streets");
        let address = format!("{house} {street}\nNewtown\nNT1 {}AB", house % 9 + 1);
        let contact = Contact {
            name: format!("{first} {last}"),
            email: Some(format!(
                "{}.{}{}@example.com",
                first.to_lowercase(),
                last.to_lowercase(),
                self.rng.random_range(1..100)
            )),
            // Stored as a case made through the app stores it: without spaces.
            phone: Some(format!("07700900{:03}", self.rng.random_range(0..1000))),
            preferred_channel: if self.rng.random_bool(0.3) {
                Channel::Sms
            } else {
                Channel::Email
            },
            language: if self.rng.random_bool(0.1) {
                Language::Cy
            } else {
                Language::En
            },
        };
        let answers = self.answers(service, &contact, &address);
        let created_at = self.reported_at();
        let priority = service
            .priorities
            .choose(&mut self.rng)
            .expect("a service has priorities");
        let state = service
            .workflow
            .states
            .choose(&mut self.rng)
            .expect("a workflow has states");
        let closed_at = state.closed.then(|| {
            let open_for = (self.now - created_at).whole_minutes().max(2);
            created_at + Duration::minutes(self.rng.random_range(1..open_for))
        });
        NewCase {
            service: service.code.clone(),
            state: state.code.clone(),
            priority: priority.code.clone(),
            priority_rank: service.priority_rank(&priority.code),
            team: service.team.clone(),
            contact,
            answers,
            description: descriptions(&service.code)
                .choose(&mut self.rng)
                .map(|d| (*d).to_owned()),
            location: Some(Location {
                lat: Some(52.05 + self.rng.random_range(-0.05..0.05)),
                long: Some(-1.30 + self.rng.random_range(-0.08..0.08)),
                address: Some(address),
            }),
            external: None,
            sla_due_at: self.calendar.sla_due(created_at, priority.working_days),
            created_at,
            closed_at,
            // Identifiers made as the app makes them (in order, unlike the rest of a demo case,
            // which the seed repeats): random ones scatter a million cases' actions over the
            // whole of the actions' key, and seeding slows as it outgrows the page cache.
            plan: Plan::from_template(&service.plan, self.calendar, created_at, new_action_id),
        }
    }

    fn answers(&mut self, service: &Service, contact: &Contact, address: &str) -> Answers {
        let mut answers = Answers::new();
        for field in service.fields.iter().filter(|f| !f.staff_only) {
            if !field.required && self.rng.random_bool(0.3) {
                continue;
            }
            answers.insert(
                field.code.clone(),
                self.answer(service, field, contact, address),
            );
        }
        answers
    }

    fn answer(
        &mut self,
        service: &Service,
        field: &Field,
        contact: &Contact,
        address: &str,
    ) -> Value {
        let choice = |rng: &mut StdRng| {
            field
                .choices
                .choose(rng)
                .map_or(Value::Null, |c| json!(c.code))
        };
        match field.kind {
            FieldKind::Text => json!("See description"),
            FieldKind::LongText => json!(
                descriptions(&service.code)
                    .choose(&mut self.rng)
                    .copied()
                    .unwrap_or_default()
            ),
            FieldKind::Number => json!(self.rng.random_range(1..6)),
            FieldKind::Date => {
                let day = self.now.date() - Duration::days(self.rng.random_range(0..14));
                json!(day.to_string())
            }
            FieldKind::YesNo => json!(self.rng.random_bool(0.5)),
            FieldKind::SingleChoice => choice(&mut self.rng),
            FieldKind::MultipleChoice => json!([choice(&mut self.rng)]),
            FieldKind::Email => json!(contact.email),
            FieldKind::Phone => json!(contact.phone),
            FieldKind::Address => json!(address),
            FieldKind::Location => json!({
                "lat": 52.05 + self.rng.random_range(-0.05..0.05),
                "long": -1.30 + self.rng.random_range(-0.08..0.08),
            }),
        }
    }
}

/// How many cases `seed` stores in one transaction.
pub const SEED_BATCH: usize = 5_000;

impl App {
    /// Stores `count` demo cases in batches, calling `progress` with the number stored so far.
    pub async fn seed_cases(
        &self,
        count: u64,
        seed: u64,
        mut progress: impl FnMut(u64),
    ) -> Result<(), AppError> {
        let mut demo =
            DemoCases::new(&self.services, &self.calendar, self.now(), seed).in_turn(count);
        let mut stored = 0u64;
        while stored < count {
            let batch = (count - stored).min(SEED_BATCH as u64);
            let cases: Vec<NewCase> = (0..batch).map(|_| demo.case()).collect();
            self.store.import_cases(&cases, &Actor::System).await?;
            stored += batch;
            progress(stored);
        }
        Ok(())
    }

    /// Demo data for `serve --demo`: `count` cases, and a worked timeline (assigned, with a
    /// note) on some of the open ones, made through the same use cases staff use.
    pub async fn seed_demo(&self, count: u64) -> Result<(), AppError> {
        self.seed_cases(count, 42, |_| {}).await?;
        let staff = Caller {
            actor: Actor::Staff(DEMO_AGENT.into()),
            role: Role::Lead,
            api_key_id: None,
            teams: None,
        };
        let page = self
            .store
            .list_cases(&CaseQuery {
                filter: CaseFilter {
                    open: Some(true),
                    ..Default::default()
                },
                sort: CaseSort::Due,
                after: None,
                limit: 25,
            })
            .await?;
        for case in page.cases {
            let case = self
                .assign_case(
                    &staff,
                    case.reference,
                    case.version,
                    None,
                    Some(DEMO_AGENT.into()),
                )
                .await?;
            self.add_note(
                &staff,
                case.reference,
                case.version,
                "Called the resident to confirm the details.",
            )
            .await?;
        }
        Ok(())
    }

    /// The demo's staff, one of each role in every service's team, each with a new random
    /// password (shown once, by whoever prints them): made if missing, or given a new password
    /// if there. Their addresses are at `example.com`, which is reserved for examples, so no
    /// real person's account is touched.
    pub async fn prepare_demo_staff(&self) -> Result<Vec<(StaffMember, String)>, AppError> {
        let operator = Caller {
            actor: Actor::System,
            role: Role::Admin,
            api_key_id: None,
            teams: None,
        };
        let mut teams: Vec<String> = self.services.iter().map(|s| s.team.clone()).collect();
        teams.sort();
        teams.dedup();
        let mut staff = Vec::new();
        for (email, name, role) in DEMO_STAFF {
            let password = demo_password(&mut rand::rng());
            let member = match self.staff_member_by_email(email).await? {
                Some(member) if member.active => {
                    self.set_password(&operator, member.id, &password).await?;
                    member
                }
                Some(_) => continue,
                None => {
                    let new = NewStaffMember {
                        email: email.into(),
                        name: name.into(),
                        role,
                        teams: teams.clone(),
                        password: Some(password.clone()),
                    };
                    self.add_staff(&operator, new).await?
                }
            };
            staff.push((member, password));
        }
        Ok(staff)
    }

    /// Whether the database holds no cases yet: demo data goes only into an empty one.
    pub async fn is_empty(&self) -> Result<bool, AppError> {
        Ok(self.store.count_cases(&Default::default()).await? == 0)
    }
}

/// Four groups of four, easy to read off a terminal and type: 19 characters.
fn demo_password(rng: &mut impl Rng) -> String {
    let mut password = String::with_capacity(19);
    for i in 0..16 {
        if i > 0 && i % 4 == 0 {
            password.push('-');
        }
        password.push(char::from(*PASSWORD_CHARS.choose(rng).expect("characters")));
    }
    password
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn shipped() -> (ServiceCatalogue, WorkingCalendar) {
        let services =
            crate::load_services(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../services"))
                .expect("the shipped services load");
        (services, WorkingCalendar::england_and_wales())
    }

    #[test]
    fn demo_cases_are_valid_for_their_service() {
        let (services, calendar) = shipped();
        let now = OffsetDateTime::now_utc();
        let mut demo = DemoCases::new(&services, &calendar, now, 7);
        for _ in 0..200 {
            let case = demo.case();
            let service = services.get(&case.service).expect("a known service");
            assert_eq!(
                service.check_answers(&case.answers).as_ref(),
                Ok(&case.answers),
                "{}",
                case.service
            );
            assert!(case.contact.clone().checked().is_ok());
            assert_eq!(
                case.closed_at.is_some(),
                service.workflow.is_closed(&case.state)
            );
            assert!(case.created_at <= now && case.created_at < case.sla_due_at);
        }
    }

    #[test]
    fn demo_cases_in_turn_are_reported_in_order_across_the_window() {
        let (services, calendar) = shipped();
        let now = OffsetDateTime::now_utc();
        let mut demo = DemoCases::new(&services, &calendar, now, 7).in_turn(100);
        let reported: Vec<_> = (0..100).map(|_| demo.case().created_at).collect();
        assert!(reported.is_sorted_by(|a, b| a < b), "in order");
        assert!(
            reported[0] < now - Duration::days(59),
            "from the start of the window"
        );
        assert!(reported[99] <= now - DEMO_NEWEST && reported[99] > now - Duration::hours(1));
    }

    #[test]
    fn demo_passwords_are_long_enough_and_differ() {
        let mut rng = StdRng::seed_from_u64(1);
        let (a, b) = (demo_password(&mut rng), demo_password(&mut rng));
        assert_eq!(a.chars().count(), 19);
        assert!(a.chars().count() >= crate::MIN_PASSWORD_CHARS);
        assert_ne!(a, b);
    }
}
