//! Bot API client: being written.
