//! One function per command and per button.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rust_decimal::Decimal;

use crate::domain::user::{Alert, AlertId, AlertRule, AlertTarget, Lang, Watch};
use crate::domain::{ItemId, LatestPrice, Money, SourceId};
use crate::price::{PriceHints, parse_price};
use crate::store::{HistoryQuery, MAX_PAGE, Order, StoreError};

use super::super::callback::{Callback, ChartWindow};
use super::super::chart::{ChartPoint, ChartRequest, render_png};
use super::super::commands::Command;
use super::super::html::{self, escape, truncate};
use super::super::methods::{MAX_CAPTION, Method, SendPhoto};
use super::super::texts::{Text, lang_name, render};
use super::super::types::{InlineKeyboardButton as Button, InlineKeyboardMarkup};
use super::alert_args::{self, RuleArg};
use super::catalog::{Resolved, Viewer};
use super::views::{self, NAME_IN_BUTTON, keyboard, plain};
use super::{Bot, Ctx};

/// Search results and choices shown as buttons.
const MAX_CHOICES: usize = 8;
/// Watches shown with their own button in `/list`.
const LIST_BUTTONS: usize = 20;
/// Observations read for a chart.
const CHART_POINTS: usize = 20_000;

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
    pub(super) async fn command(&self, ctx: &Ctx, cmd: Command, is_new: bool) -> Reply {
        match cmd {
            Command::Start(payload) => {
                if let Some(item) = payload.as_deref().and_then(item_from_deep_link)
                    && let Some(latest) = self.visible_item(ctx, &item).await?
                {
                    return self.item_view(ctx, &latest, None).await.map(|m| vec![m]);
                }
                let first_name = ctx.user.profile.first_name.as_str();
                let text = if is_new {
                    Text::Welcome { first_name }
                } else {
                    Text::WelcomeBack { first_name }
                };
                Ok(vec![ctx.send(ctx.t(&text))])
            }
            Command::Help => Ok(vec![ctx.send(ctx.t(&Text::Help))]),
            Command::Prices(source) => {
                let source = match source {
                    None => None,
                    Some(s) => match self.find_source(&s) {
                        Some(id) => Some(id),
                        None => {
                            let known: Vec<&str> =
                                self.sources.sources.iter().map(|s| s.id.as_str()).collect();
                            return Ok(vec![ctx.send(ctx.t(&Text::UnknownSource {
                                source: &s,
                                known: &known.join(", "),
                            }))]);
                        }
                    },
                };
                self.prices_page(ctx, 0, source, None)
                    .await
                    .map(|m| vec![m])
            }
            Command::Search(q) => self.search(ctx, &q).await,
            Command::Item(q) => {
                if q.trim().is_empty() {
                    return Ok(vec![ctx.send(ctx.t(&Text::ItemUsage))]);
                }
                self.with_item(
                    ctx,
                    &q,
                    |item| Callback::Item(item.item_id.clone()),
                    |bot, item| {
                        Box::pin(
                            async move { bot.item_view(ctx, &item, None).await.map(|m| vec![m]) },
                        )
                    },
                )
                .await
            }
            Command::Watch(q) => {
                if q.trim().is_empty() {
                    return Ok(vec![ctx.send(ctx.t(&Text::WatchUsage))]);
                }
                self.with_item(
                    ctx,
                    &q,
                    |item| Callback::Watch(item.item_id.clone()),
                    |bot, item| {
                        Box::pin(async move {
                            let text = bot.watch(ctx, &item).await?;
                            Ok(vec![ctx.send(text)])
                        })
                    },
                )
                .await
            }
            Command::Unwatch(q) => self.unwatch_by_name(ctx, &q).await,
            Command::List => self.list(ctx).await,
            Command::Clear => {
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
            Command::Alert(args) => self.alert_command(ctx, &args).await,
            Command::Alerts => self.alerts_view(ctx, None).await.map(|m| vec![m]),
            Command::Chart(args) => self.chart_command(ctx, &args).await,
            Command::Lang(arg) => {
                if let Some(lang) = arg.as_deref().and_then(Lang::from_code) {
                    self.users
                        .set_language(ctx.user.profile.id, Some(lang))
                        .await?;
                    return Ok(vec![ctx.send(render(lang, &Text::LangSet))]);
                }
                let row = Lang::ALL
                    .iter()
                    .map(|l| Button::callback(lang_name(*l), Callback::Lang(*l).encode()))
                    .collect();
                Ok(ctx.send_all(&ctx.t(&Text::LangChoose), keyboard(vec![row])))
            }
            Command::Stats => self.stats(ctx).await,
            Command::Untrack(q) => self.untrack_command(ctx, &q).await,
            Command::Unknown(name) => Ok(vec![
                ctx.send(ctx.t(&Text::UnknownCommand { command: &name })),
            ]),
        }
    }

    pub(super) async fn button(
        &self,
        ctx: &Ctx,
        callback: Callback,
        message_id: Option<i64>,
    ) -> ButtonReply {
        let user = ctx.user.profile.id;
        match callback {
            Callback::Item(id) => match self.visible_item(ctx, &id).await? {
                Some(item) => Ok((None, vec![self.item_view(ctx, &item, None).await?])),
                None => Ok((Some(ctx.t(&Text::ButtonExpired)), Vec::new())),
            },
            Callback::Watch(id) => match self.visible_item(ctx, &id).await? {
                Some(item) => {
                    let toast = plain(&self.watch(ctx, &item).await?);
                    let view = self.item_view(ctx, &item, message_id).await?;
                    Ok((Some(toast), vec![view]))
                }
                None => Ok((Some(ctx.t(&Text::ButtonExpired)), Vec::new())),
            },
            Callback::Unwatch(id) => {
                let removed = self.users.remove_watch(user, &id).await?;
                self.release_page_if_unwatched(user, &id).await?;
                let latest = self.store.latest_price(&id).await?;
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
            Callback::AlertMenu(id) => {
                let Some(item) = self.visible_item(ctx, &id).await? else {
                    return Ok((Some(ctx.t(&Text::ButtonExpired)), Vec::new()));
                };
                let mut row = Vec::new();
                for p in [5u32, 10, 20] {
                    let data = self
                        .callback_data(&Callback::AlertDrop(id.clone(), p), ctx.now)
                        .await?;
                    row.push(Button::callback(ctx.t(&Text::BtnDrop { percent: p }), data));
                }
                let stock = self
                    .callback_data(&Callback::AlertBackInStock(id.clone()), ctx.now)
                    .await?;
                let kb = keyboard(vec![
                    row,
                    vec![Button::callback(ctx.t(&Text::BtnBackInStock), stock)],
                ]);
                let text = format!(
                    "{}\n\n{}",
                    ctx.t(&Text::AlertPick { item: &item.name }),
                    ctx.t(&Text::AlertUsage)
                );
                Ok((None, ctx.send_all(&text, kb)))
            }
            Callback::AlertDrop(id, percent) => {
                let Some(item) = self.visible_item(ctx, &id).await? else {
                    return Ok((Some(ctx.t(&Text::ButtonExpired)), Vec::new()));
                };
                let rule = AlertRule::Drop {
                    percent: Decimal::from(percent),
                };
                let text = self.create_alert(ctx, &item, rule).await?;
                Ok((Some(plain(&text)), vec![ctx.send(text)]))
            }
            Callback::AlertBackInStock(id) => {
                let Some(item) = self.visible_item(ctx, &id).await? else {
                    return Ok((Some(ctx.t(&Text::ButtonExpired)), Vec::new()));
                };
                let text = self
                    .create_alert(ctx, &item, AlertRule::BackInStock)
                    .await?;
                Ok((Some(plain(&text)), vec![ctx.send(text)]))
            }
            Callback::Chart(id, window) => match self.visible_item(ctx, &id).await? {
                Some(item) => Ok((None, self.chart(ctx, &item, window).await?)),
                None => Ok((Some(ctx.t(&Text::ButtonExpired)), Vec::new())),
            },
            Callback::DeleteAlert(alert) => {
                let deleted = self.users.delete_alert(user, &alert).await?;
                let toast = ctx.t(if deleted {
                    &Text::AlertDeleted
                } else {
                    &Text::AlertGone
                });
                let view = self.alerts_view(ctx, message_id).await?;
                Ok((Some(toast), vec![view]))
            }
            Callback::Clear(yes) => {
                let text = if yes {
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
            Callback::Lang(lang) => {
                self.users.set_language(user, Some(lang)).await?;
                let text = render(lang, &Text::LangSet);
                Ok((
                    Some(plain(&text)),
                    vec![ctx.edit_or_send(message_id, text, InlineKeyboardMarkup::default())],
                ))
            }
            Callback::Prices { page, source } => Ok((
                None,
                vec![
                    self.prices_page(ctx, page as usize, source, message_id)
                        .await?,
                ],
            )),
            Callback::Track(url) => Ok((None, self.request_tracking(ctx, &url).await)),
            Callback::Untrack(source) => {
                let text = self.untrack(ctx, &source).await?;
                Ok((
                    Some(plain(&text)),
                    vec![ctx.edit_or_send(message_id, text, InlineKeyboardMarkup::default())],
                ))
            }
            Callback::Mute(id) => {
                let mine = self
                    .users
                    .alerts(user)
                    .await?
                    .into_iter()
                    .find(|a| a.id == id);
                let Some(mut alert) = mine else {
                    return Ok((Some(ctx.t(&Text::AlertGone)), Vec::new()));
                };
                alert.active = false;
                self.users.put_alert(&alert).await?;
                Ok((Some(plain(&ctx.t(&Text::AlertMuted))), Vec::new()))
            }
        }
    }

    /// After `user` stopped watching `item`: if it is a pasted page's and
    /// they watch nothing else of that page, they stop tracking it too, so a
    /// page nobody watches expires (the scraper stops reading it).
    async fn release_page_if_unwatched(
        &self,
        user: crate::domain::user::UserId,
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
        Ok(ctx.edit_or_send(message_id, text, keyboard(vec![row])))
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
    async fn with_item<'a>(
        &'a self,
        ctx: &'a Ctx,
        query: &str,
        choose: impl Fn(&LatestPrice) -> Callback,
        then: impl FnOnce(
            &'a Bot,
            LatestPrice,
        )
            -> std::pin::Pin<Box<dyn std::future::Future<Output = Reply> + Send + 'a>>,
    ) -> Reply {
        match self
            .catalog
            .resolve(query, &self.viewer(ctx).await?)
            .await?
        {
            Resolved::One(item) => then(self, *item).await,
            Resolved::Many(items) => {
                let kb = self.item_buttons(ctx, &items, choose).await?;
                Ok(ctx.send_all(&ctx.t(&Text::ItemChoose { query }), kb))
            }
            Resolved::None => Ok(vec![ctx.send(ctx.t(&Text::ItemNotFound { query }))]),
        }
    }

    async fn search(&self, ctx: &Ctx, query: &str) -> Reply {
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

    /// Adds the watch and says so.
    async fn watch(&self, ctx: &Ctx, item: &LatestPrice) -> Result<String, StoreError> {
        let added = self
            .users
            .add_watch(&Watch {
                user: ctx.user.profile.id,
                item: item.item_id.clone(),
                created_at: ctx.now,
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
    async fn unwatch_by_name(&self, ctx: &Ctx, query: &str) -> Reply {
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
                None => super::catalog::search_in(&watched, query, MAX_CHOICES),
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

    async fn list(&self, ctx: &Ctx) -> Reply {
        let watches = self.users.watches(ctx.user.profile.id).await?;
        if watches.is_empty() {
            return Ok(vec![ctx.send(ctx.t(&Text::ListEmpty))]);
        }
        let mut items = Vec::new();
        let mut lines = vec![ctx.t(&Text::ListTitle {
            count: watches.len(),
        })];
        for w in &watches {
            match self.store.latest_price(&w.item).await? {
                Some(item) => {
                    lines.push(views::line(ctx.lang, &item));
                    items.push(item);
                }
                None => lines.push(format!("• {}", escape(w.item.as_str()))),
            }
        }
        let shown: Vec<LatestPrice> = items.into_iter().take(LIST_BUTTONS).collect();
        let kb = self
            .item_buttons(ctx, &shown, |i| Callback::Item(i.item_id.clone()))
            .await?;
        Ok(ctx.send_all(&lines.join("\n"), kb))
    }

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

    async fn alert_command(&self, ctx: &Ctx, args: &str) -> Reply {
        if args.trim().is_empty() {
            return Ok(vec![ctx.send(ctx.t(&Text::AlertUsage))]);
        }
        if let Some((series, price)) = alert_args::new_listing(args) {
            return self.series_alert(ctx, &series, &price).await;
        }
        let Some((query, rule)) = alert_args::parse(args) else {
            // Only an item: offer the quick choices.
            return self
                .with_item(
                    ctx,
                    args,
                    |i| Callback::AlertMenu(i.item_id.clone()),
                    |bot, item| {
                        Box::pin(async move {
                            let (_, methods) = bot
                                .button(ctx, Callback::AlertMenu(item.item_id), None)
                                .await?;
                            Ok(methods)
                        })
                    },
                )
                .await;
        };
        let item = match self
            .catalog
            .resolve(&query, &self.viewer(ctx).await?)
            .await?
        {
            Resolved::One(item) => *item,
            Resolved::Many(items) => {
                let kb = self
                    .item_buttons(ctx, &items, |i| Callback::AlertMenu(i.item_id.clone()))
                    .await?;
                return Ok(ctx.send_all(&ctx.t(&Text::ItemChoose { query: &query }), kb));
            }
            Resolved::None => {
                return Ok(vec![ctx.send(ctx.t(&Text::ItemNotFound { query: &query }))]);
            }
        };
        let rule = match rule {
            RuleArg::Below(p) | RuleArg::Above(p) if self.alert_price(&item, &p).is_none() => {
                return Ok(vec![ctx.send(ctx.t(&Text::AlertBadPrice { input: &p }))]);
            }
            RuleArg::Below(p) => AlertRule::Below {
                price: self.alert_price(&item, &p).expect("checked"),
            },
            RuleArg::Above(p) => AlertRule::Above {
                price: self.alert_price(&item, &p).expect("checked"),
            },
            RuleArg::Drop(p) => match alert_args::percent(&p) {
                Some(percent) => AlertRule::Drop { percent },
                None => return Ok(vec![ctx.send(ctx.t(&Text::AlertBadPercent { input: &p }))]),
            },
            RuleArg::BackInStock => AlertRule::BackInStock,
        };
        let text = self.create_alert(ctx, &item, rule).await?;
        Ok(vec![ctx.send(text)])
    }

    /// `/alert new <series> under <price>`: any new listing in the series
    /// under the price (in the currency of the series' items).
    async fn series_alert(&self, ctx: &Ctx, query: &str, price_text: &str) -> Reply {
        let wanted = crate::domain::slug(query);
        let known = self.store.list_series().await?;
        let Some(series) = known
            .into_iter()
            .map(|s| s.series)
            .find(|s| s.as_str() == wanted)
        else {
            return Ok(vec![ctx.send(ctx.t(&Text::ItemNotFound { query }))]);
        };
        let all = self.catalog.all().await?;
        let sample = all
            .iter()
            .find(|i| i.series.as_ref() == Some(&series) && i.price.is_some());
        let Some(price) = sample.and_then(|item| self.alert_price(item, price_text)) else {
            return Ok(vec![
                ctx.send(ctx.t(&Text::AlertBadPrice { input: price_text })),
            ]);
        };
        let alert = Alert {
            id: AlertId::random(),
            user: ctx.user.profile.id,
            target: AlertTarget::Series(series.clone()),
            rule: AlertRule::NewListingUnder { price },
            created_at: ctx.now,
            active: true,
            armed: true,
            reference_price: None,
            last_fired_at: None,
        };
        self.users.put_alert(&alert).await?;
        let rule_html = views::rule(ctx.lang, &alert);
        Ok(vec![ctx.send(ctx.t(&Text::AlertCreated {
            item: series.as_str(),
            rule_html: &rule_html,
        }))])
    }

    /// A threshold in the item's currency: a number, optionally with the
    /// same currency; None if unreadable or in another currency.
    fn alert_price(&self, item: &LatestPrice, text: &str) -> Option<Money> {
        let currency = item.price.as_ref()?.currency;
        let parsed = parse_price(
            text,
            PriceHints {
                decimal_separator: None,
                currency: Some(currency),
            },
        );
        let amount = parsed.amount.filter(|a| *a > Decimal::ZERO)?;
        if parsed.currency.is_some_and(|c| c != currency) {
            return None;
        }
        Some(Money::new(amount, currency))
    }

    async fn create_alert(
        &self,
        ctx: &Ctx,
        item: &LatestPrice,
        rule: AlertRule,
    ) -> Result<String, StoreError> {
        let alert = Alert {
            id: AlertId::random(),
            user: ctx.user.profile.id,
            target: AlertTarget::Item(item.item_id.clone()),
            rule,
            created_at: ctx.now,
            active: true,
            armed: true,
            reference_price: item.price.clone(),
            last_fired_at: None,
        };
        self.users.put_alert(&alert).await?;
        let rule_html = views::rule(ctx.lang, &alert);
        Ok(ctx.t(&Text::AlertCreated {
            item: &item.name,
            rule_html: &rule_html,
        }))
    }

    async fn alerts_view(&self, ctx: &Ctx, message_id: Option<i64>) -> Result<Method, StoreError> {
        let alerts = self.users.alerts(ctx.user.profile.id).await?;
        if alerts.is_empty() {
            return Ok(ctx.edit_or_send(
                message_id,
                ctx.t(&Text::AlertsEmpty),
                InlineKeyboardMarkup::default(),
            ));
        }
        let mut lines = vec![ctx.t(&Text::AlertsTitle {
            count: alerts.len(),
        })];
        let mut rows = Vec::new();
        for alert in &alerts {
            let name = match &alert.target {
                AlertTarget::Item(id) => self
                    .store
                    .latest_price(id)
                    .await?
                    .map(|l| l.name)
                    .unwrap_or_else(|| id.to_string()),
                AlertTarget::Series(s) => s.to_string(),
            };
            let rule = views::rule(ctx.lang, alert);
            lines.push(format!(
                "• <b>{}</b> — {rule}",
                escape(&truncate(&name, views::NAME_IN_LIST))
            ));
            let label = format!(
                "{} {} — {}",
                ctx.t(&Text::BtnDelete),
                truncate(&name, 24),
                plain(&rule)
            );
            rows.push(vec![Button::callback(
                label,
                Callback::DeleteAlert(alert.id.clone()).encode(),
            )]);
        }
        Ok(ctx.edit_or_send(message_id, lines.join("\n"), keyboard(rows)))
    }

    async fn chart_command(&self, ctx: &Ctx, args: &str) -> Reply {
        let args = args.trim();
        if args.is_empty() {
            return Ok(vec![ctx.send(ctx.t(&Text::ChartUsage))]);
        }
        let (query, window) = match args.rsplit_once(char::is_whitespace) {
            Some((q, w)) if ChartWindow::parse(w).is_some() => {
                (q.trim(), ChartWindow::parse(w).expect("checked"))
            }
            _ => (args, ChartWindow::Month),
        };
        self.with_item(
            ctx,
            query,
            move |i| Callback::Chart(i.item_id.clone(), window),
            move |bot, item| Box::pin(async move { bot.chart(ctx, &item, window).await }),
        )
        .await
    }

    /// A PNG of the item's price over the window, as a photo.
    async fn chart(&self, ctx: &Ctx, item: &LatestPrice, window: ChartWindow) -> Reply {
        let from = ctx.now - window.duration();
        let mut query = HistoryQuery {
            from: Some(from),
            to: None,
            limit: MAX_PAGE,
            order: Order::Ascending,
            cursor: None,
        };
        let mut points = Vec::new();
        loop {
            let page = self.store.history(&item.item_id, &query).await?;
            points.extend(page.items.iter().filter_map(|o| {
                o.price
                    .as_ref()
                    .filter(|p| Some(p.currency) == item.price.as_ref().map(|m| m.currency))
                    .map(|p| ChartPoint {
                        at: o.observed_at,
                        price: p.amount,
                    })
            }));
            match page.next_cursor {
                Some(c) if points.len() < CHART_POINTS => query.cursor = Some(c),
                _ => break,
            }
        }
        let currency = item.price.as_ref().map(|m| m.currency.to_string());
        let (Some(currency), false) = (currency, points.is_empty()) else {
            return Ok(vec![
                ctx.send(ctx.t(&Text::ChartNoData { item: &item.name })),
            ]);
        };
        let title = item.name.clone();
        let (to, now) = (ctx.now, ctx.now);
        let png = tokio::task::spawn_blocking(move || {
            render_png(&ChartRequest {
                title: &title,
                currency: &currency,
                points: &points,
                from,
                to,
            })
        })
        .await;
        let _ = now;
        match png {
            Ok(Ok(png)) => {
                let caption = html::split(
                    &ctx.t(&Text::ChartCaption {
                        item: &item.name,
                        window: window.code(),
                    }),
                    MAX_CAPTION,
                )
                .swap_remove(0);
                Ok(vec![Method::SendPhoto(SendPhoto {
                    chat_id: ctx.chat_id,
                    caption: Some(caption),
                    parse_mode: "HTML",
                    png,
                })])
            }
            Ok(Err(e)) => {
                tracing::info!(item = %item.item_id, error = %e, "no chart");
                Ok(vec![
                    ctx.send(ctx.t(&Text::ChartNoData { item: &item.name })),
                ])
            }
            Err(e) => {
                tracing::error!(item = %item.item_id, error = %e, "chart rendering panicked");
                Ok(vec![ctx.send(ctx.t(&Text::SomethingWentWrong))])
            }
        }
    }

    async fn stats(&self, ctx: &Ctx) -> Reply {
        if !self.config.admins.contains(&ctx.user.profile.id.0) {
            return Ok(vec![ctx.send(ctx.t(&Text::AdminOnly))]);
        }
        let s = self.users.usage_stats(ctx.now).await?;
        let mut lines = vec![
            ctx.t(&Text::StatsTitle),
            ctx.t(&Text::StatsUsers {
                users: s.users,
                daily: s.daily_active,
                weekly: s.weekly_active,
                monthly: s.monthly_active,
            }),
            String::new(),
            ctx.t(&Text::StatsCommandsTitle),
        ];
        for (name, count) in &s.commands {
            lines.push(format!("/{} — {count}", escape(name)));
        }
        lines.push(String::new());
        lines.push(ctx.t(&Text::StatsAlertsSent {
            count: s.alerts_sent,
        }));
        Ok(ctx.send_all(&lines.join("\n"), InlineKeyboardMarkup::default()))
    }

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
}
