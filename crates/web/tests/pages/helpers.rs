//! Starts the real server on a random port against a fresh database, signs a member of staff in
//! through the sign-in page, and reads the pages' HTML as a browser would get it.

use std::sync::{Arc, Mutex};

use casework_app::domain::case::{Case, CaseDraft, Channel, Contact, Language};
use casework_app::domain::service::{Role, Service, ServiceCatalogue};
use casework_app::{App, Features, NewCaseRequest, NewStaffMember};
use casework_web::WebConfig;
pub use casework_web::testing::system;
use casework_web::testing::{self, TestDatabase};
use reqwest::header::{LOCATION, ORIGIN};
use reqwest::redirect::Policy;
use reqwest::{Client, Response};
use scraper::{Html, Selector};
use serde_json::json;
use time::OffsetDateTime;
use time::macros::datetime;

/// A Monday morning in December: cases reported now are due in working days from here.
pub const MONDAY: OffsetDateTime = datetime!(2026-12-07 10:00 UTC);

pub const PASSWORD: &str = "correct horse battery staple";

pub struct TestApp {
    pub address: String,
    pub app: App,
    now: Arc<Mutex<OffsetDateTime>>,
    _database: TestDatabase,
}

pub async fn spawn_app(database: TestDatabase) -> TestApp {
    spawn_app_with(database, Features::default()).await
}

pub async fn spawn_app_with(database: TestDatabase, features: Features) -> TestApp {
    spawn_configured(database, features, Vec::new(), &WebConfig::default()).await
}

/// With `extra` services beside the shipped ones, and the web layer set up as `config` says.
pub async fn spawn_configured(
    database: TestDatabase,
    features: Features,
    extra: Vec<Service>,
    config: &WebConfig,
) -> TestApp {
    let now = Arc::new(Mutex::new(MONDAY));
    let clock = now.clone();
    let shipped = testing::app(&database, features.clone()).await;
    let mut services: Vec<Service> = shipped.services().iter().cloned().collect();
    services.extend(extra);
    let app = App::new(
        shipped.store().clone(),
        ServiceCatalogue::new(services).expect("the services have different codes"),
        shipped.calendar().clone(),
        features,
    )
    .with_clock(Arc::new(move || *clock.lock().unwrap()));
    // With the client's address, as `casework serve` has it, for the limits kept per address.
    let address =
        testing::serve_with_client_addresses(casework_web::router_with(app.clone(), config)).await;
    TestApp {
        address,
        app,
        now,
        _database: database,
    }
}

impl TestApp {
    pub fn set_now(&self, now: OffsetDateTime) {
        *self.now.lock().unwrap() = now;
    }

    /// Adds a member of staff in the `waste` team and signs them in through the sign-in page.
    pub async fn sign_in(&self, email: &str, role: Role) -> Browser {
        self.sign_in_to(email, role, &["waste"]).await
    }

    /// Adds a member of staff in `teams`.
    pub async fn add_staff(&self, email: &str, role: Role, teams: &[&str]) {
        self.app
            .add_staff(
                &system(),
                NewStaffMember {
                    email: email.to_owned(),
                    name: format!("Staff {email}"),
                    role,
                    teams: teams.iter().map(|t| (*t).to_owned()).collect(),
                    password: Some(PASSWORD.to_owned()),
                },
            )
            .await
            .expect("the member of staff is added");
    }

    /// Adds a member of staff in `teams` and signs them in through the sign-in page.
    pub async fn sign_in_to(&self, email: &str, role: Role, teams: &[&str]) -> Browser {
        self.add_staff(email, role, teams).await;
        let browser = self.signed_out();
        let response = browser
            .post(
                "/staff/sign-in",
                &[("email", email), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(response.status(), 303, "signing in");
        browser
    }

    /// A browser that has not signed in.
    pub fn signed_out(&self) -> Browser {
        Browser {
            address: self.address.clone(),
            client: Client::builder()
                .cookie_store(true)
                .redirect(Policy::none())
                .build()
                .unwrap(),
        }
    }

    /// Reports a missed bin for `name`, as a resident would.
    pub async fn report(&self, name: &str) -> Case {
        let draft = CaseDraft {
            contact: Some(Contact {
                name: name.to_owned(),
                email: Some(format!(
                    "{}@example.com",
                    name.to_lowercase().replace(' ', ".")
                )),
                phone: None,
                preferred_channel: Channel::Email,
                language: Language::En,
            }),
            answers: serde_json::from_value(json!({
                "address": "12 Mill Lane\nNewtown\nNT1 3AB",
                "bin_type": "recycling",
                "collection_date": "2026-12-01",
                "bin_out_by_7am": true
            }))
            .unwrap(),
            description: Some(format!("Bin missed at {name}'s house")),
            ..CaseDraft::default()
        };
        let request = NewCaseRequest {
            service: "missed-bin".to_owned(),
            draft,
            idempotency: None,
        };
        self.app
            .create_case(&system(), request)
            .await
            .expect("the case is reported")
            .0
    }
}

impl TestApp {
    /// Reports a housing repair (the repairs team's) for `name`, at `priority`.
    pub async fn report_repair(&self, name: &str, priority: &str) -> Case {
        let draft = CaseDraft {
            priority: Some(priority.to_owned()),
            contact: Some(Contact {
                name: name.to_owned(),
                email: None,
                phone: Some("07700 900123".to_owned()),
                preferred_channel: Channel::Sms,
                language: Language::En,
            }),
            answers: serde_json::from_value(json!({
                "repair_type": "plumbing",
                "danger_now": false,
                "description": "The kitchen tap drips",
                "address": "3 Station Road\nNewtown\nNT2 4CD",
                "location_in_home": "kitchen",
                "vulnerable_occupant": false
            }))
            .unwrap(),
            ..CaseDraft::default()
        };
        let request = NewCaseRequest {
            service: "housing-repair".to_owned(),
            draft,
            idempotency: None,
        };
        self.app
            .create_case(&system(), request)
            .await
            .expect("the repair is reported")
            .0
    }
}

/// A browser with its cookies, which does not follow redirects so that tests see them.
pub struct Browser {
    address: String,
    client: Client,
}

impl Browser {
    pub async fn get(&self, path: &str) -> Response {
        self.client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .unwrap()
    }

    /// Posts a form from one of our own pages, as a browser would: with our origin.
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Response {
        self.client
            .post(format!("{}{path}", self.address))
            .header(ORIGIN, &self.address)
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// A page that must answer 200.
    pub async fn page(&self, path: &str) -> Page {
        let response = self.get(path).await;
        let status = response.status().as_u16();
        let page = Page::of(response).await;
        assert_eq!(status, 200, "GET {path}: {}", page.text("main"));
        page
    }

    /// Posts a form that must succeed, and follows its redirect back to the page.
    pub async fn submit(&self, path: &str, form: &[(&str, &str)]) -> Page {
        let response = self.post(path, form).await;
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get(LOCATION)
            .map(|l| l.to_str().unwrap().to_owned());
        let Some(location) = location.filter(|_| status == 303) else {
            let page = Page::of(response).await;
            panic!("POST {path} answered {status}: {}", page.text("main"));
        };
        self.page(&location).await
    }
}

/// A page's status and parsed HTML.
pub struct Page {
    pub status: u16,
    pub html: Html,
}

impl Page {
    pub async fn of(response: Response) -> Self {
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        Self {
            status,
            html: Html::parse_document(&text),
        }
    }

    /// The text of every element matching `selector`, with its white space collapsed.
    pub fn texts(&self, selector: &str) -> Vec<String> {
        let selector = Selector::parse(selector).unwrap();
        self.html
            .select(&selector)
            .map(|e| e.text().collect::<Vec<_>>().join(" "))
            .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect()
    }

    /// The text of the first element matching `selector`, or "" if none does.
    pub fn text(&self, selector: &str) -> String {
        self.texts(selector).into_iter().next().unwrap_or_default()
    }

    /// An attribute of every element matching `selector` that has it.
    pub fn attrs(&self, selector: &str, name: &str) -> Vec<String> {
        let selector = Selector::parse(selector).unwrap();
        self.html
            .select(&selector)
            .filter_map(|e| e.value().attr(name).map(str::to_owned))
            .collect()
    }

    pub fn attr(&self, selector: &str, name: &str) -> Option<String> {
        self.attrs(selector, name).into_iter().next()
    }

    pub fn title(&self) -> String {
        self.text("title")
    }

    /// The value a form input holds.
    pub fn value(&self, id: &str) -> String {
        self.attr(&format!("#{id}"), "value").unwrap_or_default()
    }

    /// The value of the first input named `name`.
    pub fn value_of(&self, name: &str) -> String {
        self.attr(&format!("input[name={name}]"), "value")
            .unwrap_or_default()
    }

    /// The references in the worktray's table, in order.
    pub fn references(&self) -> Vec<String> {
        self.texts("tbody th a")
    }

    /// The queues' tabs as shown, such as "My cases (2)".
    pub fn tabs(&self) -> Vec<String> {
        self.texts(".moj-sub-navigation__link")
    }

    /// The titles on the timeline, newest first.
    pub fn timeline(&self) -> Vec<String> {
        self.texts(".moj-timeline__title")
    }

    /// The error summary's links, as (text, href).
    pub fn errors(&self) -> Vec<(String, String)> {
        let selector = Selector::parse(".govuk-error-summary__list a").unwrap();
        self.html
            .select(&selector)
            .map(|a| {
                let text = a.text().collect::<String>().trim().to_owned();
                (text, a.value().attr("href").unwrap_or_default().to_owned())
            })
            .collect()
    }

    /// The hidden `version` of the form with this id, or of the form inside it.
    pub fn version(&self, form: &str) -> String {
        self.attr(&format!("#{form} input[name=version]"), "value")
            .expect("the form carries the case's version")
    }

    pub fn seen(&self, form: &str) -> String {
        self.attr(&format!("#{form} input[name=seen]"), "value")
            .expect("the form carries the newest event it was made with")
    }
}
