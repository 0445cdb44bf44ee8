//! `pricehound webhook set|info|delete`: the Telegram side of a deploy.

use clap::{Args as ClapArgs, Subcommand};
use pricehound::telegram::polling::{ALLOWED_UPDATES, command_menus};
use pricehound::telegram::webhook::{PATH, WebhookSecret};
use std::path::PathBuf;
use std::time::Duration;

use pricehound::settings::Settings;
use pricehound::telegram::api::BotApi;

#[derive(ClapArgs)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(Subcommand)]
enum Action {
    /// Point Telegram at the webhook, with a secret, the update kinds the
    /// bot reads, the command menus in every language, and the menu button
    /// that opens the Mini App (`<url>/app`).
    Set {
        /// The public URL: the Function URL (its /telegram/webhook path is
        /// added when missing).
        #[arg(long)]
        url: String,
        /// Where to write a newly generated secret (mode 0600), for
        /// `aws ssm put-parameter --type SecureString --value file://FILE`.
        /// Not needed when PRICEHOUND_WEBHOOK_SECRET is set.
        #[arg(long)]
        secret_file: Option<PathBuf>,
        /// Drop the updates Telegram queued while no webhook answered.
        #[arg(long)]
        drop_pending_updates: bool,
    },
    /// Show Telegram's view of the webhook: URL, pending updates, last error.
    Info,
    /// Remove the webhook (so `pricehound serve` can poll instead).
    Delete {
        #[arg(long)]
        drop_pending_updates: bool,
    },
}

/// The token is never a flag: a flag shows in `ps` and shell history.
pub async fn run(args: Args, settings: Settings) -> anyhow::Result<()> {
    let token = settings.bot_token.ok_or_else(|| {
        anyhow::anyhow!("set PRICEHOUND_BOT_TOKEN to the bot's token from @BotFather")
    })?;
    let api = BotApi::connect(&settings.telegram_api, token)?;
    match args.action {
        Action::Set {
            url,
            secret_file,
            drop_pending_updates,
        } => {
            let url = webhook_url(&url)?;
            let secret = match (settings.webhook_secret, secret_file) {
                (Some(s), _) => s,
                (None, Some(file)) => {
                    let s = WebhookSecret::random();
                    write_private(&file, s.expose())?;
                    eprintln!("wrote a new webhook secret to {}", file.display());
                    s
                }
                (None, None) => anyhow::bail!(
                    "give --secret-file FILE (a new random secret is written there) or set PRICEHOUND_WEBHOOK_SECRET"
                ),
            };
            api.set_webhook(&url, secret.expose(), ALLOWED_UPDATES, drop_pending_updates)
                .await?;
            for call in command_menus() {
                api.send(&call, Duration::from_secs(30)).await?;
            }
            // The menu button opens the Mini App, served by the same
            // function at /app.
            let app = mini_app_url(&url)?;
            api.set_menu_button("Open app", &app).await?;
            println!(
                "{}",
                serde_json::json!({ "webhook": url, "allowed_updates": ALLOWED_UPDATES, "command_menus": command_menus().len(), "menu_button": app })
            );
        }
        Action::Info => {
            let info = api.get_webhook_info().await?;
            println!("{}", serde_json::to_string_pretty(&info)?);
        }
        Action::Delete {
            drop_pending_updates,
        } => {
            api.delete_webhook(drop_pending_updates).await?;
            println!("{}", serde_json::json!({ "webhook": null }));
        }
    }
    Ok(())
}

/// The webhook URL: https only (Telegram's rule), with our path.
fn webhook_url(raw: &str) -> anyhow::Result<String> {
    let mut url = url::Url::parse(raw).map_err(|e| anyhow::anyhow!("--url {raw:?}: {e}"))?;
    let local = matches!(url.host_str(), Some("127.0.0.1" | "localhost"));
    if url.scheme() != "https" && !local {
        anyhow::bail!("--url must be https (Telegram only calls https webhooks)");
    }
    if !url.path().ends_with(PATH) {
        let path = format!("{}{PATH}", url.path().trim_end_matches('/'));
        url.set_path(&path);
    }
    Ok(url.to_string())
}

/// The Mini App's URL beside the webhook's: `<base>/app`.
fn mini_app_url(webhook: &str) -> anyhow::Result<String> {
    let mut url = url::Url::parse(webhook).map_err(|e| anyhow::anyhow!("{webhook:?}: {e}"))?;
    let base = url.path().strip_suffix(PATH).unwrap_or("").to_string();
    url.set_path(&format!("{}/app", base.trim_end_matches('/')));
    url.set_query(None);
    Ok(url.to_string())
}

fn write_private(path: &std::path::Path, secret: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options
        .open(path)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    // `mode` only applies to a file it creates: an existing one keeps its
    // mode (often 0644), so narrow it before the secret goes in.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|e| anyhow::anyhow!("cannot make {} private: {e}", path.display()))?;
    }
    f.write_all(secret.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_urls_get_the_path_and_must_be_https() {
        assert_eq!(
            webhook_url("https://abc.lambda-url.eu-west-1.on.aws/").unwrap(),
            "https://abc.lambda-url.eu-west-1.on.aws/telegram/webhook"
        );
        assert_eq!(
            webhook_url("https://x.example/telegram/webhook").unwrap(),
            "https://x.example/telegram/webhook"
        );
        assert!(webhook_url("http://x.example/").is_err());
        assert!(webhook_url("not a url").is_err());
    }
}
