//! The Telegram bot: Bot API types and client, the commands, their texts in
//! every language, charts, and the two ways updates arrive (the webhook
//! route on the shared Router, long polling in `pricehound serve`); and the
//! alerts ([`alerts`]), whose notifications are Telegram messages.

// The crates below, under the names the bot's modules use.
use pricehound_core::{bus, domain, events, price, store};
use pricehound_sources as sources;

pub mod alerts;
pub mod api;
pub mod bot;
pub mod callback;
pub mod chart;
pub mod commands;
pub mod dispatch;
pub mod html;
pub mod methods;
pub mod polling;
pub mod texts;
pub mod types;
pub mod webapp;
pub mod webhook;
