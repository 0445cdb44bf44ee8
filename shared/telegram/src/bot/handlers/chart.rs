//! `/chart` and the "Chart" button: an item's price over a window, drawn
//! as a PNG.

use crate::domain::{ItemId, LatestPrice};
use crate::store::{HistoryQuery, MAX_PAGE, Order};

use crate::callback::{Callback, ChartWindow};
use crate::chart::{ChartPoint, ChartRequest, render_png};
use crate::html;
use crate::methods::{MAX_CAPTION, Method, SendPhoto};
use crate::texts::Text;

use super::{Bot, ButtonReply, Ctx, Reply};

/// Observations read for a chart.
const CHART_POINTS: usize = 20_000;

impl Bot {
    /// `/chart <item> [7d|30d|1y]`.
    pub(super) async fn chart_command(&self, ctx: &Ctx, args: &str) -> Reply {
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
            move |item| async move { self.chart(ctx, &item, window).await },
        )
        .await
    }

    /// "Chart" under an item.
    pub(super) async fn chart_pressed(
        &self,
        ctx: &Ctx,
        id: &ItemId,
        window: ChartWindow,
    ) -> ButtonReply {
        self.if_visible(ctx, id, |item| async move {
            Ok((None, self.chart(ctx, &item, window).await?))
        })
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
}
