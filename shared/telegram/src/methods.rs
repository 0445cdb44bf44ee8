//! The Bot API calls the bot makes, as values. A handler returns a list of
//! them; the webhook puts the first one in its response body when it can
//! (see [`Method::webhook_body`]) and sends the rest through
//! [`super::api::BotApi`].

use serde::Serialize;

use super::types::{BotCommand, InlineKeyboardMarkup};

/// Telegram's limit on a message's text, in characters after entity parsing.
pub const MAX_TEXT: usize = 4096;
/// Telegram's limit on a photo caption.
pub const MAX_CAPTION: usize = 1024;
/// Telegram's limit on `callback_data`, in bytes.
pub const MAX_CALLBACK_DATA: usize = 64;
/// Telegram's limit on `answerCallbackQuery.text`.
pub const MAX_CALLBACK_ANSWER: usize = 200;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "method")]
pub enum Method {
    #[serde(rename = "sendMessage")]
    SendMessage(SendMessage),
    #[serde(rename = "editMessageText")]
    EditMessageText(EditMessageText),
    #[serde(rename = "answerCallbackQuery")]
    AnswerCallbackQuery(AnswerCallbackQuery),
    #[serde(rename = "sendPhoto")]
    SendPhoto(SendPhoto),
    #[serde(rename = "setMyCommands")]
    SetMyCommands(SetMyCommands),
}

impl Method {
    /// The Bot API method name, e.g. `sendMessage`.
    pub fn name(&self) -> &'static str {
        match self {
            Method::SendMessage(_) => "sendMessage",
            Method::EditMessageText(_) => "editMessageText",
            Method::AnswerCallbackQuery(_) => "answerCallbackQuery",
            Method::SendPhoto(_) => "sendPhoto",
            Method::SetMyCommands(_) => "setMyCommands",
        }
    }

    /// The call as a webhook response body (`{"method": ..., ...}`), or None
    /// when it cannot travel that way: a photo upload needs multipart.
    pub fn webhook_body(&self) -> Option<serde_json::Value> {
        match self {
            Method::SendPhoto(_) => None,
            other => serde_json::to_value(other).ok(),
        }
    }

    /// The call's parameters as JSON, without the `method` tag (what goes in
    /// a POST to `/bot<token>/<name>`). For a photo, everything but the bytes.
    pub fn params(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        if let Some(obj) = v.as_object_mut() {
            obj.remove("method");
        }
        v
    }

    /// The chat the call writes to, if any (for logs and rate limiting).
    pub fn chat_id(&self) -> Option<i64> {
        match self {
            Method::SendMessage(m) => Some(m.chat_id),
            Method::EditMessageText(m) => Some(m.chat_id),
            Method::SendPhoto(m) => Some(m.chat_id),
            Method::AnswerCallbackQuery(_) | Method::SetMyCommands(_) => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SendMessage {
    pub chat_id: i64,
    pub text: String,
    /// Always "HTML": every scraped or user-supplied string is escaped.
    pub parse_mode: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_markup: Option<InlineKeyboardMarkup>,
    pub link_preview_options: LinkPreviewOptions,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LinkPreviewOptions {
    pub is_disabled: bool,
}

impl SendMessage {
    pub fn html(chat_id: i64, text: impl Into<String>) -> Self {
        SendMessage {
            chat_id,
            text: text.into(),
            parse_mode: "HTML",
            reply_markup: None,
            link_preview_options: LinkPreviewOptions { is_disabled: true },
        }
    }

    pub fn with_keyboard(mut self, keyboard: InlineKeyboardMarkup) -> Self {
        if !keyboard.inline_keyboard.is_empty() {
            self.reply_markup = Some(keyboard);
        }
        self
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EditMessageText {
    pub chat_id: i64,
    pub message_id: i64,
    pub text: String,
    pub parse_mode: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_markup: Option<InlineKeyboardMarkup>,
    pub link_preview_options: LinkPreviewOptions,
}

impl EditMessageText {
    pub fn html(chat_id: i64, message_id: i64, text: impl Into<String>) -> Self {
        EditMessageText {
            chat_id,
            message_id,
            text: text.into(),
            parse_mode: "HTML",
            reply_markup: None,
            link_preview_options: LinkPreviewOptions { is_disabled: true },
        }
    }

    pub fn with_keyboard(mut self, keyboard: InlineKeyboardMarkup) -> Self {
        if !keyboard.inline_keyboard.is_empty() {
            self.reply_markup = Some(keyboard);
        }
        self
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnswerCallbackQuery {
    pub callback_query_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// A PNG sent as a new upload (multipart), so never in a webhook body.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SendPhoto {
    pub chat_id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    pub parse_mode: &'static str,
    /// The PNG bytes; sent as the multipart part `photo`.
    #[serde(skip)]
    pub png: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SetMyCommands {
    pub commands: Vec<BotCommand>,
    /// None for the default list shown to languages without their own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language_code: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_goes_in_the_webhook_body_with_its_method() {
        let m = Method::SendMessage(SendMessage::html(42, "<b>hi</b>"));
        let body = m.webhook_body().unwrap();
        assert_eq!(body["method"], "sendMessage");
        assert_eq!(body["chat_id"], 42);
        assert_eq!(body["parse_mode"], "HTML");
        assert!(m.params().get("method").is_none());
    }

    #[test]
    fn a_photo_never_goes_in_the_webhook_body() {
        let m = Method::SendPhoto(SendPhoto {
            chat_id: 1,
            caption: None,
            parse_mode: "HTML",
            png: vec![1, 2, 3],
        });
        assert!(m.webhook_body().is_none());
        assert!(m.params().get("png").is_none());
    }
}
