//! The catalogue and the watch list: `/prices`, `/search`, `/item`, an
//! item's view, `/watch`, `/unwatch`, `/list`, `/clear` and their buttons.

use crate::domain::user::{UserId, Watch};
use crate::domain::{ItemId, LatestPrice, SourceId};
use crate::store::StoreError;

use crate::bot::catalog;
use crate::bot::views::{self, keyboard, plain};
use crate::callback::{Callback, ChartWindow};
use crate::html::escape;
use crate::methods::Method;
use crate::texts::Text;
use crate::types::{InlineKeyboardButton as Button, InlineKeyboardMarkup};

use super::{Bot, ButtonReply, Ctx, Reply};

/// Search results and choices shown as buttons.
const MAX_CHOICES: usize = 8;
/// Watches shown with their own button in `/list`.
const LIST_BUTTONS: usize = 20;

impl Bot {
    /// `/prices [source]`: the first page, of one source if named.
    pub(super) async fn prices_command(&self, ctx: &Ctx, source: Option<&str>) -> Reply {
        let source = match source {
            None => None,
            Some(s) => match self.find_source(s) {
                Some(id) => Some(id),
                None => {
                    let known: Vec<&str> =
                        self.sources.sources.iter().map(|s| s.id.as_str()).collect();
                    return Ok(vec![ctx.send(ctx.t(&Text::UnknownSource {
                        source: s,
                        known: &known.join(", "),
                    }))]);
                }
            },
        };
        self.prices_page(ctx, 0, source, None)
            .await
            .map(|m| vec![m])
    }

    /// "Previous" or "Next" under `/prices`.
    pub(super) async fn prices_pressed(
        &self,
        ctx: &Ctx,
        page: u32,
        source: Option<SourceId>,
        message_id: Option<i64>,
    ) -> ButtonReply {
        Ok((
            None,
            vec![
                self.prices_page(ctx, page as usize, source, message_id)
                    .await?,
            ],
        ))
    }

    /// A page of the catalogue (of one source, or all grouped by source)
    /// with "Previous" and "Next".
    async fn prices_page(
        &self,
        ctx: &Ctx,
        page: usize,
        source: Option<SourceId>,
        message_id: Option<i64>,
    ) -> Result<Method, StoreError> {
        let all = self.catalog.all().await?;
        let viewer = self.viewer(ctx).await?;
        let items: Vec<&LatestPrice> = all
            .iter()
            .filter(|i| source.as_ref().is_none_or(|s| &i.source_id == s) && viewer.sees(i))
            .collect();
        if items.is_empty() {
            return Ok(ctx.edit_or_send(
                message_id,
                ctx.t(&Text::PricesEmpty),
                InlineKeyboardMarkup::default(),
            ));
        }
        let size = self.config.page_size.max(1);
        let pages = items.len().div_ceil(size);
        let page = page.min(pages - 1);
        let title = match &source {
            Some(s) => ctx.t(&Text::PricesTitleSource {
                source: &self.source_name(s),
            }),
            None => ctx.t(&Text::PricesTitle),
        };
        let mut lines = vec![title];
        let mut current_source: Option<&SourceId> = None;
        for item in items.iter().skip(page * size).take(size) {
            if source.is_none() && current_source != Some(&item.source_id) {
                current_source = Some(&item.source_id);
                lines.push(format!(
                    "<i>{}</i>",
                    escape(&self.source_name(&item.source_id))
                ));
            }
            lines.push(views::line(ctx.lang, item));
        }
        if pages > 1 {
            lines.push(ctx.t(&Text::PageOf {
                page: page + 1,
                pages,
            }));
        }
        let mut row = Vec::new();
        if page > 0 {
            let data = self
                .callback_data(
                    &Callback::Prices {
                        page: (page - 1) as u32,
                        source: source.clone(),
                    },
                    ctx.now,
                )
                .await?;
            row.push(Button::callback(ctx.t(&Text::BtnPrev), data));
        }
        if page + 1 < pages {
            let data = self
                .callback_data(
                    &Callback::Prices {
                        page: (page + 1) as u32,
                        source: source.clone(),
                    },
                    ctx.now,
                )
                .await?;
            row.push(Button::callback(ctx.t(&Text::BtnNext), data));
        }
        Ok(ctx.edit_or_send(message_id, lines.join("\n"), keyboard(vec![row])))
    }

    fn find_source(&self, text: &str) -> Option<SourceId> {
        let t = text.trim().to_lowercase();
        self.sources
            .sources
            .iter()
            .find(|s| s.id.as_str() == t || s.name.to_lowercase() == t)
            .map(|s| s.id.clone())
    }

    fn source_name(&self, id: &SourceId) -> String {
        self.sources
            .source(id.as_str())
            .map(|s| s.name.clone())
            .unwrap_or_else(|| id.to_string())
    }

    /// `/search <words>` and `/find`: matching items as buttons.
    pub(super) async fn search(&self, ctx: &Ctx, query: &str) -> Reply {
        if query.trim().is_empty() {
            return Ok(vec![ctx.send(ctx.t(&Text::SearchUsage))]);
        }
        let found = self
            .catalog
            .search(query, MAX_CHOICES, &self.viewer(ctx).await?)
            .await?;
        if found.is_empty() {
            return Ok(vec![ctx.send(ctx.t(&Text::SearchNothing { query }))]);
        }
        let kb = self
            .item_buttons(ctx, &found, |i| Callback::Item(i.item_id.clone()))
            .await?;
        Ok(ctx.send_all(
            &ctx.t(&Text::SearchResults {
                query,
                count: found.len(),
            }),
            kb,
        ))
    }

    /// `/item <name>`: the item's view.
    pub(super) async fn item_command(&self, ctx: &Ctx, query: &str) -> Reply {
        if query.trim().is_empty() {
            return Ok(vec![ctx.send(ctx.t(&Text::ItemUsage))]);
        }
        self.with_item(
            ctx,
            query,
            |item| Callback::Item(item.item_id.clone()),
            |item| async move { self.item_view(ctx, &item, None).await.map(|m| vec![m]) },
        )
        .await
    }

    /// An item picked from a list: its view, as a new message.
    pub(super) async fn item_pressed(&self, ctx: &Ctx, id: &ItemId) -> ButtonReply {
        self.if_visible(ctx, id, |item| async move {
            Ok((None, vec![self.item_view(ctx, &item, None).await?]))
        })
        .await
    }

    /// An item with its buttons: watch or unwatch, alert, chart, open.
    pub(super) async fn item_view(
        &self,
        ctx: &Ctx,
        item: &LatestPrice,
        message_id: Option<i64>,
    ) -> Result<Method, StoreError> {
        let watching = self
            .users
            .watches(ctx.user.profile.id)
            .await?
            .iter()
            .any(|w| w.item == item.item_id);
        let id = item.item_id.clone();
        let watch = if watching {
            Button::callback(
                ctx.t(&Text::BtnUnwatch),
                self.callback_data(&Callback::Unwatch(id.clone()), ctx.now)
                    .await?,
            )
        } else {
            Button::callback(
                ctx.t(&Text::BtnWatch),
                self.callback_data(&Callback::Watch(id.clone()), ctx.now)
                    .await?,
            )
        };
        let alert = Button::callback(
            ctx.t(&Text::BtnAlert),
            self.callback_data(&Callback::AlertMenu(id.clone()), ctx.now)
                .await?,
        );
        let chart = Button::callback(
            ctx.t(&Text::BtnChart),
            self.callback_data(&Callback::Chart(id, ChartWindow::Month), ctx.now)
                .await?,
        );
        let mut row = vec![watch, alert, chart];
        row.extend(self.untrack_button_for(ctx, &item.source_id).await?);
        let text = views::item_text(ctx.lang, item, &self.source_name(&item.source_id));
        let mut rows = vec![row];
        rows.extend(self.app_button(ctx, "find"));
        Ok(ctx.edit_or_send(message_id, text, keyboard(rows)))
    }

    /// `/watch <name>` and `/add`.
    pub(super) async fn watch_command(&self, ctx: &Ctx, query: &str) -> Reply {
        if query.trim().is_empty() {
            return Ok(vec![ctx.send(ctx.t(&Text::WatchUsage))]);
        }
        self.with_item(
            ctx,
            query,
            |item| Callback::Watch(item.item_id.clone()),
            |item| async move {
                let text = self.watch(ctx, &item).await?;
                Ok(vec![ctx.send(text)])
            },
        )
        .await
    }

    /// "Watch" under an item: the toast says so, the view gets "Unwatch".
    pub(super) async fn watch_pressed(
        &self,
        ctx: &Ctx,
        id: &ItemId,
        message_id: Option<i64>,
    ) -> ButtonReply {
        self.if_visible(ctx, id, |item| async move {
            let toast = plain(&self.watch(ctx, &item).await?);
            let view = self.item_view(ctx, &item, message_id).await?;
            Ok((Some(toast), vec![view]))
        })
        .await
    }

    /// Adds the watch and says so.
    async fn watch(&self, ctx: &Ctx, item: &LatestPrice) -> Result<String, StoreError> {
        let added = self
            .users
            .add_watch(&Watch {
                user: ctx.user.profile.id,
                item: item.item_id.clone(),
                created_at: ctx.now,
                purchased_at: None,
            })
            .await?;
        Ok(if added {
            ctx.t(&Text::Watching { item: &item.name })
        } else {
            ctx.t(&Text::AlreadyWatching { item: &item.name })
        })
    }

    /// `/unwatch` and `/remove`: matched against the user's own list first,
    /// so "/remove mint" finds the watched mint, not every mint.
    pub(super) async fn unwatch_command(&self, ctx: &Ctx, query: &str) -> Reply {
        if query.trim().is_empty() {
            return Ok(vec![ctx.send(ctx.t(&Text::WatchUsage))]);
        }
        let user = ctx.user.profile.id;
        let mut watched = Vec::new();
        for w in self.users.watches(user).await? {
            if let Some(l) = self.store.latest_price(&w.item).await? {
                watched.push(l);
            }
        }
        let exact = ItemId::new(query.trim()).ok();
        let found: Vec<LatestPrice> =
            match watched.iter().find(|l| Some(&l.item_id) == exact.as_ref()) {
                Some(l) => vec![l.clone()],
                None => catalog::search_in(&watched, query, MAX_CHOICES),
            };
        match found.as_slice() {
            [] => Ok(vec![ctx.send(ctx.t(&Text::NotWatching { item: query }))]),
            [one] => {
                self.users.remove_watch(user, &one.item_id).await?;
                self.release_page_if_unwatched(user, &one.item_id).await?;
                Ok(vec![ctx.send(ctx.t(&Text::Unwatched { item: &one.name }))])
            }
            many => {
                let kb = self
                    .item_buttons(ctx, many, |i| Callback::Unwatch(i.item_id.clone()))
                    .await?;
                Ok(ctx.send_all(&ctx.t(&Text::ItemChoose { query }), kb))
            }
        }
    }

    /// "Unwatch" under an item, or an item picked after `/unwatch`. Works
    /// on items that are gone too (they can still be taken off the list).
    pub(super) async fn unwatch_pressed(
        &self,
        ctx: &Ctx,
        id: &ItemId,
        message_id: Option<i64>,
    ) -> ButtonReply {
        let user = ctx.user.profile.id;
        let removed = self.users.remove_watch(user, id).await?;
        self.release_page_if_unwatched(user, id).await?;
        let latest = self.store.latest_price(id).await?;
        let name = latest
            .as_ref()
            .map(|l| l.name.clone())
            .unwrap_or_else(|| id.to_string());
        let toast = if removed {
            ctx.t(&Text::Unwatched { item: &name })
        } else {
            ctx.t(&Text::NotWatching { item: &name })
        };
        let mut methods = Vec::new();
        if let Some(item) = latest {
            methods.push(self.item_view(ctx, &item, message_id).await?);
        }
        Ok((Some(plain(&toast)), methods))
    }

    /// "Untrack" under a pasted page's item, or a page picked after
    /// `/untrack` (see `bot::tracking`).
    pub(super) async fn untrack_pressed(
        &self,
        ctx: &Ctx,
        source: &SourceId,
        message_id: Option<i64>,
    ) -> ButtonReply {
        let text = self.untrack(ctx, source).await?;
        Ok((
            Some(plain(&text)),
            vec![ctx.edit_or_send(message_id, text, InlineKeyboardMarkup::default())],
        ))
    }

    /// After `user` stopped watching `item`: if it is a pasted page's and
    /// they watch nothing else of that page, they stop tracking it too, so a
    /// page nobody watches expires (the scraper stops reading it).
    async fn release_page_if_unwatched(
        &self,
        user: UserId,
        item: &ItemId,
    ) -> Result<(), StoreError> {
        let source = item.source_id();
        if !source.is_user_page() {
            return Ok(());
        }
        let still = self
            .users
            .watches(user)
            .await?
            .iter()
            .any(|w| w.item.source_id() == source);
        if !still {
            self.users.untrack_page(user, &source).await?;
        }
        Ok(())
    }

    /// `/list` and `/wishlist`: the watched items with their prices.
    pub(super) async fn list(&self, ctx: &Ctx) -> Reply {
        let watches = self.users.watches(ctx.user.profile.id).await?;
        if watches.is_empty() {
            return Ok(vec![ctx.send(ctx.t(&Text::ListEmpty))]);
        }
        let mut items = Vec::new();
        let mut lines = vec![ctx.t(&Text::ListTitle {
            count: watches.len(),
        })];
        for w in &watches {
            let line = match self.store.latest_price(&w.item).await? {
                Some(item) => {
                    let line = views::line(ctx.lang, &item);
                    items.push(item);
                    line
                }
                None => format!("• {}", escape(w.item.as_str())),
            };
            // Bought (ticked off in the Mini App): still listed, checked.
            lines.push(match (w.purchased_at, line.strip_prefix("• ")) {
                (Some(_), Some(rest)) => format!("✅ {rest}"),
                _ => line,
            });
        }
        let shown: Vec<LatestPrice> = items.into_iter().take(LIST_BUTTONS).collect();
        let mut kb = self
            .item_buttons(ctx, &shown, |i| Callback::Item(i.item_id.clone()))
            .await?;
        kb.inline_keyboard.extend(self.app_button(ctx, "list"));
        Ok(ctx.send_all(&lines.join("\n"), kb))
    }

    /// `/clear`: asks first.
    pub(super) async fn clear_command(&self, ctx: &Ctx) -> Reply {
        let count = self.users.watches(ctx.user.profile.id).await?.len();
        if count == 0 {
            return Ok(vec![ctx.send(ctx.t(&Text::ListEmpty))]);
        }
        let kb = keyboard(vec![vec![
            Button::callback(ctx.t(&Text::BtnClearYes), Callback::Clear(true).encode()),
            Button::callback(ctx.t(&Text::BtnClearNo), Callback::Clear(false).encode()),
        ]]);
        Ok(ctx.send_all(&ctx.t(&Text::ClearConfirm { count }), kb))
    }

    /// The answer to "clear your list?".
    pub(super) async fn clear_pressed(
        &self,
        ctx: &Ctx,
        yes: bool,
        message_id: Option<i64>,
    ) -> ButtonReply {
        let text = if yes {
            let user = ctx.user.profile.id;
            let count = self.users.clear_watches(user).await? as usize;
            // Nothing on the list any more: no pasted page to read either.
            self.forget_tracked_pages(user).await?;
            ctx.t(&Text::Cleared { count })
        } else {
            ctx.t(&Text::ClearCancelled)
        };
        Ok((
            None,
            vec![ctx.edit_or_send(message_id, text, InlineKeyboardMarkup::default())],
        ))
    }
}
