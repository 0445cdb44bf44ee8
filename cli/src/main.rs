//! `pricehound`: the local stack and the tools around it.

mod price_cmd;
mod scrape_cmd;
mod serve_cmd;
mod webhook_cmd;

use clap::{Parser, Subcommand};
use pricehound::settings::Settings;
use pricehound::sources::SourcesConfig;
use pricehound::telemetry::{self, LogFormat};
use std::path::{Path, PathBuf};

#[derive(Parser)]
#[command(
    name = "pricehound",
    version,
    about = "Track prices from Telegram channels, catalogues and product pages"
)]
struct Cli {
    /// Log format: json or text (default: text on a terminal, JSON otherwise).
    #[arg(long, global = true, value_parser = ["json", "text"])]
    log_format: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the whole stack locally: scrapers on their schedules, ingest, the
    /// HTTP API, and the Telegram bot when PRICEHOUND_BOT_TOKEN is set.
    Serve(serve_cmd::Args),
    /// Scrape one source now and print what it finds, without storing anything.
    Scrape(scrape_cmd::Args),
    /// Parse price strings and print {"input", "amount", "currency"} per input.
    Price(price_cmd::Args),
    /// Set, show or delete the Telegram webhook (token from PRICEHOUND_BOT_TOKEN).
    Webhook(webhook_cmd::Args),
}

/// `--sources FILE`, else `PRICEHOUND_SOURCES_FILE`, else ./sources.toml if
/// present, else the compiled-in default.
pub fn load_sources(path: Option<&Path>, settings: &Settings) -> anyhow::Result<SourcesConfig> {
    let default = PathBuf::from("sources.toml");
    match path.or(settings.sources_file.as_deref()) {
        Some(p) => Ok(SourcesConfig::load(p)?),
        None if default.exists() => Ok(SourcesConfig::load(&default)?),
        None => Ok(SourcesConfig::default_sources()),
    }
}

/// Runs a command with the settings read from the environment, once.
async fn with_settings<F, Fut>(command: F) -> anyhow::Result<()>
where
    F: FnOnce(Settings) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    command(Settings::from_env()?).await
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let format = match cli.log_format.as_deref() {
        Some("json") => LogFormat::Json,
        Some(_) => LogFormat::Text,
        None => LogFormat::detect(),
    };
    telemetry::init(format);
    let result = match cli.command {
        // Reads no settings, so a bad variable elsewhere does not stop it.
        Command::Price(args) => price_cmd::run(args),
        Command::Serve(args) => with_settings(|s| serve_cmd::run(args, s)).await,
        Command::Scrape(args) => with_settings(|s| scrape_cmd::run(args, s)).await,
        Command::Webhook(args) => with_settings(|s| webhook_cmd::run(args, s)).await,
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pricehound: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
