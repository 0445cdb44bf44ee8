use super::*;

/// Every text, with `p` in every string parameter.
pub(crate) fn every_text(p: &str) -> Vec<Text<'_>> {
    vec![
        Text::Welcome { first_name: p },
        Text::WelcomeBack { first_name: p },
        Text::Help,
        Text::UnknownCommand { command: p },
        Text::SlowDown,
        Text::SomethingWentWrong,
        Text::ButtonExpired,
        Text::PricesTitle,
        Text::PricesTitleSource { source: p },
        Text::PricesEmpty,
        Text::UnknownSource {
            source: p,
            known: p,
        },
        Text::PageOf { page: 2, pages: 3 },
        Text::SearchUsage,
        Text::SearchResults { query: p, count: 3 },
        Text::SearchNothing { query: p },
        Text::ItemUsage,
        Text::ItemNotFound { query: p },
        Text::ItemChoose { query: p },
        Text::NoPrice,
        Text::InStock,
        Text::OutOfStock,
        Text::Updated { when: p },
        Text::SourceLine { source: p },
        Text::OpenAtSource,
        Text::WatchUsage,
        Text::Watching { item: p },
        Text::AlreadyWatching { item: p },
        Text::Unwatched { item: p },
        Text::NotWatching { item: p },
        Text::ListTitle { count: 4 },
        Text::ListEmpty,
        Text::ClearConfirm { count: 4 },
        Text::Cleared { count: 4 },
        Text::ClearCancelled,
        Text::AlertUsage,
        Text::AlertBadPrice { input: p },
        Text::AlertBadPercent { input: p },
        Text::AlertCreated {
            item: p,
            rule_html: "below 1 EUR",
        },
        Text::AlertPick { item: p },
        Text::AlertsTitle { count: 2 },
        Text::AlertsEmpty,
        Text::AlertDeleted,
        Text::AlertGone,
        Text::RuleBelow { price: p },
        Text::RuleAbove { price: p },
        Text::RuleDrop { percent: p },
        Text::RuleBackInStock,
        Text::RuleNewListing {
            series: p,
            price: p,
        },
        Text::Paused,
        Text::AlertFired {
            item: p,
            rule_html: "below 1 EUR",
            old: p,
            new: p,
            percent: p,
        },
        Text::AlertMuted,
        Text::ChartUsage,
        Text::ChartNoData { item: p },
        Text::ChartCaption { item: p, window: p },
        Text::LangChoose,
        Text::LangSet,
        Text::AdminOnly,
        Text::StatsTitle,
        Text::StatsUsers {
            users: 10,
            daily: 1,
            weekly: 2,
            monthly: 3,
        },
        Text::StatsCommandsTitle,
        Text::StatsAlertsSent { count: 5 },
        Text::TrackOffer { url: p },
        Text::TrackStarted { item: p, price: p },
        Text::TrackFailed,
        Text::TrackUnavailable,
        Text::TrackReading,
        Text::TrackBusy,
        Text::TrackLimitUser { limit: 20 },
        Text::TrackLimitGlobal,
        Text::TrackInFlight,
        Text::TrackLimitDaily { limit: 30 },
        Text::Untracked { item: p },
        Text::NotTracking { item: p },
        Text::UntrackChoose,
        Text::UntrackNone,
        Text::BtnWatch,
        Text::BtnUnwatch,
        Text::BtnAlert,
        Text::BtnChart,
        Text::BtnOpen,
        Text::BtnApp,
        Text::BtnDelete,
        Text::BtnClearYes,
        Text::BtnClearNo,
        Text::BtnPrev,
        Text::BtnNext,
        Text::BtnDrop { percent: 10 },
        Text::BtnBackInStock,
        Text::BtnTrack,
        Text::BtnMute,
        Text::BtnUntrack,
    ]
}

/// Checks `html` is what Telegram's HTML parse mode accepts: only its tags,
/// balanced, and only the entities it knows. Returns what is wrong.
pub(crate) fn telegram_html_problem(html: &str) -> Option<String> {
    const TAGS: &[&str] = &[
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "a",
        "code",
        "pre",
        "tg-spoiler",
        "blockquote",
    ];
    let mut stack: Vec<String> = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find(['<', '&', '>']) {
        let c = rest.as_bytes()[i];
        rest = &rest[i..];
        match c {
            b'>' => return Some(format!("stray '>' in {html:?}")),
            b'&' => {
                let end = rest.find(';')?;
                let name = &rest[1..end];
                let ok = matches!(name, "lt" | "gt" | "amp" | "quot")
                    || (name.starts_with('#') && name[1..].chars().all(|c| c.is_ascii_digit()));
                if !ok {
                    return Some(format!("entity &{name}; in {html:?}"));
                }
                rest = &rest[end + 1..];
            }
            _ => {
                let Some(end) = rest.find('>') else {
                    return Some(format!("unclosed tag in {html:?}"));
                };
                let tag = &rest[1..end];
                if let Some(name) = tag.strip_prefix('/') {
                    if stack.pop().as_deref() != Some(name) {
                        return Some(format!("mismatched </{name}> in {html:?}"));
                    }
                } else {
                    let name = tag.split_whitespace().next().unwrap_or_default();
                    if !TAGS.contains(&name) {
                        return Some(format!("tag <{name}> in {html:?}"));
                    }
                    stack.push(name.to_string());
                }
                rest = &rest[end + 1..];
            }
        }
    }
    if stack.is_empty() {
        None
    } else {
        Some(format!("unclosed {stack:?} in {html:?}"))
    }
}

#[test]
fn every_text_in_every_language_is_valid_telegram_html_with_hostile_input() {
    let hostile = "<b>x</b> & <script>\"'</script> &amp; ﷺ 🙂";
    for lang in Lang::ALL {
        for text in every_text(hostile) {
            let out = render(lang, &text);
            assert!(!out.trim().is_empty(), "{lang:?} {text:?} is empty");
            if let Some(problem) = telegram_html_problem(&out) {
                panic!("{lang:?} {text:?}: {problem}");
            }
            assert!(super::super::html::visible_len(&out) <= 4096);
        }
    }
}

#[test]
fn button_labels_are_plain_text() {
    for lang in Lang::ALL {
        for text in every_text("x") {
            if format!("{text:?}").starts_with("Btn") {
                let out = render(lang, &text);
                assert!(!out.contains('<') && !out.contains('&'), "{lang:?} {out}");
            }
        }
    }
}

#[test]
fn command_menus_follow_telegrams_rules() {
    for lang in Lang::ALL {
        let cmds = commands(lang);
        assert_eq!(cmds.len(), en::COMMANDS.len(), "{lang:?}");
        for ((name, desc), (en_name, _)) in cmds.iter().zip(en::COMMANDS) {
            assert_eq!(name, en_name, "{lang:?}: same commands in the same order");
            assert!(
                name.len() <= 32
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            );
            let n = desc.chars().count();
            assert!((1..=256).contains(&n), "{lang:?} /{name}: {n} chars");
        }
    }
}

#[test]
fn every_language_is_translated_not_english() {
    for lang in [Lang::Ru, Lang::Fr, Lang::Ar] {
        let untranslated: Vec<String> = every_text("x")
            .iter()
            .filter(|t| render(lang, t) == render(Lang::En, t))
            .map(|t| format!("{t:?}"))
            .collect();
        // Emoji-only buttons and proper names may read the same.
        assert!(
            untranslated.len() <= 3,
            "{lang:?} untranslated: {untranslated:?}"
        );
        for ((_, desc), (_, en)) in commands(lang).iter().zip(en::COMMANDS) {
            assert_ne!(desc, en, "{lang:?} command description");
        }
    }
}

#[test]
fn language_confirmation_is_in_the_language_itself() {
    let set: Vec<String> = Lang::ALL
        .iter()
        .map(|l| render(*l, &Text::LangSet))
        .collect();
    for (i, a) in set.iter().enumerate() {
        for b in &set[i + 1..] {
            assert_ne!(a, b);
        }
    }
}
