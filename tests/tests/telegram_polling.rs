//! `pricehound serve`'s bot by long polling, in process against the Bot API
//! stand-in: command menus at start, answers to pushed updates, offsets
//! confirmed, getUpdates failures survived, a prompt shutdown even with a
//! poll (or any Bot API call) hanging, and no polling while a webhook is set.

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::response::Response;
use pricehound::local::{ServeOptions, TelegramOptions, serve};
use pricehound::sources::SourcesConfig;
use pricehound::telegram::api::{BotApi, BotToken};
use pricehound::telegram::bot::BotConfig;
use pricehound::telegram::polling::ALLOWED_UPDATES;
use pricehound_tests::bot::{TOKEN, message};
use pricehound_tests::telegram_standin::{Failure, RecordedCall, TelegramStandin};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How long any condition below may take to come true.
const DEADLINE: Duration = Duration::from_secs(10);

/// A `serve` running in this process with the bot pointed at `api_base`.
struct Running {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Running {
    async fn start(api_base: String) -> Running {
        let (ready_tx, ready_rx) = oneshot::channel();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let opts = ServeOptions {
            sources: SourcesConfig::default_sources(),
            db: None,
            listen: "127.0.0.1:0".parse().unwrap(),
            run_at_start: false,
            http: Default::default(),
            retention: Default::default(),
            telegram: Some(TelegramOptions {
                token: BotToken::new(TOKEN).unwrap(),
                api_base,
                webhook_secret: None,
                config: BotConfig {
                    burst: 1000,
                    ..Default::default()
                },
                alerts: Default::default(),
            }),
        };
        let task = tokio::spawn(serve(
            opts,
            async move {
                let _ = stop_rx.await;
            },
            move |stack| {
                let _ = ready_tx.send(stack.addr);
            },
        ));
        let addr = tokio::time::timeout(DEADLINE, ready_rx)
            .await
            .expect("serve is ready within the deadline")
            .expect("serve called on_ready");
        Running {
            addr,
            stop: Some(stop_tx),
            task,
        }
    }

    /// Resolves the shutdown future; returns how long `serve` took to return.
    async fn shutdown(mut self) -> Duration {
        let started = Instant::now();
        let _ = self.stop.take().unwrap().send(());
        tokio::time::timeout(DEADLINE, &mut self.task)
            .await
            .expect("serve returns within 10 s of the shutdown")
            .expect("serve did not panic")
            .expect("serve ends without an error");
        started.elapsed()
    }
}

/// Waits (bounded) until `check` holds; panics with `what` otherwise.
async fn wait_until(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn sends_to(standin: &TelegramStandin, chat: i64) -> Vec<RecordedCall> {
    standin
        .calls_to("sendMessage")
        .into_iter()
        .filter(|c| c.params["chat_id"] == chat && !c.failed)
        .collect()
}

/// The `getUpdates` calls that were answered (not failed by a script).
fn good_polls(standin: &TelegramStandin) -> Vec<RecordedCall> {
    standin
        .calls_to("getUpdates")
        .into_iter()
        .filter(|c| !c.failed)
        .collect()
}

async fn health(addr: SocketAddr) -> Value {
    reqwest::get(format!("http://{addr}/api/health"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_sets_menus_answers_commands_and_confirms_offsets() {
    let standin = TelegramStandin::start(TOKEN).await;
    let running = Running::start(standin.base_url()).await;

    // The command menus: the default list, then one per language.
    wait_until("the first getUpdates", || {
        !standin.calls_to("getUpdates").is_empty()
    })
    .await;
    let menus = standin.calls_to("setMyCommands");
    let langs: Vec<Value> = menus
        .iter()
        .map(|c| {
            c.params
                .get("language_code")
                .cloned()
                .unwrap_or(Value::Null)
        })
        .collect();
    assert_eq!(
        langs,
        vec![
            Value::Null,
            json!("en"),
            json!("ru"),
            json!("fr"),
            json!("ar")
        ],
        "one default menu and one per language"
    );
    for menu in &menus {
        assert!(!menu.failed);
        let commands = menu.params["commands"].as_array().unwrap();
        assert!(
            commands.iter().any(|c| c["command"] == "start")
                && commands.iter().any(|c| c["command"] == "help"),
            "{commands:?}"
        );
    }
    // The default list is the English one.
    assert_eq!(menus[0].params["commands"], menus[1].params["commands"]);
    assert_ne!(menus[1].params["commands"], menus[2].params["commands"]);
    // Menus are set before the first poll, which asks only for the kinds the bot reads.
    let first_poll = &standin.calls_to("getUpdates")[0];
    assert!(menus.iter().all(|m| m.at <= first_poll.at));
    assert_eq!(first_poll.params["allowed_updates"], json!(ALLOWED_UPDATES));
    assert!(
        first_poll.params["timeout"].as_u64().unwrap() > 0,
        "a long poll"
    );
    assert!(first_poll.params.get("offset").is_none());

    // /start, then /help, each answered in that chat.
    let user = 4242;
    let start_id = standin.push_update(message(user, "en", "/start"));
    wait_until("the answer to /start", || {
        !sends_to(&standin, user).is_empty()
    })
    .await;
    let after_start = sends_to(&standin, user).len();
    let help_id = standin.push_update(message(user, "en", "/help"));
    wait_until("the answer to /help", || {
        sends_to(&standin, user).len() > after_start
    })
    .await;
    assert!(help_id > start_id);

    // Both confirmed: the next poll carries the offset after /help, and the
    // stand-in has nothing left queued.
    wait_until("the offset confirming /help", || {
        good_polls(&standin)
            .iter()
            .any(|c| c.params["offset"] == help_id + 1)
    })
    .await;
    assert_eq!(standin.pending_updates(), 0);
    let offsets: Vec<i64> = good_polls(&standin)
        .iter()
        .filter_map(|c| c.params["offset"].as_i64())
        .collect();
    assert!(
        offsets.windows(2).all(|w| w[0] <= w[1]),
        "offsets never go back: {offsets:?}"
    );
    assert!(offsets.contains(&(start_id + 1)) || offsets.contains(&(help_id + 1)));

    // Nothing is answered twice: two more poll cycles, no new message.
    let answered = sends_to(&standin, user).len();
    let polls = good_polls(&standin).len();
    wait_until("two more polls", || good_polls(&standin).len() >= polls + 2).await;
    assert_eq!(sends_to(&standin, user).len(), answered);
    for c in sends_to(&standin, user) {
        assert!(!c.params["text"].as_str().unwrap().is_empty());
    }
    // The HTTP API runs alongside.
    assert_eq!(health(running.addr).await["status"], "ok");

    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_updates_failures_are_survived_with_backoff() {
    let standin = TelegramStandin::start(TOKEN).await;
    standin.fail_next("getUpdates", Failure::ServerError, 2);
    standin.fail_next("getUpdates", Failure::TooManyRequests { retry_after: 1 }, 1);
    standin.fail_next("getUpdates", Failure::TooManyRequests { retry_after: 0 }, 1);
    let running = Running::start(standin.base_url()).await;

    wait_until("a getUpdates after the failures", || {
        !good_polls(&standin).is_empty()
    })
    .await;
    let polls = standin.calls_to("getUpdates");
    assert!(
        polls[..4].iter().all(|p| p.failed) && !polls[4].failed,
        "{polls:?}"
    );
    let gap = |i: usize| polls[i + 1].at - polls[i].at;
    // 500 → a backoff (500 ms, then doubling); 429 → its retry_after.
    assert!(gap(0) >= Duration::from_millis(450), "{:?}", gap(0));
    assert!(gap(1) >= Duration::from_millis(900), "{:?}", gap(1));
    assert!(gap(1) > gap(0), "the backoff grows");
    assert!(
        gap(2) >= Duration::from_millis(950),
        "retry_after: {:?}",
        gap(2)
    );
    // Upper bounds say "not stuck", with room for a loaded 2-core machine.
    assert!(gap(2) < Duration::from_secs(15), "{:?}", gap(2));
    // A retry_after of 0 still waits (no hammering the API in a loop).
    assert!(
        gap(3) >= Duration::from_millis(950),
        "retry_after 0: {:?}",
        gap(3)
    );

    // Polling resumed: an update is answered.
    let user = 777;
    standin.push_update(message(user, "ru", "/help"));
    wait_until("the answer after recovery", || {
        !sends_to(&standin, user).is_empty()
    })
    .await;
    wait_until("the queue to empty", || standin.pending_updates() == 0).await;

    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_is_prompt_while_a_long_poll_is_open() {
    // Every call goes through to the stand-in, but getUpdates is held open
    // forever, as a quiet Telegram holds it for the poll's timeout.
    let standin = TelegramStandin::start(TOKEN).await;
    let proxy = HoldingProxy::start(standin.base_url(), "getUpdates", None).await;
    let running = Running::start(proxy.base_url()).await;

    wait_until("a getUpdates to be held open", || proxy.held() > 0).await;
    assert_eq!(standin.calls_to("setMyCommands").len(), 5);
    // Give the poll a moment to be really waiting, then stop.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let took = running.shutdown().await;
    // Far below the 25 s long poll it must not wait out, and far above what
    // a loaded 2-core CI machine needs: a bound on behaviour, not on speed.
    assert!(took < Duration::from_secs(15), "shutdown took {took:?}");
    // Only one poll was ever open; none after the shutdown.
    assert_eq!(proxy.held(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_is_prompt_when_the_bot_api_never_answers() {
    // A Bot API server that accepts connections and never answers: the
    // startup calls (getWebhookInfo, setMyCommands) hang.
    let standin = TelegramStandin::start(TOKEN).await;
    let proxy = HoldingProxy::start(standin.base_url(), "", None).await;
    let running = Running::start(proxy.base_url()).await;

    wait_until("the first Bot API call to hang", || proxy.held() > 0).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(health(running.addr).await["status"], "ok");
    let took = running.shutdown().await;
    // Far below the 25 s long poll it must not wait out, and far above what
    // a loaded 2-core CI machine needs: a bound on behaviour, not on speed.
    assert!(took < Duration::from_secs(15), "shutdown took {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_the_update_in_hand_and_confirms_it() {
    // Answers take 800 ms: shutdown begins while /start is being answered.
    let standin = TelegramStandin::start(TOKEN).await;
    let proxy = HoldingProxy::start(
        standin.base_url(),
        "sendMessage",
        Some(Duration::from_millis(800)),
    )
    .await;
    let running = Running::start(proxy.base_url()).await;
    wait_until("the first getUpdates", || {
        !standin.calls_to("getUpdates").is_empty()
    })
    .await;
    let user = 31337;
    standin.push_update(message(user, "fr", "/start"));
    wait_until("the answer to be on its way", || proxy.held() > 0).await;

    let took = running.shutdown().await;
    assert!(took < Duration::from_secs(15), "shutdown took {took:?}");
    assert!(
        !sends_to(&standin, user).is_empty(),
        "the answer was finished"
    );
    assert_eq!(
        standin.pending_updates(),
        0,
        "the handled update was confirmed before exiting, so a restart does not answer it again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_gives_up_on_an_answer_that_never_completes() {
    let standin = TelegramStandin::start(TOKEN).await;
    let proxy = HoldingProxy::start(standin.base_url(), "sendMessage", None).await;
    let running = Running::start(proxy.base_url()).await;
    wait_until("the first getUpdates", || {
        !standin.calls_to("getUpdates").is_empty()
    })
    .await;
    let user = 31338;
    standin.push_update(message(user, "en", "/help"));
    wait_until("the answer to hang", || proxy.held() > 0).await;

    // Bounded by the grace period (5 s), not by the hung call (which never
    // ends); the margin is for a loaded machine.
    let took = running.shutdown().await;
    assert!(took < Duration::from_secs(15), "shutdown took {took:?}");
    assert!(
        took >= Duration::from_secs(4),
        "a grace period first: {took:?}"
    );
    assert_eq!(
        standin.pending_updates(),
        1,
        "an update given up on is not confirmed: Telegram sends it again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_set_means_no_polling() {
    let standin = TelegramStandin::start(TOKEN).await;
    let api = BotApi::new(
        reqwest::Client::new(),
        &standin.base_url(),
        BotToken::new(TOKEN).unwrap(),
    );
    api.set_webhook(
        "https://abc.lambda-url.eu-west-1.on.aws/telegram/webhook",
        "some-secret",
        ALLOWED_UPDATES,
        false,
    )
    .await
    .unwrap();
    standin.clear();
    standin.push_update(message(5, "en", "/start"));

    let running = Running::start(standin.base_url()).await;
    wait_until("the webhook check", || {
        !standin.calls_to("getWebhookInfo").is_empty()
    })
    .await;
    // Long enough for a poll to have started if one were going to.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(standin.calls_to("getUpdates").is_empty(), "no polling");
    assert!(standin.calls_to("sendMessage").is_empty());
    assert_eq!(
        standin.pending_updates(),
        1,
        "the update is left to the webhook"
    );
    assert!(standin.webhook_url().is_some(), "the webhook is left alone");
    assert!(standin.calls_to("deleteWebhook").is_empty());

    // serve itself keeps running, and stops when asked.
    assert_eq!(health(running.addr).await["status"], "ok");
    running.shutdown().await;
}

/// A Bot API "server" in front of the stand-in that forwards every call,
/// except that calls to `hold` (every call when empty) are held for `delay`
/// first, or never answered when `delay` is None.
struct HoldingProxy {
    addr: SocketAddr,
    held: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

#[derive(Clone)]
struct ProxyState {
    upstream: String,
    hold: &'static str,
    delay: Option<Duration>,
    held: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    http: reqwest::Client,
}

impl HoldingProxy {
    async fn start(upstream: String, hold: &'static str, delay: Option<Duration>) -> HoldingProxy {
        let held = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let state = ProxyState {
            upstream,
            hold,
            delay,
            held: held.clone(),
            http: reqwest::Client::new(),
        };
        let app = Router::new().fallback(forward).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        HoldingProxy { addr, held }
    }

    fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Calls held open so far.
    fn held(&self) -> usize {
        self.held.load(std::sync::atomic::Ordering::SeqCst)
    }
}

async fn forward(State(state): State<ProxyState>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    if state.hold.is_empty() || path.ends_with(&format!("/{}", state.hold)) {
        state.held.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        match state.delay {
            Some(delay) => tokio::time::sleep(delay).await,
            None => std::future::pending::<()>().await,
        }
    }
    let content_type = req.headers().get("content-type").cloned();
    let body = to_bytes(req.into_body(), usize::MAX).await.unwrap();
    let mut upstream = state
        .http
        .post(format!("{}{path}", state.upstream))
        .body(body);
    if let Some(ct) = content_type {
        upstream = upstream.header("content-type", ct);
    }
    let answer = upstream.send().await.unwrap();
    let status = answer.status();
    let bytes = answer.bytes().await.unwrap();
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(bytes))
        .unwrap()
}
