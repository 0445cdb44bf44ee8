//! A thin Bot API client.
//!
//! Why hand-written rather than teloxide or frankenstein: the bot makes about
//! a dozen different calls, all `POST /bot<token>/<method>` with a JSON body
//! (one multipart upload for charts) and the same `{"ok": ..}` envelope back.
//! Writing them here reuses the workspace's one `reqwest` client and TLS
//! stack, keeps the tolerant types of [`super::types`] (a Telegram addition
//! never breaks parsing), gives one place that makes sure the token never
//! reaches an error, a log line or a `Debug` print, and lets the base URL
//! point at a self-hosted Bot API server or the tests' stand-in.
//!
//! [`BotApi::call`] makes one attempt; [`BotApi::send`] retries what Telegram
//! says may be retried (429 after `retry_after`, 5xx and transport errors
//! with a short backoff) within a time budget the caller chooses.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

use super::methods::Method;
use super::types::{Update, User, WebhookInfo};

/// The public Bot API server.
pub const DEFAULT_BASE_URL: &str = "https://api.telegram.org";

/// Waits before the second and third attempt after a 5xx or transport error.
const BACKOFF: [Duration; 2] = [Duration::from_millis(100), Duration::from_millis(400)];

/// How much longer than the long-poll timeout a `getUpdates` request may take.
const LONG_POLL_SLACK: Duration = Duration::from_secs(10);

/// The longest `retry_after` believed: a day. The number comes off the
/// network, and `Instant::now() + Duration::from_secs(u64::MAX)` (the
/// sender's per-chat hold) panics, so a garbled answer must not reach it.
pub const MAX_RETRY_AFTER_SECS: u64 = 24 * 60 * 60;

/// A bot token, `<bot id>:<secret>`. Never printed: `Debug` and `Display`
/// show `BotToken(***)`.
#[derive(Clone, PartialEq, Eq)]
pub struct BotToken(String);

/// A string that does not look like a bot token. Deliberately says nothing
/// about the string itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed bot token: expected <bot id>:<secret of at least 20 of A-Z a-z 0-9 _ ->")]
pub struct InvalidBotToken;

impl BotToken {
    /// Checks the shape `<digits>:<[A-Za-z0-9_-]{20,}>` (surrounding
    /// whitespace, e.g. a newline from a secrets file, is trimmed).
    pub fn new(s: impl Into<String>) -> Result<BotToken, InvalidBotToken> {
        let s = s.into();
        let s = s.trim();
        let (id, secret) = s.split_once(':').ok_or(InvalidBotToken)?;
        let id_ok =
            !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) && id.parse::<i64>().is_ok();
        let secret_ok = secret.len() >= 20
            && secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if id_ok && secret_ok {
            Ok(BotToken(s.to_string()))
        } else {
            Err(InvalidBotToken)
        }
    }

    /// The bot's user id (the part before the colon).
    pub fn bot_id(&self) -> i64 {
        self.0
            .split_once(':')
            .and_then(|(id, _)| id.parse().ok())
            .unwrap_or_default()
    }

    /// The token itself, for building request URLs. Only the client uses it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `text` with every occurrence of the token, or of its secret part
    /// alone (as it appears URL-encoded), replaced by `***`.
    fn redact(&self, text: &str) -> String {
        let secret = self.0.split_once(':').map(|(_, s)| s).unwrap_or(&self.0);
        text.replace(&self.0, "***").replace(secret, "***")
    }
}

impl fmt::Debug for BotToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BotToken(***)")
    }
}

impl fmt::Display for BotToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BotToken(***)")
    }
}

/// What a Bot API call can end in. No variant ever contains the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BotError {
    /// 429: flood control; try again after `seconds`.
    #[error("rate limited by Telegram, retry after {seconds} s: {description}")]
    RetryAfter { seconds: u64, description: String },
    /// 403: the user blocked the bot, the bot was kicked from the group, or
    /// the account is gone. Retrying never helps.
    #[error("the chat is closed to the bot: {description}")]
    Blocked { description: String },
    /// 400: the call itself is wrong (bad HTML, message not modified, ...).
    #[error("Telegram rejected the call: {description}")]
    BadRequest { description: String },
    /// Any other error code (401 bad token, 404, 409 conflict, 5xx, ...).
    #[error("Telegram answered {code}: {description}")]
    Api { code: i64, description: String },
    /// No answer: connect error, timeout, connection reset.
    #[error("Bot API unreachable: {0}")]
    Transport(String),
    /// An answer that is not the Bot API's envelope or result shape.
    #[error("unexpected Bot API answer: {0}")]
    Decode(String),
}

impl BotError {
    /// The chat cannot be written to any more (403).
    pub fn is_blocked(&self) -> bool {
        matches!(self, BotError::Blocked { .. })
    }

    /// How long Telegram asked to wait, for a 429.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            BotError::RetryAfter { seconds, .. } => Some(Duration::from_secs(*seconds)),
            _ => None,
        }
    }

    /// Whether the same call may succeed later: 429, 5xx, transport errors.
    pub fn is_retryable(&self) -> bool {
        match self {
            BotError::RetryAfter { .. } | BotError::Transport(_) => true,
            BotError::Api { code, .. } => *code >= 500,
            BotError::Blocked { .. } | BotError::BadRequest { .. } | BotError::Decode(_) => false,
        }
    }

    fn from_answer(code: i64, description: String, retry_after: Option<u64>) -> BotError {
        match code {
            429 => BotError::RetryAfter {
                seconds: retry_after.unwrap_or(1).min(MAX_RETRY_AFTER_SECS),
                description,
            },
            403 => BotError::Blocked { description },
            400 => BotError::BadRequest { description },
            code => BotError::Api { code, description },
        }
    }
}

/// Telegram's answer envelope.
#[derive(Deserialize)]
struct Envelope {
    ok: bool,
    result: Option<Value>,
    error_code: Option<i64>,
    description: Option<String>,
    parameters: Option<ResponseParameters>,
}

#[derive(Deserialize)]
struct ResponseParameters {
    retry_after: Option<u64>,
}

/// The Bot API client. Cheap to clone: the HTTP client and token are shared.
#[derive(Clone)]
pub struct BotApi {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base_url: String,
    token: BotToken,
}

impl fmt::Debug for BotApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BotApi")
            .field("base_url", &self.inner.base_url)
            .field("token", &self.inner.token)
            .finish()
    }
}

/// Connecting to the Bot API server may take this long.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// One Bot API call may take this long (`getUpdates` sets its own, longer
/// one). Under the Lambda functions' timeouts, so a hung call fails and its
/// record is retried rather than the whole invocation timing out.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(20);

impl BotApi {
    /// The one way pricehound builds its Bot API client (the webhook, the
    /// notifier, long polling, the CLI): an HTTP client with
    /// [`CONNECT_TIMEOUT`] and [`CALL_TIMEOUT`] for the server at `base_url`.
    pub fn connect(base_url: &str, token: BotToken) -> Result<BotApi, reqwest::Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(CALL_TIMEOUT)
            .build()?;
        Ok(BotApi::new(http, base_url, token))
    }

    /// A client for the Bot API server at `base_url` ([`DEFAULT_BASE_URL`],
    /// a self-hosted server, or a test stand-in), on the shared `http` client.
    pub fn new(http: reqwest::Client, base_url: &str, token: BotToken) -> BotApi {
        BotApi {
            inner: Arc::new(Inner {
                http,
                base_url: base_url.trim_end_matches('/').to_string(),
                token,
            }),
        }
    }

    /// The key this bot's Mini App initData is signed with (derived from
    /// the token; the token itself stays inside).
    pub fn web_app_key(&self) -> crate::webapp::WebAppKey {
        crate::webapp::WebAppKey::from_token(self.inner.token.expose())
    }

    /// The bot's user id, from the token.
    pub fn bot_id(&self) -> i64 {
        self.inner.token.bot_id()
    }

    /// One attempt at `method`; no retry.
    pub async fn call(&self, method: &Method) -> Result<Value, BotError> {
        let name = method.name();
        let request = self.request(name);
        let request = match method {
            Method::SendPhoto(photo) => {
                request.multipart(photo_form(&method.params(), photo.png.clone())?)
            }
            _ => request.json(&method.params()),
        };
        self.execute(name, method.chat_id(), request).await
    }

    /// [`BotApi::call`], retried while it may help and the time spent waiting
    /// between attempts stays within `budget`: a 429 after its `retry_after`,
    /// a 5xx or transport error twice more after 100 ms and 400 ms. Other
    /// errors (400, 403, ...) come back at once. Each attempt itself is
    /// bounded by the HTTP client's timeout.
    pub async fn send(&self, method: &Method, budget: Duration) -> Result<Value, BotError> {
        let mut waited = Duration::ZERO;
        let mut backoffs = BACKOFF.iter();
        loop {
            let err = match self.call(method).await {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            let wait = match &err {
                // At least a second, so a `retry_after` of 0 cannot spin.
                BotError::RetryAfter { seconds, .. } => Duration::from_secs((*seconds).max(1)),
                e if e.is_retryable() => match backoffs.next() {
                    Some(d) => *d,
                    None => return Err(err),
                },
                _ => return Err(err),
            };
            if waited.saturating_add(wait) > budget {
                return Err(err);
            }
            tracing::warn!(
                method = method.name(),
                chat_id = method.chat_id(),
                wait_ms = wait.as_millis() as u64,
                error = %err,
                "Bot API call failed, retrying"
            );
            tokio::time::sleep(wait).await;
            waited += wait;
        }
    }

    /// Long polling: the updates after `offset` (confirming those before it),
    /// waiting up to `timeout_secs` for one. `allowed_updates` is sent as
    /// given (an empty list means Telegram's default kinds). The request's
    /// timeout is the poll's plus 10 s, replacing the client's total timeout
    /// (a client-wide `read_timeout` shorter than the poll would still cut it).
    pub async fn get_updates(
        &self,
        offset: Option<i64>,
        timeout_secs: u32,
        allowed_updates: &[&str],
    ) -> Result<Vec<Update>, BotError> {
        let mut params = json!({ "timeout": timeout_secs, "allowed_updates": allowed_updates });
        if let Some(offset) = offset {
            params["offset"] = json!(offset);
        }
        // The HTTP timeout must outlast the long poll, whatever the client's is.
        let request = self
            .request("getUpdates")
            .json(&params)
            .timeout(Duration::from_secs(timeout_secs.into()) + LONG_POLL_SLACK);
        let result = self.execute("getUpdates", None, request).await?;
        let Value::Array(items) = result else {
            return Err(BotError::Decode("getUpdates result is not an array".into()));
        };
        // One update we cannot read must not hide the others.
        let mut updates = Vec::with_capacity(items.len());
        for item in items {
            match serde_json::from_value::<Update>(item) {
                Ok(u) => updates.push(u),
                Err(e) => tracing::warn!(error = %e, "skipping an update without an update_id"),
            }
        }
        Ok(updates)
    }

    /// Points Telegram at `url`; it will send `secret_token` in the
    /// `X-Telegram-Bot-Api-Secret-Token` header of every webhook request.
    pub async fn set_webhook(
        &self,
        url: &str,
        secret_token: &str,
        allowed_updates: &[&str],
        drop_pending_updates: bool,
    ) -> Result<(), BotError> {
        let params = json!({
            "url": url,
            "secret_token": secret_token,
            "allowed_updates": allowed_updates,
            "drop_pending_updates": drop_pending_updates,
        });
        self.call_named("setWebhook", params).await?;
        Ok(())
    }

    /// Sets the bot's menu button (next to the message box) to open the
    /// Mini App at `app_url` (https), labelled `text`.
    pub async fn set_menu_button(&self, text: &str, app_url: &str) -> Result<(), BotError> {
        let params = json!({
            "menu_button": { "type": "web_app", "text": text, "web_app": { "url": app_url } },
        });
        self.call_named("setChatMenuButton", params).await?;
        Ok(())
    }

    /// Removes the webhook (needed before long polling works again).
    pub async fn delete_webhook(&self, drop_pending_updates: bool) -> Result<(), BotError> {
        let params = json!({ "drop_pending_updates": drop_pending_updates });
        self.call_named("deleteWebhook", params).await?;
        Ok(())
    }

    pub async fn get_webhook_info(&self) -> Result<WebhookInfo, BotError> {
        let result = self.call_named("getWebhookInfo", json!({})).await?;
        decode("getWebhookInfo", result)
    }

    /// The bot's own user (checks the token works).
    pub async fn get_me(&self) -> Result<User, BotError> {
        let result = self.call_named("getMe", json!({})).await?;
        decode("getMe", result)
    }

    async fn call_named(&self, name: &'static str, params: Value) -> Result<Value, BotError> {
        let request = self.request(name).json(&params);
        self.execute(name, None, request).await
    }

    fn request(&self, name: &str) -> reqwest::RequestBuilder {
        let url = format!(
            "{}/bot{}/{}",
            self.inner.base_url,
            self.inner.token.expose(),
            name
        );
        self.inner.http.post(url)
    }

    /// Sends `request` and reads the envelope, whatever the HTTP status.
    async fn execute(
        &self,
        name: &'static str,
        chat_id: Option<i64>,
        request: reqwest::RequestBuilder,
    ) -> Result<Value, BotError> {
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => return Err(self.transport(name, chat_id, e)),
        };
        let status = response.status();
        let body = match response.bytes().await {
            Ok(b) => b,
            Err(e) => return Err(self.transport(name, chat_id, e)),
        };
        let result = match serde_json::from_slice::<Envelope>(&body) {
            Ok(Envelope {
                ok: true,
                result: Some(result),
                ..
            }) => Ok(result),
            Ok(Envelope { ok: true, .. }) => {
                Err(BotError::Decode(format!("{name}: ok without a result")))
            }
            Ok(e) => Err(BotError::from_answer(
                e.error_code.unwrap_or(i64::from(status.as_u16())),
                self.inner
                    .token
                    .redact(e.description.as_deref().unwrap_or("no description")),
                e.parameters.and_then(|p| p.retry_after),
            )),
            // A proxy's HTML error page: keep the status so a 502 is retried.
            Err(_) if !status.is_success() => Err(BotError::Api {
                code: i64::from(status.as_u16()),
                description: format!("HTTP {status} without a Bot API answer"),
            }),
            Err(e) => Err(BotError::Decode(format!("{name}: {e}"))),
        };
        match &result {
            Ok(_) => tracing::debug!(
                method = name,
                chat_id,
                status = status.as_u16(),
                "Bot API call"
            ),
            Err(e) => {
                tracing::info!(method = name, chat_id, status = status.as_u16(), error = %e, "Bot API call failed")
            }
        }
        result
    }

    /// A transport error as text without the URL (which holds the token),
    /// with its causes, redacted once more for good measure.
    fn transport(&self, name: &str, chat_id: Option<i64>, e: reqwest::Error) -> BotError {
        let timeout = e.is_timeout();
        let e = e.without_url();
        let mut text = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            text.push_str(": ");
            text.push_str(&s.to_string());
            source = s.source();
        }
        if timeout && !text.contains("timed out") {
            text.push_str(" (timed out)");
        }
        let text = self.inner.token.redact(&text);
        tracing::info!(method = name, chat_id, error = %text, "Bot API unreachable");
        BotError::Transport(text)
    }
}

fn decode<T: for<'de> Deserialize<'de>>(name: &str, v: Value) -> Result<T, BotError> {
    serde_json::from_value(v).map_err(|e| BotError::Decode(format!("{name}: {e}")))
}

/// `params` as multipart text fields (nested values as JSON text, as the
/// Bot API expects) plus the PNG as the file part `photo`.
fn photo_form(params: &Value, png: Vec<u8>) -> Result<reqwest::multipart::Form, BotError> {
    let mut form = reqwest::multipart::Form::new();
    if let Value::Object(fields) = params {
        for (key, value) in fields {
            let text = match value {
                Value::Null => continue,
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            form = form.text(key.clone(), text);
        }
    }
    let part = reqwest::multipart::Part::bytes(png)
        .file_name("chart.png")
        .mime_str("image/png")
        .map_err(|e| BotError::Decode(e.without_url().to_string()))?;
    Ok(form.part("photo", part))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";

    #[test]
    fn token_shape_is_checked() {
        assert_eq!(BotToken::new(TOKEN).unwrap().bot_id(), 123456789);
        assert!(BotToken::new(format!("{TOKEN}\n")).is_ok());
        for bad in [
            "",
            "123456789",
            ":AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
            "12a:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
            "123:short",
            "123:AAHdqTcvCH1vGWJxfSe/ofSAs0K5PALDsaw",
            "99999999999999999999:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
        ] {
            let err = BotToken::new(bad).unwrap_err().to_string();
            assert!(!err.contains("AAHdq") && !err.contains("short"), "{err}");
        }
    }

    #[test]
    fn token_is_never_printed() {
        let token = BotToken::new(TOKEN).unwrap();
        assert_eq!(format!("{token}"), "BotToken(***)");
        assert_eq!(format!("{token:?}"), "BotToken(***)");
        let api = BotApi::new(reqwest::Client::new(), DEFAULT_BASE_URL, token);
        assert!(!format!("{api:?}").contains("AAHdq"));
    }

    #[test]
    fn redaction_covers_the_secret_alone() {
        let token = BotToken::new(TOKEN).unwrap();
        let text = format!("GET /bot{TOKEN}/getMe and /bot123456789%3A{}", &TOKEN[10..]);
        let redacted = token.redact(&text);
        assert!(!redacted.contains(&TOKEN[10..]), "{redacted}");
    }

    #[test]
    fn error_codes_map_to_kinds() {
        let e = BotError::from_answer(429, "Too Many Requests: retry after 7".into(), Some(7));
        assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
        assert!(e.is_retryable());
        // A garbled `retry_after` is capped: callers add it to an Instant.
        let e = BotError::from_answer(429, "Too Many Requests".into(), Some(u64::MAX));
        let wait = e.retry_after().unwrap();
        assert_eq!(wait, Duration::from_secs(MAX_RETRY_AFTER_SECS));
        let _ = tokio::time::Instant::now() + wait;
        let e = BotError::from_answer(403, "Forbidden: bot was blocked by the user".into(), None);
        assert!(e.is_blocked() && !e.is_retryable());
        assert!(matches!(
            BotError::from_answer(400, "Bad Request: x".into(), None),
            BotError::BadRequest { .. }
        ));
        assert!(BotError::from_answer(502, "Bad Gateway".into(), None).is_retryable());
        assert!(!BotError::from_answer(401, "Unauthorized".into(), None).is_retryable());
    }

    #[tokio::test]
    async fn a_transport_error_does_not_contain_the_token() {
        // A port that was just free: nothing listens there.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let api = BotApi::new(
            reqwest::Client::new(),
            &format!("http://127.0.0.1:{port}"),
            BotToken::new(TOKEN).unwrap(),
        );
        let secret = &TOKEN[10..];
        let err = api.get_me().await.unwrap_err();
        assert!(matches!(err, BotError::Transport(_)), "{err:?}");
        for text in [err.to_string(), format!("{err:?}")] {
            assert!(!text.contains(secret), "token leaked: {text}");
        }
        let err = api
            .send(
                &Method::SendMessage(super::super::methods::SendMessage::html(1, "hi")),
                Duration::from_secs(1),
            )
            .await
            .unwrap_err();
        assert!(!format!("{err} {err:?}").contains(secret));
    }
}
