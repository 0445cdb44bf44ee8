//! Helpers shared by the integration tests in `tests/tests/`.

pub mod bot;
pub mod cli;
pub mod conformance;
pub mod conformance_users;
pub mod deployment;
pub mod faulty_users;
pub mod lambda_runtime;
pub mod pages;
pub mod services;
pub mod synthetic;
pub mod telegram_standin;
pub mod template;
pub mod user_links;
