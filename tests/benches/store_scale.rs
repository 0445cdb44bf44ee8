//! How the store's reads cost as the data grows: a fresh store filled with
//! N synthetic items (`pricehound_tests::synthetic`: realistic names,
//! brands and series over eight sources, `POINTS` observations each) and N
//! active alerts, then, with many repetitions (p50 and p99):
//!
//! - `GET /api/prices?limit=50`, the first page, through the real Router
//!   over the store with the Router's whole-answer cache off (every request
//!   reaches the store, as under the Lambda), and for SQLite also a hit of
//!   that cache (what `serve` answers a repeated first page with);
//! - `GET /api/search?q=…`: the first search of a fresh Router (it pages
//!   through every latest price and builds the in-memory index) apart, with
//!   the process's RSS before and after it, then warm searches over a list
//!   of queries; the time to page through all latest prices alone is
//!   reported too (the rest of the cold search is building the index);
//! - `GET /api/items/{id}/history` for random items;
//! - `GET /api/series/{id}/stats` (default 7-day window, which holds all
//!   the synthetic observations) for the largest series and a median one;
//! - the alert matching the notifier's planner does for a price change:
//!   `AlertStore::active_alerts_for` with the item's target, and with the
//!   item and the largest series.
//!
//! The store is filled through the store API (`Store::record`, the SQLite
//! outbox drained as `serve`'s relay does, `AlertStore::put_alert`) by
//! concurrent tasks, so the rows are exactly what the store writes; above
//! 100k SQLite items (or with `STORE_SCALE_FILL=bulk`) by a bulk writer in
//! one transaction whose rows are checked against what the store writes
//! for the same observations (`synthetic::check_bulk_sqlite`).
//! Alerts belong to N/4 users who have no user record (matching never
//! reads one). Each size runs in two fresh processes (fill, then measure),
//! so the RSS figures are the measuring process's own.
//!
//!   cargo bench -p pricehound-tests --bench store_scale                   # defaults below
//!   cargo bench -p pricehound-tests --bench store_scale -- sqlite 100k    # one backend, one size
//!   cargo bench -p pricehound-tests --bench store_scale -- dynamodb 10k   # needs dynalite:
//!   eval "$(scripts/services start)"                                       #   (PRICEHOUND_TEST_DYNAMODB_ENDPOINT)
//!
//! Arguments: `sqlite`, `dynamodb` (or `dynamo`) and sizes (`10000`,
//! `10k`, `1m`); without a backend both run, without a size each runs its
//! defaults: SQLite 10k, 100k and 1M; DynamoDB (on dynalite) 10k, plus
//! 100k when `STORE_SCALE_DYNAMO_100K=1` (dynalite writes slowly). Other
//! settings: `STORE_SCALE_POINTS` (observations per item, 3),
//! `STORE_SCALE_SECONDS` (time per measurement, 5), `STORE_SCALE_TASKS`
//! (concurrent writers while filling: 8 for SQLite, 32 for DynamoDB).
//!
//! Results and the machine: BENCHMARKS.md ("Store at scale").

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::Utc;
use http_body_util::BodyExt;
use pricehound::domain::SeriesId;
use pricehound::domain::user::AlertTarget;
use pricehound::http::{AppState, router};
use pricehound::relay::EventOutbox;
use pricehound::sources::SourcesConfig;
use pricehound::store::dynamo::DynamoStore;
use pricehound::store::sqlite::SqliteStore;
use pricehound::store::{AlertStore, LatestQuery, MAX_PAGE, Store};
use pricehound_tests::synthetic::{
    NoReadCache, QUERIES, Synthetic, bulk_sqlite, check_bulk_sqlite, mix,
};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tower::ServiceExt;

const SQLITE_SIZES: &[usize] = &[10_000, 100_000, 1_000_000];
const DYNAMO_SIZES: &[usize] = &[10_000];
const DYNAMO_OPT_IN: usize = 100_000;
/// The most repetitions of one measurement (fewer when its time is up).
const MAX_REPS: usize = 2000;
/// The fewest, whatever the time.
const MIN_REPS: usize = 50;

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum Backend {
    Sqlite,
    Dynamo,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Dynamo => "dynamodb",
        }
    }
    fn parse(s: &str) -> Option<Backend> {
        match s {
            "sqlite" => Some(Backend::Sqlite),
            "dynamodb" | "dynamo" | "dynalite" => Some(Backend::Dynamo),
            _ => None,
        }
    }
}

fn parse_size(s: &str) -> Option<usize> {
    let s = s.to_ascii_lowercase().replace('_', "");
    let (num, mult) = match s.strip_suffix('k') {
        Some(n) => (n.to_string(), 1_000),
        None => match s.strip_suffix('m') {
            Some(n) => (n.to_string(), 1_000_000),
            None => (s.clone(), 1),
        },
    };
    num.parse::<usize>()
        .ok()
        .map(|n| n * mult)
        .filter(|n| *n > 0)
}

/// p50 and p99 of one measurement, in microseconds, over `n` repetitions.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Lat {
    n: usize,
    p50_us: f64,
    p99_us: f64,
}

impl Lat {
    fn of(mut samples: Vec<Duration>) -> Lat {
        samples.sort();
        let at = |p: f64| {
            let i = ((samples.len() as f64 * p).ceil() as usize).clamp(1, samples.len()) - 1;
            samples[i].as_secs_f64() * 1e6
        };
        Lat {
            n: samples.len(),
            p50_us: at(0.50),
            p99_us: at(0.99),
        }
    }
    fn cell(&self) -> String {
        format!("{} / {}", dur(self.p50_us), dur(self.p99_us))
    }
}

fn dur(us: f64) -> String {
    if us < 1000.0 {
        format!("{us:.0} µs")
    } else if us < 10_000.0 {
        format!("{:.2} ms", us / 1000.0)
    } else if us < 1_000_000.0 {
        format!("{:.1} ms", us / 1000.0)
    } else {
        format!("{:.2} s", us / 1e6)
    }
}

fn mib(kb: u64) -> String {
    format!("{:.0} MiB", kb as f64 / 1024.0)
}

fn count(n: usize) -> String {
    match n {
        n if n >= 1_000_000 && n % 1_000_000 == 0 => format!("{}M", n / 1_000_000),
        n if n >= 1_000 && n % 1_000 == 0 => format!("{}k", n / 1_000),
        n => n.to_string(),
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Filled {
    /// "api" or "bulk".
    method: String,
    items: usize,
    observations: usize,
    alerts: usize,
    observations_s: f64,
    alerts_s: f64,
    /// The database file(s) after the filling process closed it (SQLite).
    db_bytes: Option<u64>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Measured {
    prices: Lat,
    prices_cache_hit: Option<Lat>,
    history: Lat,
    stats_big: Lat,
    big_series: String,
    big_series_items: u64,
    big_series_counted: u64,
    stats_median: Lat,
    median_series: String,
    median_series_items: u64,
    match_item: Lat,
    match_item_alerts: f64,
    match_series: Lat,
    match_series_alerts: f64,
    rss_before_search_kb: u64,
    search_cold_ms: f64,
    search_indexed: u64,
    rss_with_index_kb: u64,
    scan_ms: f64,
    search_warm: Lat,
    search_hits: f64,
    /// The query with the highest median, and that median.
    search_slowest: String,
    peak_rss_kb: u64,
}

/// A field of /proc/self/status, in kB.
fn proc_status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Runs `f(0..n)` on `tasks` concurrent tasks; logs progress.
async fn parallel<F, Fut>(what: &str, n: usize, tasks: usize, f: F)
where
    F: Fn(usize) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let step = (n / 10).max(1);
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..tasks.max(1) {
        let next = next.clone();
        let f = f.clone();
        let what = what.to_string();
        set.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break;
                }
                f(i).await;
                if (i + 1).is_multiple_of(step) {
                    let s = started.elapsed().as_secs_f64();
                    eprintln!(
                        "  {what}: {}/{n} in {s:.1} s ({:.0}/s)",
                        i + 1,
                        (i + 1) as f64 / s
                    );
                }
            }
        });
    }
    while let Some(r) = set.join_next().await {
        r.expect("a filling task panicked");
    }
}

/// Fills `store` with the catalogue: each round of observations (every
/// item's j-th) in turn, as scrapes would bring them; then the alerts.
async fn fill(
    store: Arc<dyn Store>,
    alerts: Arc<dyn AlertStore>,
    outbox: Option<Arc<dyn EventOutbox>>,
    synthetic: &Synthetic,
    tasks: usize,
) -> Filled {
    let n = synthetic.items;
    let started = Instant::now();
    for j in 0..synthetic.points {
        let (store, s) = (store.clone(), synthetic.clone());
        parallel(
            &format!("observations, round {}", j + 1),
            n,
            tasks,
            move |i| {
                let store = store.clone();
                let obs = s.observation(i, j);
                async move {
                    store.record(&obs).await.expect("record");
                }
            },
        )
        .await;
        // What `serve`'s relay does with the events the writes queued.
        if let Some(outbox) = &outbox {
            loop {
                let pending = outbox.pending_events(10_000).await.expect("outbox");
                if pending.is_empty() {
                    break;
                }
                let seqs: Vec<u64> = pending.iter().map(|p| p.seq).collect();
                outbox.mark_published(&seqs).await.expect("mark published");
            }
        }
    }
    let observations_s = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let s = synthetic.clone();
    parallel("alerts", n, tasks, move |k| {
        let alerts = alerts.clone();
        let alert = s.alert(k);
        async move {
            alerts.put_alert(&alert).await.expect("put_alert");
        }
    })
    .await;
    Filled {
        method: "api".into(),
        items: n,
        observations: n * synthetic.points,
        alerts: n,
        observations_s,
        alerts_s: started.elapsed().as_secs_f64(),
        db_bytes: None,
    }
}

/// Times `op(rep)` up to MAX_REPS times or until `budget` is spent (but at
/// least MIN_REPS times), after a few untimed warm-up calls.
async fn measure<F, Fut>(what: &str, budget: Duration, mut op: F) -> Lat
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = ()>,
{
    for rep in 0..5 {
        op(usize::MAX - rep).await;
    }
    let started = Instant::now();
    let mut samples = Vec::new();
    for rep in 0..MAX_REPS {
        let t = Instant::now();
        op(rep).await;
        samples.push(t.elapsed());
        if rep + 1 >= MIN_REPS && started.elapsed() >= budget {
            break;
        }
    }
    let lat = Lat::of(samples);
    eprintln!(
        "  {what}: p50 {} p99 {} ({} runs)",
        dur(lat.p50_us),
        dur(lat.p99_us),
        lat.n
    );
    lat
}

async fn get(app: &Router, uri: &str) -> (StatusCode, axum::body::Bytes) {
    let resp = app
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.into_body().collect().await.unwrap().to_bytes())
}

/// GET that must answer 200; the body, as JSON.
async fn get_ok(app: &Router, uri: &str) -> serde_json::Value {
    let (status, body) = get(app, uri).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{uri}: {}",
        String::from_utf8_lossy(&body)
    );
    serde_json::from_slice(&body).expect("JSON answer")
}

fn encode(q: &str) -> String {
    url::form_urlencoded::byte_serialize(q.as_bytes()).collect()
}

/// An index that spreads `rep` over `0..n`.
fn pick(rep: usize, salt: u64, n: usize) -> usize {
    (mix(rep as u64 ^ salt.rotate_left(32)) % n as u64) as usize
}

#[allow(clippy::field_reassign_with_default)]
async fn measure_store(
    backend: Backend,
    store: Arc<dyn Store>,
    alerts: Arc<dyn AlertStore>,
    synthetic: &Synthetic,
) -> Measured {
    let budget = Duration::from_secs(env_num("STORE_SCALE_SECONDS", 5));
    let n = synthetic.items;
    let state = |store: Arc<dyn Store>| AppState {
        store,
        sources: Arc::new(SourcesConfig::default_sources()).into(),
        telegram: None,
    };
    // Every request reaches the store.
    let app = router(state(Arc::new(NoReadCache(store.clone()))));
    let mut m = Measured::default();

    m.prices = measure("prices, first page", budget, |_| {
        let app = app.clone();
        async move {
            let v = get_ok(&app, "/api/prices?limit=50").await;
            assert_eq!(v["prices"].as_array().map(Vec::len), Some(50.min(n)));
        }
    })
    .await;
    if backend == Backend::Sqlite && store.data_version().is_some() {
        let cached = router(state(store.clone()));
        m.prices_cache_hit = Some(
            measure("prices, first page, cache hit", budget, |_| {
                let app = cached.clone();
                async move {
                    let (s, _) = get(&app, "/api/prices?limit=50").await;
                    assert_eq!(s, StatusCode::OK);
                }
            })
            .await,
        );
    }

    m.history = measure("item history", budget, |rep| {
        let app = app.clone();
        let id = synthetic.item(pick(rep, 1, n)).id;
        async move {
            let v = get_ok(&app, &format!("/api/items/{id}/history")).await;
            assert_eq!(
                v["observations"].as_array().map(Vec::len),
                Some(synthetic.points)
            );
        }
    })
    .await;

    let mut series = store.list_series().await.expect("list_series");
    series.sort_by(|a, b| b.items.cmp(&a.items).then(a.series.cmp(&b.series)));
    let big = series[0].clone();
    let median = series[series.len() / 2].clone();
    eprintln!(
        "  {} series; largest {} ({} items), median {} ({} items)",
        series.len(),
        big.series,
        big.items,
        median.series,
        median.items
    );
    (m.big_series, m.big_series_items) = (big.series.to_string(), big.items);
    (m.median_series, m.median_series_items) = (median.series.to_string(), median.items);
    let counted = Arc::new(AtomicUsize::new(0));
    m.stats_big = measure(&format!("stats of {}", big.series), budget, |_| {
        let (app, counted) = (app.clone(), counted.clone());
        let uri = format!("/api/series/{}/stats", big.series);
        async move {
            let v = get_ok(&app, &uri).await;
            counted.store(
                v["stats"]["count"].as_u64().unwrap_or(0) as usize,
                Ordering::Relaxed,
            );
        }
    })
    .await;
    m.big_series_counted = counted.load(Ordering::Relaxed) as u64;
    m.stats_median = measure(&format!("stats of {}", median.series), budget, |_| {
        let app = app.clone();
        let uri = format!("/api/series/{}/stats", median.series);
        async move {
            let v = get_ok(&app, &uri).await;
            assert!(v["stats"]["count"].as_u64().unwrap_or(0) > 0, "{v}");
        }
    })
    .await;

    // Alert matching: what the planner asks for one price change.
    let matched = Arc::new(AtomicUsize::new(0));
    let matched_reps = Arc::new(AtomicUsize::new(0));
    m.match_item = measure("alerts for an item", budget, |rep| {
        let (alerts, matched, reps) = (alerts.clone(), matched.clone(), matched_reps.clone());
        let target = AlertTarget::Item(synthetic.item(pick(rep, 2, n)).id);
        async move {
            let found = alerts.active_alerts_for(&[target]).await.expect("alerts");
            matched.fetch_add(found.len(), Ordering::Relaxed);
            reps.fetch_add(1, Ordering::Relaxed);
        }
    })
    .await;
    m.match_item_alerts =
        matched.swap(0, Ordering::Relaxed) as f64 / matched_reps.swap(0, Ordering::Relaxed) as f64;
    // Items of the largest series, found by their index.
    let big_id: SeriesId = big.series.clone();
    let in_big: Vec<usize> = (0..n)
        .map(|r| pick(r, 3, n))
        .filter(|i| synthetic.item(*i).series.as_ref() == Some(&big_id))
        .take(500)
        .collect();
    m.match_series = measure(
        &format!("alerts for an item of {} and the series", big.series),
        budget,
        |rep| {
            let (alerts, matched, reps) = (alerts.clone(), matched.clone(), matched_reps.clone());
            let targets = vec![
                AlertTarget::Item(synthetic.item(in_big[rep % in_big.len()]).id),
                AlertTarget::Series(big_id.clone()),
            ];
            async move {
                let found = alerts.active_alerts_for(&targets).await.expect("alerts");
                matched.fetch_add(found.len(), Ordering::Relaxed);
                reps.fetch_add(1, Ordering::Relaxed);
            }
        },
    )
    .await;
    m.match_series_alerts =
        matched.load(Ordering::Relaxed) as f64 / matched_reps.load(Ordering::Relaxed) as f64;

    // Search: the first one builds the index from every latest price.
    m.rss_before_search_kb = proc_status_kb("VmRSS:");
    let t = Instant::now();
    let v = get_ok(&app, &format!("/api/search?q={}", encode(QUERIES[0]))).await;
    m.search_cold_ms = t.elapsed().as_secs_f64() * 1e3;
    m.search_indexed = v["indexed"].as_u64().unwrap_or(0);
    assert_eq!(m.search_indexed as usize, n, "every item indexed");
    m.rss_with_index_kb = proc_status_kb("VmRSS:");
    eprintln!(
        "  cold search: {:.0} ms, RSS {} -> {}",
        m.search_cold_ms,
        mib(m.rss_before_search_kb),
        mib(m.rss_with_index_kb)
    );
    // Paging through every latest price alone (what the cold search did
    // before it built the index).
    let t = Instant::now();
    let mut query = LatestQuery {
        source: None,
        limit: MAX_PAGE,
        cursor: None,
        hide_user_pages: true,
    };
    let mut seen = 0;
    loop {
        let page = store.latest_prices(&query).await.expect("latest_prices");
        seen += page.items.len();
        match page.next_cursor {
            Some(c) => query.cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen, n);
    m.scan_ms = t.elapsed().as_secs_f64() * 1e3;
    eprintln!("  scan of all latest prices: {:.0} ms", m.scan_ms);
    let hits = Arc::new(AtomicUsize::new(0));
    let hit_reps = Arc::new(AtomicUsize::new(0));
    let per_query = Arc::new(std::sync::Mutex::new(vec![Vec::new(); QUERIES.len()]));
    m.search_warm = measure("search, warm", budget, |rep| {
        let (app, hits, reps) = (app.clone(), hits.clone(), hit_reps.clone());
        let per_query = per_query.clone();
        let q = QUERIES[rep % QUERIES.len()];
        async move {
            let t = Instant::now();
            let v = get_ok(&app, &format!("/api/search?q={}", encode(q))).await;
            per_query.lock().unwrap()[rep % QUERIES.len()].push(t.elapsed());
            hits.fetch_add(
                v["results"].as_array().map_or(0, Vec::len),
                Ordering::Relaxed,
            );
            reps.fetch_add(1, Ordering::Relaxed);
        }
    })
    .await;
    m.search_hits = hits.load(Ordering::Relaxed) as f64 / hit_reps.load(Ordering::Relaxed) as f64;
    // The slowest query, by its median.
    let per_query = per_query.lock().unwrap().clone();
    let (slowest, lat) = per_query
        .into_iter()
        .enumerate()
        .filter(|(_, v)| !v.is_empty())
        .map(|(i, v)| (QUERIES[i], Lat::of(v)))
        .inspect(|(q, l)| eprintln!("    {q:?}: p50 {} p99 {}", dur(l.p50_us), dur(l.p99_us)))
        .max_by(|a, b| a.1.p50_us.total_cmp(&b.1.p50_us))
        .expect("searches ran");
    m.search_slowest = format!("{slowest:?} {}", dur(lat.p50_us));
    m.peak_rss_kb = proc_status_kb("VmHWM:");
    m
}

/// Whether SQLite is filled by the bulk writer rather than the store API:
/// `STORE_SCALE_FILL=api` or `bulk`, else bulk above 100k items (a
/// transaction per observation writes about 2,000 a second here).
fn bulk(n: usize) -> bool {
    match std::env::var("STORE_SCALE_FILL").as_deref() {
        Ok("api") => false,
        Ok("bulk") => true,
        _ => n > 100_000,
    }
}

/// Where a case's data lives: a SQLite file or a DynamoDB table.
fn sqlite_path(location: &str) -> PathBuf {
    PathBuf::from(location).join("store.db")
}

/// The store as each use needs it, and how many tasks fill it.
type Opened = (
    Arc<dyn Store>,
    Arc<dyn AlertStore>,
    Option<Arc<dyn EventOutbox>>,
    u64,
);

async fn child(args: &[String]) {
    let [step, backend, n, location, out] = args else {
        panic!("--child <fill|measure> <backend> <items> <location> <result file>");
    };
    let backend = Backend::parse(backend).expect("backend");
    let n: usize = n.parse().expect("items");
    let points = env_num("STORE_SCALE_POINTS", 3) as usize;
    // The catalogue's clock: fixed by the parent for both steps.
    let now = std::env::var("STORE_SCALE_NOW")
        .ok()
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(&s).ok())
        .map(|d| d.with_timezone(&Utc))
        .expect("STORE_SCALE_NOW");
    let synthetic = Synthetic::new(n, points, now);
    let (store, alerts, outbox, tasks): Opened = match backend {
        Backend::Sqlite => {
            let s = Arc::new(SqliteStore::open(&sqlite_path(location)).expect("open SQLite"));
            (
                s.clone(),
                s.clone(),
                Some(s),
                env_num("STORE_SCALE_TASKS", 8),
            )
        }
        Backend::Dynamo => {
            let client = pricehound_tests::services::dynamodb_client().await;
            if step == "fill" {
                DynamoStore::create_table(&client, location)
                    .await
                    .expect("create table");
            }
            let s = Arc::new(DynamoStore::new(client, location.clone()));
            (s.clone(), s, None, env_num("STORE_SCALE_TASKS", 32))
        }
    };
    let json = match step.as_str() {
        "fill" if backend == Backend::Sqlite && bulk(n) => {
            drop((store, alerts, outbox));
            let dir = Path::new(location);
            let t = Instant::now();
            check_bulk_sqlite(dir, &synthetic, 2000)
                .await
                .expect("the bulk writer writes what SqliteStore writes");
            eprintln!(
                "  bulk writer checked against the store API (2000 items): same rows, {:.1} s",
                t.elapsed().as_secs_f64()
            );
            let (observations_s, alerts_s) =
                bulk_sqlite(&sqlite_path(location), &synthetic).expect("bulk fill");
            serde_json::to_string(&Filled {
                method: "bulk".into(),
                items: n,
                observations: n * points,
                alerts: n,
                observations_s,
                alerts_s,
                db_bytes: None,
            })
        }
        "fill" => {
            let f = fill(store, alerts, outbox, &synthetic, tasks as usize).await;
            serde_json::to_string(&f)
        }
        "measure" => {
            serde_json::to_string(&measure_store(backend, store, alerts, &synthetic).await)
        }
        other => panic!("unknown step {other}"),
    }
    .unwrap();
    std::fs::write(out, json).expect("write the result");
}

fn run_child<T: for<'de> Deserialize<'de>>(
    step: &str,
    backend: Backend,
    n: usize,
    location: &str,
    now: &str,
    scratch: &Path,
) -> (T, f64) {
    let out = scratch.join(format!("{step}-{}-{n}.json", backend.name()));
    let started = Instant::now();
    let status = Command::new(std::env::current_exe().unwrap())
        .args(["--child", step, backend.name(), &n.to_string(), location])
        .arg(&out)
        .env("STORE_SCALE_NOW", now)
        .status()
        .expect("run the benchmark's child process");
    assert!(
        status.success(),
        "{step} {} {n} failed: {status}",
        backend.name()
    );
    let result = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    (result, started.elapsed().as_secs_f64())
}

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok()?.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

fn print_tables(backend: Backend, rows: &[(Filled, Measured)]) {
    if rows.is_empty() {
        return;
    }
    let points = env_num("STORE_SCALE_POINTS", 3);
    println!(
        "\n### {} ({} observations per item, as many alerts as items)\n",
        match backend {
            Backend::Sqlite => "SQLite",
            Backend::Dynamo => "DynamoDB on dynalite",
        },
        points
    );
    println!(
        "| items | fill: observations | fill: alerts | {}RSS before search | cold search (of which paging all latest prices) | RSS with index | peak RSS |",
        if backend == Backend::Sqlite {
            "database | "
        } else {
            ""
        }
    );
    println!(
        "|---|---|---|{}---|---|---|---|",
        if backend == Backend::Sqlite {
            "---|"
        } else {
            ""
        }
    );
    for (f, m) in rows {
        let db = match f.db_bytes {
            Some(b) if backend == Backend::Sqlite => {
                format!("{:.0} MiB | ", b as f64 / (1024.0 * 1024.0))
            }
            _ => String::new(),
        };
        println!(
            "| {} | {}{:.1} s ({:.0}/s) | {:.1} s ({:.0}/s) | {db}{} | {} ({}) | {} | {} |",
            count(f.items),
            if f.method == "bulk" { "bulk: " } else { "" },
            f.observations_s,
            f.observations as f64 / f.observations_s,
            f.alerts_s,
            f.alerts as f64 / f.alerts_s,
            mib(m.rss_before_search_kb),
            dur(m.search_cold_ms * 1e3),
            dur(m.scan_ms * 1e3),
            mib(m.rss_with_index_kb),
            mib(m.peak_rss_kb),
        );
    }
    println!("\np50 / p99 of each read:\n");
    println!(
        "| items | `/api/prices?limit=50` | {}search (warm) | item history | stats, largest series | stats, median series | alerts for an item | alerts for an item + largest series |",
        if backend == Backend::Sqlite {
            "`/api/prices`, cache hit | "
        } else {
            ""
        }
    );
    println!(
        "|---|---|{}---|---|---|---|---|---|",
        if backend == Backend::Sqlite {
            "---|"
        } else {
            ""
        }
    );
    for (f, m) in rows {
        let hit = match (&m.prices_cache_hit, backend) {
            (Some(l), Backend::Sqlite) => format!("{} | ", l.cell()),
            (None, Backend::Sqlite) => "- | ".to_string(),
            _ => String::new(),
        };
        println!(
            "| {} | {} | {hit}{} (slowest: {}) | {} | {} ({}: {} items, {} counted) | {} ({}: {} items) | {} ({:.2} found) | {} ({:.0} found) |",
            count(f.items),
            m.prices.cell(),
            m.search_warm.cell(),
            m.search_slowest,
            m.history.cell(),
            m.stats_big.cell(),
            m.big_series,
            m.big_series_items,
            m.big_series_counted,
            m.stats_median.cell(),
            m.median_series,
            m.median_series_items,
            m.match_item.cell(),
            m.match_item_alerts,
            m.match_series.cell(),
            m.match_series_alerts,
        );
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--child") {
        child(&args[1..]).await;
        return;
    }
    // `cargo bench` passes --bench; the rest are filters.
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let mut backends: Vec<Backend> = Vec::new();
    let mut sizes: Vec<usize> = Vec::new();
    for f in &filters {
        if let Some(b) = Backend::parse(f) {
            backends.push(b);
        } else if let Some(n) = parse_size(f) {
            sizes.push(n);
        } else {
            panic!("unknown argument {f:?}: sqlite, dynamodb, or a size like 10k");
        }
    }
    if backends.is_empty() {
        backends = vec![Backend::Sqlite, Backend::Dynamo];
    }
    let scratch = std::env::temp_dir().join(pricehound_tests::services::unique_name("scale"));
    std::fs::create_dir_all(&scratch).unwrap();
    let now = Utc::now().to_rfc3339();
    for backend in backends {
        let sizes: Vec<usize> = if !sizes.is_empty() {
            sizes.clone()
        } else if backend == Backend::Sqlite {
            SQLITE_SIZES.to_vec()
        } else {
            let mut s = DYNAMO_SIZES.to_vec();
            if env_num("STORE_SCALE_DYNAMO_100K", 0) == 1 {
                s.push(DYNAMO_OPT_IN);
            }
            s
        };
        let mut rows = Vec::new();
        for n in sizes {
            eprintln!("{} with {n} items:", backend.name());
            let (location, dir) = match backend {
                Backend::Sqlite => {
                    let dir = scratch.join(format!("sqlite-{n}"));
                    std::fs::create_dir_all(&dir).unwrap();
                    (dir.to_string_lossy().into_owned(), Some(dir))
                }
                Backend::Dynamo => (pricehound_tests::services::unique_name("scale"), None),
            };
            let (mut filled, took): (Filled, f64) =
                run_child("fill", backend, n, &location, &now, &scratch);
            eprintln!("  filled in {took:.1} s");
            if let Some(dir) = &dir {
                filled.db_bytes = Some(dir_bytes(dir));
            }
            let (measured, took): (Measured, f64) =
                run_child("measure", backend, n, &location, &now, &scratch);
            eprintln!("  measured in {took:.1} s");
            match &dir {
                Some(dir) => std::fs::remove_dir_all(dir).unwrap(),
                None => {
                    let client = pricehound_tests::services::dynamodb_client().await;
                    if let Err(e) = client.delete_table().table_name(&location).send().await {
                        eprintln!("  (table {location} not deleted: {e})");
                    }
                }
            }
            rows.push((filled, measured));
        }
        print_tables(backend, &rows);
    }
    let _ = std::fs::remove_dir_all(&scratch);
}
