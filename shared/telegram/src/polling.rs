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
/// How long an update being answered may still take once shutdown begins.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// How long the last confirmation at shutdown may take.
const CONFIRM_TIMEOUT: Duration = Duration::from_secs(2);

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
    // The startup calls have no deadline of their own (the HTTP client may
    // have none): a Bot API that never answers must not hold up shutdown.
    let poll = tokio::select! {
        poll = prepare(&dispatcher) => poll,
        _ = stop.wait_for(|s| *s) => false,
    };
    if !poll {
        return;
    }
    let api = dispatcher.api.clone();
    tracing::info!("bot is polling for updates");
    let mut offset: Option<i64> = None;
    // The offset Telegram last accepted: what it will not send again.
    let mut confirmed: Option<i64> = None;
    let mut backoff = Duration::from_millis(500);
    'poll: loop {
        if *stop.borrow() {
            break;
        }
        let updates = tokio::select! {
            r = api.get_updates(offset, LONG_POLL_SECS, ALLOWED_UPDATES) => r,
            _ = stop.wait_for(|s| *s) => break,
        };
        match updates {
            Ok(updates) => {
                confirmed = offset;
                backoff = Duration::from_millis(500);
                for update in updates {
                    // An update in hand is finished after shutdown begins,
                    // within a grace period; one given up on is not
                    // confirmed, so Telegram sends it again next time.
                    tokio::select! {
                        _ = dispatcher.dispatch(&update, Utc::now(), false) => {}
                        _ = grace_over(&mut stop) => {
                            tracing::warn!(update_id = update.update_id, "shutting down: gave up on an update still being answered");
                            break 'poll;
                        }
                    }
                    // Confirmed on the next call whatever happened: an update
                    // that fails to be handled must not come back forever.
                    offset = Some(update.update_id.saturating_add(1));
                }
            }
            Err(e) => {
                let wait = match &e {
                    // At least a second, so a `retry_after` of 0 cannot spin.
                    BotError::RetryAfter { seconds, .. } => Duration::from_secs((*seconds).max(1)),
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
    if offset != confirmed {
        // Updates handled since the last poll: confirm them now, or the next
        // start answers them again. Timeout 0 returns at once; whatever it
        // returns is not confirmed and comes back next time.
        match tokio::time::timeout(CONFIRM_TIMEOUT, api.get_updates(offset, 0, ALLOWED_UPDATES))
            .await
        {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "could not confirm the last updates"),
            Err(_) => tracing::warn!("could not confirm the last updates: no answer"),
        }
    }
    tracing::info!("bot stopped polling");
}

/// The webhook check and the command menus; false when a webhook is set.
async fn prepare(dispatcher: &Dispatcher) -> bool {
    match dispatcher.api.get_webhook_info().await {
        Ok(info) if !info.url.is_empty() => {
            tracing::warn!(
                "a webhook is set for this bot; not polling (`pricehound webhook delete` to poll locally)"
            );
            return false;
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "getWebhookInfo failed; polling anyway"),
    }
    for call in command_menus() {
        dispatcher.deliver(&call).await;
    }
    true
}

/// Resolves [`SHUTDOWN_GRACE`] after shutdown begins.
async fn grace_over(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
    tokio::time::sleep(SHUTDOWN_GRACE).await;
}
