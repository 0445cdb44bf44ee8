//! The layering the crates promise, checked on the real dependency graph
//! (`cargo tree`): the core (`shared/core`, the domain, ports, ingest and
//! alert rules) depends on no I/O crate, so "the domain never imports AWS"
//! is something the build enforces rather than a convention; and each
//! Lambda function compiles and links only what it uses.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// Crates that do I/O or pull in a runtime, a database, a network stack or
/// a parser of outside documents: none may reach the core, directly or
/// through another dependency. A crate named `aws-*` is refused as well.
const IO_CRATES: &[&str] = &[
    "tokio",
    "mio",
    "socket2",
    "reqwest",
    "hyper",
    "h2",
    "rustls",
    "ring",
    "rusqlite",
    "libsqlite3-sys",
    "axum",
    "tower",
    "tower-http",
    "lambda_runtime",
    "lambda_http",
    "scraper",
    "html5ever",
    "plotters",
    "tracing-subscriber",
];

/// The crates `package` depends on for its normal (not dev, not build)
/// dependencies, by name, from `cargo tree` on the workspace's lock file.
fn normal_dependencies(package: &str) -> BTreeSet<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(&root)
        .args([
            "tree",
            "--locked",
            "--offline",
            "-p",
            package,
            "-e",
            "normal",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ])
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo tree -p {package} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_core_depends_on_no_io_crate() {
    let deps = normal_dependencies("pricehound-core");
    // The tree really was read: the core's own direct dependencies show up.
    for expected in ["pricehound-core", "chrono", "rust_decimal", "serde"] {
        assert!(deps.contains(expected), "{expected} missing from {deps:?}");
    }
    let io: Vec<&String> = deps
        .iter()
        .filter(|d| {
            IO_CRATES.contains(&d.as_str()) || d.starts_with("aws-") || d.starts_with("aws_")
        })
        .collect();
    assert!(
        io.is_empty(),
        "pricehound-core (shared/core) must not depend on I/O crates, but it reaches {io:?}. \
         Keep the port trait or the pure rule in the core and put the code that uses the \
         crate in an adapter crate; `cargo tree -p pricehound-core -e normal -i <crate>` \
         shows which dependency brings it in."
    );
}

/// What a Lambda function must not compile or link: (function, crates).
/// No function uses SQLite (the local stack's store); ingest uses only the
/// core and the AWS adapters, and so does events; scrape adds the sources, not the bot or the
/// router.
const NOT_IN_FUNCTIONS: &[(&str, &[&str])] = &[
    ("api", &["rusqlite", "libsqlite3-sys", "pricehound-sqlite"]),
    (
        "notify",
        &["rusqlite", "libsqlite3-sys", "pricehound-sqlite"],
    ),
    (
        "ingest",
        &[
            "rusqlite",
            "libsqlite3-sys",
            "pricehound",
            "pricehound-sources",
            "scraper",
            "html5ever",
            "plotters",
            "axum",
            "reqwest",
        ],
    ),
    (
        "events",
        &[
            "rusqlite",
            "libsqlite3-sys",
            "pricehound",
            "pricehound-sources",
            "scraper",
            "html5ever",
            "plotters",
            "axum",
            "reqwest",
        ],
    ),
    (
        "scrape",
        &[
            "rusqlite",
            "libsqlite3-sys",
            "pricehound",
            "plotters",
            "axum",
        ],
    ),
];

#[test]
fn each_lambda_function_links_only_what_it_uses() {
    for (function, banned) in NOT_IN_FUNCTIONS {
        let deps = normal_dependencies(function);
        assert!(
            deps.contains("pricehound-core"),
            "{function}: the tree was not read: {deps:?}"
        );
        let found: Vec<&&str> = banned.iter().filter(|b| deps.contains(**b)).collect();
        assert!(
            found.is_empty(),
            "the {function} function now depends on {found:?}, which it does not use. \
             `cargo tree -p {function} -e normal -i <crate>` shows what brings it in; \
             depend on the narrower crate (shared/core, shared/sources, shared/aws) instead."
        );
    }
}
