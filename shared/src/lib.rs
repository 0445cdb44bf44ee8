//! pricehound: everything that is not an entrypoint.
//!
//! Modules follow the data: [`domain`] (types) → [`price`] (reading money)
//! → [`sources`] (one adapter per source kind) → [`scrape`] (a group run:
//! checkpoint, fetch, queue) → [`ingest`] (queue → store, events) →
//! [`store`] / [`queue`] / [`bus`] (ports with local and AWS adapters) →
//! [`http`] (the one axum Router). [`lambda`] holds the Lambda handlers that
//! the thin binaries in `functions/` call.

pub mod bus;
pub mod domain;
pub mod price;
pub mod queue;
pub mod schedule;
pub mod sources;
pub mod store;
pub mod ingest;
pub mod scrape;
pub mod http;
pub mod telemetry;
#[cfg(feature = "aws")]
pub mod lambda;
pub mod demo;
pub mod local;
