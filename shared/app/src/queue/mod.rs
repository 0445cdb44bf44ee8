//! The queue port ([`pricehound_core::queue`]) and its adapters: SQS in
//! AWS (`aws` feature), an in-process channel in `serve`.

pub use pricehound_core::queue::*;

pub mod memory;
#[cfg(feature = "aws")]
pub use pricehound_aws::sqs;
