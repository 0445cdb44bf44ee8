//! A Lambda Runtime API of our own, to run a function's real binary the way
//! Lambda runs it: the process is started with `AWS_LAMBDA_RUNTIME_API`
//! pointing at a server here, asks it for the next event
//! (`GET /2018-06-01/runtime/invocation/next`), and posts the answer back
//! (`.../invocation/<id>/response` or `.../error`). One process serves many
//! invocations, so the first is a cold start and the rest are warm, as in
//! Lambda. Loopback only.
//!
//! Used by the whole-chain test (tests/tests/aws_chain.rs) on the binaries
//! `sam build` made; nothing here knows which function it runs.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, oneshot};

/// How an invocation ended, as the runtime reported it.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The handler's answer (`/response`).
    Response(Value),
    /// The handler failed (`/error`): `{errorType, errorMessage}`.
    Error(Value),
}

impl Outcome {
    /// The answer, or a panic naming the function and its error.
    pub fn response(self, function: &str) -> Value {
        match self {
            Outcome::Response(v) => v,
            Outcome::Error(e) => panic!("{function} failed: {e}"),
        }
    }
}

struct Invocation {
    id: String,
    event: Vec<u8>,
    done: Answer,
}

/// Where an invocation's outcome goes, with the moment it arrived.
type Answer = oneshot::Sender<(Outcome, Instant)>;

#[derive(Clone)]
struct Runtime {
    /// Events waiting for the process's next `/next`.
    queue: Arc<tokio::sync::Mutex<mpsc::Receiver<Invocation>>>,
    /// Invocations handed out and not yet answered, by request id.
    in_flight: Arc<Mutex<HashMap<String, Answer>>>,
    /// What the process reported from `/init/error`, if it failed to start.
    init_error: Arc<Mutex<Option<String>>>,
    /// When the process first asked for an event: its init is done.
    ready_at: Arc<Mutex<Option<Instant>>>,
    function_arn: String,
    timeout: Duration,
}

/// A function's binary running under our Runtime API.
pub struct LambdaProcess {
    name: String,
    child: Child,
    events: mpsc::Sender<Invocation>,
    runtime: Runtime,
    log: PathBuf,
    next_id: AtomicU64,
    spawned_at: Instant,
}

impl LambdaProcess {
    /// Starts `binary` with exactly `env` (plus the variables Lambda sets
    /// for every function), as the function `name` with `timeout`.
    /// Its stdout and stderr (the function's logs) go to `log`.
    pub async fn start(
        name: &str,
        binary: &Path,
        env: &[(String, String)],
        timeout: Duration,
        memory_mb: u64,
        log: PathBuf,
    ) -> LambdaProcess {
        assert!(
            binary.exists(),
            "{} is missing: build the functions first (scripts/sam-local build)",
            binary.display()
        );
        let (events, queue) = mpsc::channel(16);
        let runtime = Runtime {
            queue: Arc::new(tokio::sync::Mutex::new(queue)),
            in_flight: Arc::default(),
            init_error: Arc::default(),
            ready_at: Arc::default(),
            function_arn: format!("arn:aws:lambda:us-east-1:123456789012:function:{name}"),
            timeout,
        };
        let router = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(runtime.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await });

        let out = std::fs::File::create(&log).unwrap();
        let err = out.try_clone().unwrap();
        let mut cmd = Command::new(binary);
        // Nothing from the test's own environment: only what Lambda and the
        // template give the function.
        cmd.env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", memory_mb.to_string())
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "2026/12/04/[$LATEST]local")
            .env(
                "LAMBDA_TASK_ROOT",
                binary.parent().unwrap_or(Path::new("/")),
            )
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .kill_on_drop(true);
        let spawned_at = Instant::now();
        let child = cmd.spawn().expect("the function's binary starts");
        LambdaProcess {
            name: name.to_string(),
            child,
            events,
            runtime,
            log,
            next_id: AtomicU64::new(1),
            spawned_at,
        }
    }

    /// Hands `event` to the function and waits for its answer (at most the
    /// function's timeout). Panics, with the function's logs, when the
    /// process died or never answered.
    pub async fn invoke(&mut self, event: &Value) -> Outcome {
        self.invoke_timed(event).await.0
    }

    /// [`invoke`](Self::invoke), with the moment the answer reached the
    /// Runtime API (before any hop back to the caller).
    pub async fn invoke_timed(&mut self, event: &Value) -> (Outcome, Instant) {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        let id = format!("{}-{n:08}", self.name);
        let (done, answer) = oneshot::channel();
        self.events
            .send(Invocation {
                id,
                event: serde_json::to_vec(event).unwrap(),
                done,
            })
            .await
            .unwrap();
        let deadline = tokio::time::Instant::now() + self.runtime.timeout + Duration::from_secs(5);
        tokio::pin!(answer);
        loop {
            tokio::select! {
                outcome = &mut answer => {
                    return outcome.unwrap_or_else(|_| panic!("{}: the invocation was dropped\n{}", self.name, self.logs()));
                }
                _ = tokio::time::sleep(Duration::from_millis(100)) => {
                    if let Some(status) = self.child.try_wait().unwrap() {
                        let init = self.runtime.init_error.lock().unwrap().clone();
                        panic!("{} exited ({status}) before answering; init error: {init:?}\n{}", self.name, self.logs());
                    }
                    if tokio::time::Instant::now() > deadline {
                        panic!("{} did not answer within its timeout\n{}", self.name, self.logs());
                    }
                }
            }
        }
    }

    /// When the process was spawned (exec), for cold-start timings.
    pub fn spawned_at(&self) -> Instant {
        self.spawned_at
    }

    /// When the process first asked for an event (`/next`): from
    /// [`spawned_at`](Self::spawned_at) to this is its init.
    pub fn ready_at(&self) -> Option<Instant> {
        *self.runtime.ready_at.lock().unwrap()
    }

    /// The process's peak resident memory so far (VmHWM), in KiB.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()?)).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }

    /// What the function logged so far.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The process id (to read its peak memory, for instance).
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }
}

async fn next(State(rt): State<Runtime>) -> Response {
    if let Ok(mut ready) = rt.ready_at.lock() {
        ready.get_or_insert_with(Instant::now);
    }
    let Some(inv) = rt.queue.lock().await.recv().await else {
        return StatusCode::GONE.into_response();
    };
    rt.in_flight
        .lock()
        .unwrap()
        .insert(inv.id.clone(), inv.done);
    let deadline = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        + rt.timeout;
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: String| {
        headers.insert(name, HeaderValue::from_str(&value).unwrap());
    };
    set("lambda-runtime-aws-request-id", inv.id);
    set(
        "lambda-runtime-deadline-ms",
        deadline.as_millis().to_string(),
    );
    set(
        "lambda-runtime-invoked-function-arn",
        rt.function_arn.clone(),
    );
    set(
        "lambda-runtime-trace-id",
        "Root=1-67a0c0de-0123456789abcdef01234567;Sampled=0".into(),
    );
    (headers, inv.event).into_response()
}

fn finish(rt: &Runtime, id: &str, outcome: Outcome) -> StatusCode {
    match rt.in_flight.lock().unwrap().remove(id) {
        Some(done) => {
            let _ = done.send((outcome, Instant::now()));
            StatusCode::ACCEPTED
        }
        None => StatusCode::BAD_REQUEST,
    }
}

fn json(body: &[u8]) -> Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into()))
}

async fn response(
    State(rt): State<Runtime>,
    UrlPath(id): UrlPath<String>,
    body: Bytes,
) -> StatusCode {
    finish(&rt, &id, Outcome::Response(json(&body)))
}

async fn error(State(rt): State<Runtime>, UrlPath(id): UrlPath<String>, body: Bytes) -> StatusCode {
    finish(&rt, &id, Outcome::Error(json(&body)))
}

async fn init_error(State(rt): State<Runtime>, body: Bytes) -> StatusCode {
    *rt.init_error.lock().unwrap() = Some(String::from_utf8_lossy(&body).into());
    StatusCode::ACCEPTED
}
