//! Cold starts and warm invocations of every function's release binary,
//! next to a hello-world Rust function built the same way, each under our
//! own Lambda Runtime API (pricehound_tests::lambda_runtime) with the
//! environment template.yaml gives it, against dynalite and moto.
//!
//! Cold start = from exec to the first answer reaching the Runtime API
//! (init = from exec to the first `/next`: what the function did before it
//! asked for work; the rest is the event, with its round trips to dynalite
//! or moto);
//! peak RSS = the process's VmHWM right after it; warm = later invocations
//! of the same process. Medians of `RUNS` cold starts.
//!
//!   cargo build --release --bins
//!   eval "$(scripts/services start)"
//!   cargo bench -p pricehound-tests --bench cold_start
//!
//! Results and the machine: BENCHMARKS.md ("Cold starts").

use pricehound_tests::deployment::Deployment;
use pricehound_tests::lambda_runtime::{LambdaProcess, Outcome};
use pricehound_tests::services::unique_name;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::Duration;

const RUNS: usize = 7;
const WARM: usize = 200;
const TOKEN: &str = "123456789:AAE_cold-start-bench-token-0123456789";
const SECRET: &str = "cold-start-bench-secret_0123456789";

/// A function, its release binary, and the event it gets.
struct Case {
    function: &'static str,
    binary: &'static str,
    event: Value,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn release(binary: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    let path = target.join("release").join(binary);
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --release --bins` first",
        path.display()
    );
    path
}

fn sample(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(root().join("events").join(name)).unwrap())
        .unwrap()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn percentile(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes --bench; a filter picks functions by name.
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let stack = Deployment::create(TOKEN, SECRET).await;
    let home = std::env::temp_dir().join(unique_name("cold"));
    std::fs::create_dir_all(&home).unwrap();
    let health = sample("api-health.json");
    let empty = json!({ "Records": [] });
    let cases = [
        Case {
            function: "hello-world",
            binary: "hello-lambda",
            event: health.clone(),
        },
        // Not the floor (the first row is): the same function on the
        // current-thread runtime the real ones use, for comparison.
        Case {
            function: "hello-world-current-thread",
            binary: "hello-lambda-current-thread",
            event: health.clone(),
        },
        Case {
            function: "ApiFunction",
            binary: "api",
            event: health,
        },
        Case {
            function: "IngestFunction",
            binary: "ingest",
            event: empty.clone(),
        },
        Case {
            function: "EventsFunction",
            binary: "events",
            event: empty,
        },
        // A real PriceChanged batch (the alert index is read; no alert
        // matches): an empty one would flatter it.
        Case {
            function: "NotifyFunction",
            binary: "notify",
            event: sample("notify-price-changed.json"),
        },
        Case {
            function: "ScrapeFunction",
            binary: "scrape",
            event: sample("scrape-unknown-group.json"),
        },
    ];

    println!(
        "| function | binary | init (exec to first /next) | cold start (median of {RUNS}) | × hello | peak RSS | warm p50 | warm p99 |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let mut floor = None;
    for case in cases {
        if !filter.is_empty() && !filter.iter().any(|f| case.function.contains(f.as_str())) {
            continue;
        }
        let binary = release(case.binary);
        // To see where the time goes: PRICEHOUND_COLD_START_WRAP="strace -f -tt
        // -o /tmp/trace" (or perf record ...) runs each binary under it.
        let run_binary = match std::env::var("PRICEHOUND_COLD_START_WRAP") {
            Ok(wrap) if !wrap.trim().is_empty() => {
                let script = home.join(format!("{}-wrapped", case.binary));
                std::fs::write(
                    &script,
                    format!("#!/bin/sh\nexec {wrap} {} \"$@\"\n", binary.display()),
                )
                .unwrap();
                std::fs::set_permissions(
                    &script,
                    std::os::unix::fs::PermissionsExt::from_mode(0o755),
                )
                .unwrap();
                script
            }
            _ => binary.clone(),
        };
        let env = if case.function.starts_with("hello-world") {
            stack.environment("ApiFunction", &home, &[])
        } else {
            stack.environment(case.function, &home, &[])
        };
        let (mut colds, mut inits, mut rss, mut warms) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for run in 0..RUNS {
            let mut p = LambdaProcess::start(
                case.function,
                &run_binary,
                &env,
                Duration::from_secs(30),
                256,
                home.join(format!("{}.log", case.binary)),
            )
            .await;
            let (outcome, at) = p.invoke_timed(&case.event).await;
            colds.push((at - p.spawned_at()).as_secs_f64() * 1e3);
            if let Some(ready) = p.ready_at() {
                inits.push((ready - p.spawned_at()).as_secs_f64() * 1e3);
            }
            rss.push(p.peak_rss_kib().unwrap_or_default() as f64 / 1024.0);
            let expected_error = case.function == "ScrapeFunction";
            match (&outcome, expected_error) {
                (Outcome::Response(r), false) if r["statusCode"].as_u64().unwrap_or(200) == 200 => {
                }
                (Outcome::Error(_), true) => {}
                _ => panic!(
                    "{}: unexpected answer {outcome:?}\n{}",
                    case.function,
                    p.logs()
                ),
            }
            if run == 0 {
                for _ in 0..WARM {
                    let sent = std::time::Instant::now();
                    let (_, at) = p.invoke_timed(&case.event).await;
                    warms.push((at - sent).as_secs_f64() * 1e3);
                }
            }
        }
        let cold = median(colds);
        let times = match floor {
            None => {
                floor = Some(cold);
                1.0
            }
            Some(f) => cold / f,
        };
        println!(
            "| {} | {:.1} MB | {:.2} ms | {cold:.2} ms | {times:.1} | {:.1} MB | {:.2} ms | {:.2} ms |",
            case.function,
            std::fs::metadata(&binary).unwrap().len() as f64 / 1e6,
            median(inits),
            median(rss),
            percentile(warms.clone(), 0.5),
            percentile(warms, 0.99),
        );
    }
}
