//! The store port ([`pricehound_core::store`]) and its adapters: SQLite,
//! the embedded default (`shared/sqlite`), and DynamoDB (`shared/aws`,
//! `aws` feature).

pub use pricehound_core::store::*;

#[cfg(feature = "aws")]
pub use pricehound_aws::dynamo;
#[cfg(feature = "local")]
pub use pricehound_sqlite as sqlite;
