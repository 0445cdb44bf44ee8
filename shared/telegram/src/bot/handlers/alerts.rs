//! Alerts: `/alert` (on an item or a series), `/alerts`, and the buttons
//! that make, delete and mute them.

use rust_decimal::Decimal;

use crate::domain::user::{Alert, AlertId, AlertRule, AlertTarget};
use crate::domain::{ItemId, LatestPrice, Money};
use crate::price::{PriceHints, parse_price};
use crate::store::StoreError;

use crate::bot::alert_args::{self, RuleArg};
use crate::bot::catalog::Resolved;
use crate::bot::views::{self, keyboard, plain};
use crate::callback::Callback;
use crate::html::{escape, truncate};
use crate::methods::Method;
use crate::texts::Text;
use crate::types::{InlineKeyboardButton as Button, InlineKeyboardMarkup};

use super::{Bot, ButtonReply, Ctx, Reply};

impl Bot {
    /// `/alert <item> [rule]` and `/alert new <series> under <price>`.
    pub(super) async fn alert_command(&self, ctx: &Ctx, args: &str) -> Reply {
        if args.trim().is_empty() {
            return Ok(vec![ctx.send(ctx.t(&Text::AlertUsage))]);
        }
        if let Some((series, price)) = alert_args::new_listing(args) {
            return self.series_alert(ctx, &series, &price).await;
        }
        let Some((query, rule)) = alert_args::parse(args) else {
            // Only an item: offer the quick choices, as its "Alert" button does.
            return self
                .with_item(
                    ctx,
                    args,
                    |i| Callback::AlertMenu(i.item_id.clone()),
                    |item| async move {
                        let (_, methods) = self.alert_menu_pressed(ctx, &item.item_id).await?;
                        Ok(methods)
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

    /// "Alert" under an item (and `/alert <item>`): the quick choices.
    pub(super) async fn alert_menu_pressed(&self, ctx: &Ctx, id: &ItemId) -> ButtonReply {
        self.if_visible(ctx, id, |item| async move {
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
        })
        .await
    }

    /// "−5 %" and the like in the quick choices.
    pub(super) async fn alert_drop_pressed(
        &self,
        ctx: &Ctx,
        id: &ItemId,
        percent: u32,
    ) -> ButtonReply {
        self.if_visible(ctx, id, |item| async move {
            let rule = AlertRule::Drop {
                percent: Decimal::from(percent),
            };
            let text = self.create_alert(ctx, &item, rule).await?;
            Ok((Some(plain(&text)), vec![ctx.send(text)]))
        })
        .await
    }

    /// "Back in stock" in the quick choices.
    pub(super) async fn back_in_stock_pressed(&self, ctx: &Ctx, id: &ItemId) -> ButtonReply {
        self.if_visible(ctx, id, |item| async move {
            let text = self
                .create_alert(ctx, &item, AlertRule::BackInStock)
                .await?;
            Ok((Some(plain(&text)), vec![ctx.send(text)]))
        })
        .await
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

    /// `/alerts`.
    pub(super) async fn alerts_command(&self, ctx: &Ctx) -> Reply {
        self.alerts_view(ctx, None).await.map(|m| vec![m])
    }

    /// The user's alerts, each with a button that deletes it.
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
        rows.extend(self.app_button(ctx, "alerts"));
        Ok(ctx.edit_or_send(message_id, lines.join("\n"), keyboard(rows)))
    }

    /// "Delete" in `/alerts`: the list is shown again without it.
    pub(super) async fn delete_alert_pressed(
        &self,
        ctx: &Ctx,
        alert: &AlertId,
        message_id: Option<i64>,
    ) -> ButtonReply {
        let deleted = self.users.delete_alert(ctx.user.profile.id, alert).await?;
        let toast = ctx.t(if deleted {
            &Text::AlertDeleted
        } else {
            &Text::AlertGone
        });
        let view = self.alerts_view(ctx, message_id).await?;
        Ok((Some(toast), vec![view]))
    }

    /// "Mute" under an alert's notification: the alert stops firing.
    pub(super) async fn mute_pressed(&self, ctx: &Ctx, id: &AlertId) -> ButtonReply {
        let mine = self
            .users
            .alerts(ctx.user.profile.id)
            .await?
            .into_iter()
            .find(|a| &a.id == id);
        let Some(mut alert) = mine else {
            return Ok((Some(ctx.t(&Text::AlertGone)), Vec::new()));
        };
        alert.active = false;
        self.users.put_alert(&alert).await?;
        Ok((Some(plain(&ctx.t(&Text::AlertMuted))), Vec::new()))
    }
}
