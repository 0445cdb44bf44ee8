//! `pricehound`: the local stack and the tools around it.

mod bot_env;
mod price_cmd;
mod scrape_cmd;
mod serve_cmd;
mod webhook_cmd;

use clap::{Parser, Subcommand};
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

/// `--sources FILE`, else ./sources.toml if present, else the compiled-in default.
pub fn load_sources(path: Option<&Path>) -> anyhow::Result<SourcesConfig> {
    let default = PathBuf::from("sources.toml");
    match path {
        Some(p) => Ok(SourcesConfig::load(p)?),
        None if default.exists() => Ok(SourcesConfig::load(&default)?),
        None => Ok(SourcesConfig::default_sources()),
    }
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
        Command::Serve(args) => serve_cmd::run(args).await,
        Command::Scrape(args) => scrape_cmd::run(args).await,
        Command::Price(args) => price_cmd::run(args),
        Command::Webhook(args) => webhook_cmd::run(args).await,
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pricehound: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
