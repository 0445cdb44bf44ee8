//! Helpers shared by the integration tests in `tests/tests/`.

pub mod conformance;
pub mod pages;
pub mod services;
