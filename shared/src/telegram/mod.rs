//! The Telegram bot: Bot API types and client, the commands, their texts in
//! every language, charts, and the two ways updates arrive (the webhook
//! route on the shared Router, long polling in `pricehound serve`).

pub mod api;
pub mod chart;
pub mod methods;
pub mod types;
