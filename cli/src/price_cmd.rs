//! `pricehound price`: one JSON line per text, from arguments or from
//! standard input (one text per line).
//!
//! Standard input is read in large blocks, not line by line: each block's
//! complete lines are split among the threads (`--threads`, by default one
//! per core), each parses its share into its own output buffer, and the
//! buffers are written in input order. Nothing is allocated per line unless a
//! line is not valid UTF-8 (it is then read with U+FFFD in place of the bad
//! bytes). Memory stays bounded whatever the input: a block is 256 KiB and a
//! line longer than `MAX_LINE` bytes is parsed on its first `MAX_LINE` bytes
//! and marked `"truncated":true` (the rest of it is skipped, not buffered).

use clap::Parser;
use pricehound::domain::Currency;
use pricehound::price::{ParsedPrice, PriceHints, parse_price};
use std::borrow::Cow;
use std::io::{self, Read, Write};
use std::num::NonZeroUsize;

/// How much of standard input is read at a time.
const BLOCK: usize = 256 * 1024;
/// The longest line parsed whole. A price is a few dozen bytes; a longer
/// line is text around one, and megabytes of it would only cost memory.
const MAX_LINE: usize = 64 * 1024;
/// Threads are only worth starting for a block with this many bytes.
const MIN_SHARE: usize = 16 * 1024;

#[derive(Parser)]
pub struct Args {
    /// The currency to assume when the text names none (ISO 4217).
    #[arg(long)]
    currency_hint: Option<Currency>,
    /// The decimal separator, when it is not the usual guess: "." or ",".
    #[arg(long, value_parser = ["." , ","])]
    decimal_separator: Option<String>,
    /// Threads parsing standard input (default: one per core). The output
    /// order is the input order whatever the number.
    #[arg(long)]
    threads: Option<NonZeroUsize>,
    /// Texts to parse; with none, reads one per line from standard input.
    text: Vec<String>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let hints = PriceHints {
        decimal_separator: args.decimal_separator.and_then(|s| s.chars().next()),
        currency: args.currency_hint,
    };
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(BLOCK, stdout.lock());
    if args.text.is_empty() {
        let threads = args
            .threads
            .or_else(|| std::thread::available_parallelism().ok())
            .map_or(1, NonZeroUsize::get)
            .min(64);
        convert(io::stdin().lock(), &mut out, hints, threads)?;
    } else {
        let mut buf = Vec::new();
        for t in &args.text {
            write_record(&mut buf, t, &parse_price(t, hints), false)?;
        }
        out.write_all(&buf)?;
    }
    out.flush()?;
    Ok(())
}

/// Reads texts one per line from `input` and writes one JSON line per text
/// to `out`, in order.
pub fn convert(
    mut input: impl Read,
    out: &mut impl Write,
    hints: PriceHints,
    threads: usize,
) -> io::Result<()> {
    let threads = threads.max(1);
    let mut block: Vec<u8> = Vec::with_capacity(BLOCK);
    let mut outputs: Vec<Vec<u8>> = vec![Vec::new(); threads];
    // Set after a truncated line until its newline: the bytes in between are
    // dropped as they arrive.
    let mut skipping = false;
    let mut eof = false;
    loop {
        while !eof && block.len() < BLOCK {
            let start = block.len();
            block.resize(BLOCK, 0);
            let read = input.read(&mut block[start..]);
            block.truncate(start + *read.as_ref().unwrap_or(&0));
            match read {
                Ok(n) => eof = n == 0,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if skipping {
            match memchr::memchr(b'\n', &block) {
                Some(i) => {
                    block.drain(..=i);
                    skipping = false;
                    continue;
                }
                None if eof => break,
                None => {
                    block.clear();
                    continue;
                }
            }
        }
        if block.is_empty() {
            break;
        }
        // Complete lines only; at the end of input the last line may lack
        // its newline.
        let end = match memchr::memrchr(b'\n', &block) {
            Some(i) => i + 1,
            None if eof => block.len(),
            None => {
                // One line fills the whole block: parse its head, skip its tail.
                let head = cut(&block, MAX_LINE);
                outputs[0].clear();
                write_line(&mut outputs[0], head, hints, true)?;
                out.write_all(&outputs[0])?;
                block.clear();
                skipping = true;
                continue;
            }
        };
        let lines = &block[..end];
        let shares = split_lines(lines, threads);
        std::thread::scope(|scope| -> io::Result<()> {
            let (first_out, other_outs) = outputs.split_at_mut(1);
            let mut others = Vec::new();
            for (share, buf) in shares.iter().skip(1).zip(other_outs.iter_mut()) {
                others.push(scope.spawn(move || convert_lines(share, buf, hints)));
            }
            if let (Some(share), Some(buf)) = (shares.first(), first_out.first_mut()) {
                convert_lines(share, buf, hints)?;
            }
            for handle in others {
                handle
                    .join()
                    .map_err(|_| io::Error::other("a parsing thread panicked"))??;
            }
            Ok(())
        })?;
        for buf in outputs.iter().take(shares.len()) {
            out.write_all(buf)?;
        }
        block.drain(..end);
        if eof && block.is_empty() {
            break;
        }
    }
    Ok(())
}

/// Splits `lines` (whole lines) into at most `parts` runs of whole lines of
/// about equal size.
fn split_lines(lines: &[u8], parts: usize) -> Vec<&[u8]> {
    let parts = parts.min(lines.len() / MIN_SHARE).max(1);
    let mut shares = Vec::with_capacity(parts);
    let mut rest = lines;
    for i in (1..parts).rev() {
        let target = rest.len() / (i + 1);
        let at = match memchr::memchr(b'\n', rest.get(target..).unwrap_or_default()) {
            Some(j) => target + j + 1,
            None => rest.len(),
        };
        let (share, tail) = rest.split_at(at.min(rest.len()));
        shares.push(share);
        rest = tail;
    }
    shares.push(rest);
    shares.retain(|s| !s.is_empty());
    shares
}

/// Converts whole lines into `out` (cleared first).
fn convert_lines(lines: &[u8], out: &mut Vec<u8>, hints: PriceHints) -> io::Result<()> {
    out.clear();
    let body = lines.strip_suffix(b"\n").unwrap_or(lines);
    for line in body.split(|&b| b == b'\n') {
        let truncated = line.len() > MAX_LINE;
        write_line(out, cut(line, MAX_LINE), hints, truncated)?;
    }
    Ok(())
}

fn write_line(
    out: &mut Vec<u8>,
    line: &[u8],
    hints: PriceHints,
    truncated: bool,
) -> io::Result<()> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let text = match std::str::from_utf8(line) {
        Ok(s) => Cow::Borrowed(s),
        // A cut made inside a character, or bytes that are not UTF-8.
        Err(_) => String::from_utf8_lossy(line),
    };
    write_record(out, &text, &parse_price(&text, hints), truncated)
}

/// At most `max` bytes of `line` (any cut character becomes U+FFFD later).
fn cut(line: &[u8], max: usize) -> &[u8] {
    line.get(..max).unwrap_or(line)
}

/// `{"input":…,"amount":"…"|null,"currency":"…"|null}` and a newline, the
/// keys in that order.
fn write_record(
    out: &mut Vec<u8>,
    input: &str,
    price: &ParsedPrice,
    truncated: bool,
) -> io::Result<()> {
    out.extend_from_slice(b"{\"input\":");
    serde_json::to_writer(&mut *out, input)?;
    out.extend_from_slice(b",\"amount\":");
    match price.amount {
        // Decimal's Display formats on the stack.
        Some(amount) => write!(out, "\"{amount}\"")?,
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"currency\":");
    match price.currency {
        // ISO 4217 codes: three ASCII letters, nothing to escape.
        Some(c) => {
            out.push(b'"');
            out.extend_from_slice(c.code().as_bytes());
            out.push(b'"');
        }
        None => out.extend_from_slice(b"null"),
    }
    if truncated {
        out.extend_from_slice(b",\"truncated\":true");
    }
    out.extend_from_slice(b"}\n");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn run_on(input: &[u8], threads: usize) -> Vec<serde_json::Value> {
        let mut out = Vec::new();
        convert(input, &mut out, PriceHints::default(), threads).expect("converts");
        std::str::from_utf8(&out)
            .expect("the output is UTF-8")
            .lines()
            .map(|l| serde_json::from_str(l).expect("each line is JSON"))
            .collect()
    }

    /// What one line should give, computed the plain way.
    fn expected(line: &str) -> serde_json::Value {
        let p = parse_price(line, PriceHints::default());
        serde_json::json!({
            "input": line,
            "amount": p.amount.map(|a| a.to_string()),
            "currency": p.currency.map(|c| c.code().to_string()),
        })
    }

    #[test]
    fn many_blocks_and_threads_keep_the_input_order() {
        let lines: Vec<String> = (0..60_000).map(|i| format!("{i},50 € \"q\"")).collect();
        let input = lines.join("\r\n");
        for threads in [1, 2, 3, 8] {
            let got = run_on(input.as_bytes(), threads);
            assert_eq!(got.len(), lines.len(), "{threads} threads");
            for (i, line) in [0, 1, 17_000, 59_999].map(|i| (i, &lines[i])) {
                assert_eq!(got[i], expected(line), "line {i}, {threads} threads");
            }
        }
    }

    #[test]
    fn a_huge_line_is_cut_and_the_next_lines_still_come() {
        let mut input = vec![b'9'; 3 * BLOCK];
        input.extend_from_slice("\n12 €\n".as_bytes());
        let got = run_on(&input, 2);
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0]["truncated"], true);
        assert_eq!(got[0]["input"].as_str().map(str::len), Some(MAX_LINE));
        assert_eq!(got[1], expected("12 €"));
    }

    #[test]
    fn bad_utf8_and_empty_lines_give_a_record_each() {
        let got = run_on(b"\xff\xfe 5 EUR\n\n\n7 $", 1);
        assert_eq!(got.len(), 4);
        assert_eq!(got[0]["amount"], "5");
        assert_eq!(got[1], expected(""));
        assert_eq!(got[3], expected("7 $"));
    }

    proptest! {
        #[test]
        fn any_bytes_give_one_record_per_line(bytes in proptest::collection::vec(any::<u8>(), 0..4096), threads in 1usize..4) {
            let got = run_on(&bytes, threads);
            let body = bytes.strip_suffix(b"\n").unwrap_or(&bytes);
            let want = if bytes.is_empty() { 0 } else { body.split(|&b| b == b'\n').count() };
            prop_assert_eq!(got.len(), want);
        }
    }
}
