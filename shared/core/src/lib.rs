//! pricehound's core: the domain and its rules, with no I/O.
//!
//! [`domain`] (ids, money, observations, users) → [`price`] (reading money
//! from text) and [`schedule`] (when sources run) → the ports the adapters
//! implement, [`store`], [`queue`] and [`bus`], with the [`events`] the bus
//! carries → [`ingest`] (queue message → store → events) and [`alerts`]
//! (when an alert fires). Everything here is plain data and pure functions
//! or async traits, apart from [`random`] (the OS's random generator, for
//! ids); the adapters (SQLite, AWS, HTTP, Telegram, scraping) are
//! in the crates beside this one and depend on it, never the other way
//! round. `tests/tests/architecture.rs` fails if this crate gains an I/O
//! dependency.

pub mod alerts;
pub mod bus;
pub mod delayed;
pub mod domain;
pub mod events;
pub mod ingest;
pub mod metric;
#[cfg(feature = "openapi")]
pub mod openapi;
pub mod price;
pub mod queue;
pub mod random;
pub mod relay;
pub mod retention;
pub mod schedule;
pub mod search;
pub mod store;
pub mod tracking;
