//! Where the api Lambda's init goes: each step of `functions/api`'s `main`,
//! in the same order, timed the first time it runs in a fresh process (what
//! a cold start pays), median of 15 processes. The cold_start bench gives the
//! whole; this one splits it.
//!
//! ```sh
//! cargo bench -p pricehound-tests --bench api_init
//! ```

use pricehound::http::{AppState, HttpConfig, ImageProxy, router_with};
use pricehound::lambda::sdk_config;
use pricehound::settings::Settings;
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

const RUNS: usize = 15;
const CHILD: &str = "PRICEHOUND_API_INIT_CHILD";
const STEPS: [&str; 8] = [
    "tokio runtime (current thread)",
    "settings",
    "SDK config",
    "DynamoDB client and store",
    "sources (the compiled-in ones: read on first use)",
    "image proxy (its HTTPS client)",
    "router",
    "router again (the same work, warm)",
];

fn main() {
    if std::env::var_os(CHILD).is_some() {
        child();
        return;
    }
    let exe = std::env::current_exe().expect("the bench's own path");
    let mut runs: Vec<Vec<f64>> = Vec::new();
    for _ in 0..RUNS {
        let out = Command::new(&exe)
            .env(CHILD, "1")
            .env("PRICEHOUND_TABLE", "bench")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "bench")
            .env("AWS_SECRET_ACCESS_KEY", "bench")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .output()
            .expect("run the bench's child");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let line = String::from_utf8_lossy(&out.stdout);
        runs.push(
            line.split_whitespace()
                .map(|v| v.parse().expect("a duration"))
                .collect(),
        );
    }
    println!("| step of the api's init | first time, median of {RUNS} (µs) | page faults |");
    println!("|---|---|---|");
    let median = |i: usize| {
        let mut v: Vec<f64> = runs.iter().map(|r| r[i]).collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (mut total, mut total_faults) = (0.0, 0.0);
    for (i, step) in STEPS.iter().enumerate() {
        let (time, faults) = (median(2 * i), median(2 * i + 1));
        total += time;
        total_faults += faults;
        println!("| {step} | {time:.0} | {faults:.0} |");
    }
    println!("| sum of the medians | {total:.0} | {total_faults:.0} |");
}

/// Page faults so far (field 10 of /proc/self/stat): a first run of code
/// and a first write to fresh heap each cost one.
fn minor_faults() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The command name (field 2) is in parentheses and may hold spaces.
    let after = stat.rsplit(')').next().unwrap_or("");
    after
        .split_whitespace()
        .nth(7)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// One fresh process: the steps of the api's `main`, each timed once.
fn child() {
    let mut times = Vec::new();
    let mut t = Instant::now();
    let mut faults = minor_faults();
    let mut lap = |times: &mut Vec<f64>| {
        times.push(t.elapsed().as_secs_f64() * 1e6);
        let now = minor_faults();
        times.push((now - faults) as f64);
        faults = now;
        t = Instant::now();
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    lap(&mut times);
    rt.block_on(async {
        let settings = Settings::from_env().expect("settings");
        lap(&mut times);
        let config = sdk_config().await;
        lap(&mut times);
        let store = Arc::new(settings.aws.dynamo_store(&config).expect("table"));
        lap(&mut times);
        let sources = settings.shared_sources().expect("sources");
        lap(&mut times);
        let images = ImageProxy::new();
        lap(&mut times);
        let router = router_with(
            AppState {
                store,
                sources,
                telegram: None,
            },
            // As functions/api builds it: no per-client rate limit there.
            HttpConfig {
                rate_limit: None,
                images: Some(images),
                ..settings.http.clone()
            },
        );
        lap(&mut times);
        // Kept, not dropped: the Lambda never drops its Router, and dropping
        // one the first time costs about as much as building it.
        let kept = std::hint::black_box(router);
        let state = AppState {
            store: Arc::new(settings.aws.dynamo_store(&config).expect("table")),
            sources: settings.shared_sources().expect("sources"),
            telegram: None,
        };
        let http = HttpConfig {
            rate_limit: None,
            images: Some(ImageProxy::new()),
            ..settings.http.clone()
        };
        lap(&mut Vec::new());
        let again = std::hint::black_box(router_with(state, http));
        lap(&mut times);
        std::mem::forget((kept, again));
    });
    let line: Vec<String> = times.iter().map(|t| format!("{t:.1}")).collect();
    println!("{}", line.join(" "));
}
