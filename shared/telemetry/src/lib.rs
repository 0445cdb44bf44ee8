//! Logging setup: structured JSON (Lambda, servers, pipes) or human text (a
//! terminal). `RUST_LOG` filters as usual; the default is `info`. The
//! metrics exporters are in [`metrics`].

pub mod metrics;

use tracing_subscriber::EnvFilter;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Text,
}

impl LogFormat {
    /// JSON unless standard error is a terminal.
    pub fn detect() -> Self {
        use std::io::IsTerminal;
        if std::io::stderr().is_terminal() {
            LogFormat::Text
        } else {
            LogFormat::Json
        }
    }
}

/// Installs the global subscriber; a second call is a no-op.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new("info,aws_config=warn,aws_smithy_runtime=warn,hyper=warn")
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        LogFormat::Text => {
            use std::io::IsTerminal;
            builder
                .with_target(false)
                .with_ansi(std::io::stderr().is_terminal())
                .try_init()
        }
    };
}
