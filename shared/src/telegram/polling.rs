//! Long polling for `pricehound serve`: the bot works on a laptop with no
//! public URL. Telegram refuses `getUpdates` while a webhook is set, so
//! polling starts only when none is.

use chrono::Utc;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

use super::api::BotError;
use super::dispatch::Dispatcher;
use super::methods::{Method, SetMyCommands};
use super::texts;
use super::types::BotCommand;
use crate::domain::user::Lang;

/// The update kinds the bot acts on; others are not even sent to us.
pub const ALLOWED_UPDATES: &[&str] = &["message", "callback_query", "my_chat_member"];

/// Seconds Telegram holds a `getUpdates` call open when there is nothing new.
const LONG_POLL_SECS: u32 = 25;
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The `setMyCommands` calls: a default list (English) and one per language.
pub fn command_menus() -> Vec<Method> {
    let menu = |lang: Lang| {
        texts::commands(lang)
            .into_iter()
            .map(|(command, description)| BotCommand {
                command: command.to_string(),
                description: description.to_string(),
            })
            .collect::<Vec<_>>()
    };
    let mut calls = vec![Method::SetMyCommands(SetMyCommands {
        commands: menu(Lang::En),
        language_code: None,
    })];
    for lang in Lang::ALL {
        calls.push(Method::SetMyCommands(SetMyCommands {
            commands: menu(lang),
            language_code: Some(lang.code().to_string()),
        }));
    }
    calls
}

/// Polls until `stop` turns true. Returns at once (with a log line) when a
/// webhook is set: that bot is served elsewhere.
pub async fn run(dispatcher: Arc<Dispatcher>, mut stop: watch::Receiver<bool>) {
    let api = dispatcher.api.clone();
    match api.get_webhook_info().await {
        Ok(info) if !info.url.is_empty() => {
            tracing::warn!(
                "a webhook is set for this bot; not polling (`pricehound webhook delete` to poll locally)"
            );
            return;
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "getWebhookInfo failed; polling anyway"),
    }
    for call in command_menus() {
        dispatcher.deliver(&call).await;
    }
    tracing::info!("bot is polling for updates");
    let mut offset: Option<i64> = None;
    let mut backoff = Duration::from_millis(500);
    loop {
        if *stop.borrow() {
            break;
        }
        let updates = tokio::select! {
            r = api.get_updates(offset, LONG_POLL_SECS, ALLOWED_UPDATES) => r,
            _ = stop.wait_for(|s| *s) => break,
        };
        match updates {
            Ok(updates) => {
                backoff = Duration::from_millis(500);
                for update in updates {
                    // Confirmed on the next call whatever happens: an update
                    // that fails to be handled must not come back forever.
                    offset = Some(update.update_id + 1);
                    dispatcher.dispatch(&update, Utc::now(), false).await;
                }
            }
            Err(e) => {
                let wait = match &e {
                    BotError::RetryAfter { seconds, .. } => Duration::from_secs(*seconds),
                    _ => backoff,
                };
                tracing::warn!(error = %e, wait_ms = wait.as_millis() as u64, "getUpdates failed; backing off");
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = stop.wait_for(|s| *s) => break,
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
    tracing::info!("bot stopped polling");
}
