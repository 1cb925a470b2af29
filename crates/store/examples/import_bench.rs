// THROWAWAY: measures import_cases at 1,000,000 cases. Deleted after measuring.
use std::time::Instant;

use casework_domain::case::{Actor, Channel, Contact, Language, Location, NewCase};
use casework_store::{CaseFilter, CaseQuery, CaseSort, Assignee};
use serde_json::json;
use time::{Duration, OffsetDateTime};

#[tokio::main]
async fn main() {
    let url = std::env::args().nth(1).unwrap();
    let total: usize = std::env::args().nth(2).map_or(1_000_000, |n| n.parse().unwrap());
    let store = casework_store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    if let Ok(drop) = std::env::var("BENCH_DROP") {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
        for stmt in drop.split(';') {
            sqlx::query(sqlx::AssertSqlSafe(stmt.to_owned())).execute(&mut c).await.unwrap();
        }
    }
    let now = OffsetDateTime::now_utc();
    let first = ["Alice", "Bob", "Carol", "Dafydd", "Eleri", "Farah", "Gwen", "Huw"];
    let last = ["Jones", "Evans", "Smith", "Patel", "Williams", "Khan", "Roberts"];
    let started = Instant::now();
    let mut stored = 0;
    while stored < total {
        let batch: Vec<NewCase> = (stored..(stored + 5_000).min(total))
            .map(|i| {
                let name = format!("{} {}", first[i % 8], last[i % 7]);
                NewCase {
                    service: ["bins", "noise", "potholes", "flytipping"][i % 4].into(),
                    state: ["new", "assigned", "in_progress"][i % 3].into(),
                    priority: "normal".into(),
                    team: ["waste", "env", "highways", "housing", "parking"][i % 5].into(),
                    contact: Contact {
                        email: Some(format!("{}.{}{i}@example.com", first[i % 8], last[i % 7]).to_lowercase()),
                        phone: Some(format!("07700 9{:05}", i % 100_000)),
                        name,
                        preferred_channel: Channel::Email,
                        language: Language::En,
                    },
                    answers: [("bin".to_owned(), json!("green")), ("count".to_owned(), json!(i % 4))].into_iter().collect(),
                    description: Some(format!("Reported problem number {i} outside number {} High Street", i % 300)),
                    location: Some(Location { lat: Some(52.0 + (i % 1000) as f64 / 10_000.0), long: Some(-1.3), address: None }),
                    external: None,
                    sla_due_at: now + Duration::hours((i % 500) as i64),
                    created_at: now - Duration::minutes((total - i) as i64),
                    closed_at: (i % 3 == 0).then_some(now),
                }
            })
            .collect();
        store.import_cases(&batch, &Actor::System).await.unwrap();
        stored += batch.len();
        if stored % 100_000 == 0 {
            eprintln!("{stored} in {:?}", started.elapsed());
        }
    }
    eprintln!("imported {total} in {:?}", started.elapsed());
    for (label, filter, sort) in [
        ("team open due", CaseFilter { team: Some("env".into()), open: Some(true), ..Default::default() }, CaseSort::Due),
        ("assignee nobody open", CaseFilter { assignee: Some(Assignee::Nobody), open: Some(true), ..Default::default() }, CaseSort::Due),
        ("overdue", CaseFilter { overdue_at: Some(now + Duration::hours(3)), ..Default::default() }, CaseSort::Due),
        ("all updated", CaseFilter::default(), CaseSort::Updated),
        ("state", CaseFilter { state: Some("assigned".into()), ..Default::default() }, CaseSort::Due),
        ("search name", CaseFilter { q: Some("dafydd".into()), ..Default::default() }, CaseSort::Due),
        ("search email", CaseFilter { q: Some("eleri.khan12345".into()), ..Default::default() }, CaseSort::Due),
        ("search short", CaseFilter { q: Some("zq".into()), ..Default::default() }, CaseSort::Due),
        ("search digits", CaseFilter { q: Some("900123".into()), ..Default::default() }, CaseSort::Due),
    ] {
        let t = Instant::now();
        let page = store.list_cases(&CaseQuery { filter: filter.clone(), sort, after: None, limit: 50 }).await.unwrap();
        let list = t.elapsed();
        let t = Instant::now();
        let count = store.count_cases(&filter).await.unwrap();
        eprintln!("{label}: page of {} in {list:?}; count {count} in {:?}", page.cases.len(), t.elapsed());
    }
}
