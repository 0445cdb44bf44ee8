//! What a Telegram webhook hands the bot, on arbitrary bytes: the update's
//! JSON (`telegram::types::Update` and its `kind()`), the text of a message
//! (`telegram::commands::parse`), a button's callback data
//! (`telegram::callback::Callback::decode`), the arguments of `/alert`
//! (`telegram::bot::alert_args`) and `/chart` windows. None may panic, a
//! callback that decodes survives a round trip through `encode`, and the
//! parts `/alert` finds are words the user typed.
//!
//! The bytes go to all three: as an update, and (as lossy UTF-8) as message
//! text and as callback data; an update that parses also has its own
//! message text and callback data read the same way.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pricehound::telegram::bot::alert_args::{self, RuleArg};
use pricehound::telegram::callback::{Callback, ChartWindow};
use pricehound::telegram::commands::{self, Input};
use pricehound::telegram::types::{Update, UpdateKind};

fuzz_target!(|data: &[u8]| {
    if let Ok(update) = serde_json::from_slice::<Update>(data) {
        match update.kind() {
            UpdateKind::Message(m) | UpdateKind::EditedMessage(m) => {
                if let Some(text) = m.text.as_deref() {
                    text_and_callback(text);
                }
            }
            UpdateKind::CallbackQuery(q) => {
                if let Some(data) = q.data.as_deref() {
                    text_and_callback(data);
                }
            }
            UpdateKind::MyChatMember(_) | UpdateKind::Other(_) | UpdateKind::Malformed { .. } => {}
        }
    }
    text_and_callback(&String::from_utf8_lossy(data));
});

fn text_and_callback(text: &str) {
    match commands::parse(text, Some("bot")) {
        Input::Link(url) => assert!(
            matches!(url.scheme(), "http" | "https") && url.host_str().is_some(),
            "{text:?} gave the link {url}"
        ),
        Input::Command(_) => assert!(
            text.trim_start().starts_with('/'),
            "{text:?} is not a command"
        ),
        Input::NotForUs | Input::Text(_) => {}
    }
    alert_arguments(text);
    let _ = ChartWindow::parse(text);
    if let Some(callback) = Callback::decode(text) {
        let encoded = callback.encode();
        assert_eq!(
            Callback::decode(&encoded),
            Some(callback),
            "{text:?} decoded, encoded as {encoded:?}, and did not decode back the same"
        );
    }
}

/// `/alert` arguments: the item is the leading words and the number the
/// trailing ones, a percentage is strictly between 0 and 100.
fn alert_arguments(args: &str) {
    let typed = args.split_whitespace().collect::<Vec<_>>().join(" ");
    if let Some((item, rule)) = alert_args::parse(args) {
        assert!(
            typed.starts_with(&item),
            "{item:?} is not how {args:?} starts"
        );
        if let RuleArg::Below(n) | RuleArg::Above(n) | RuleArg::Drop(n) = rule {
            assert!(
                !n.is_empty() && typed.ends_with(&n),
                "{n:?} is not how {args:?} ends"
            );
        }
    }
    if let Some((series, price)) = alert_args::new_listing(args) {
        assert!(!series.is_empty() && !price.is_empty(), "{args:?}");
    }
    if let Some(p) = alert_args::percent(args) {
        assert!(
            p > rust_decimal::Decimal::ZERO && p < rust_decimal::Decimal::ONE_HUNDRED,
            "{args:?} gave {p}%"
        );
    }
}
