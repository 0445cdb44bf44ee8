//! Queue message bodies (SQS) on arbitrary text: parsing must never panic,
//! and a message that parses survives a round trip through `to_json`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pricehound::queue::QueueMessage;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(message) = QueueMessage::from_json(text) else {
        return;
    };
    let json = message.to_json();
    let again = QueueMessage::from_json(&json)
        .unwrap_or_else(|e| panic!("{json} does not parse back: {e}"));
    assert_eq!(again, message, "the round trip changed the message");
});
