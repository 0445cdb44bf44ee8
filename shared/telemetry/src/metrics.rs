//! The metrics exporters. The code counts through the `metrics` facade
//! (names in `pricehound_core::metric`); a process installs one exporter:
//! `serve` the Prometheus one ([`prometheus`], rendered on `/metrics`), each
//! Lambda the CloudWatch Embedded Metric Format one ([`emf`]), flushed to
//! stdout after each invocation ([`flush_emf`]), where CloudWatch Logs
//! turns the lines into metrics with no API call and no extra latency.

use metrics_cloudwatch_embedded::Collector;
use metrics_exporter_prometheus::PrometheusBuilder;
pub use metrics_exporter_prometheus::PrometheusHandle;
use std::sync::OnceLock;

/// The CloudWatch namespace of every metric.
pub const NAMESPACE: &str = "pricehound";

static PROMETHEUS: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
static EMF: OnceLock<Option<&'static Collector>> = OnceLock::new();

/// The Prometheus exporter, installed as the process's recorder on the
/// first call; later calls (a second `serve` in one test process) share
/// it. None if another recorder was installed first.
pub fn prometheus() -> Option<PrometheusHandle> {
    PROMETHEUS
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok().map(|()| handle)
        })
        .clone()
}

/// The EMF exporter for the Lambda function `function` (a dimension of
/// every metric), installed on the first call.
pub fn emf(function: &'static str) -> Option<&'static Collector> {
    *EMF.get_or_init(|| {
        metrics_cloudwatch_embedded::Builder::new()
            .cloudwatch_namespace(NAMESPACE)
            .with_dimension("function", function)
            .init()
            .map_err(|e| eprintln!("metrics: the EMF exporter was not installed: {e}"))
            .ok()
    })
}

/// Writes what was counted since the last flush as EMF lines on stdout.
/// Call once per invocation, after the handler.
pub fn flush_emf() {
    if let Some(Some(collector)) = EMF.get()
        && let Err(e) = collector.flush(std::io::stdout().lock())
    {
        eprintln!("metrics: EMF flush failed: {e}");
    }
}

/// Writes what was counted since the last flush as EMF lines into `out`
/// (tests).
pub fn flush_emf_to(out: &mut Vec<u8>) -> std::io::Result<()> {
    match EMF.get() {
        Some(Some(collector)) => collector.flush(out),
        _ => Ok(()),
    }
}
