use clap::Parser;
use pricehound::sources::{Fetcher, ScrapeOutput, SourceConfig, scrape_source};
use serde_json::json;
use std::io::IsTerminal;
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
    /// Output: text (field by field, for writing selectors) or json (one
    /// object per line). Default: text on a terminal, JSON otherwise.
    #[arg(long, value_parser = ["text", "json"])]
    format: Option<String>,
}

/// Scrapes one source and prints what it yields. Nothing is stored.
pub async fn run(args: Args, settings: pricehound::settings::Settings) -> anyhow::Result<()> {
    let mut sources = crate::load_sources(args.sources.as_deref(), &settings)?;
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
    let json = match args.format.as_deref() {
        Some("json") => true,
        Some(_) => false,
        None => !std::io::stdout().is_terminal(),
    };
    if json {
        print_json(source, &out);
    } else {
        print_text(source, &out);
    }
    Ok(())
}

fn print_json(source: &SourceConfig, out: &ScrapeOutput) {
    for o in &out.observations {
        println!(
            "{}",
            json!({
                "item_id": o.item_id,
                "name": o.item_name,
                "series": o.series,
                "amount": o.price.as_ref().map(|p| p.amount.to_string()),
                "currency": o.price.as_ref().map(|p| p.currency),
                "availability": o.availability,
                "url": o.details.url,
                "image": o.details.image,
                "brand": o.details.brand,
                "observed_at": o.observed_at,
                "provenance": o.provenance,
            })
        );
    }
    for r in &out.rejected {
        println!("{}", json!({"rejected": r.name, "reason": r.reason}));
    }
    println!(
        "{}",
        json!({
            "summary": {
                "source_id": source.id,
                "observations": out.observations.len(),
                "rejected": out.rejected.len(),
                "posts_read": out.posts_read,
                "posts_without_price": out.posts_without_price,
                "pages_fetched": out.pages_fetched,
                "checkpoint": out.checkpoint,
                "notes": out.notes,
            }
        })
    );
}

/// Field by field, with the raw text each selector found, so a user can
/// tune selectors for a new shop without reading code.
fn print_text(source: &SourceConfig, out: &ScrapeOutput) {
    let raw: std::collections::HashMap<&str, &pricehound::sources::Listing> =
        out.listings.iter().map(|l| (l.name.as_str(), l)).collect();
    for (i, o) in out.observations.iter().enumerate() {
        println!("[{}] {}", i + 1, o.item_name);
        println!("    item id       {}", o.item_id);
        match (
            &o.price,
            raw.get(o.item_name.as_str())
                .and_then(|l| l.price_text.as_deref()),
        ) {
            (Some(p), Some(t)) => println!("    price         {p}   (from {t:?})"),
            (Some(p), None) => println!("    price         {p}"),
            (None, t) => println!(
                "    price         none{}",
                t.map(|t| format!("   (from {t:?})")).unwrap_or_default()
            ),
        }
        println!("    availability  {}", o.availability.as_str());
        for (label, v) in [
            ("url", &o.details.url),
            ("image", &o.details.image),
            ("brand", &o.details.brand),
        ] {
            if let Some(v) = v {
                println!("    {label:<13} {v}");
            }
        }
        if let Some(s) = &o.series {
            println!("    series        {s}");
        }
        println!("    observed at   {}", o.observed_at);
    }
    for r in &out.rejected {
        println!("[rejected] {}: {}", r.name, r.reason);
    }
    for n in &out.notes {
        println!("[note] {n}");
    }
    println!(
        "\n{}: {} observation(s), {} rejected, {} page(s) fetched{}",
        source.id,
        out.observations.len(),
        out.rejected.len(),
        out.pages_fetched,
        out.checkpoint
            .map(|c| format!(", checkpoint {c}"))
            .unwrap_or_default()
    );
}
