//! The Lambdas' metrics: CloudWatch Embedded Metric Format lines, one
//! document per flush, in the `pricehound` namespace with the function as
//! a dimension, carrying what the code counted. (nextest runs each test in
//! its own process, so each installs its own global recorder.)

use pricehound::ingest::Ingestor;
use pricehound::queue::QueueMessage;
use pricehound::store::sqlite::SqliteStore;
use pricehound::telemetry::metrics::{emf, flush_emf_to};
use pricehound_tests::conformance::{at, obs};
use serde_json::Value;
use std::sync::Arc;

fn documents(out: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// The value of `metric` in the first document that has it.
fn value(docs: &[Value], metric: &str) -> Option<f64> {
    docs.iter().find_map(|d| d.get(metric)?.as_f64())
}

#[tokio::test]
async fn ingest_counts_reach_an_emf_document_of_the_function() {
    assert!(emf("ingest").is_some(), "the EMF recorder installs");
    let store = Arc::new(SqliteStore::in_memory().unwrap());
    let ingestor = Ingestor::new(store);
    for (i, amount) in ["10", "11", "11"].iter().enumerate() {
        let o = obs("shop:emf", "EMF", at(i as i64), amount, i as u64 + 1);
        ingestor
            .ingest(&QueueMessage::Observation(o))
            .await
            .unwrap();
    }
    let again = obs("shop:emf", "EMF", at(0), "10", 1);
    ingestor
        .ingest(&QueueMessage::Observation(again))
        .await
        .unwrap();

    let mut out = Vec::new();
    flush_emf_to(&mut out).unwrap();
    let docs = documents(&out);
    assert!(!docs.is_empty(), "one document at least");
    for d in &docs {
        let meta = &d["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(meta["Namespace"], "pricehound", "{d}");
        assert!(
            meta["Dimensions"][0]
                .as_array()
                .unwrap()
                .contains(&Value::from("function")),
            "{d}"
        );
        assert_eq!(d["function"], "ingest");
        assert!(d["_aws"]["Timestamp"].as_u64().is_some());
    }
    assert_eq!(value(&docs, "observations_stored"), Some(3.0));
    assert_eq!(value(&docs, "observations_duplicate"), Some(1.0));
    // New item, then 10 -> 11; the repeated 11 is no change.
    assert_eq!(value(&docs, "price_changes"), Some(2.0));

    // Counters start again from zero after a flush (one invocation's worth).
    let mut out = Vec::new();
    flush_emf_to(&mut out).unwrap();
    let docs = documents(&out);
    assert!(
        value(&docs, "observations_stored").unwrap_or(0.0) == 0.0,
        "{docs:?}"
    );
}
