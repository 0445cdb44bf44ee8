//! The event bus port ([`pricehound_core::bus`]) and its adapters:
//! EventBridge in AWS (`aws` feature), a broadcast channel in `serve`.

pub use pricehound_core::bus::*;

#[cfg(feature = "aws")]
pub use pricehound_aws::eventbridge;
pub mod memory;
