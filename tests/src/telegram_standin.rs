//! A local stand-in for the Telegram Bot API server, for tests: an axum
//! server on 127.0.0.1 that answers like `api.telegram.org` for the methods
//! pricehound calls, records every call, and fails on request.
//!
//! It understands what the real server does: `POST` with a JSON, urlencoded
//! or multipart body and `GET` with query parameters, method names in any
//! case, 401 for a wrong token, 404 for an unknown method, 409 for
//! `getUpdates` while a webhook is set. `getUpdates` is a real long poll
//! (capped at 2 s of real time) over the updates a test pushes.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use tokio::sync::Notify;
use tokio::time::Instant;

/// The username `getMe` reports.
pub const BOT_USERNAME: &str = "pricehound_test_bot";

/// Longest real time a `getUpdates` waits, whatever its `timeout`.
const LONG_POLL_CAP: Duration = Duration::from_secs(2);

/// Methods whose answers the stand-in knows (lower case: Telegram's method
/// names are case-insensitive).
const KNOWN: &[&str] = &[
    "getme",
    "sendmessage",
    "sendphoto",
    "editmessagetext",
    "answercallbackquery",
    "setmycommands",
    "getmycommands",
    "deletemycommands",
    "sendchataction",
    "setwebhook",
    "deletewebhook",
    "setchatmenubutton",
    "getwebhookinfo",
    "getupdates",
];

/// One call the stand-in received.
#[derive(Debug, Clone)]
pub struct RecordedCall {
    /// The method name as the client spelled it, e.g. `sendMessage`.
    pub method: String,
    /// Query and body parameters merged into one object. Form and multipart
    /// values are strings, except the fields Telegram reads as numbers,
    /// booleans or JSON (`chat_id`, `reply_markup`, ...), which are decoded.
    pub params: Value,
    /// When it arrived (tokio's clock, so paused-clock tests can read it).
    pub at: Instant,
    /// The size of an uploaded `photo` file part.
    pub photo_len: Option<usize>,
    /// Whether that upload starts with the PNG signature.
    pub photo_is_png: bool,
    /// The stand-in answered with an error (scripted, 401, 404, 409, 400).
    pub failed: bool,
}

/// A scripted error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// 429 with `parameters.retry_after`.
    TooManyRequests { retry_after: u64 },
    /// 403 "Forbidden: bot was blocked by the user".
    Blocked,
    /// 500 "Internal Server Error".
    ServerError,
    /// 400 with this description, e.g. "Bad Request: can't parse entities".
    BadRequest(String),
    /// No answer for this long (then a 500): a call the client gives up on
    /// by its timeout. Nothing was sent.
    Hang(std::time::Duration),
}

impl Failure {
    fn answer(&self) -> (StatusCode, Value) {
        match self {
            Failure::TooManyRequests { retry_after } => (
                StatusCode::TOO_MANY_REQUESTS,
                json!({
                    "ok": false,
                    "error_code": 429,
                    "description": format!("Too Many Requests: retry after {retry_after}"),
                    "parameters": { "retry_after": retry_after },
                }),
            ),
            Failure::Blocked => error(403, "Forbidden: bot was blocked by the user"),
            Failure::ServerError => error(500, "Internal Server Error"),
            Failure::BadRequest(d) => error(400, d),
            Failure::Hang(_) => error(500, "Internal Server Error"),
        }
    }

    fn delay(&self) -> Option<std::time::Duration> {
        match self {
            Failure::Hang(d) => Some(*d),
            _ => None,
        }
    }
}

/// The running stand-in. Cheap to clone; the server lives until the test's
/// runtime ends.
#[derive(Clone)]
pub struct TelegramStandin {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

struct Shared {
    token: String,
    state: Mutex<StandinState>,
    /// Wakes long polls when an update is pushed.
    pushed: Notify,
}

#[derive(Default)]
struct StandinState {
    calls: Vec<RecordedCall>,
    /// Per lower-case method: failures to answer with, one per call.
    fail_next: HashMap<String, VecDeque<Failure>>,
    failing_chats: HashMap<i64, Failure>,
    next_message_id: i64,
    updates: VecDeque<Value>,
    next_update_id: i64,
    webhook: Option<Webhook>,
    commands: Value,
}

struct Webhook {
    url: String,
    allowed_updates: Option<Value>,
    max_connections: i64,
}

/// What one request carried.
struct Incoming {
    method: String,
    params: Value,
    photo_len: Option<usize>,
    photo_is_png: bool,
}

impl TelegramStandin {
    /// Starts the stand-in for the bot with `token` on a free loopback port.
    pub async fn start(token: &str) -> TelegramStandin {
        let shared = Arc::new(Shared {
            token: token.to_string(),
            state: Mutex::new(StandinState {
                next_message_id: 100,
                next_update_id: 500_000_000,
                commands: json!([]),
                ..StandinState::default()
            }),
            pushed: Notify::new(),
        });
        let router = Router::new()
            .fallback(handle)
            .layer(DefaultBodyLimit::max(20 * 1024 * 1024))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        TelegramStandin { addr, shared }
    }

    /// `http://127.0.0.1:<port>`, to pass as the client's base URL.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bot id (the token's prefix).
    pub fn bot_id(&self) -> i64 {
        bot_id(&self.shared.token)
    }

    /// Every call so far, oldest first.
    pub fn calls(&self) -> Vec<RecordedCall> {
        self.shared.lock().calls.clone()
    }

    /// The calls to `method` (case-insensitive), oldest first.
    pub fn calls_to(&self, method: &str) -> Vec<RecordedCall> {
        self.calls()
            .into_iter()
            .filter(|c| c.method.eq_ignore_ascii_case(method))
            .collect()
    }

    /// Forgets the recorded calls (scripted failures and updates stay).
    pub fn clear(&self) {
        self.shared.lock().calls.clear();
    }

    /// Answers the next `times` calls to `method` with `failure`.
    pub fn fail_next(&self, method: &str, failure: Failure, times: usize) {
        let mut state = self.shared.lock();
        let queue = state
            .fail_next
            .entry(method.to_ascii_lowercase())
            .or_default();
        queue.extend(std::iter::repeat_n(failure, times));
    }

    /// Answers every send or edit to `chat_id` with `failure` from now on.
    pub fn fail_chat(&self, chat_id: i64, failure: Failure) {
        self.shared.lock().failing_chats.insert(chat_id, failure);
    }

    /// Queues an update for `getUpdates` (and `getWebhookInfo`'s pending
    /// count); gives it the next `update_id` if it has none. Returns its id.
    pub fn push_update(&self, mut update: Value) -> i64 {
        let id = {
            let mut state = self.shared.lock();
            let id = match update.get("update_id").and_then(Value::as_i64) {
                Some(id) => id,
                None => {
                    let id = state.next_update_id;
                    update["update_id"] = json!(id);
                    id
                }
            };
            state.next_update_id = state.next_update_id.max(id + 1);
            state.updates.push_back(update);
            id
        };
        self.shared.pushed.notify_waiters();
        id
    }

    /// Updates queued and not yet confirmed by a `getUpdates` offset.
    pub fn pending_updates(&self) -> usize {
        self.shared.lock().updates.len()
    }

    /// The webhook URL set, if any.
    pub fn webhook_url(&self) -> Option<String> {
        self.shared.lock().webhook.as_ref().map(|w| w.url.clone())
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, StandinState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

async fn handle(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    let Some((token, method)) = path
        .strip_prefix("/bot")
        .and_then(|rest| rest.split_once('/'))
    else {
        return reply(error(404, "Not Found"));
    };
    let method = method.to_string();
    let authorized = token == shared.token;
    let incoming = match read_params(method, req).await {
        Ok(i) => i,
        Err(description) => return reply(error(400, &description)),
    };
    let lower = incoming.method.to_ascii_lowercase();

    // Decide the outcome, record the call, then answer (getUpdates may wait).
    let (early, at, hang) = {
        let mut state = shared.lock();
        let mut hang = None;
        let early = if !authorized {
            Some(error(401, "Unauthorized"))
        } else if !KNOWN.contains(&lower.as_str()) {
            Some(error(404, "Not Found"))
        } else if let Some(f) = state
            .fail_next
            .get_mut(&lower)
            .and_then(VecDeque::pop_front)
        {
            hang = f.delay();
            Some(f.answer())
        } else if let Some(f) = chat_failure(&state, &lower, &incoming.params) {
            hang = f.delay();
            Some(f.answer())
        } else if lower == "getupdates" && state.webhook.is_some() {
            Some(error(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
            ))
        } else {
            validate(&lower, &incoming)
        };
        let at = Instant::now();
        state.calls.push(RecordedCall {
            method: incoming.method.clone(),
            params: incoming.params.clone(),
            at,
            photo_len: incoming.photo_len,
            photo_is_png: incoming.photo_is_png,
            failed: early.is_some(),
        });
        (early, at, hang)
    };
    if let Some(wait) = hang {
        tokio::time::sleep(wait).await;
    }
    if let Some(answer) = early {
        return reply(answer);
    }
    let result = if lower == "getupdates" {
        get_updates(&shared, &incoming.params, at).await
    } else {
        answer(&shared, &lower, &incoming)
    };
    reply((StatusCode::OK, json!({ "ok": true, "result": result })))
}

fn chat_failure(state: &StandinState, method: &str, params: &Value) -> Option<Failure> {
    if !(method.starts_with("send") || method.starts_with("edit")) {
        return None;
    }
    let chat_id = params.get("chat_id").and_then(as_i64)?;
    state.failing_chats.get(&chat_id).cloned()
}

/// The 400s Telegram gives for the mistakes a client is likely to make.
fn validate(method: &str, incoming: &Incoming) -> Option<(StatusCode, Value)> {
    let p = &incoming.params;
    let text = |field: &str| p.get(field).and_then(Value::as_str).unwrap_or_default();
    let needs_chat = matches!(method, "sendmessage" | "sendphoto" | "editmessagetext");
    if needs_chat && p.get("chat_id").is_none() {
        return Some(error(400, "Bad Request: chat_id is empty"));
    }
    match method {
        "sendmessage" | "editmessagetext" if text("text").trim().is_empty() => {
            Some(error(400, "Bad Request: message text is empty"))
        }
        "sendmessage" | "editmessagetext" if text("text").chars().count() > 4096 => {
            Some(error(400, "Bad Request: message is too long"))
        }
        "sendphoto" if incoming.photo_len.is_none() && p.get("photo").is_none() => {
            Some(error(400, "Bad Request: there is no photo in the request"))
        }
        "sendphoto" if text("caption").chars().count() > 1024 => {
            Some(error(400, "Bad Request: message caption is too long"))
        }
        "answercallbackquery" if p.get("callback_query_id").is_none() => Some(error(
            400,
            "Bad Request: query is too old and response timeout expired or query ID is invalid",
        )),
        _ => None,
    }
}

/// The result of a successful call other than `getUpdates`.
fn answer(shared: &Shared, method: &str, incoming: &Incoming) -> Value {
    let p = &incoming.params;
    let mut state = shared.lock();
    match method {
        "getme" => bot_user(&shared.token),
        "sendmessage" | "sendphoto" | "editmessagetext" => {
            let chat_id = p.get("chat_id").and_then(as_i64).unwrap_or_default();
            let mut message = json!({
                "from": bot_user(&shared.token),
                "chat": chat(chat_id),
                "date": unix_now(),
            });
            if method == "editmessagetext" {
                message["message_id"] = p.get("message_id").cloned().unwrap_or(json!(0));
                message["edit_date"] = json!(unix_now());
            } else {
                state.next_message_id += 1;
                message["message_id"] = json!(state.next_message_id);
            }
            if method == "sendphoto" {
                let n = state.next_message_id;
                message["photo"] = json!([
                    { "file_id": format!("AgACAgIAAxkDAAI{n}small"), "file_unique_id": format!("AQAD{n}s"), "width": 90, "height": 60, "file_size": 1200 },
                    { "file_id": format!("AgACAgIAAxkDAAI{n}large"), "file_unique_id": format!("AQAD{n}l"), "width": 800, "height": 533, "file_size": incoming.photo_len.unwrap_or(0) },
                ]);
                if let Some(caption) = p.get("caption") {
                    message["caption"] = caption.clone();
                }
            } else {
                message["text"] = p.get("text").cloned().unwrap_or(json!(""));
            }
            message
        }
        "setmycommands" => {
            state.commands = p.get("commands").cloned().unwrap_or(json!([]));
            json!(true)
        }
        "getmycommands" => state.commands.clone(),
        "deletemycommands" => {
            state.commands = json!([]);
            json!(true)
        }
        "setwebhook" => {
            let url = p.get("url").and_then(Value::as_str).unwrap_or_default();
            state.webhook = (!url.is_empty()).then(|| Webhook {
                url: url.to_string(),
                allowed_updates: p.get("allowed_updates").cloned(),
                max_connections: p.get("max_connections").and_then(as_i64).unwrap_or(40),
            });
            if p.get("drop_pending_updates").and_then(as_bool) == Some(true) {
                state.updates.clear();
            }
            json!(true)
        }
        "setchatmenubutton" => json!(true),
        "deletewebhook" => {
            state.webhook = None;
            if p.get("drop_pending_updates").and_then(as_bool) == Some(true) {
                state.updates.clear();
            }
            json!(true)
        }
        "getwebhookinfo" => {
            let mut info = json!({
                "url": "",
                "has_custom_certificate": false,
                "pending_update_count": state.updates.len(),
            });
            if let Some(w) = &state.webhook {
                info["url"] = json!(w.url);
                info["max_connections"] = json!(w.max_connections);
                info["ip_address"] = json!("127.0.0.1");
                if let Some(allowed) = &w.allowed_updates {
                    info["allowed_updates"] = allowed.clone();
                }
            }
            info
        }
        // answerCallbackQuery, sendChatAction.
        _ => json!(true),
    }
}

/// Confirms the updates before `offset`, then returns what is queued, waiting
/// (at most [`LONG_POLL_CAP`]) for a push if nothing is.
async fn get_updates(shared: &Shared, params: &Value, arrived: Instant) -> Value {
    let offset = params.get("offset").and_then(as_i64);
    let limit = params
        .get("limit")
        .and_then(as_i64)
        .unwrap_or(100)
        .clamp(1, 100) as usize;
    let timeout = params.get("timeout").and_then(as_i64).unwrap_or(0).max(0) as u64;
    let deadline = arrived + Duration::from_secs(timeout).min(LONG_POLL_CAP);
    loop {
        let pushed = shared.pushed.notified();
        tokio::pin!(pushed);
        pushed.as_mut().enable();
        {
            let mut state = shared.lock();
            match offset {
                // A negative offset keeps only the last -offset updates.
                Some(o) if o < 0 => {
                    let keep = o.unsigned_abs() as usize;
                    while state.updates.len() > keep {
                        state.updates.pop_front();
                    }
                }
                Some(o) => state
                    .updates
                    .retain(|u| u.get("update_id").and_then(Value::as_i64).unwrap_or(0) >= o),
                None => {}
            }
            if !state.updates.is_empty() {
                return Value::Array(state.updates.iter().take(limit).cloned().collect());
            }
        }
        if tokio::time::timeout_at(deadline, pushed).await.is_err() {
            return json!([]);
        }
    }
}

/// Reads the parameters from the query string and the body, whatever its
/// encoding.
async fn read_params(method: String, req: Request) -> Result<Incoming, String> {
    let mut params = Map::new();
    if let Some(query) = req.uri().query() {
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            params.insert(k.to_string(), form_value(&k, &v));
        }
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let mut photo_len = None;
    let mut photo_is_png = false;
    if content_type.starts_with("multipart/form-data") {
        let mut multipart = Multipart::from_request(req, &())
            .await
            .map_err(|e| format!("Bad Request: {e}"))?;
        while let Some(field) = multipart
            .next_field()
            .await
            .map_err(|e| format!("Bad Request: {e}"))?
        {
            let name = field.name().unwrap_or_default().to_string();
            let is_file = field.file_name().is_some();
            let bytes = field
                .bytes()
                .await
                .map_err(|e| format!("Bad Request: {e}"))?;
            if is_file {
                if name == "photo" {
                    photo_len = Some(bytes.len());
                    photo_is_png = bytes.starts_with(b"\x89PNG\r\n\x1a\n");
                }
            } else {
                let text = String::from_utf8_lossy(&bytes);
                params.insert(name.clone(), form_value(&name, &text));
            }
        }
    } else {
        let body = axum::body::to_bytes(req.into_body(), usize::MAX)
            .await
            .map_err(|e| format!("Bad Request: {e}"))?;
        if content_type.starts_with("application/json") && !body.is_empty() {
            match serde_json::from_slice::<Value>(&body) {
                Ok(Value::Object(fields)) => params.extend(fields),
                Ok(_) => {}
                Err(_) => return Err("Bad Request: can't parse JSON object".into()),
            }
        } else if content_type.starts_with("application/x-www-form-urlencoded") {
            for (k, v) in url::form_urlencoded::parse(&body) {
                params.insert(k.to_string(), form_value(&k, &v));
            }
        }
    }
    Ok(Incoming {
        method,
        params: Value::Object(params),
        photo_len,
        photo_is_png,
    })
}

/// A form field's value: JSON for the fields Telegram reads as numbers,
/// booleans or JSON objects, the string itself otherwise.
fn form_value(name: &str, text: &str) -> Value {
    const TYPED: &[&str] = &[
        "chat_id",
        "message_id",
        "offset",
        "limit",
        "timeout",
        "reply_markup",
        "link_preview_options",
        "allowed_updates",
        "drop_pending_updates",
        "max_connections",
        "commands",
        "scope",
        "show_alert",
        "cache_time",
        "disable_notification",
        "protect_content",
    ];
    if TYPED.contains(&name) {
        serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
    } else {
        Value::String(text.to_string())
    }
}

fn as_i64(v: &Value) -> Option<i64> {
    v.as_i64().or_else(|| v.as_str()?.parse().ok())
}

fn as_bool(v: &Value) -> Option<bool> {
    v.as_bool().or_else(|| v.as_str()?.parse().ok())
}

fn error(code: u16, description: &str) -> (StatusCode, Value) {
    (
        StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        json!({ "ok": false, "error_code": code, "description": description }),
    )
}

fn reply((status, body): (StatusCode, Value)) -> Response {
    (status, axum::Json(body)).into_response()
}

fn bot_id(token: &str) -> i64 {
    token
        .split_once(':')
        .and_then(|(id, _)| id.parse().ok())
        .unwrap_or_default()
}

fn bot_user(token: &str) -> Value {
    json!({
        "id": bot_id(token),
        "is_bot": true,
        "first_name": "pricehound (test)",
        "username": BOT_USERNAME,
        "can_join_groups": true,
        "can_read_all_group_messages": false,
        "supports_inline_queries": false,
    })
}

/// A private chat for a positive id, a group for a negative one.
fn chat(id: i64) -> Value {
    if id >= 0 {
        json!({ "id": id, "type": "private", "first_name": "Test", "username": format!("user{id}") })
    } else if id < -1_000_000_000_000 {
        json!({ "id": id, "type": "supergroup", "title": "Test supergroup" })
    } else {
        json!({ "id": id, "type": "group", "title": "Test group" })
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}
