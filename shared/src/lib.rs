//! pricehound: everything that is not an entrypoint.
//!
//! Modules follow the data: [`domain`] (types) → [`price`] (reading money)
//! → [`sources`] (one adapter per source kind) → [`scrape`] (a group run:
//! checkpoint, fetch, queue) → [`ingest`] (queue → store, events) →
//! [`store`] / [`queue`] / [`bus`] (ports with local and AWS adapters) →
//! [`http`] (the one axum Router). [`lambda`] holds the Lambda handlers that
//! the thin binaries in `functions/` call.

pub mod alerts;
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
pub mod telegram;

// The core crate, re-exported at the paths the rest of pricehound uses.
pub use pricehound_core::{domain, events, ingest, price, schedule};
pub use pricehound_sources as sources;
pub use pricehound_sources::scrape;
pub use pricehound_telemetry as telemetry;
