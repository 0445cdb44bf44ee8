//! The bot's settings from the environment. The token is never a flag: a
//! flag shows in `ps` and shell history.

use pricehound::telegram::api::{BotApi, BotToken};
use pricehound::telegram::webhook::WebhookSecret;

pub const TOKEN_VAR: &str = "PRICEHOUND_BOT_TOKEN";
pub const SECRET_VAR: &str = "PRICEHOUND_WEBHOOK_SECRET";
pub const API_VAR: &str = "PRICEHOUND_TELEGRAM_API";
pub const DEFAULT_API: &str = "https://api.telegram.org";

/// The token from `PRICEHOUND_BOT_TOKEN`, if set.
pub fn token() -> anyhow::Result<Option<BotToken>> {
    match std::env::var(TOKEN_VAR) {
        Ok(t) if !t.trim().is_empty() => BotToken::new(t.trim()).map(Some).map_err(|_| {
            anyhow::anyhow!(
                "{TOKEN_VAR} is not a bot token (it looks like 123456:ABC-def..., from @BotFather)"
            )
        }),
        _ => Ok(None),
    }
}

/// The webhook secret from `PRICEHOUND_WEBHOOK_SECRET`, if set.
pub fn secret() -> anyhow::Result<Option<WebhookSecret>> {
    match std::env::var(SECRET_VAR) {
        Ok(s) if !s.is_empty() => WebhookSecret::new(s)
            .map(Some)
            .map_err(|e| anyhow::anyhow!("{SECRET_VAR}: {e}")),
        _ => Ok(None),
    }
}

/// The Bot API server: `PRICEHOUND_TELEGRAM_API`, else Telegram's.
pub fn api_base() -> String {
    std::env::var(API_VAR).unwrap_or_else(|_| DEFAULT_API.to_string())
}

pub fn api(token: BotToken) -> anyhow::Result<BotApi> {
    let http = reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(10))
        .build()?;
    Ok(BotApi::new(http, &api_base(), token))
}
