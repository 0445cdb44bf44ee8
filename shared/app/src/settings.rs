//! Everything pricehound reads from its environment, in one place.
//!
//! [`Settings::from_env`] reads every variable once, at start (a Lambda's
//! cold start, `pricehound serve`, a CLI command), checks it and turns it
//! into the typed settings of the part that uses it: a bad value stops the
//! start with a message that names the variable and says what it expects,
//! instead of surfacing later in a request. The README's "Configuration"
//! table lists every variable; nothing else in the code reads the
//! environment (the AWS SDK's own `AWS_*` variables aside).
//!
//! The secrets here (the bot token, the webhook secret) have types whose
//! `Debug` prints `***`, so printing the settings never shows them.

use std::path::PathBuf;

use crate::alerts::rules::AlertPolicy;
use crate::http::HttpConfig;
use crate::retention::Retention;
use crate::sources::SourcesConfig;
use crate::telegram::api::{BotToken, DEFAULT_BASE_URL};
use crate::telegram::bot::BotConfig;
use crate::telegram::webhook::WebhookSecret;

/// A variable that is missing where it is needed, or does not hold what it
/// should.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("environment variable {var}: {problem}")]
pub struct SettingsError {
    pub var: &'static str,
    pub problem: String,
}

impl SettingsError {
    fn new(var: &'static str, problem: impl Into<String>) -> Self {
        SettingsError {
            var,
            problem: problem.into(),
        }
    }
}

/// Every setting, typed. Fields a deployment may leave unset are `Option`s;
/// the AWS names are required only by the functions that use them
/// (`pricehound_aws::names::AwsNames`).
#[derive(Debug, Clone)]
pub struct Settings {
    /// `PRICEHOUND_SOURCES_FILE`: the sources file. Unset: the Lambdas use
    /// the `sources.toml` compiled into the binary, the CLI `--sources` or
    /// `./sources.toml`.
    pub sources_file: Option<PathBuf>,
    /// `PRICEHOUND_TELEGRAM_API`: the Bot API server (a self-hosted one, or
    /// a test stand-in); Telegram's by default.
    pub telegram_api: String,
    /// `PRICEHOUND_BOT_TOKEN`: the bot's token for `serve` and the CLI
    /// (in AWS it is read from SSM, see `AwsNames::bot_token_parameter`).
    pub bot_token: Option<BotToken>,
    /// `PRICEHOUND_WEBHOOK_SECRET`: `serve` answers the webhook route with
    /// it instead of long polling; `pricehound webhook set` registers it.
    pub webhook_secret: Option<WebhookSecret>,
    /// `PRICEHOUND_BOT_USERNAME`, `PRICEHOUND_ADMINS`,
    /// `PRICEHOUND_TRACK_PER_USER`, `PRICEHOUND_TRACK_GLOBAL`,
    /// `PRICEHOUND_TRACK_DAILY`.
    pub bot: BotConfig,
    /// `PRICEHOUND_ALERT_COOLDOWN_MINUTES`, `PRICEHOUND_ALERT_DAILY_CAP`.
    pub alerts: AlertPolicy,
    /// `PRICEHOUND_CORS_ORIGINS`, `PRICEHOUND_PUBLIC_TRACKED_PAGES`,
    /// `PRICEHOUND_API_RATE`, `PRICEHOUND_API_BURST` (the rate limit applies
    /// in `serve` only; the api function sets it aside).
    pub http: HttpConfig,
    /// `PRICEHOUND_HISTORY_RETENTION_DAYS`, `PRICEHOUND_USAGE_RETENTION_DAYS`.
    pub retention: Retention,
    /// The AWS resource and SSM parameter names (the `aws` feature).
    #[cfg(feature = "aws")]
    pub aws: pricehound_aws::names::AwsNames,
}

impl Settings {
    /// Reads the process environment.
    pub fn from_env() -> Result<Settings, SettingsError> {
        Settings::from_vars(&|name| std::env::var(name).ok())
    }

    /// Reads the variables `var` returns (tests pass a map). A variable set
    /// to nothing but spaces counts as unset.
    pub fn from_vars(var: &dyn Fn(&str) -> Option<String>) -> Result<Settings, SettingsError> {
        let var = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let bot_token = match var("PRICEHOUND_BOT_TOKEN") {
            Some(t) => Some(BotToken::new(t.trim()).map_err(|_| {
                SettingsError::new(
                    "PRICEHOUND_BOT_TOKEN",
                    "is not a bot token (it looks like 123456:ABC-def..., from @BotFather)",
                )
            })?),
            None => None,
        };
        let webhook_secret = match var("PRICEHOUND_WEBHOOK_SECRET") {
            Some(s) => Some(
                WebhookSecret::new(s)
                    .map_err(|e| SettingsError::new("PRICEHOUND_WEBHOOK_SECRET", e.to_string()))?,
            ),
            None => None,
        };
        let split = |e: (&'static str, String)| SettingsError::new(e.0, e.1);
        Ok(Settings {
            sources_file: SourcesConfig::file_from_vars(&var),
            telegram_api: var("PRICEHOUND_TELEGRAM_API")
                .map(|v| v.trim().to_string())
                .unwrap_or_else(|| DEFAULT_BASE_URL.to_string()),
            bot_token,
            webhook_secret,
            bot: BotConfig::from_vars(&var).map_err(split)?,
            alerts: crate::alerts::policy_from_vars(&var).map_err(split)?,
            http: HttpConfig::from_vars(&var).map_err(split)?,
            retention: Retention::from_vars(&var).map_err(split)?,
            #[cfg(feature = "aws")]
            aws: pricehound_aws::names::AwsNames::from_vars(&var),
        })
    }

    /// The sources: [`Settings::sources_file`] if set, else the
    /// `sources.toml` compiled into the binary (so a deploy needs no extra
    /// file).
    pub fn sources(&self) -> Result<SourcesConfig, crate::sources::config::ConfigError> {
        SourcesConfig::load_or_default(self.sources_file.as_deref())
    }

    /// [`Settings::sources`], the compiled-in default read on first use
    /// (a file is still read, and checked, now).
    pub fn shared_sources(
        &self,
    ) -> Result<crate::sources::Sources, crate::sources::config::ConfigError> {
        crate::sources::Sources::load_or_default(self.sources_file.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_vars(&|name| map.get(name).cloned())
    }

    #[test]
    fn nothing_set_is_the_defaults() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.telegram_api, DEFAULT_BASE_URL);
        assert!(s.bot_token.is_none() && s.webhook_secret.is_none());
        assert!(s.sources_file.is_none());
        assert_eq!(s.bot.track_daily, BotConfig::default().track_daily);
        assert_eq!(s.alerts, AlertPolicy::default());
        #[cfg(feature = "aws")]
        {
            let err = s.aws.table().unwrap_err();
            assert_eq!(err.var, "PRICEHOUND_TABLE");
            assert!(err.to_string().contains("template.yaml"), "{err}");
        }
    }

    #[test]
    fn every_bad_value_names_its_variable() {
        for (var, value) in [
            ("PRICEHOUND_BOT_TOKEN", "not a token"),
            ("PRICEHOUND_WEBHOOK_SECRET", "short"),
            ("PRICEHOUND_ADMINS", "12,bob"),
            ("PRICEHOUND_TRACK_PER_USER", "many"),
            ("PRICEHOUND_TRACK_GLOBAL", "-1"),
            ("PRICEHOUND_TRACK_DAILY", "∞"),
            ("PRICEHOUND_ALERT_COOLDOWN_MINUTES", "99999999999999999999"),
            ("PRICEHOUND_ALERT_DAILY_CAP", "0"),
            ("PRICEHOUND_CORS_ORIGINS", "ftp://x"),
            ("PRICEHOUND_PUBLIC_TRACKED_PAGES", "maybe"),
            ("PRICEHOUND_API_RATE", "fast"),
            ("PRICEHOUND_API_BURST", "1.5"),
        ] {
            let err = settings(&[(var, value)]).expect_err(var);
            assert_eq!(err.var, var, "{err}");
            assert!(err.to_string().starts_with("environment variable"), "{err}");
        }
    }

    #[test]
    fn secrets_never_print() {
        let token = "123456:ABCdefGHIjklMNOpqrSTUvwxYZ0123456789";
        let secret = "s".repeat(40);
        let s = settings(&[
            ("PRICEHOUND_BOT_TOKEN", token),
            ("PRICEHOUND_WEBHOOK_SECRET", &secret),
        ])
        .unwrap();
        let printed = format!("{s:?}");
        assert!(!printed.contains(token) && !printed.contains(&secret));
        assert!(s.bot_token.is_some() && s.webhook_secret.is_some());
    }

    #[test]
    fn values_are_read() {
        let s = settings(&[
            ("PRICEHOUND_TELEGRAM_API", " http://127.0.0.1:9 "),
            ("PRICEHOUND_SOURCES_FILE", "/etc/pricehound/sources.toml"),
            ("PRICEHOUND_ADMINS", "1, 2"),
            ("PRICEHOUND_TRACK_DAILY", "5"),
            ("PRICEHOUND_ALERT_DAILY_CAP", "7"),
            ("PRICEHOUND_API_RATE", "0"),
            ("PRICEHOUND_TABLE", "prices"),
            ("PRICEHOUND_TRACK_QUEUE_URL", "   "),
            ("PRICEHOUND_HISTORY_RETENTION_DAYS", "365"),
        ])
        .unwrap();
        assert_eq!(s.retention.history_days, 365);
        assert_eq!(s.retention.usage_days, 400, "the default");
        assert_eq!(s.telegram_api, "http://127.0.0.1:9");
        assert_eq!(
            s.sources_file.as_deref(),
            Some(std::path::Path::new("/etc/pricehound/sources.toml"))
        );
        assert_eq!(s.bot.admins.len(), 2);
        assert_eq!(s.bot.track_daily, 5);
        assert_eq!(s.alerts.daily_cap, 7);
        assert!(s.http.rate_limit.is_none(), "0 turns the limit off");
        #[cfg(feature = "aws")]
        {
            assert_eq!(s.aws.table(), Ok("prices"));
            assert!(s.aws.track_queue_url.is_none(), "blank counts as unset");
        }
    }
}
