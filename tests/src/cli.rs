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
