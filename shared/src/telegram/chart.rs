//! Price charts: being written.
