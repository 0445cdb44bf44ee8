//! The bot: turns one Telegram update into the Bot API calls that answer it.
//!
//! [`Bot::handle`] is the one entry for both ways updates arrive (the
//! webhook route and long polling). It decides, reads and writes the
//! stores, and returns [`Method`] values; it never talks to Telegram itself,
//! so it is tested without a network and the webhook can put one answer in
//! its response body.

/// Public for the property tests and the fuzz target that feed it hostile text.
pub mod alert_args;
mod catalog;
mod handlers;
pub mod tracking;
pub mod views;

pub use catalog::{Catalog, Resolved, Viewer};
pub use handlers::item_deep_link;
pub use tracking::{TrackJob, TrackJobError, TrackJobs};

use chrono::{DateTime, Duration, Utc};
use std::collections::HashSet;
use std::sync::Arc;

use crate::domain::user::{Contact, Lang, UsageEvent, UsageKind, User, UserId, UserProfile};
use crate::sources::SourcesConfig;
use crate::store::{Payloads, Store, StoreError, UserStore};

use super::callback::Callback;
use super::commands::{self, Input};
use super::methods::{AnswerCallbackQuery, Method, SendMessage};
use super::texts::{Text, render};
use super::types::{self, CallbackQuery, Message, Update, UpdateKind};

/// How the bot behaves; everything has a sensible default.
#[derive(Debug, Clone)]
pub struct BotConfig {
    /// The bot's username without `@`, to ignore commands meant for other
    /// bots in groups and to build deep links. None accepts every command.
    pub username: Option<String>,
    /// Telegram user ids allowed to use `/stats`.
    pub admins: HashSet<i64>,
    /// Requests a user may make per throttle window before "slow down".
    pub burst: u32,
    /// The throttle window.
    pub window: Duration,
    /// Offer to track pasted product links.
    pub track_links: bool,
    /// Items per page of `/prices`.
    pub page_size: usize,
    /// Caps on pages users make us track.
    pub track_limits: TrackLimits,
    /// The most time reading a pasted page may take, fetch and all; then
    /// the user is told it could not be read.
    pub track_deadline: std::time::Duration,
    /// "Track" presses one user may make per UTC day
    /// (`PRICEHOUND_TRACK_DAILY`): each makes us fetch a page of their
    /// choosing, so it is counted apart from the general throttle.
    pub track_daily: u32,
    /// The Mini App's https URL (`PRICEHOUND_APP_URL`, e.g. the Function
    /// URL and `/app`): items, `/list` and `/alerts` get an "open in app"
    /// button. None shows none.
    pub app_url: Option<String>,
}

// The tracking port is the core's: the sources crate implements it.
pub use pricehound_core::tracking::{PageTracker, TrackLimits, TrackRefused};

impl Default for BotConfig {
    fn default() -> Self {
        BotConfig {
            username: None,
            admins: HashSet::new(),
            burst: 8,
            window: Duration::seconds(10),
            track_links: true,
            page_size: 15,
            track_limits: TrackLimits::default(),
            track_deadline: std::time::Duration::from_secs(20),
            track_daily: 30,
            app_url: None,
        }
    }
}

impl BotConfig {
    /// `PRICEHOUND_BOT_USERNAME`, `PRICEHOUND_ADMINS` (comma-separated
    /// Telegram user ids), `PRICEHOUND_TRACK_PER_USER` and
    /// `PRICEHOUND_TRACK_GLOBAL` (caps on tracked pages) and
    /// `PRICEHOUND_TRACK_DAILY` (track requests per user and day) over the
    /// defaults, from `var` (see `crate::settings`, the one reader of the
    /// environment). The error names the variable.
    pub fn from_vars(var: &dyn Fn(&str) -> Option<String>) -> Result<Self, (&'static str, String)> {
        let mut cfg = BotConfig::default();
        if let Some(name) = var("PRICEHOUND_BOT_USERNAME") {
            let name = name.trim().trim_start_matches('@').to_string();
            if !name.is_empty() {
                cfg.username = Some(name);
            }
        }
        if let Some(admins) = var("PRICEHOUND_ADMINS") {
            for part in admins.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                let id = part.parse::<i64>().map_err(|_| {
                    (
                        "PRICEHOUND_ADMINS",
                        format!("{part:?} is not a Telegram user id (a number)"),
                    )
                })?;
                cfg.admins.insert(id);
            }
        }
        for (name, field) in [
            ("PRICEHOUND_TRACK_PER_USER", &mut cfg.track_limits.per_user),
            ("PRICEHOUND_TRACK_GLOBAL", &mut cfg.track_limits.global),
        ] {
            if let Some(v) = var(name) {
                *field = v.trim().parse::<u32>().map_err(|_| {
                    (
                        name,
                        format!(
                            "{v:?} is not a number of pages (0 turns tracking off for new pages)"
                        ),
                    )
                })?;
            }
        }
        if let Some(v) = var("PRICEHOUND_APP_URL").filter(|v| !v.trim().is_empty()) {
            let url = url::Url::parse(v.trim())
                .map_err(|e| ("PRICEHOUND_APP_URL", format!("{v:?} is not a URL: {e}")))?;
            if url.scheme() != "https" {
                return Err((
                    "PRICEHOUND_APP_URL",
                    "must be https (Telegram opens Mini Apps over https only)".into(),
                ));
            }
            cfg.app_url = Some(url.to_string());
        }
        if let Some(v) = var("PRICEHOUND_TRACK_DAILY") {
            cfg.track_daily = v.trim().parse::<u32>().map_err(|_| {
                (
                    "PRICEHOUND_TRACK_DAILY",
                    format!("{v:?} is not a number of track requests per user and day"),
                )
            })?;
        }
        Ok(cfg)
    }
}

pub struct Bot {
    pub store: Arc<dyn Store>,
    pub users: Arc<dyn UserStore>,
    pub sources: Arc<SourcesConfig>,
    pub config: BotConfig,
    pub catalog: Catalog,
    /// Reads pasted pages (where track jobs run).
    pub tracker: Option<Arc<dyn PageTracker>>,
    /// Where a pressed "Track" goes: the page is read off the webhook's
    /// path, and the result follows as a message.
    pub track_jobs: Option<Arc<dyn TrackJobs>>,
}

/// Who is talking and where to answer.
pub(crate) struct Ctx {
    pub user: User,
    pub lang: Lang,
    pub chat_id: i64,
    pub now: DateTime<Utc>,
}

impl Ctx {
    pub fn t(&self, text: &Text) -> String {
        render(self.lang, text)
    }
}

impl Bot {
    pub fn new(
        store: Arc<dyn Store>,
        users: Arc<dyn UserStore>,
        sources: Arc<SourcesConfig>,
        config: BotConfig,
    ) -> Self {
        Bot {
            catalog: Catalog::new(store.clone()),
            store,
            users,
            sources,
            config,
            tracker: None,
            track_jobs: None,
        }
    }

    /// Reads pasted pages with `tracker` (the bot that runs track jobs).
    pub fn with_tracker(mut self, tracker: Arc<dyn PageTracker>) -> Self {
        self.tracker = Some(tracker);
        self
    }

    /// Hands pressed "Track" buttons to `jobs` (the bot behind the webhook
    /// or long polling). Without it, tracking is not offered.
    pub fn with_track_jobs(mut self, jobs: Arc<dyn TrackJobs>) -> Self {
        self.track_jobs = Some(jobs);
        self
    }

    /// The calls that answer `update`, in order. Updates the bot ignores
    /// give none. A store failure gives an apology (or, for a button, an
    /// answer saying so) rather than an error: Telegram must not retry.
    pub async fn handle(&self, update: &Update, now: DateTime<Utc>) -> Vec<Method> {
        let kind = update.kind();
        let result = match &kind {
            UpdateKind::Message(m) => self.on_message(m, now).await,
            UpdateKind::CallbackQuery(q) => self.on_callback(q, now).await,
            UpdateKind::MyChatMember(m) => self.on_member(m, now).await,
            UpdateKind::EditedMessage(_) => {
                tracing::debug!(update_id = update.update_id, "edited message ignored");
                Ok(Vec::new())
            }
            UpdateKind::Other(kind) => {
                tracing::info!(update_id = update.update_id, kind = %kind, "update kind ignored");
                Ok(Vec::new())
            }
            UpdateKind::Malformed { field, error } => {
                tracing::warn!(update_id = update.update_id, field = %field, error = %error, "malformed update ignored");
                Ok(Vec::new())
            }
        };
        match result {
            Ok(methods) => methods,
            Err(e) => {
                tracing::error!(update_id = update.update_id, error = %e, "update failed");
                apology(&kind)
            }
        }
    }

    async fn on_message(&self, m: &Message, now: DateTime<Utc>) -> Result<Vec<Method>, StoreError> {
        let Some(from) = m.from.as_ref().filter(|f| !f.is_bot) else {
            return Ok(Vec::new());
        };
        let Some(text) = m.text.as_deref() else {
            // Photos, stickers, voice: nothing to do; a hint in private chats.
            return Ok(if m.chat.is_private() {
                vec![self.quick_reply(from, m.chat.id, &Text::Help)]
            } else {
                Vec::new()
            });
        };
        let input = commands::parse(text, self.config.username.as_deref());
        let private = m.chat.is_private();
        match &input {
            Input::NotForUs => return Ok(Vec::new()),
            Input::Text(_) | Input::Link(_) if !private => return Ok(Vec::new()),
            _ => {}
        }
        if let Some(reply) = self
            .throttled(from, now, |text| {
                vec![Method::SendMessage(SendMessage::html(m.chat.id, text))]
            })
            .await?
        {
            return Ok(reply);
        }
        let referrer = match &input {
            Input::Command(commands::Command::Start(Some(p))) if !p.starts_with("i_") => {
                Some(p.clone())
            }
            _ => None,
        };
        let (user, is_new) = self
            .users
            .touch_user(&Contact {
                profile: profile(from),
                at: now,
                referrer,
            })
            .await?;
        let ctx = Ctx {
            lang: user.lang(),
            user,
            chat_id: m.chat.id,
            now,
        };
        let usage = match &input {
            Input::Command(c) => c.name().to_string(),
            Input::Link(_) => "link".to_string(),
            _ => "text".to_string(),
        };
        self.record(&ctx, UsageKind::Command(usage)).await;
        match input {
            Input::Command(cmd) => self.command(&ctx, cmd, is_new).await,
            Input::Link(url) => self.offer_tracking(&ctx, url).await,
            Input::Text(_) => Ok(vec![ctx.send(ctx.t(&Text::Help))]),
            Input::NotForUs => Ok(Vec::new()),
        }
    }

    async fn on_callback(
        &self,
        q: &CallbackQuery,
        now: DateTime<Utc>,
    ) -> Result<Vec<Method>, StoreError> {
        let answer = |text: Option<String>| {
            Method::AnswerCallbackQuery(AnswerCallbackQuery {
                callback_query_id: q.id.clone(),
                text: text.map(|t| super::html::truncate(&t, super::methods::MAX_CALLBACK_ANSWER)),
            })
        };
        if let Some(reply) = self
            .throttled(&q.from, now, |text| vec![answer(Some(text))])
            .await?
        {
            return Ok(reply);
        }
        let (user, _) = self
            .users
            .touch_user(&Contact {
                profile: profile(&q.from),
                at: now,
                referrer: None,
            })
            .await?;
        let message = q.message.as_ref();
        let ctx = Ctx {
            lang: user.lang(),
            user,
            chat_id: message.map(|m| m.chat.id).unwrap_or(q.from.id),
            now,
        };
        let data = q.data.as_deref().unwrap_or_default();
        let callback = self.decode_callback(data, now).await?;
        let Some(callback) = callback else {
            tracing::info!(data_len = data.len(), "unknown or expired callback data");
            return Ok(vec![answer(Some(ctx.t(&Text::ButtonExpired)))]);
        };
        self.record(&ctx, UsageKind::Command("button".into())).await;
        // The message the button is on, if Telegram still lets us edit it.
        let editable = message.filter(|m| m.date != 0).map(|m| m.message_id);
        let (toast, mut methods) = self.button(&ctx, callback, editable).await?;
        // Every callback query is answered, last, so the webhook can carry
        // the answer in its body while the visible change goes first.
        methods.push(answer(toast));
        Ok(methods)
    }

    async fn on_member(
        &self,
        m: &types::ChatMemberUpdated,
        now: DateTime<Utc>,
    ) -> Result<Vec<Method>, StoreError> {
        if !m.chat.is_private() {
            return Ok(Vec::new());
        }
        match m.new_chat_member.status.as_str() {
            "kicked" => {
                let user = UserId(m.from.id);
                let n = self.users.mark_blocked(user).await?;
                // Nobody reads what we would fetch for them any more.
                let pages = self.forget_tracked_pages(user).await?;
                tracing::info!(
                    alerts_paused = n,
                    pages_untracked = pages,
                    "user blocked the bot"
                );
            }
            "member" => {
                self.users
                    .touch_user(&Contact {
                        profile: profile(&m.from),
                        at: now,
                        referrer: None,
                    })
                    .await?;
            }
            _ => {}
        }
        Ok(Vec::new())
    }

    /// Counts the request; over the burst, the first extra request gets a
    /// polite "slow down" (in Telegram's language for the user: no store
    /// read), later ones nothing.
    async fn throttled(
        &self,
        from: &types::User,
        now: DateTime<Utc>,
        reply: impl FnOnce(String) -> Vec<Method>,
    ) -> Result<Option<Vec<Method>>, StoreError> {
        let window = crate::store::rules::window_start(now, self.config.window);
        let count = self.users.throttle_hit(UserId(from.id), window).await?;
        if count <= self.config.burst {
            return Ok(None);
        }
        tracing::info!(count, "user throttled");
        if count == self.config.burst + 1 {
            let lang = from
                .language_code
                .as_deref()
                .and_then(Lang::from_code)
                .unwrap_or_default();
            return Ok(Some(reply(render(lang, &Text::SlowDown))));
        }
        // Still answer buttons (an empty answer stops the spinner).
        Ok(Some(
            reply(String::new())
                .into_iter()
                .filter(|m| matches!(m, Method::AnswerCallbackQuery(_)))
                .collect(),
        ))
    }

    fn quick_reply(&self, from: &types::User, chat_id: i64, text: &Text) -> Method {
        let lang = from
            .language_code
            .as_deref()
            .and_then(Lang::from_code)
            .unwrap_or_default();
        Method::SendMessage(SendMessage::html(chat_id, render(lang, text)))
    }

    async fn record(&self, ctx: &Ctx, kind: UsageKind) {
        let event = UsageEvent {
            user: ctx.user.profile.id,
            at: ctx.now,
            kind,
        };
        // Analytics must never cost the user an answer.
        if let Err(e) = self.users.record_usage(&event).await {
            tracing::warn!(error = %e, "usage event not recorded");
        }
    }

    /// Callback data, looking up stashed data (`~…`) in the store.
    async fn decode_callback(
        &self,
        data: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Callback>, StoreError> {
        if data.starts_with(super::callback::STASH_PREFIX) && data.len() <= 64 {
            return Ok(self
                .users
                .payload(&format!("cb{data}"), now)
                .await?
                .and_then(|full| Callback::decode(&full)));
        }
        Ok(Callback::decode(data))
    }

    /// The `callback_data` for a button (see [`button_data`]).
    pub(crate) async fn callback_data(
        &self,
        callback: &Callback,
        now: DateTime<Utc>,
    ) -> Result<String, StoreError> {
        button_data(self.users.as_ref(), callback, now).await
    }
}

/// The `callback_data` for a button: as is when it fits in 64 bytes, else
/// stashed in the user store for [`STASH_DAYS`] under a hash (the bot looks
/// it up when the button is pressed). Shared with the alert notifier.
pub async fn button_data(
    users: &dyn Payloads,
    callback: &Callback,
    now: DateTime<Utc>,
) -> Result<String, StoreError> {
    let full = callback.encode();
    if Callback::fits(&full) {
        return Ok(full);
    }
    let key = Callback::stash_key(&full);
    users
        .put_payload(&format!("cb{key}"), &full, now + Duration::days(STASH_DAYS))
        .await?;
    Ok(key)
}

/// How long a button with stashed data keeps working.
pub const STASH_DAYS: i64 = 90;

fn profile(u: &types::User) -> UserProfile {
    UserProfile {
        id: UserId(u.id),
        first_name: u.first_name.clone(),
        last_name: u.last_name.clone(),
        username: u.username.clone(),
        language_code: u.language_code.clone(),
    }
}

/// What a user sees when the store failed: a short apology, or for a
/// button, an answer (every callback query is answered).
fn apology(kind: &UpdateKind) -> Vec<Method> {
    let lang_of = |u: &types::User| {
        u.language_code
            .as_deref()
            .and_then(Lang::from_code)
            .unwrap_or_default()
    };
    match kind {
        UpdateKind::Message(m) if m.from.is_some() && m.chat.is_private() => {
            let lang = lang_of(m.from.as_ref().expect("checked"));
            vec![Method::SendMessage(SendMessage::html(
                m.chat.id,
                render(lang, &Text::SomethingWentWrong),
            ))]
        }
        UpdateKind::CallbackQuery(q) => vec![Method::AnswerCallbackQuery(AnswerCallbackQuery {
            callback_query_id: q.id.clone(),
            text: Some(render(lang_of(&q.from), &Text::SomethingWentWrong)),
        })],
        _ => Vec::new(),
    }
}
