//! The names of the AWS resources and SSM parameters template.yaml gives
//! each function, read from the environment in one place. The app's
//! `Settings` embeds them; the functions that need nothing else (ingest,
//! scrape) read them directly.

/// A name a function needs that its environment does not give.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("environment variable {var} is not set (template.yaml sets it in AWS)")]
pub struct MissingName {
    pub var: &'static str,
}

fn required<'a>(var: &'static str, value: &'a Option<String>) -> Result<&'a str, MissingName> {
    value.as_deref().ok_or(MissingName { var })
}

/// The AWS resources and SSM parameter names template.yaml gives each
/// function. Each accessor says, when its variable is missing, that the
/// template sets it.
#[derive(Debug, Clone, Default)]
pub struct AwsNames {
    /// `PRICEHOUND_TABLE`: the DynamoDB table.
    pub table: Option<String>,
    /// `PRICEHOUND_QUEUE_URL`: the observations queue (scrape → ingest).
    pub queue_url: Option<String>,
    /// `PRICEHOUND_NOTIFY_QUEUE_URL`: the notifications queue.
    pub notify_queue_url: Option<String>,
    /// `PRICEHOUND_TRACK_QUEUE_URL`: the track jobs queue; unset, the bot
    /// does not offer to track pasted links.
    pub track_queue_url: Option<String>,
    /// `PRICEHOUND_EVENT_BUS`: the EventBridge bus of domain events.
    pub event_bus: Option<String>,
    /// `PRICEHOUND_BOT_TOKEN_PARAMETER`: the SSM parameter holding the bot
    /// token; unset, the api function serves without the webhook.
    pub bot_token_parameter: Option<String>,
    /// `PRICEHOUND_WEBHOOK_SECRET_PARAMETER`: the SSM parameter holding the
    /// webhook secret.
    pub webhook_secret_parameter: Option<String>,
}

impl AwsNames {
    pub fn table(&self) -> Result<&str, MissingName> {
        required("PRICEHOUND_TABLE", &self.table)
    }
    pub fn queue_url(&self) -> Result<&str, MissingName> {
        required("PRICEHOUND_QUEUE_URL", &self.queue_url)
    }
    pub fn notify_queue_url(&self) -> Result<&str, MissingName> {
        required("PRICEHOUND_NOTIFY_QUEUE_URL", &self.notify_queue_url)
    }
    pub fn event_bus(&self) -> Result<&str, MissingName> {
        required("PRICEHOUND_EVENT_BUS", &self.event_bus)
    }
    pub fn bot_token_parameter(&self) -> Result<&str, MissingName> {
        required("PRICEHOUND_BOT_TOKEN_PARAMETER", &self.bot_token_parameter)
    }
    pub fn webhook_secret_parameter(&self) -> Result<&str, MissingName> {
        required(
            "PRICEHOUND_WEBHOOK_SECRET_PARAMETER",
            &self.webhook_secret_parameter,
        )
    }
}

impl AwsNames {
    /// Reads the names with `var` (an empty value counts as unset).
    pub fn from_vars(var: &dyn Fn(&str) -> Option<String>) -> AwsNames {
        let var = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        AwsNames {
            table: var("PRICEHOUND_TABLE"),
            queue_url: var("PRICEHOUND_QUEUE_URL"),
            notify_queue_url: var("PRICEHOUND_NOTIFY_QUEUE_URL"),
            track_queue_url: var("PRICEHOUND_TRACK_QUEUE_URL"),
            event_bus: var("PRICEHOUND_EVENT_BUS"),
            bot_token_parameter: var("PRICEHOUND_BOT_TOKEN_PARAMETER"),
            webhook_secret_parameter: var("PRICEHOUND_WEBHOOK_SECRET_PARAMETER"),
        }
    }

    /// Reads the process environment.
    pub fn from_env() -> AwsNames {
        AwsNames::from_vars(&|name| std::env::var(name).ok())
    }
}
