//! The `pricehound` binary as a user runs it.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_pricehound"))
}

#[test]
fn price_parses_arguments_and_stdin_lines() {
    let out = bin()
        .args(["price", "1 234,56 €", "Free", "13 500 DA"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines[0],
        serde_json::json!({"input": "1 234,56 €", "amount": "1234.56", "currency": "EUR"})
    );
    assert_eq!(
        lines[1],
        serde_json::json!({"input": "Free", "amount": null, "currency": null})
    );
    assert_eq!(lines[2]["currency"], "DZD");

    let mut child = bin()
        .args([
            "price",
            "--currency-hint",
            "BGN",
            "--decimal-separator",
            ".",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input: String = (0..2000).map(|i| format!("{i}.50\n")).collect();
    std::thread::spawn(move || stdin.write_all(input.as_bytes()).unwrap());
    let out = child.wait_with_output().unwrap();
    let lines: Vec<&str> = std::str::from_utf8(&out.stdout).unwrap().lines().collect();
    assert_eq!(lines.len(), 2000, "one JSON line per input line");
    assert!(
        lines[7].contains(r#""amount":"7.5""#) && lines[7].contains("BGN"),
        "{}",
        lines[7]
    );

    let bad = bin()
        .args(["price", "--currency-hint", "DINAR", "5"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("ISO 4217"));
}

#[test]
fn scrape_prints_what_a_source_yields_without_storing() {
    let out = bin()
        .args(["scrape", "tg-zoloto-lombard", "--demo"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let last: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(last["summary"]["observations"], 42);
    assert_eq!(last["summary"]["checkpoint"], 240);

    let out = bin().args(["scrape", "nope", "--demo"]).output().unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("tg-bijouterie-dz"),
        "lists known ids"
    );
}

/// Kills the child if the test fails before it exits, so no server outlives the test.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn serve_demo_answers_then_stops_cleanly_on_sigterm() {
    let dir = std::env::temp_dir().join(format!("pricehound-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut child = KillOnDrop(
        bin()
            .args([
                "serve",
                "--demo",
                "--listen",
                "127.0.0.1:0",
                "--log-format",
                "json",
                "--db",
            ])
            .arg(dir.join("p.db"))
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    // Read stderr on a thread so every wait below has a deadline.
    let stderr = BufReader::new(child.0.stderr.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut logs = Vec::new();
    let gold = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = rx
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no gold group scrape within 60 s: {logs:#?}"));
        logs.push(line.clone());
        if line.contains("group scraped") {
            let v: serde_json::Value = serde_json::from_str(&line).expect("logs are JSON lines");
            if v["group"] == "gold" {
                break v;
            }
        }
    };
    assert_eq!(gold["sources_ok"], gold["sources"], "{gold}");
    // 72 prices from the two recorded channels, plus the spot price.
    assert!(gold["observations"].as_u64().unwrap() >= 72, "{gold}");

    // SIGTERM, as systemd or a container runtime sends it.
    let status = Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut stopped = false;
    while let Ok(line) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        stopped |= line.contains("stopped cleanly");
        logs.push(line);
    }
    let exit = child.0.wait().unwrap();
    assert!(exit.success(), "exit {exit:?}: {logs:#?}");
    assert!(stopped, "{logs:#?}");
    let _ = std::fs::remove_dir_all(&dir);
}
