//! The `pricehound` binary, for tests that run it as a user would.
//!
//! The binary belongs to another package, so `CARGO_BIN_EXE_pricehound` is
//! not available to this crate's tests: [`pricehound_bin`] asks cargo to
//! build it (a no-op when it is up to date, e.g. after `cargo nextest run
//! --workspace`) and reads its path from cargo's JSON messages.
//! `PRICEHOUND_BIN` overrides (scripts/test sets it).

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The `pricehound` binary, built with this test's profile if needed.
pub fn pricehound_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(bin) = std::env::var_os("PRICEHOUND_BIN") {
            return bin.into();
        }
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut cmd = std::process::Command::new(cargo);
        cmd.current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
            .args([
                "build",
                "-p",
                "pricehound-cli",
                "--bin",
                "pricehound",
                "--message-format=json-render-diagnostics",
            ]);
        // This test runs from target/<profile dir>/deps/: build the same profile.
        let exe = std::env::current_exe().unwrap();
        let profile = exe
            .parent()
            .and_then(Path::parent)
            .and_then(Path::file_name)
            .and_then(|n| n.to_str())
            .unwrap_or("debug");
        match profile {
            "debug" => {}
            "release" => {
                cmd.arg("--release");
            }
            other => {
                cmd.args(["--profile", other]);
            }
        }
        let out = cmd.output().expect("cargo runs");
        assert!(
            out.status.success(),
            "building pricehound failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "pricehound")
            .find_map(|m| m["executable"].as_str().map(PathBuf::from))
            .expect("cargo reports the pricehound executable")
    })
}

/// `pricehound serve` with `args`, listening on a free loopback port, with
/// JSON logs on stderr and none of this process's `PRICEHOUND_*` settings
/// (the test sets what it needs with `.env`).
pub fn serve_command(args: &[&str]) -> std::process::Command {
    let mut cmd = std::process::Command::new(pricehound_bin());
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .args(args)
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null());
    for (k, _) in std::env::vars() {
        if k.starts_with("PRICEHOUND_") {
            cmd.env_remove(k);
        }
    }
    cmd
}

/// Starts `cmd` (from [`serve_command`]) and waits up to 60 s for the line
/// that says where it serves; its stderr is drained from then on, so the
/// server never blocks on a full pipe. Panics with what it logged if it
/// never says.
pub fn spawn_serving(
    mut cmd: std::process::Command,
) -> (std::process::Child, std::net::SocketAddr) {
    use std::io::{BufRead, BufReader};
    use std::time::{Duration, Instant};
    let mut child = cmd.spawn().expect("pricehound serve starts");
    let stderr = BufReader::new(child.stderr.take().expect("stderr is piped"));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = Vec::new();
    let addr = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(line) = rx.recv_timeout(left) else {
            let _ = child.kill();
            panic!("serve did not say where it listens within 60 s: {seen:#?}");
        };
        if let Some(rest) = line.strip_prefix("pricehound is serving on http://") {
            let addr = rest.split_whitespace().next().unwrap_or_default();
            break addr.parse().expect("serve names its address");
        }
        seen.push(line);
    };
    std::thread::spawn(move || while rx.recv().is_ok() {});
    (child, addr)
}
