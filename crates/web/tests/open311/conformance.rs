//! Our answers have the shape of the specification's own example documents (in `examples/`):
//! the same element names and nesting in XML, the same keys and nesting of arrays and objects
//! in JSON.

use std::collections::BTreeSet;
use std::path::Path;

use casework_app::domain::case::Reference;
use casework_web::on_both_databases;
use casework_web::testing::system;
use serde_json::Value;

use crate::helpers::{Element, TestApp, missed_bin, parse_xml};

fn example(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/open311/examples")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every element's path from the root, such as `services/service/service_code`.
fn xml_shape(element: &Element) -> BTreeSet<String> {
    fn walk(element: &Element, prefix: &str, paths: &mut BTreeSet<String>) {
        let path = if prefix.is_empty() {
            element.name.clone()
        } else {
            format!("{prefix}/{}", element.name)
        };
        for child in &element.children {
            walk(child, &path, paths);
        }
        paths.insert(path);
    }
    let mut paths = BTreeSet::new();
    walk(element, "", &mut paths);
    paths
}

/// Every value's path, arrays marked `[]` and objects `{}`, such as `[]{}.service_code`.
fn json_shape(value: &Value) -> BTreeSet<String> {
    fn walk(value: &Value, path: String, paths: &mut BTreeSet<String>) {
        match value {
            Value::Array(items) => {
                let path = format!("{path}[]");
                for item in items {
                    walk(item, path.clone(), paths);
                }
                paths.insert(path);
            }
            Value::Object(fields) => {
                let path = format!("{path}{{}}");
                for (key, field) in fields {
                    walk(field, format!("{path}.{key}"), paths);
                }
                paths.insert(path);
            }
            _ => {
                paths.insert(path);
            }
        }
    }
    let mut paths = BTreeSet::new();
    walk(value, String::new(), &mut paths);
    paths
}

async fn ours_xml(response: reqwest::Response) -> BTreeSet<String> {
    let text = response.text().await.unwrap();
    xml_shape(&parse_xml(&text))
}

async fn ours_json(response: reqwest::Response) -> BTreeSet<String> {
    json_shape(&response.json::<Value>().await.unwrap())
}

fn example_xml(name: &str) -> BTreeSet<String> {
    xml_shape(&parse_xml(&example(name)))
}

fn example_json(name: &str) -> BTreeSet<String> {
    json_shape(&serde_json::from_str(&example(name)).unwrap())
}

/// Our shape has every path of the example's, and beyond them only `extra`.
fn same_shape(ours: &BTreeSet<String>, example: &BTreeSet<String>, extra: &[&str], what: &str) {
    let missing: Vec<&String> = example.difference(ours).collect();
    let added: Vec<&String> = ours
        .difference(example)
        .filter(|p| !extra.iter().any(|e| p.ends_with(e)))
        .collect();
    assert!(
        missing.is_empty() && added.is_empty(),
        "{what}: missing {missing:?}, added {added:?}"
    );
}

async fn reported(app: &TestApp) -> (String, String) {
    let response = app.post("requests.xml", &missed_bin()).await;
    let root = parse_xml(&response.text().await.unwrap());
    let request = root.child("request");
    (
        request.text_of("service_request_id").to_owned(),
        request.text_of("token").to_owned(),
    )
}

on_both_databases! {
    async fn discovery_services_and_definitions_have_the_examples_shape(app: TestApp) {
        for format in ["xml", "json"] {
            let cases = [
                ("discovery", format!("discovery.{format}")),
                ("services", format!("services.{format}")),
                ("service_definition", format!("services/missed-bin.{format}")),
                ("errors", format!("services/nope.{format}")),
            ];
            for (name, path) in cases {
                let file = format!("{name}.{format}");
                let response = app.get(&path).await;
                if format == "xml" {
                    same_shape(&ours_xml(response).await, &example_xml(&file), &[], &file);
                } else {
                    same_shape(&ours_json(response).await, &example_json(&file), &[], &file);
                }
            }
        }
    }

    async fn requests_tokens_and_receipts_have_the_examples_shape(app: TestApp) {
        let receipt = app.post("requests.xml", &missed_bin()).await;
        same_shape(&ours_xml(receipt).await, &example_xml("post_response.xml"), &["/token"], "post_response.xml");
        let receipt = app.post("requests.json", &missed_bin()).await;
        same_shape(&ours_json(receipt).await, &example_json("post_response.json"), &[".token"], "post_response.json");
        let (_, token) = reported(&app).await;
        let ours = ours_xml(app.get_with_key(&format!("tokens/{token}.xml"), &[]).await).await;
        same_shape(&ours, &example_xml("token.xml"), &[], "token.xml");
        let ours = ours_json(app.get_with_key(&format!("tokens/{token}.json"), &[]).await).await;
        same_shape(&ours, &example_json("token.json"), &[], "token.json");
        let ours = ours_xml(app.get_with_key("requests.xml", &[]).await).await;
        same_shape(&ours, &example_xml("requests.xml"), &[], "requests.xml");
        let ours = ours_json(app.get_with_key("requests.json", &[]).await).await;
        same_shape(&ours, &example_json("requests.json"), &[], "requests.json");
    }

    async fn updates_have_the_shape_of_mysocietys_examples(app: TestApp) {
        let (id, _) = reported(&app).await;
        let reference: Reference = id.parse().unwrap();
        let case = app.app.case(&system(), reference).await.unwrap();
        app.app.transition_case(&system(), reference, case.version, "collect", &Default::default()).await.unwrap();
        let ours = ours_xml(app.get_with_key("servicerequestupdates.xml", &[]).await).await;
        same_shape(&ours, &example_xml("updates.xml"), &[], "updates.xml");
        let update: Vec<(String, String)> = [("service_request_id", id.as_str()), ("status", "OPEN"), ("description", "Thanks")]
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let ours = ours_xml(app.post("servicerequestupdates.xml", &update).await).await;
        same_shape(&ours, &example_xml("update_response.xml"), &[], "update_response.xml");
    }
}

#[test]
fn the_shapes_tell_documents_apart() {
    assert_ne!(example_xml("services.xml"), example_xml("requests.xml"));
    assert!(
        example_xml("service_definition.xml")
            .contains("service_definition/attributes/attribute/values/value/key")
    );
    assert!(example_json("service_definition.json").contains("{}.attributes[]{}.values[]{}.key"));
    assert!(example_json("errors.json").contains("[]{}.code"));
}
