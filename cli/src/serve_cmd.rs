use clap::Parser;
use pricehound::local::{ServeOptions, TelegramOptions, serve};
use pricehound::settings::Settings;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Parser)]
pub struct Args {
    /// The sources file (default: ./sources.toml, else the built-in default).
    #[arg(long)]
    sources: Option<PathBuf>,
    /// The SQLite database file; created if missing.
    #[arg(long, default_value = "pricehound.db")]
    db: PathBuf,
    /// Where the HTTP API listens.
    #[arg(long, default_value = "127.0.0.1:3000")]
    listen: SocketAddr,
    /// Serve recorded sample pages from the binary and point every source at
    /// them: prices with no internet access.
    #[arg(long)]
    demo: bool,
    /// Wait for each group's first scheduled tick instead of scraping at startup.
    #[arg(long)]
    no_run_at_start: bool,
}

pub async fn run(args: Args, settings: Settings) -> anyhow::Result<()> {
    let mut sources = crate::load_sources(args.sources.as_deref(), &settings)?;
    if args.demo {
        let base = pricehound::demo::spawn().await?;
        tracing::info!(%base, "demo mode: sources read recorded pages from the binary");
        sources.rebase(&base);
    }
    let opts = ServeOptions {
        sources,
        db: Some(args.db),
        listen: args.listen,
        run_at_start: !args.no_run_at_start,
        http: settings.http.clone(),
        retention: settings.retention,
        telegram: telegram_options(settings),
    };
    serve(opts, shutdown_signal(), |stack| {
        eprintln!(
            "pricehound is serving on http://{} (Ctrl-C to stop)",
            stack.addr
        );
    })
    .await
}

/// The bot, when `PRICEHOUND_BOT_TOKEN` is set: long polling, or the webhook
/// route when `PRICEHOUND_WEBHOOK_SECRET` is set too.
fn telegram_options(settings: Settings) -> Option<TelegramOptions> {
    let Some(token) = settings.bot_token else {
        tracing::info!("no PRICEHOUND_BOT_TOKEN set: the Telegram bot is off");
        return None;
    };
    Some(TelegramOptions {
        token,
        api_base: settings.telegram_api,
        webhook_secret: settings.webhook_secret,
        config: settings.bot,
        alerts: settings.alerts,
    })
}

/// Ctrl-C or SIGTERM (what systemd, Docker and CI send).
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
