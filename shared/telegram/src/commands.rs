//! Reading what a user typed: a command with its arguments, or plain text
//! (which may be a pasted product link).

use url::Url;

/// A parsed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Command(Command),
    /// A command addressed to another bot in a group (`/start@otherbot`).
    NotForUs,
    /// A link to a web page (http/https), the first one in the message.
    Link(Url),
    /// Anything else; the bot answers with help in private chats only.
    Text(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `/start [payload]`: the payload of a deep link (`t.me/bot?start=…`).
    Start(Option<String>),
    Help,
    Prices(Option<String>),
    Search(String),
    Item(String),
    /// `/watch` and `/add`.
    Watch(String),
    /// `/unwatch` and `/remove`.
    Unwatch(String),
    List,
    Clear,
    Alert(String),
    Alerts,
    Chart(String),
    Lang(Option<String>),
    Stats,
    /// `/untrack [name]`: stop tracking a pasted page.
    Untrack(String),
    Unknown(String),
}

/// Every command, declared once: its variant, how it reads its arguments,
/// its name and its aliases. From this list come both [`parse`]'s lookup
/// and [`Command::name`], so the two cannot disagree; a variant missing
/// here does not compile (`name` would not cover it).
///
/// The argument readers (`text`, `optional`, `start_payload`) are the
/// functions below; a unit variant takes no arguments.
macro_rules! commands {
    ($($variant:ident $(($read:ident))? = $name:literal $(| $alias:literal)*,)*) => {
        impl Command {
            /// The name counted in usage statistics (aliases count as the
            /// command they stand for).
            pub fn name(&self) -> &'static str {
                match self {
                    $(Command::$variant { .. } => $name,)*
                    Command::Unknown(_) => "unknown",
                }
            }

            /// The command called `name` (lowercase, a name or an alias)
            /// with its arguments; None for a name the bot does not know.
            fn named(name: &str, args: String) -> Option<Command> {
                match name {
                    $($name $(| $alias)* => Some(Command::$variant $(($read(args)))?),)*
                    _ => None,
                }
            }
        }

        /// Every name and alias, for the tests.
        #[cfg(test)]
        const NAMES: &[&str] = &[$($name, $($alias,)*)*];
    };
}

commands! {
    Start(start_payload) = "start",
    Help = "help",
    Prices(optional) = "prices",
    Search(text) = "search" | "find",
    Item(text) = "item",
    Watch(text) = "watch" | "add",
    Unwatch(text) = "unwatch" | "remove",
    List = "list" | "wishlist",
    Clear = "clear",
    Alert(text) = "alert",
    Alerts = "alerts",
    Chart(text) = "chart",
    Lang(optional) = "lang" | "language",
    Stats = "stats",
    Untrack(text) = "untrack",
}

/// Arguments as typed (possibly empty).
fn text(args: String) -> String {
    args
}

/// Arguments, if any were typed.
fn optional(args: String) -> Option<String> {
    if args.is_empty() { None } else { Some(args) }
}

/// A `/start` payload, if it is one Telegram could have sent.
fn start_payload(args: String) -> Option<String> {
    optional(args).filter(|p| is_start_payload(p))
}

/// The longest text the bot reads; Telegram allows 4096, commands need less.
const MAX_ARGS: usize = 256;

/// Parses a message text. `bot_username` (without `@`) tells commands meant
/// for this bot from those for another bot in the same group.
pub fn parse(text: &str, bot_username: Option<&str>) -> Input {
    let text = text.trim();
    let Some(rest) = text.strip_prefix('/') else {
        return match first_link(text) {
            Some(url) => Input::Link(url),
            None => Input::Text(text.to_string()),
        };
    };
    let (head, args) = match rest.find(char::is_whitespace) {
        Some(i) => (&rest[..i], rest[i..].trim()),
        None => (rest, ""),
    };
    let (name, addressee) = match head.split_once('@') {
        Some((n, a)) => (n, Some(a)),
        None => (head, None),
    };
    if let (Some(to), Some(me)) = (addressee, bot_username)
        && !to.eq_ignore_ascii_case(me)
    {
        return Input::NotForUs;
    }
    let args: String = args.chars().take(MAX_ARGS).collect();
    let cmd = Command::named(&name.to_ascii_lowercase(), args)
        .unwrap_or_else(|| Command::Unknown(name.chars().take(32).collect()));
    Input::Command(cmd)
}

/// Telegram's deep-link payloads: 1–64 characters of `A-Za-z0-9_-`.
fn is_start_payload(p: &str) -> bool {
    (1..=64).contains(&p.len())
        && p.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The first http(s) link in `text`, if any.
fn first_link(text: &str) -> Option<Url> {
    text.split_whitespace()
        .filter(|w| w.starts_with("http://") || w.starts_with("https://"))
        .find_map(|w| {
            let w = w.trim_end_matches(['.', ',', ')', '!', '?', '»', '"']);
            Url::parse(w)
                .ok()
                .filter(|u| u.host_str().is_some() && w.len() <= 2048)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(text: &str) -> Command {
        match parse(text, Some("pricehound_bot")) {
            Input::Command(c) => c,
            other => panic!("{text:?} gave {other:?}"),
        }
    }

    #[test]
    fn commands_and_aliases() {
        assert_eq!(cmd("/start"), Command::Start(None));
        assert_eq!(
            cmd("/start item-abc_1"),
            Command::Start(Some("item-abc_1".into()))
        );
        assert_eq!(cmd("/start <script>"), Command::Start(None));
        assert_eq!(
            cmd("/add al fakher  mint"),
            Command::Watch("al fakher  mint".into())
        );
        assert_eq!(cmd("/remove x"), Command::Unwatch("x".into()));
        assert_eq!(cmd("/untrack lego"), Command::Untrack("lego".into()));
        assert_eq!(cmd("/untrack"), Command::Untrack(String::new()));
        assert_eq!(
            cmd("/PRICES olx-gpu"),
            Command::Prices(Some("olx-gpu".into()))
        );
        assert_eq!(cmd("/prices"), Command::Prices(None));
        assert_eq!(
            cmd("/search@pricehound_bot rtx"),
            Command::Search("rtx".into())
        );
        assert_eq!(cmd("/frobnicate"), Command::Unknown("frobnicate".into()));
        assert_eq!(cmd("/"), Command::Unknown(String::new()));
    }

    #[test]
    fn every_name_and_alias_parses_to_a_known_command() {
        for name in NAMES {
            let c = cmd(&format!("/{name}"));
            assert_ne!(c.name(), "unknown", "/{name}");
            assert_eq!(cmd(&format!("/{name} x")).name(), c.name(), "/{name}");
        }
        assert_eq!(cmd("/add x").name(), "watch");
        assert_eq!(cmd("/remove x").name(), "unwatch");
        assert_eq!(cmd("/find x").name(), "search");
        assert_eq!(cmd("/wishlist").name(), "list");
        assert_eq!(cmd("/language").name(), "lang");
        assert_eq!(cmd("/nope").name(), "unknown");
    }

    #[test]
    fn commands_for_other_bots_are_not_ours() {
        assert_eq!(
            parse("/start@otherbot", Some("pricehound_bot")),
            Input::NotForUs
        );
        assert_eq!(
            parse("/help@PriceHound_Bot", Some("pricehound_bot")),
            Input::Command(Command::Help)
        );
    }

    #[test]
    fn links_and_text() {
        match parse("look https://shop.example/p/1?x=2.", None) {
            Input::Link(u) => assert_eq!(u.as_str(), "https://shop.example/p/1?x=2"),
            other => panic!("{other:?}"),
        }
        assert_eq!(parse("hello", None), Input::Text("hello".into()));
        assert_eq!(
            parse("ftp://x.y/z", None),
            Input::Text("ftp://x.y/z".into())
        );
        assert_eq!(parse("https://", None), Input::Text("https://".into()));
    }

    #[test]
    fn hostile_arguments_are_bounded() {
        let long = format!("/search {}", "я".repeat(10_000));
        match cmd(&long) {
            Command::Search(q) => assert_eq!(q.chars().count(), MAX_ARGS),
            other => panic!("{other:?}"),
        }
        let _ = parse("/\u{0}\u{202e}", None);
        let _ = parse("/@", Some("bot"));
    }
}
