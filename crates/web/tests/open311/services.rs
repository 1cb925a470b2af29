use casework_web::on_both_databases;

use crate::helpers::{json, xml};

on_both_databases! {
    async fn discovery_names_this_endpoint_and_its_formats(app: TestApp) {
        let (status, body) = json(app.get("discovery.json").await).await;
        assert_eq!(status, 200);
        let endpoint = &body["endpoints"][0];
        assert_eq!(endpoint["url"], "http://127.0.0.1:8080/open311/v2");
        assert_eq!(endpoint["formats"], serde_json::json!(["text/xml", "application/json"]));
        let (status, root) = xml(app.get("discovery.xml").await).await;
        assert_eq!(status, 200);
        assert_eq!(root.name, "discovery");
        let formats = root.child("endpoints").child("endpoint").child("formats");
        assert_eq!(formats.all("format").len(), 2);
    }

    async fn lists_the_services_without_a_key_in_both_formats(app: TestApp) {
        let (status, body) = json(app.get("services.json").await).await;
        assert_eq!(status, 200);
        let services = body.as_array().unwrap();
        let bins = services.iter().find(|s| s["service_code"] == "missed-bin").unwrap();
        assert_eq!(bins["service_name"], "Report a missed bin collection");
        assert_eq!(bins["metadata"], true);
        assert_eq!(bins["type"], "realtime");
        assert_eq!(bins["group"], "waste");
        let (status, root) = xml(app.get("services.xml").await).await;
        assert_eq!(status, 200);
        assert_eq!(root.name, "services");
        let codes: Vec<&str> = root.all("service").iter().map(|s| s.text_of("service_code")).collect();
        assert_eq!(codes.len(), services.len());
        assert!(codes.contains(&"housing-repair"), "{codes:?}");
    }

    async fn a_definition_asks_the_residents_questions(app: TestApp) {
        let (status, body) = json(app.get("services/missed-bin.json").await).await;
        assert_eq!(status, 200);
        assert_eq!(body["service_code"], "missed-bin");
        let attributes = body["attributes"].as_array().unwrap();
        let codes: Vec<&str> = attributes.iter().map(|a| a["code"].as_str().unwrap()).collect();
        assert!(!codes.contains(&"crew"), "staff-only fields stay private: {codes:?}");
        let bin_type = attributes.iter().find(|a| a["code"] == "bin_type").unwrap();
        assert_eq!(bin_type["datatype"], "singlevaluelist");
        assert_eq!(bin_type["required"], true);
        assert_eq!(bin_type["variable"], true);
        assert_eq!(bin_type["order"], 2);
        assert_eq!(bin_type["values"][1]["key"], "recycling");
        assert_eq!(bin_type["values"][1]["name"], "Mixed recycling (blue bin)");
        let (status, root) = xml(app.get("services/missed-bin.xml").await).await;
        assert_eq!(status, 200);
        assert_eq!(root.name, "service_definition");
        let attributes = root.child("attributes").all("attribute");
        assert_eq!(attributes.len(), codes.len());
        let date = attributes.iter().find(|a| a.text_of("code") == "collection_date").unwrap();
        assert_eq!(date.text_of("datatype"), "datetime");
        let yes_no = attributes.iter().find(|a| a.text_of("code") == "bin_out_by_7am").unwrap();
        let keys: Vec<&str> = yes_no.child("values").all("value").iter().map(|v| v.text_of("key")).collect();
        assert_eq!(keys, ["yes", "no"]);
    }
}
