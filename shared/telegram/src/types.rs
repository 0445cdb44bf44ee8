//! The slice of the Bot API types pricehound reads and writes.
//!
//! Why our own serde types rather than teloxide-core or frankenstein: we read
//! a handful of fields of a handful of update kinds, and parsing must never
//! fail on what Telegram adds later. These structs ignore unknown fields
//! (serde's default), every field Telegram may omit is optional, and an
//! update of a kind we do not model still parses (its [`Update::kind`] is
//! [`UpdateKind::Other`]). teloxide-core models every type strictly and
//! pulls in its own HTTP stack; frankenstein's generated types are strict
//! enums that have failed on new kinds before. Both would be far more code
//! to compile than the few hundred lines here.

use serde::{Deserialize, Serialize};

/// One incoming update. Only the kinds pricehound acts on are modelled;
/// everything else lands in [`UpdateKind::Other`] with its field name.
#[derive(Debug, Clone, Deserialize)]
pub struct Update {
    pub update_id: i64,
    #[serde(flatten)]
    pub kinds: serde_json::Map<String, serde_json::Value>,
}

/// What an update carries, as far as the bot cares.
#[derive(Debug, Clone)]
pub enum UpdateKind {
    Message(Message),
    EditedMessage(Message),
    CallbackQuery(CallbackQuery),
    /// The bot was added to, removed from or blocked in a chat.
    MyChatMember(ChatMemberUpdated),
    /// A kind the bot ignores (channel posts, inline queries, polls,
    /// reactions, kinds added after this was written), by its field name.
    Other(String),
    /// A known field whose contents did not parse (Telegram sent something
    /// this code does not expect); logged and answered 200.
    Malformed {
        field: String,
        error: String,
    },
}

impl Update {
    /// The update's kind; never fails.
    pub fn kind(&self) -> UpdateKind {
        fn parse<T: for<'de> Deserialize<'de>>(
            field: &str,
            v: &serde_json::Value,
            wrap: fn(T) -> UpdateKind,
        ) -> UpdateKind {
            match T::deserialize(v) {
                Ok(t) => wrap(t),
                Err(e) => UpdateKind::Malformed {
                    field: field.to_string(),
                    error: e.to_string(),
                },
            }
        }
        // An update carries exactly one kind besides its id.
        let Some((field, value)) = self.kinds.iter().next() else {
            return UpdateKind::Other(String::new());
        };
        match field.as_str() {
            "message" => parse(field, value, UpdateKind::Message),
            "edited_message" => parse(field, value, UpdateKind::EditedMessage),
            "callback_query" => parse(field, value, UpdateKind::CallbackQuery),
            "my_chat_member" => parse(field, value, UpdateKind::MyChatMember),
            other => UpdateKind::Other(other.to_string()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct User {
    pub id: i64,
    #[serde(default)]
    pub is_bot: bool,
    #[serde(default)]
    pub first_name: String,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub language_code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Chat {
    pub id: i64,
    /// "private", "group", "supergroup" or "channel" (or a future type).
    #[serde(rename = "type", default)]
    pub kind: String,
    pub title: Option<String>,
    pub username: Option<String>,
}

impl Chat {
    pub fn is_private(&self) -> bool {
        self.kind == "private"
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Message {
    pub message_id: i64,
    pub from: Option<User>,
    pub chat: Chat,
    #[serde(default)]
    pub date: i64,
    pub text: Option<String>,
    pub caption: Option<String>,
    /// Commands, URLs and mentions in `text`, with UTF-16 offsets.
    #[serde(default)]
    pub entities: Vec<MessageEntity>,
    /// Set on forwarded messages (Bot API 7.0+); the bot treats them as text.
    pub forward_origin: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MessageEntity {
    #[serde(rename = "type")]
    pub kind: String,
    pub offset: usize,
    pub length: usize,
    pub url: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CallbackQuery {
    pub id: String,
    pub from: User,
    /// The message with the button; absent for inline-mode messages, and
    /// possibly an "inaccessible message" (date 0) when it is too old.
    pub message: Option<MaybeInaccessibleMessage>,
    pub data: Option<String>,
}

/// A message with a button, or what is left of one Telegram no longer shows
/// to bots (only the chat and the id).
#[derive(Debug, Clone, Deserialize)]
pub struct MaybeInaccessibleMessage {
    pub message_id: i64,
    pub chat: Chat,
    #[serde(default)]
    pub date: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ChatMemberUpdated {
    pub chat: Chat,
    pub from: User,
    pub new_chat_member: ChatMember,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ChatMember {
    /// "member", "kicked", "left", "administrator", ...
    #[serde(default)]
    pub status: String,
}

/// An inline keyboard: rows of buttons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct InlineKeyboardMarkup {
    pub inline_keyboard: Vec<Vec<InlineKeyboardButton>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InlineKeyboardButton {
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub callback_data: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Opens the Mini App at this URL (private chats only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_app: Option<WebAppInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebAppInfo {
    pub url: String,
}

impl InlineKeyboardButton {
    pub fn callback(text: impl Into<String>, data: impl Into<String>) -> Self {
        InlineKeyboardButton {
            text: text.into(),
            callback_data: Some(data.into()),
            url: None,
            web_app: None,
        }
    }
    pub fn link(text: impl Into<String>, url: impl Into<String>) -> Self {
        InlineKeyboardButton {
            text: text.into(),
            callback_data: None,
            url: Some(url.into()),
            web_app: None,
        }
    }
    pub fn web_app(text: impl Into<String>, url: impl Into<String>) -> Self {
        InlineKeyboardButton {
            text: text.into(),
            callback_data: None,
            url: None,
            web_app: Some(WebAppInfo { url: url.into() }),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BotCommand {
    pub command: String,
    pub description: String,
}

/// `getWebhookInfo`'s answer, as far as `pricehound webhook info` shows it.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct WebhookInfo {
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub has_custom_certificate: bool,
    #[serde(default)]
    pub pending_update_count: i64,
    pub ip_address: Option<String>,
    pub last_error_date: Option<i64>,
    pub last_error_message: Option<String>,
    pub max_connections: Option<i64>,
    pub allowed_updates: Option<Vec<String>>,
}
