use clap::Parser;
use pricehound::sources::{Fetcher, scrape_source};
use serde_json::json;
use std::path::PathBuf;

#[derive(Parser)]
pub struct Args {
    /// The source id, as in the sources file.
    source_id: String,
    /// The sources file (default: ./sources.toml, else the built-in default).
    #[arg(long)]
    sources: Option<PathBuf>,
    /// Read only posts after this id (as a stored checkpoint would).
    #[arg(long)]
    after: Option<u64>,
    /// Read the recorded sample pages instead of the real site.
    #[arg(long)]
    demo: bool,
}

/// Prints one JSON line per observation, then a summary line. Nothing is stored.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let mut sources = crate::load_sources(args.sources.as_deref())?;
    if args.demo {
        sources.rebase(&pricehound::demo::spawn().await?);
    }
    let Some(source) = sources.source(&args.source_id) else {
        let ids: Vec<&str> = sources.sources.iter().map(|s| s.id.as_str()).collect();
        anyhow::bail!(
            "no source {:?} in the sources file; known: {}",
            args.source_id,
            ids.join(", ")
        );
    };
    let out = scrape_source(source, &Fetcher::new(), args.after).await?;
    for o in &out.observations {
        println!(
            "{}",
            json!({
                "item_id": o.item_id,
                "name": o.item_name,
                "series": o.series,
                "amount": o.price.amount.to_string(),
                "currency": o.price.currency,
                "observed_at": o.observed_at,
                "provenance": o.provenance,
            })
        );
    }
    println!(
        "{}",
        json!({
            "summary": {
                "source_id": source.id,
                "observations": out.observations.len(),
                "posts_read": out.posts_read,
                "posts_without_price": out.posts_without_price,
                "pages_fetched": out.pages_fetched,
                "checkpoint": out.checkpoint,
            }
        })
    );
    Ok(())
}
