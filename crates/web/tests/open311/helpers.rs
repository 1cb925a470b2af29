//! Starts the real server on a random port against a fresh database, as an Open311 client such
//! as FixMyStreet would meet it.

use casework_app::domain::service::Role;
use casework_app::store::KeyScope;
use casework_app::{App, Features};
use casework_web::testing::{self, TestDatabase};
use quick_xml::Reader;
use quick_xml::events::Event;
use reqwest::{Client, Response};
use serde_json::Value;

pub struct TestApp {
    pub address: String,
    pub client: Client,
    /// An Open311 key, named `fixmystreet`, with the `lead` role.
    pub key: String,
    /// A key for the JSON API only.
    pub api_key: String,
    pub app: App,
    _database: TestDatabase,
}

pub async fn spawn_app(database: TestDatabase) -> TestApp {
    spawn_app_with(database, Features::default()).await
}

pub async fn spawn_app_with(database: TestDatabase, features: Features) -> TestApp {
    let app = testing::app(&database, features).await;
    let key = app
        .create_scoped_api_key("fixmystreet", Role::Lead, &[KeyScope::Open311])
        .await
        .expect("an Open311 key is made")
        .secret;
    let api_key = app
        .create_api_key("crm", Role::Lead)
        .await
        .expect("an API key is made")
        .secret;
    let address = testing::serve(casework_web::router(app.clone())).await;
    TestApp {
        address,
        client: Client::new(),
        key,
        api_key,
        app,
        _database: database,
    }
}

/// A missed-bin report as FixMyStreet sends one; tests change what they need.
pub fn missed_bin() -> Vec<(String, String)> {
    [
        ("service_code", "missed-bin"),
        ("lat", "52.05"),
        ("long", "-1.3"),
        ("address_string", "12 Mill Lane, Newtown NT1 3AB"),
        ("email", "amira@example.com"),
        ("first_name", "Amira"),
        ("last_name", "Khan"),
        ("phone", "07700 900123"),
        ("description", "Recycling missed again"),
        ("media_url", "https://fms.example.com/photo/1.jpeg"),
        ("device_id", "phone-7"),
        ("account_id", "fms-user-9"),
        ("attribute[bin_type]", "recycling"),
        ("attribute[collection_date]", "2026-12-01T00:00:00Z"),
        ("attribute[bin_out_by_7am]", "yes"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// `form` without `name`, or with it set to `value`.
pub fn with(
    mut form: Vec<(String, String)>,
    name: &str,
    value: Option<&str>,
) -> Vec<(String, String)> {
    form.retain(|(k, _)| k != name);
    if let Some(value) = value {
        form.push((name.to_owned(), value.to_owned()));
    }
    form
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}/open311/v2/{path}", self.address)
    }

    /// A GET without a key.
    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// A GET with the Open311 key and `query`.
    pub async fn get_with_key(&self, path: &str, query: &[(&str, &str)]) -> Response {
        let mut query = query.to_vec();
        query.push(("api_key", &self.key));
        self.client
            .get(with_query(&self.url(path), &query))
            .send()
            .await
            .unwrap()
    }

    /// A form POST with the Open311 key.
    pub async fn post(&self, path: &str, form: &[(String, String)]) -> Response {
        let mut form = form.to_vec();
        form.push(("api_key".into(), self.key.clone()));
        self.post_as(path, &form).await
    }

    /// A form POST as it is, key or not.
    pub async fn post_as(&self, path: &str, form: &[(String, String)]) -> Response {
        self.client
            .post(self.url(path))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// Reports `form` in JSON and returns the new request's id.
    pub async fn report(&self, form: &[(String, String)]) -> String {
        let (status, body) = json(self.post("requests.json", form).await).await;
        assert_eq!(status, 200, "{body}");
        body[0]["service_request_id"].as_str().unwrap().to_owned()
    }
}

/// `url` with `query` encoded onto it.
pub fn with_query(url: &str, query: &[(&str, &str)]) -> String {
    let encoded = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(query)
        .finish();
    format!("{url}?{encoded}")
}

/// The status and JSON body of a response.
pub async fn json(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    let text = response.text().await.unwrap();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}: {text}"
    );
    let body =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
    (status, body)
}

/// An XML element: its name, text and children.
#[derive(Debug, Clone, PartialEq)]
pub struct Element {
    pub name: String,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    pub fn child(&self, name: &str) -> &Element {
        self.children
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("<{}> has no <{name}>: {self:?}", self.name))
    }

    pub fn all(&self, name: &str) -> Vec<&Element> {
        self.children.iter().filter(|c| c.name == name).collect()
    }

    /// The text of the child `name`.
    pub fn text_of(&self, name: &str) -> &str {
        &self.child(name).text
    }
}

/// Parses an XML document into its root element.
pub fn parse_xml(text: &str) -> Element {
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<Element> = vec![Element {
        name: String::new(),
        text: String::new(),
        children: Vec::new(),
    }];
    loop {
        match reader
            .read_event()
            .unwrap_or_else(|e| panic!("bad XML {e}: {text}"))
        {
            Event::Start(start) => stack.push(Element {
                name: start.name().as_ref().to_owned(),
                text: String::new(),
                children: Vec::new(),
            }),
            Event::Empty(empty) => stack.last_mut().unwrap().children.push(Element {
                name: empty.name().as_ref().to_owned(),
                text: String::new(),
                children: Vec::new(),
            }),
            Event::Text(t) => stack.last_mut().unwrap().text.push_str(&t),
            Event::GeneralRef(r) => {
                let entity: &str = &r;
                let resolved = quick_xml::escape::resolve_predefined_entity(entity)
                    .unwrap_or_else(|| panic!("unknown entity {entity}"));
                stack.last_mut().unwrap().text.push_str(resolved);
            }
            Event::End(_) => {
                let mut done = stack.pop().unwrap();
                done.text = done.text.trim().to_owned();
                stack.last_mut().unwrap().children.push(done);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let mut document = stack.pop().unwrap();
    assert_eq!(document.children.len(), 1, "one root: {text}");
    document.children.pop().unwrap()
}

/// The status and XML root of a response, which must declare itself as UTF-8.
pub async fn xml(response: Response) -> (u16, Element) {
    let status = response.status().as_u16();
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    let text = response.text().await.unwrap();
    assert!(
        content_type.starts_with("text/xml"),
        "{content_type}: {text}"
    );
    assert!(
        text.starts_with(r#"<?xml version="1.0" encoding="utf-8"?>"#),
        "no declaration: {text}"
    );
    (status, parse_xml(&text))
}

impl TestApp {
    pub async fn case_count(&self) -> i64 {
        self.app
            .store()
            .count_cases(&Default::default())
            .await
            .unwrap()
    }
}
