//! pricehound's application crate: the wiring of the crates beside it.
//!
//! The data flows [`domain`] (types) → [`price`] (reading money) →
//! [`sources`] (one adapter per source kind) → [`scrape`] (a group run:
//! checkpoint, fetch, queue) → [`ingest`] (queue → store, events) →
//! [`store`] / [`queue`] / [`bus`] (ports with local and AWS adapters) →
//! [`telegram`] and [`alerts`] (the bot, the notifications). This crate
//! owns what ties them together: [`http`] (the one axum Router),
//! [`settings`] (every environment variable, read once), `local` (the
//! `serve` stack, `local` feature) and `lambda` (the api and notify
//! handlers, `aws` feature). The other crates are re-exported at the paths
//! the binaries and tests use.

pub mod bus;
pub mod demo;
pub mod http;
#[cfg(feature = "aws")]
pub mod lambda;
#[cfg(feature = "local")]
pub mod local;
pub mod queue;
pub mod settings;
pub mod store;

// The core crate, re-exported at the paths the rest of pricehound uses.
pub use pricehound_core::{
    delayed, domain, events, ingest, metric, price, relay, retention, schedule,
};
pub use pricehound_sources as sources;
pub use pricehound_sources::scrape;
pub use pricehound_telegram as telegram;
pub use pricehound_telemetry as telemetry;
#[cfg(feature = "aws")]
pub mod sqs_outbox;

/// The alerts (in the bot crate), with the SQS adapters of their ports
/// from this crate under `outbox` as before.
pub mod alerts {
    pub use pricehound_telegram::alerts::*;

    pub mod outbox {
        #[cfg(feature = "aws")]
        pub use crate::sqs_outbox::{SqsOutbox, SqsTrackJobs};
        pub use pricehound_telegram::alerts::outbox::*;
    }
}
