//! `POST /telegram/webhook`: Telegram's updates, on the same Router as the
//! REST API.
//!
//! Telegram retries any update that did not get a 2xx, and holds back every
//! later update of that chat until it does. So everything but a forged
//! request is answered 200: an update that does not parse, is too big or is
//! of a kind the bot ignores is logged and dropped, never retried forever.

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::Utc;
use std::fmt;
use std::sync::Arc;
use subtle::ConstantTimeEq;

use super::dispatch::{Dispatched, Dispatcher};
use super::types::Update;

pub const PATH: &str = "/telegram/webhook";
pub const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

/// Updates are small (a message is at most 4096 characters); anything
/// bigger is not an update we can use.
pub const MAX_UPDATE_BYTES: usize = 1024 * 1024;

/// The webhook's shared secret: 32–256 characters of `A-Za-z0-9_-`.
/// Telegram accepts 1–256; we require at least [`MIN_SECRET_LEN`] so the
/// only thing between the internet and the bot cannot be guessed, and a
/// process refuses to start with a shorter one. Never printed.
#[derive(Clone)]
pub struct WebhookSecret(String);

/// The shortest webhook secret accepted: 32 characters of a 64-letter
/// alphabet are 192 bits, far beyond guessing over HTTP.
pub const MIN_SECRET_LEN: usize = 32;

impl WebhookSecret {
    pub fn new(s: impl Into<String>) -> Result<Self, String> {
        let s = s.into();
        let ok = (MIN_SECRET_LEN..=256).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if ok {
            Ok(WebhookSecret(s))
        } else {
            Err(format!(
                "the webhook secret must be {MIN_SECRET_LEN}-256 characters of A-Z, a-z, 0-9, _ and - \
                 (`pricehound webhook set --secret-file FILE` writes a random one)"
            ))
        }
    }

    /// 64 characters from the OS's random generator.
    pub fn random() -> Self {
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
        let mut bytes = [0u8; 64];
        getrandom::fill(&mut bytes).expect("the OS random generator is available");
        WebhookSecret(
            bytes
                .iter()
                .map(|b| ALPHABET[(b & 63) as usize] as char)
                .collect(),
        )
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Constant-time comparison with the header value, so the secret cannot
    /// be guessed byte by byte from response times.
    pub fn matches(&self, header: &[u8]) -> bool {
        self.0.as_bytes().ct_eq(header).into()
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(***)")
    }
}

#[derive(Clone)]
pub struct WebhookState {
    pub dispatcher: Arc<Dispatcher>,
    pub secret: WebhookSecret,
}

/// The webhook route, to merge into the main Router. It has its own body
/// limit: the API's 413 would make Telegram retry.
pub fn routes(state: WebhookState) -> Router {
    Router::new().route(PATH, post(webhook)).with_state(state)
}

async fn webhook(State(state): State<WebhookState>, headers: HeaderMap, body: Body) -> Response {
    let authorized = headers
        .get(SECRET_HEADER)
        .is_some_and(|v| state.secret.matches(v.as_bytes()));
    if !authorized {
        tracing::warn!(
            has_header = headers.contains_key(SECRET_HEADER),
            "webhook call without the right secret"
        );
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let bytes = match to_bytes(body, MAX_UPDATE_BYTES).await {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(error = %e, "webhook body unreadable or over {MAX_UPDATE_BYTES} bytes; dropped");
            return StatusCode::OK.into_response();
        }
    };
    let update: Update = match serde_json::from_slice(&bytes) {
        Ok(u) => u,
        Err(e) => {
            tracing::warn!(error = %e, bytes = bytes.len(), "webhook body is not an update; dropped");
            return StatusCode::OK.into_response();
        }
    };
    match state.dispatcher.dispatch(&update, Utc::now(), true).await {
        Dispatched::Handled { body: Some(method) } => match method.webhook_body() {
            Some(json) => (StatusCode::OK, axum::Json(json)).into_response(),
            None => StatusCode::OK.into_response(),
        },
        _ => StatusCode::OK.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_follow_telegrams_rules_and_never_print() {
        assert!(WebhookSecret::new("abc_DEF-123").is_err(), "too short");
        assert!(WebhookSecret::new("abc_DEF-123".repeat(3)).is_ok());
        assert!(WebhookSecret::new("x".repeat(MIN_SECRET_LEN - 1)).is_err());
        assert!(WebhookSecret::new("").is_err());
        assert!(WebhookSecret::new("has space").is_err());
        assert!(WebhookSecret::new("x".repeat(257)).is_err());
        let s = WebhookSecret::random();
        assert_eq!(s.expose().len(), 64);
        assert!(WebhookSecret::new(s.expose()).is_ok());
        assert_ne!(s.expose(), WebhookSecret::random().expose());
        assert_eq!(format!("{s:?}"), "WebhookSecret(***)");
        assert!(s.matches(s.expose().as_bytes()));
        assert!(!s.matches(b"wrong"));
        assert!(!s.matches(b""));
    }
}
