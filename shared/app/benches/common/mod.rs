//! What the benchmarks share: criterion's settings for a machine whose two
//! cores are shared with builds.

use criterion::Criterion;
use std::time::Duration;

/// Short runs: 20 samples after a 1 s warm-up, 5 s of measuring.
pub fn short_runs() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
}
