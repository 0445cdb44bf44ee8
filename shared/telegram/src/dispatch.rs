//! From an update to Telegram: dedupe, let the bot decide, deliver.
//!
//! Shared by the webhook (which may carry the last call in its response
//! body) and long polling (which sends everything through the Bot API).

use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Duration;

use crate::domain::user::UserId;
use crate::store::UserStore;

use super::api::{BotApi, BotError};
use super::bot::Bot;
use super::methods::Method;
use super::types::Update;

/// How long one Bot API call may spend waiting out 429s and retries while
/// an update is handled: Telegram re-sends a webhook after 60 s.
const SEND_BUDGET: Duration = Duration::from_secs(15);

pub struct Dispatcher {
    pub bot: Arc<Bot>,
    pub api: BotApi,
    users: Arc<dyn UserStore>,
}

/// What became of one update.
#[derive(Debug, PartialEq)]
pub enum Dispatched {
    /// Seen before (a retry of an update already handled): nothing sent.
    Duplicate,
    /// Handled; the call left for the webhook response body, if any.
    Handled { body: Option<Method> },
}

impl Dispatcher {
    pub fn new(bot: Arc<Bot>, api: BotApi) -> Self {
        Dispatcher {
            users: bot.users.clone(),
            bot,
            api,
        }
    }

    /// Handles `update` once. With `body_allowed`, the last call is returned
    /// instead of sent when it can travel in a webhook response (every
    /// earlier call is sent first, so the order in the chat is kept).
    pub async fn dispatch(
        &self,
        update: &Update,
        now: DateTime<Utc>,
        body_allowed: bool,
    ) -> Dispatched {
        match self.users.claim_update(update.update_id, now).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::info!(update_id = update.update_id, "duplicate update ignored");
                return Dispatched::Duplicate;
            }
            // Better to risk answering twice than to drop the update.
            Err(e) => {
                tracing::warn!(update_id = update.update_id, error = %e, "update dedupe unavailable")
            }
        }
        let mut methods = self.bot.handle(update, now).await;
        let body = match methods.last() {
            Some(m) if body_allowed && m.webhook_body().is_some() => methods.pop(),
            _ => None,
        };
        for method in &methods {
            self.deliver(method).await;
        }
        Dispatched::Handled { body }
    }

    /// Sends one call; a user who blocked the bot gets their alerts paused.
    pub async fn deliver(&self, method: &Method) {
        match self.api.send(method, SEND_BUDGET).await {
            Ok(_) => {}
            Err(e) => self.on_error(method, &e).await,
        }
    }

    async fn on_error(&self, method: &Method, e: &BotError) {
        tracing::warn!(method = method.name(), chat_id = method.chat_id(), error = %e, "Bot API call failed");
        if e.is_blocked()
            && let Some(chat) = method.chat_id().filter(|c| *c > 0)
        {
            // Positive chat ids are private chats, whose id is the user's.
            match self.users.mark_blocked(UserId(chat)).await {
                Ok(n) => tracing::info!(alerts_paused = n, "user blocked the bot"),
                Err(e) => tracing::warn!(error = %e, "could not mark user as blocked"),
            }
            // As when Telegram reports the block (my_chat_member): we stop
            // fetching pages for someone who no longer reads the answers.
            if let Err(e) = self.bot.forget_tracked_pages(UserId(chat)).await {
                tracing::warn!(error = %e, "could not untrack a blocked user's pages");
            }
        }
    }
}
