//! `pricehound webhook set|info|delete`, the real binary against the Bot API
//! stand-in (PRICEHOUND_TELEGRAM_API points it there).
//! (`pricehound_tests::cli::pricehound_bin` says how the binary is found.)

use pricehound_tests::bot::{SECRET, TOKEN};
use pricehound_tests::cli::pricehound_bin;
use pricehound_tests::telegram_standin::TelegramStandin;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

const FUNCTION_URL: &str = "https://abc.lambda-url.eu-west-1.on.aws/";
const WEBHOOK_URL: &str = "https://abc.lambda-url.eu-west-1.on.aws/telegram/webhook";

/// Runs `pricehound <args>` with only the bot variables given in `env`
/// (any PRICEHOUND_* of the caller's environment is removed).
async fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let bin = pricehound_bin().to_path_buf();
    let mut cmd = tokio::process::Command::new(bin);
    cmd.args(args).kill_on_drop(true);
    for (k, _) in std::env::vars() {
        if k.starts_with("PRICEHOUND_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("RUST_LOG", "debug");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = tokio::time::timeout(Duration::from_secs(60), cmd.output())
        .await
        .expect("pricehound exits within 60 s")
        .expect("pricehound runs");
    assert_no_token(&out);
    out
}

/// Neither the token nor its secret half is ever printed.
fn assert_no_token(out: &Output) {
    let secret_half = TOKEN.split_once(':').unwrap().1;
    for (name, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        let text = String::from_utf8_lossy(bytes);
        assert!(
            !text.contains(TOKEN) && !text.contains(secret_half),
            "the token is in {name}"
        );
    }
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "pricehound-cli-webhook-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_info_delete_round_trip() {
    let standin = TelegramStandin::start(TOKEN).await;
    let api = standin.base_url();
    let env = [
        ("PRICEHOUND_BOT_TOKEN", TOKEN),
        ("PRICEHOUND_TELEGRAM_API", api.as_str()),
    ];
    let dir = temp_dir("round-trip");
    let secret_file = dir.join("webhook-secret");
    // An update queued while nothing answered, dropped on request.
    standin.push_update(pricehound_tests::bot::message(1, "en", "/start"));

    let out = run(
        &[
            "webhook",
            "set",
            "--url",
            FUNCTION_URL,
            "--secret-file",
            secret_file.to_str().unwrap(),
            "--drop-pending-updates",
        ],
        &env,
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));

    // The secret: 64 characters Telegram accepts, in a private file.
    let secret = std::fs::read_to_string(&secret_file).unwrap();
    assert_eq!(secret.len(), 64, "{secret:?}");
    assert!(
        secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'),
        "{secret:?}"
    );
    #[cfg(unix)]
    assert_eq!(mode(&secret_file), 0o600);
    for text in [stdout(&out), stderr(&out)] {
        assert!(!text.contains(&secret), "the secret is printed: {text}");
    }

    // What Telegram was told.
    let set = standin.calls_to("setWebhook");
    assert_eq!(set.len(), 1);
    let p = &set[0].params;
    assert_eq!(p["url"], WEBHOOK_URL);
    assert!(p["url"].as_str().unwrap().ends_with("/telegram/webhook"));
    assert_eq!(p["secret_token"], secret.as_str());
    assert_eq!(
        p["allowed_updates"],
        json!(["message", "callback_query", "my_chat_member"])
    );
    assert_eq!(p["drop_pending_updates"], true);
    assert_eq!(standin.pending_updates(), 0);
    // The menu button opens the Mini App beside the webhook.
    let button = standin.calls_to("setChatMenuButton");
    assert_eq!(button.len(), 1);
    assert_eq!(
        button[0].params["menu_button"],
        json!({"type": "web_app", "text": "Open app", "web_app": {"url": "https://abc.lambda-url.eu-west-1.on.aws/app"}})
    );
    let menus = standin.calls_to("setMyCommands");
    assert_eq!(menus.len(), 5);
    let langs: Vec<Value> = menus
        .iter()
        .map(|c| {
            c.params
                .get("language_code")
                .cloned()
                .unwrap_or(Value::Null)
        })
        .collect();
    assert_eq!(
        langs,
        vec![
            Value::Null,
            json!("en"),
            json!("ru"),
            json!("fr"),
            json!("ar")
        ]
    );
    assert_eq!(standin.webhook_url().as_deref(), Some(WEBHOOK_URL));

    // stdout is one JSON document.
    let printed: Value = serde_json::from_str(&stdout(&out)).expect("stdout is JSON");
    assert_eq!(printed["webhook"], WEBHOOK_URL);
    assert_eq!(
        printed["allowed_updates"],
        json!(["message", "callback_query", "my_chat_member"])
    );
    assert_eq!(printed["command_menus"], 5);

    // info shows Telegram's view.
    let out = run(&["webhook", "info"], &env).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let info: Value = serde_json::from_str(&stdout(&out)).expect("info prints JSON");
    assert_eq!(info["url"], WEBHOOK_URL);
    assert_eq!(info["pending_update_count"], 0);
    assert!(!stdout(&out).contains(&secret));

    // delete clears it.
    let out = run(&["webhook", "delete"], &env).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let printed: Value = serde_json::from_str(&stdout(&out)).expect("delete prints JSON");
    assert_eq!(printed, json!({ "webhook": null }));
    assert_eq!(standin.webhook_url(), None);
    assert_eq!(standin.calls_to("deleteWebhook").len(), 1);
    let out = run(&["webhook", "info"], &env).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let info: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(info["url"], "");

    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_secret_file_is_made_private() {
    let standin = TelegramStandin::start(TOKEN).await;
    let api = standin.base_url();
    let dir = temp_dir("existing");
    let secret_file = dir.join("webhook-secret");
    std::fs::write(
        &secret_file,
        "an older, longer secret that must not survive\n",
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&secret_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    }

    let out = run(
        &[
            "webhook",
            "set",
            "--url",
            FUNCTION_URL,
            "--secret-file",
            secret_file.to_str().unwrap(),
        ],
        &[
            ("PRICEHOUND_BOT_TOKEN", TOKEN),
            ("PRICEHOUND_TELEGRAM_API", api.as_str()),
        ],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let secret = std::fs::read_to_string(&secret_file).unwrap();
    assert_eq!(secret.len(), 64, "replaced whole: {secret:?}");
    assert_eq!(
        standin.calls_to("setWebhook")[0].params["secret_token"],
        secret.as_str()
    );
    #[cfg(unix)]
    assert_eq!(
        mode(&secret_file),
        0o600,
        "a secret is never left world-readable"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_from_the_environment_needs_no_file() {
    let standin = TelegramStandin::start(TOKEN).await;
    let api = standin.base_url();
    let env = [
        ("PRICEHOUND_BOT_TOKEN", TOKEN),
        ("PRICEHOUND_TELEGRAM_API", api.as_str()),
        ("PRICEHOUND_WEBHOOK_SECRET", SECRET),
    ];
    let out = run(
        &[
            "webhook",
            "set",
            "--url",
            "https://bot.example.com/telegram/webhook",
        ],
        &env,
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let set = standin.calls_to("setWebhook");
    assert_eq!(set.len(), 1);
    assert_eq!(set[0].params["secret_token"], SECRET);
    assert_eq!(
        set[0].params["url"], "https://bot.example.com/telegram/webhook",
        "the path is not added twice"
    );
    assert_eq!(set[0].params["drop_pending_updates"], false);
    assert_eq!(standin.calls_to("setMyCommands").len(), 5);
    for text in [stdout(&out), stderr(&out)] {
        assert!(!text.contains(SECRET), "the secret is printed: {text}");
    }
    let printed: Value = serde_json::from_str(&stdout(&out)).expect("stdout is JSON");
    assert_eq!(
        printed["webhook"],
        "https://bot.example.com/telegram/webhook"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_name_what_is_wrong_and_call_nothing() {
    let standin = TelegramStandin::start(TOKEN).await;
    let api = standin.base_url();
    let dir = temp_dir("refusals");
    let secret_file = dir.join("webhook-secret");
    let file_arg = secret_file.to_str().unwrap();
    let set = [
        "webhook",
        "set",
        "--url",
        FUNCTION_URL,
        "--secret-file",
        file_arg,
    ];

    // No token.
    for args in [&set[..], &["webhook", "info"], &["webhook", "delete"]] {
        let out = run(args, &[("PRICEHOUND_TELEGRAM_API", api.as_str())]).await;
        assert!(!out.status.success(), "{args:?} without a token");
        assert!(
            stderr(&out).contains("PRICEHOUND_BOT_TOKEN"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    // A token that is not one: named, not echoed.
    let out = run(
        &set,
        &[
            ("PRICEHOUND_BOT_TOKEN", "not-a-token-123"),
            ("PRICEHOUND_TELEGRAM_API", api.as_str()),
        ],
    )
    .await;
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("PRICEHOUND_BOT_TOKEN"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("not-a-token-123"));

    let env = [
        ("PRICEHOUND_BOT_TOKEN", TOKEN),
        ("PRICEHOUND_TELEGRAM_API", api.as_str()),
    ];
    // Telegram only calls https webhooks.
    let out = run(
        &[
            "webhook",
            "set",
            "--url",
            "http://x.example/",
            "--secret-file",
            file_arg,
        ],
        &env,
    )
    .await;
    assert!(!out.status.success());
    assert!(stderr(&out).contains("https"), "{}", stderr(&out));
    // Not a URL at all.
    let out = run(
        &["webhook", "set", "--url", "abc", "--secret-file", file_arg],
        &env,
    )
    .await;
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--url"), "{}", stderr(&out));
    // Neither a secret file nor PRICEHOUND_WEBHOOK_SECRET.
    let out = run(&["webhook", "set", "--url", FUNCTION_URL], &env).await;
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("--secret-file")
            && stderr(&out).contains("PRICEHOUND_WEBHOOK_SECRET"),
        "{}",
        stderr(&out)
    );
    // A malformed secret in the environment: named, not echoed.
    let out = run(
        &["webhook", "set", "--url", FUNCTION_URL],
        &[
            ("PRICEHOUND_BOT_TOKEN", TOKEN),
            ("PRICEHOUND_TELEGRAM_API", api.as_str()),
            ("PRICEHOUND_WEBHOOK_SECRET", "has spaces/and slashes"),
        ],
    )
    .await;
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("PRICEHOUND_WEBHOOK_SECRET"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("has spaces/and slashes"));

    assert!(
        !secret_file.exists(),
        "no secret written for a refused call"
    );
    assert!(standin.calls().is_empty(), "{:?}", standin.calls());
    assert_eq!(standin.webhook_url(), None);

    // The Bot API refusing the token: an error, still without the token.
    standin.fail_next(
        "setWebhook",
        pricehound_tests::telegram_standin::Failure::BadRequest(format!(
            "Bad Request: bad webhook for bot {TOKEN}"
        )),
        1,
    );
    let out = run(&set, &env).await;
    assert!(!out.status.success());
    assert!(stderr(&out).contains("bad webhook"), "{}", stderr(&out));
    assert_eq!(standin.webhook_url(), None);

    let _ = std::fs::remove_dir_all(&dir);
}
