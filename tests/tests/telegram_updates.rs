//! The corpus of real-shaped updates in `tests/fixtures/telegram/updates/`
//! parses, and each lands in the kind its file name says:
//!
//! | file name                 | kind                                   |
//! |---------------------------|----------------------------------------|
//! | `message_*`               | `Message`                              |
//! | `edited_message_*`        | `EditedMessage`                        |
//! | `callback_query_*`        | `CallbackQuery`                        |
//! | `my_chat_member_*`        | `MyChatMember`                         |
//! | `other_<field>`           | `Other("<field>")`                     |
//! | `malformed_<field>_*`     | `Malformed { field: "<field>", .. }`   |
//!
//! Files in `invalid/` are not updates at all (no `update_id`, not an
//! object, not JSON) and must fail to parse.

use std::path::{Path, PathBuf};

use pricehound::telegram::types::{Update, UpdateKind};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/telegram/updates")
}

/// Every `.json` file directly in `dir`, by name.
fn corpus() -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
            (stem, std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    files.sort();
    files
}

fn load(stem: &str) -> Update {
    let text = std::fs::read_to_string(dir().join(format!("{stem}.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The field after `update_id` (each update carries exactly one).
fn kind_field(update: &Update) -> &str {
    assert_eq!(update.kinds.len(), 1, "{update:?}");
    update.kinds.keys().next().unwrap()
}

#[test]
fn every_update_has_the_kind_its_name_says() {
    let files = corpus();
    assert!(files.len() >= 30, "only {} fixtures", files.len());
    for (stem, text) in files {
        let update: Update =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{stem}: not an Update: {e}"));
        assert!(update.update_id > 0, "{stem}");
        let field = kind_field(&update).to_string();
        let kind = update.kind();
        let ok = match &kind {
            UpdateKind::Message(_) => stem.starts_with("message_"),
            UpdateKind::EditedMessage(_) => stem.starts_with("edited_message_"),
            UpdateKind::CallbackQuery(_) => stem.starts_with("callback_query_"),
            UpdateKind::MyChatMember(_) => stem.starts_with("my_chat_member_"),
            UpdateKind::Other(name) => *name == field && stem == format!("other_{name}"),
            UpdateKind::Malformed { field: f, error } => {
                assert!(!error.is_empty(), "{stem}");
                *f == field && stem.starts_with(&format!("malformed_{f}_"))
            }
        };
        assert!(ok, "{stem}: parsed as {kind:?}");
    }
}

#[test]
fn the_corpus_covers_what_the_bot_meets() {
    let stems: Vec<String> = corpus().into_iter().map(|(s, _)| s).collect();
    for needed in [
        "message_private_text",
        "message_start_payload",
        "message_command_botname_group",
        "message_group",
        "message_supergroup",
        "edited_message_private",
        "other_channel_post",
        "other_edited_channel_post",
        "callback_query_normal",
        "callback_query_inaccessible_message",
        "my_chat_member_kicked",
        "my_chat_member_member",
        "message_photo_caption",
        "message_sticker",
        "message_forwarded",
        "message_unknown_future_fields",
        "other_business_connection",
        "other_future_kind",
        "other_inline_query",
        "other_poll",
        "other_message_reaction",
        "other_chat_join_request",
        "other_pre_checkout_query",
        "message_html_emoji_rtl",
        "message_no_from_sender_chat",
        "malformed_message_chat_string",
        "malformed_callback_query_missing_id",
    ] {
        assert!(
            stems.iter().any(|s| s == needed),
            "missing fixture {needed}.json"
        );
    }
}

#[test]
fn invalid_files_are_not_updates() {
    let mut seen = 0;
    for entry in std::fs::read_dir(dir().join("invalid")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            serde_json::from_str::<Update>(&text).is_err(),
            "{} parsed as an Update",
            path.display()
        );
        seen += 1;
    }
    assert!(seen >= 5);
}

fn message(stem: &str) -> pricehound::telegram::types::Message {
    match load(stem).kind() {
        UpdateKind::Message(m) | UpdateKind::EditedMessage(m) => m,
        other => panic!("{stem}: {other:?}"),
    }
}

#[test]
fn message_details_survive_parsing() {
    let m = message("message_private_text");
    assert!(m.chat.is_private());
    assert_eq!(m.from.unwrap().language_code.as_deref(), Some("pt-br"));

    let m = message("message_start_payload");
    assert_eq!(m.text.as_deref(), Some("/start watch_gold-18k"));
    assert_eq!(m.entities[0].kind, "bot_command");
    assert_eq!((m.entities[0].offset, m.entities[0].length), (0, 6));

    let m = message("message_command_botname_group");
    assert_eq!(m.chat.kind, "group");
    assert!(m.text.unwrap().starts_with("/price@pricehound_bot"));

    assert_eq!(message("message_supergroup").chat.kind, "supergroup");
    assert_eq!(
        message("edited_message_private").text.as_deref(),
        Some("gold 22k")
    );

    let m = message("message_photo_caption");
    assert!(m.text.is_none());
    assert_eq!(
        m.caption.as_deref(),
        Some("price tag at the mall: 449,90 €")
    );

    let m = message("message_sticker");
    assert!(m.text.is_none() && m.caption.is_none());

    let m = message("message_forwarded");
    assert_eq!(m.forward_origin.unwrap()["type"], "channel");

    let m = message("message_unknown_future_fields");
    assert_eq!(m.text.as_deref(), Some("/list"));
    assert_eq!(m.entities.len(), 2);

    let m = message("message_html_emoji_rtl");
    let text = m.text.unwrap();
    assert!(text.contains("<script>") && text.contains("ذهب") && text.contains('😀'));
    // Entity offsets count UTF-16 code units, not bytes or chars.
    let e = &m.entities[0];
    let utf16: Vec<u16> = text.encode_utf16().collect();
    let command = String::from_utf16(&utf16[e.offset..e.offset + e.length]).unwrap();
    assert_eq!(command, "/watch");

    let m = message("message_no_from_sender_chat");
    assert!(m.from.is_none());
    assert_eq!(m.chat.kind, "supergroup");
}

#[test]
fn callback_and_member_details_survive_parsing() {
    let UpdateKind::CallbackQuery(q) = load("callback_query_normal").kind() else {
        panic!()
    };
    assert_eq!(q.data.as_deref(), Some("unwatch:42"));
    assert!(q.message.unwrap().date > 0);

    let UpdateKind::CallbackQuery(q) = load("callback_query_inaccessible_message").kind() else {
        panic!()
    };
    let m = q.message.unwrap();
    assert_eq!(m.date, 0);
    assert_eq!(m.chat.id, 123456789);

    let UpdateKind::CallbackQuery(q) = load("callback_query_inline_message").kind() else {
        panic!()
    };
    assert!(q.message.is_none());

    let UpdateKind::MyChatMember(m) = load("my_chat_member_kicked").kind() else {
        panic!()
    };
    assert_eq!(m.new_chat_member.status, "kicked");
    assert!(m.chat.is_private());

    let UpdateKind::MyChatMember(m) = load("my_chat_member_member").kind() else {
        panic!()
    };
    assert_eq!(m.new_chat_member.status, "member");
    assert_eq!(m.chat.kind, "group");
}
