use clap::Parser;
use pricehound::domain::Currency;
use pricehound::price::{PriceHints, parse_price};
use serde_json::json;
use std::io::{BufRead, Write};

#[derive(Parser)]
pub struct Args {
    /// The currency to assume when the text names none (ISO 4217).
    #[arg(long)]
    currency_hint: Option<Currency>,
    /// The decimal separator, when it is not the usual guess: "." or ",".
    #[arg(long, value_parser = ["." , ","])]
    decimal_separator: Option<String>,
    /// Texts to parse; with none, reads one per line from standard input.
    text: Vec<String>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let hints = PriceHints {
        decimal_separator: args.decimal_separator.and_then(|s| s.chars().next()),
        currency: args.currency_hint,
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut emit = |input: &str| -> std::io::Result<()> {
        let p = parse_price(input, hints);
        let line = json!({
            "input": input,
            "amount": p.amount.map(|a| a.to_string()),
            "currency": p.currency,
        });
        writeln!(out, "{line}")
    };
    if args.text.is_empty() {
        for line in std::io::stdin().lock().lines() {
            emit(&line?)?;
        }
    } else {
        for t in &args.text {
            emit(t)?;
        }
    }
    out.flush()?;
    Ok(())
}
