//! template.yaml agrees with sources.toml and keeps the guarantees the code
//! relies on (redrive, visibility timeout, batch item failures).

use pricehound::sources::SourcesConfig;
use serde_norway::Value;
use std::collections::BTreeMap;
use std::path::Path;

fn template() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml");
    serde_norway::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn resources(t: &Value) -> &serde_norway::Mapping {
    t["Resources"].as_mapping().unwrap()
}

#[test]
fn one_schedule_per_source_group_with_the_same_expression() {
    let t = template();
    let scrape = &resources(&t)["ScrapeFunction"]["Properties"]["Events"];
    let mut in_template = BTreeMap::new();
    for (_, ev) in scrape.as_mapping().unwrap() {
        if ev["Type"] != "ScheduleV2" {
            continue;
        }
        let input: serde_json::Value =
            serde_json::from_str(ev["Properties"]["Input"].as_str().unwrap()).unwrap();
        let group = input["group"].as_str().unwrap().to_string();
        let expr = ev["Properties"]["ScheduleExpression"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            in_template.insert(group.clone(), expr).is_none(),
            "group {group} scheduled twice"
        );
    }
    let sources =
        SourcesConfig::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../sources.toml"))
            .unwrap();
    let in_sources: BTreeMap<String, String> = sources
        .groups
        .iter()
        .map(|(name, g)| (name.clone(), g.schedule.expression().to_string()))
        .collect();
    assert_eq!(
        in_template, in_sources,
        "template.yaml ScheduleV2 events must match [groups] in sources.toml"
    );
}

#[test]
fn queue_redrives_to_a_dlq_and_outlasts_the_ingest_timeout() {
    let t = template();
    let r = resources(&t);
    let q = &r["ObservationsQueue"]["Properties"];
    assert_eq!(q["RedrivePolicy"]["maxReceiveCount"].as_u64(), Some(5));
    let ingest_timeout = r["IngestFunction"]["Properties"]["Timeout"]
        .as_u64()
        .unwrap();
    let visibility = q["VisibilityTimeout"].as_u64().unwrap();
    assert!(
        visibility >= 6 * ingest_timeout,
        "{visibility} < 6 x {ingest_timeout}"
    );
    let sqs = &r["IngestFunction"]["Properties"]["Events"]["Observations"]["Properties"];
    assert_eq!(sqs["FunctionResponseTypes"][0], "ReportBatchItemFailures");
    assert!(sqs["BatchSize"].as_u64().unwrap() <= 10);
}

#[test]
fn functions_are_arm64_al2023_cargo_lambda_builds() {
    let t = template();
    let globals = &t["Globals"]["Function"];
    assert_eq!(globals["Runtime"], "provided.al2023");
    assert_eq!(globals["Architectures"][0], "arm64");
    for name in ["ScrapeFunction", "IngestFunction", "ApiFunction"] {
        let f = &resources(&t)[name];
        assert_eq!(f["Metadata"]["BuildMethod"], "rust-cargolambda", "{name}");
        let bin = f["Metadata"]["Binary"].as_str().unwrap();
        assert!(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(format!("../functions/{bin}/src/main.rs"))
                .exists(),
            "{name} builds binary {bin}, which must be functions/{bin}"
        );
    }
    let url = &resources(&t)["ApiFunction"]["Properties"]["FunctionUrlConfig"];
    assert_eq!(url["AuthType"], "NONE");
    let table = &resources(&t)["Table"]["Properties"];
    assert_eq!(table["BillingMode"], "PAY_PER_REQUEST");
    assert_eq!(
        table["TimeToLiveSpecification"]["AttributeName"],
        "expires_at"
    );
    assert_eq!(
        table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
        true
    );
}
