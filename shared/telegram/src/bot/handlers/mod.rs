//! One function per command and per button: the two routers here send each
//! to its function, by area.
//!
//! - [`items`]: `/prices`, `/search`, `/item`, an item's view, the watch list
//!   (`/watch`, `/unwatch`, `/list`, `/clear`);
//! - [`alerts`]: `/alert`, `/alerts` and the alert buttons;
//! - [`chart`]: `/chart` and the chart button;
//! - [`general`]: `/start`, `/help`, `/lang`, `/stats`, unknown commands.
//!
//! Pasted pages (`/untrack`, the "Track" button) are in `bot::tracking`.

mod alerts;
mod chart;
mod general;
mod items;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::future::Future;

use crate::domain::{ItemId, LatestPrice, SourceId};
use crate::store::StoreError;

use crate::bot::catalog::{Resolved, Viewer};
use crate::bot::views::{self, NAME_IN_BUTTON, keyboard};
use crate::callback::Callback;
use crate::commands::Command;
use crate::html::truncate;
use crate::methods::Method;
use crate::texts::Text;
use crate::types::{InlineKeyboardButton as Button, InlineKeyboardMarkup};

use super::{Bot, Ctx};

type Reply = Result<Vec<Method>, StoreError>;
/// A button's effect: a short toast (the callback answer) and the calls.
type ButtonReply = Result<(Option<String>, Vec<Method>), StoreError>;

/// The deep-link payload that opens an item: `i_` and the id in URL-safe
/// base64; None when the id is too long for Telegram's 64 characters.
pub fn item_deep_link(item: &ItemId) -> Option<String> {
    let p = format!("i_{}", URL_SAFE_NO_PAD.encode(item.as_str()));
    (p.len() <= 64).then_some(p)
}

fn item_from_deep_link(payload: &str) -> Option<ItemId> {
    let b = URL_SAFE_NO_PAD.decode(payload.strip_prefix("i_")?).ok()?;
    ItemId::new(String::from_utf8(b).ok()?).ok()
}

impl Bot {
    /// A command: the calls that answer it. `is_new`: the user's first
    /// message to the bot (`/start` then welcomes rather than welcomes back).
    pub(super) async fn command(&self, ctx: &Ctx, cmd: Command, is_new: bool) -> Reply {
        match cmd {
            Command::Start(payload) => self.start(ctx, payload.as_deref(), is_new).await,
            Command::Help => self.help(ctx),
            Command::Prices(source) => self.prices_command(ctx, source.as_deref()).await,
            Command::Search(q) => self.search(ctx, &q).await,
            Command::Item(q) => self.item_command(ctx, &q).await,
            Command::Watch(q) => self.watch_command(ctx, &q).await,
            Command::Unwatch(q) => self.unwatch_command(ctx, &q).await,
            Command::List => self.list(ctx).await,
            Command::Clear => self.clear_command(ctx).await,
            Command::Alert(args) => self.alert_command(ctx, &args).await,
            Command::Alerts => self.alerts_command(ctx).await,
            Command::Chart(args) => self.chart_command(ctx, &args).await,
            Command::Lang(code) => self.lang_command(ctx, code.as_deref()).await,
            Command::Stats => self.stats(ctx).await,
            Command::Untrack(q) => self.untrack_command(ctx, &q).await,
            Command::Unknown(name) => self.unknown_command(ctx, &name),
        }
    }

    /// A pressed button: the toast and the calls. `editable` is the message
    /// the button is on, if Telegram still lets us edit it. Buttons about
    /// an item check first that the user may still see it
    /// ([`Bot::if_visible`]).
    pub(super) async fn button(
        &self,
        ctx: &Ctx,
        callback: Callback,
        editable: Option<i64>,
    ) -> ButtonReply {
        match callback {
            Callback::Item(id) => self.item_pressed(ctx, &id).await,
            Callback::Watch(id) => self.watch_pressed(ctx, &id, editable).await,
            Callback::Unwatch(id) => self.unwatch_pressed(ctx, &id, editable).await,
            Callback::AlertMenu(id) => self.alert_menu_pressed(ctx, &id).await,
            Callback::AlertDrop(id, percent) => self.alert_drop_pressed(ctx, &id, percent).await,
            Callback::AlertBackInStock(id) => self.back_in_stock_pressed(ctx, &id).await,
            Callback::Chart(id, window) => self.chart_pressed(ctx, &id, window).await,
            Callback::DeleteAlert(alert) => self.delete_alert_pressed(ctx, &alert, editable).await,
            Callback::Clear(yes) => self.clear_pressed(ctx, yes, editable).await,
            Callback::Lang(lang) => self.lang_pressed(ctx, lang, editable).await,
            Callback::Prices { page, source } => {
                self.prices_pressed(ctx, page, source, editable).await
            }
            Callback::Track(url) => Ok((None, self.request_tracking(ctx, &url).await)),
            Callback::Untrack(source) => self.untrack_pressed(ctx, &source, editable).await,
            Callback::Mute(alert) => self.mute_pressed(ctx, &alert).await,
        }
    }

    /// A pasted link: offers to track the page.
    pub(super) async fn offer_tracking(&self, ctx: &Ctx, url: url::Url) -> Reply {
        // Offered as stored: without query string or fragment.
        let canonical = crate::sources::tracked::canonical_url(&url);
        let (Some(_), Some(_), true, Some(url)) = (
            self.tracker.as_ref(),
            self.track_jobs.as_ref(),
            self.config.track_links,
            canonical,
        ) else {
            return Ok(vec![ctx.send(ctx.t(&Text::TrackUnavailable))]);
        };
        let data = self
            .callback_data(&Callback::Track(url.to_string()), ctx.now)
            .await?;
        let kb = keyboard(vec![vec![Button::callback(ctx.t(&Text::BtnTrack), data)]]);
        Ok(ctx.send_all(&ctx.t(&Text::TrackOffer { url: url.as_str() }), kb))
    }

    /// The guard of every button about an item: runs `then` on item `id`
    /// if this user may still see it (see [`Bot::visible_item`]); else the
    /// button has expired (the item is gone, or is a pasted page's the user
    /// no longer tracks or watches), and the answer says so.
    async fn if_visible<F>(
        &self,
        ctx: &Ctx,
        id: &ItemId,
        then: impl FnOnce(LatestPrice) -> F,
    ) -> ButtonReply
    where
        F: Future<Output = ButtonReply>,
    {
        match self.visible_item(ctx, id).await? {
            Some(item) => then(item).await,
            None => Ok((Some(ctx.t(&Text::ButtonExpired)), Vec::new())),
        }
    }

    /// An item's latest price, if this user may see it: a pasted page's
    /// item only for those who track or watch it, so a deep link or a
    /// forged button cannot open another user's page.
    async fn visible_item(
        &self,
        ctx: &Ctx,
        id: &ItemId,
    ) -> Result<Option<LatestPrice>, StoreError> {
        let Some(item) = self.store.latest_price(id).await? else {
            return Ok(None);
        };
        if !item.source_id.is_user_page() {
            return Ok(Some(item));
        }
        Ok(self.viewer(ctx).await?.sees(&item).then_some(item))
    }

    /// The "open in app" row (the Mini App at `tab`), when the app's URL is
    /// configured: a web_app button, which Telegram offers in private chats.
    fn app_button(&self, ctx: &Ctx, tab: &str) -> Option<Vec<crate::types::InlineKeyboardButton>> {
        let base = self.config.app_url.as_ref()?;
        let mut url = url::Url::parse(base).ok()?;
        url.query_pairs_mut().clear().append_pair("tab", tab);
        Some(vec![crate::types::InlineKeyboardButton::web_app(
            ctx.t(&crate::texts::Text::BtnApp),
            url.to_string(),
        )])
    }

    /// What this user may see of the catalogue: pasted pages only if they
    /// track or watch them (see [`Viewer`]).
    async fn viewer(&self, ctx: &Ctx) -> Result<Viewer, StoreError> {
        let user = ctx.user.profile.id;
        let mut own_pages: std::collections::HashSet<SourceId> = self
            .users
            .tracked_pages_of(user)
            .await?
            .into_iter()
            .map(|p| p.source_id)
            .collect();
        own_pages.extend(
            self.users
                .watches(user)
                .await?
                .iter()
                .map(|w| w.item.source_id())
                .filter(crate::sources::tracked::is_user_source),
        );
        Ok(Viewer {
            own_pages,
            everything: false,
        })
    }

    /// Buttons for a list of items, each doing `action`.
    async fn item_buttons(
        &self,
        ctx: &Ctx,
        items: &[LatestPrice],
        action: impl Fn(&LatestPrice) -> Callback,
    ) -> Result<InlineKeyboardMarkup, StoreError> {
        let mut rows = Vec::new();
        for item in items {
            let label = format!(
                "{} — {}",
                truncate(&item.name, NAME_IN_BUTTON),
                views::price(ctx.lang, item)
            );
            rows.push(vec![Button::callback(
                label,
                self.callback_data(&action(item), ctx.now).await?,
            )]);
        }
        Ok(keyboard(rows))
    }

    /// Resolves the user's words to one item and runs `then` on it, or
    /// offers the candidates as buttons doing `choose`, or says none matched.
    async fn with_item<F>(
        &self,
        ctx: &Ctx,
        query: &str,
        choose: impl Fn(&LatestPrice) -> Callback,
        then: impl FnOnce(LatestPrice) -> F,
    ) -> Reply
    where
        F: Future<Output = Reply>,
    {
        match self
            .catalog
            .resolve(query, &self.viewer(ctx).await?)
            .await?
        {
            Resolved::One(item) => then(*item).await,
            Resolved::Many(items) => {
                let kb = self.item_buttons(ctx, &items, choose).await?;
                Ok(ctx.send_all(&ctx.t(&Text::ItemChoose { query }), kb))
            }
            Resolved::None => Ok(vec![ctx.send(ctx.t(&Text::ItemNotFound { query }))]),
        }
    }
}
