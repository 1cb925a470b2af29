use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::helpers::{TestApp, answer, error_fields, missed_bin};
use casework_web::on_both_databases;

async fn list(app: &TestApp, query: &str) -> Value {
    let (status, body) = answer(app.get(&format!("/cases?{query}")).send().await.unwrap()).await;
    assert_eq!(status, 200, "{query}: {body}");
    body
}

fn references(page: &Value) -> Vec<String> {
    page["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["reference"].as_str().unwrap().to_owned())
        .collect()
}

/// Three residents, two services, one case closed and one assigned.
async fn some_cases(app: &TestApp) -> Vec<Value> {
    let mut cases = Vec::new();
    for (name, email) in [
        ("Amira Khan", "amira@example.com"),
        ("Ben Okafor", "ben@example.com"),
        ("Chloe Davies", "chloe@example.com"),
    ] {
        let mut body = missed_bin();
        body["contact"]["name"] = json!(name);
        body["contact"]["email"] = json!(email);
        body["description"] = json!(format!("Bin missed at {name}'s house"));
        cases.push(app.create(&body).await);
    }
    let noise = json!({
        "service": "noise-complaint",
        "contact": {"name": "Dafydd Evans", "phone": "07700 900456", "preferred_channel": "sms"},
        "answers": noise_answers(app).await,
        "description": "Loud music every night"
    });
    cases.push(app.create(&noise).await);
    let closed = &cases[0];
    let response = app
        .post(
            &format!(
                "/cases/{}/transitions",
                closed["reference"].as_str().unwrap()
            ),
            &json!({"version": 1, "transition": "collect"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let assigned = &cases[1];
    let response = app
        .post(
            &format!(
                "/cases/{}/assignment",
                assigned["reference"].as_str().unwrap()
            ),
            &json!({"version": 1, "assignee": "sam@example.com"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    cases
}

/// Valid answers for the noise service, built from its definition.
async fn noise_answers(app: &TestApp) -> Value {
    let (_, definition) = answer(app.get("/services/noise-complaint").send().await.unwrap()).await;
    let mut answers = serde_json::Map::new();
    for field in definition["fields"].as_array().unwrap() {
        if field["required"] != true || field["staff_only"] == true {
            continue;
        }
        let value = match field["kind"].as_str().unwrap() {
            "single_choice" => field["choices"][0]["code"].clone(),
            "multiple_choice" => json!([field["choices"][0]["code"]]),
            "yes_no" => json!(true),
            "date" => json!("2026-11-30"),
            "number" => json!(2),
            "email" => json!("someone@example.com"),
            "phone" => json!("01632 960001"),
            "location" => json!({"lat": 52.0, "long": -1.3}),
            _ => json!("Flat 2, 10 Church Street"),
        };
        answers.insert(field["code"].as_str().unwrap().to_owned(), value);
    }
    Value::Object(answers)
}

on_both_databases! {
    async fn filters_narrow_the_list(app: TestApp) {
        let cases = some_cases(&app).await;
        let reference = |i: usize| cases[i]["reference"].as_str().unwrap().to_owned();
        let all = list(&app, "").await;
        assert_eq!(references(&all).len(), 4);
        assert_eq!(references(&list(&app, "service=noise-complaint").await), vec![reference(3)]);
        assert_eq!(references(&list(&app, "open=false").await), vec![reference(0)]);
        assert_eq!(references(&list(&app, "open=true").await).len(), 3);
        assert_eq!(references(&list(&app, "state=reported&service=missed-bin").await).len(), 2);
        assert_eq!(references(&list(&app, "assignee=sam%40example.com").await), vec![reference(1)]);
        assert_eq!(references(&list(&app, "unassigned=true&service=missed-bin").await).len(), 2);
        assert_eq!(references(&list(&app, "team=waste&open=true").await).len(), 2);
        assert_eq!(references(&list(&app, "overdue=true").await).len(), 0, "nothing is past due yet");
    }

    async fn search_finds_references_names_contacts_and_descriptions(app: TestApp) {
        let cases = some_cases(&app).await;
        let reference = |i: usize| cases[i]["reference"].as_str().unwrap().to_owned();
        assert_eq!(references(&list(&app, &format!("q={}", reference(2))).await), vec![reference(2)]);
        assert_eq!(references(&list(&app, "q=okafor").await), vec![reference(1)]);
        assert_eq!(references(&list(&app, "q=CHLOE%40example").await), vec![reference(2)]);
        assert_eq!(references(&list(&app, "q=900456").await), vec![reference(3)]);
        assert_eq!(references(&list(&app, "q=loud%20music").await), vec![reference(3)]);
        assert!(references(&list(&app, "q=zebra").await).is_empty());
    }

    async fn cursors_page_through_every_case_once(app: TestApp) {
        for _ in 0..11 {
            app.create(&missed_bin()).await;
        }
        for sort in ["due", "updated", "created", "priority"] {
            let mut seen = Vec::new();
            let mut query = format!("sort={sort}&limit=4");
            loop {
                let page = list(&app, &query).await;
                let got = references(&page);
                assert!(got.len() <= 4);
                seen.extend(got);
                match page["next_cursor"].as_str() {
                    Some(cursor) => query = format!("sort={sort}&limit=4&cursor={cursor}"),
                    None => break,
                }
            }
            assert_eq!(seen.len(), 11, "{sort}: {seen:?}");
            assert_eq!(seen.iter().collect::<BTreeSet<_>>().len(), 11, "{sort}: duplicates in {seen:?}");
        }
        let newest_first = references(&list(&app, "sort=created&limit=11").await);
        let mut sorted = newest_first.clone();
        sorted.sort_by(|a, b| b.cmp(a));
        assert_eq!(newest_first, sorted);
    }

    async fn bad_parameters_are_named(app: TestApp) {
        for (query, field, status) in [
            ("limit=0", "limit", 422),
            ("limit=500", "limit", 422),
            ("limit=ten", "limit", 400),
            ("sort=random", "sort", 400),
            ("open=maybe", "open", 400),
            ("cursor=garbage", "cursor", 422),
            ("sort=due&cursor=created.1.1", "cursor", 422),
            ("sort=priority&cursor=priority.1.1", "cursor", 422),
            ("sort=due&cursor=priority.0.1.1", "cursor", 422),
            ("assignee=a%40b.c&unassigned=true", "unassigned", 422),
            ("external_system=civica", "external_reference", 422),
        ] {
            let (got, body) = answer(app.get(&format!("/cases?{query}")).send().await.unwrap()).await;
            assert_eq!(got, status, "{query}: {body}");
            assert_eq!(error_fields(&body), vec![field.to_owned()], "{query}");
        }
        let (status, body) = answer(app.get("/cases?colour=red").send().await.unwrap()).await;
        assert_eq!(status, 400);
        assert!(body["error"]["message"].as_str().unwrap().contains("colour"));
    }
}
