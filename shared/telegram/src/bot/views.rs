//! How items, lists and alerts look in a chat: texts and their buttons.

use crate::domain::user::{Alert, AlertRule, AlertTarget, Lang};
use crate::domain::{Availability, LatestPrice};
use crate::events::TELEGRAM_LINK_BASE;

use super::super::html::{self, escape, truncate};
use super::super::methods::{EditMessageText, MAX_TEXT, Method, SendMessage};
use super::super::texts::{Text, render};
use super::super::types::{InlineKeyboardButton, InlineKeyboardMarkup};
use super::Ctx;

/// Names are cut to this many characters in lists and buttons.
pub const NAME_IN_LIST: usize = 60;
pub const NAME_IN_BUTTON: usize = 40;

impl Ctx {
    /// A new message; long texts are split at line breaks (the buttons go
    /// with the last part).
    pub fn send(&self, text: String) -> Method {
        Method::SendMessage(SendMessage::html(self.chat_id, text))
    }

    pub fn send_all(&self, text: &str, keyboard: InlineKeyboardMarkup) -> Vec<Method> {
        let parts = html::split(text, MAX_TEXT);
        let n = parts.len();
        parts
            .into_iter()
            .enumerate()
            .map(|(i, part)| {
                let mut m = SendMessage::html(self.chat_id, part);
                if i + 1 == n {
                    m = m.with_keyboard(keyboard.clone());
                }
                Method::SendMessage(m)
            })
            .collect()
    }

    /// Replaces the message a button was on, or sends a new one when it can
    /// no longer be edited.
    pub fn edit_or_send(
        &self,
        message_id: Option<i64>,
        text: String,
        keyboard: InlineKeyboardMarkup,
    ) -> Method {
        let text = html::split(&text, MAX_TEXT).swap_remove(0);
        match message_id {
            Some(id) => Method::EditMessageText(
                EditMessageText::html(self.chat_id, id, text).with_keyboard(keyboard),
            ),
            None => {
                Method::SendMessage(SendMessage::html(self.chat_id, text).with_keyboard(keyboard))
            }
        }
    }
}

/// `1,234.50 EUR`, or "no price".
pub fn price(lang: Lang, item: &LatestPrice) -> String {
    match &item.price {
        Some(m) => html::money(lang, m),
        None => render(lang, &Text::NoPrice),
    }
}

/// One line of a list: `• <b>name</b> — price`.
pub fn line(lang: Lang, item: &LatestPrice) -> String {
    let stock = match item.availability {
        Availability::OutOfStock => format!(" ({})", render(lang, &Text::OutOfStock)),
        _ => String::new(),
    };
    format!(
        "• <b>{}</b> — {}{}",
        escape(&truncate(&item.name, NAME_IN_LIST)),
        escape(&price(lang, item)),
        stock
    )
}

/// An item on its own: name, price, availability, source, time and link.
pub fn item_text(lang: Lang, item: &LatestPrice, source_name: &str) -> String {
    let mut out = format!(
        "<b>{}</b>\n💰 {}",
        escape(&truncate(&item.name, 200)),
        escape(&price(lang, item))
    );
    match item.availability {
        Availability::InStock => out.push_str(&format!(" · {}", render(lang, &Text::InStock))),
        Availability::OutOfStock => {
            out.push_str(&format!(" · {}", render(lang, &Text::OutOfStock)))
        }
        Availability::Unknown => {}
    }
    if let Some(brand) = &item.details.brand {
        out.push_str(&format!("\n🏷 {}", escape(&truncate(brand, 100))));
    }
    out.push_str(&format!(
        "\n{} · {}",
        render(
            lang,
            &Text::SourceLine {
                source: source_name
            }
        ),
        render(
            lang,
            &Text::Updated {
                when: &html::time(item.observed_at)
            }
        )
    ));
    let link = item.link(TELEGRAM_LINK_BASE);
    if link.starts_with("https://") || link.starts_with("http://") {
        out.push_str(&format!(
            "\n<a href=\"{}\">{}</a>",
            escape(&link),
            render(lang, &Text::OpenAtSource)
        ));
    }
    out
}

/// How an alert reads: "below 1,200 EUR", "drops by 10%".
pub fn rule(lang: Lang, alert: &Alert) -> String {
    let text = match &alert.rule {
        AlertRule::Below { price } => render(
            lang,
            &Text::RuleBelow {
                price: &html::money(lang, price),
            },
        ),
        AlertRule::Above { price } => render(
            lang,
            &Text::RuleAbove {
                price: &html::money(lang, price),
            },
        ),
        AlertRule::Drop { percent } => render(
            lang,
            &Text::RuleDrop {
                percent: &percent.to_string(),
            },
        ),
        AlertRule::BackInStock => render(lang, &Text::RuleBackInStock),
        AlertRule::NewListingUnder { price } => {
            let series = match &alert.target {
                AlertTarget::Series(s) => s.as_str(),
                AlertTarget::Item(i) => i.as_str(),
            };
            render(
                lang,
                &Text::RuleNewListing {
                    series,
                    price: &html::money(lang, price),
                },
            )
        }
    };
    if alert.active {
        text
    } else {
        format!("{text} ({})", render(lang, &Text::Paused))
    }
}

pub use crate::html::plain;

pub fn keyboard(rows: Vec<Vec<InlineKeyboardButton>>) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup {
        inline_keyboard: rows.into_iter().filter(|r| !r.is_empty()).collect(),
    }
}
