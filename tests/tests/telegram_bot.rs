//! Conversations with the bot through the webhook, in every language: what
//! a user types, what comes back (in the webhook body or through the Bot
//! API stand-in), and what the store keeps.

use pricehound::domain::ItemId;
use pricehound::domain::user::{Lang, UserId};
use pricehound::telegram::bot::item_deep_link;
use pricehound::telegram::texts::{Text, render};
use pricehound_tests::bot::{ADMIN, BotHarness, assert_sendable, buttons, texts};
use serde_json::Value;

const LANGS: [(Lang, &str); 4] = [
    (Lang::En, "en"),
    (Lang::Ru, "ru"),
    (Lang::Fr, "fr"),
    (Lang::Ar, "ar"),
];

/// The user id for a language, so each language has its own user.
fn uid(lang: Lang, base: i64) -> i64 {
    base + lang as i64
}

fn one_message(calls: &[Value]) -> &Value {
    assert_sendable(calls);
    let sends: Vec<&Value> = calls
        .iter()
        .filter(|c| c["method"] == "sendMessage")
        .collect();
    assert_eq!(sends.len(), 1, "one message expected, got {calls:#?}");
    sends[0]
}

fn text_of(calls: &[Value]) -> String {
    one_message(calls)["text"].as_str().unwrap().to_string()
}

fn button_data(calls: &[Value], prefix: &str) -> String {
    buttons(calls)
        .into_iter()
        .map(|(_, d)| d)
        .find(|d| d.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix} button in {calls:#?}"))
}

/// A callback answer is always there, last (it travels in the webhook body).
fn answer_of(calls: &[Value]) -> Option<String> {
    assert_sendable(calls);
    let last = calls.last().expect("a callback is always answered");
    assert_eq!(last["method"], "answerCallbackQuery", "{calls:#?}");
    last["text"].as_str().map(str::to_string)
}

#[tokio::test]
async fn start_greets_once_then_welcomes_back_and_keeps_the_referrer() {
    let h = BotHarness::start().await;
    for (lang, code) in LANGS {
        let user = uid(lang, 100);
        let first = text_of(&h.say(user, code, "/start ref_friend42").await);
        assert_eq!(
            first,
            render(
                lang,
                &Text::Welcome {
                    first_name: &format!("User{user}")
                }
            )
        );
        let again = text_of(&h.say(user, code, "/start").await);
        assert_eq!(
            again,
            render(
                lang,
                &Text::WelcomeBack {
                    first_name: &format!("User{user}")
                }
            )
        );
        let stored = h.users().user(UserId(user)).await.unwrap().unwrap();
        assert_eq!(stored.referrer.as_deref(), Some("ref_friend42"));
        assert_eq!(stored.lang(), lang);
    }
}

#[tokio::test]
async fn start_with_an_item_deep_link_opens_the_item() {
    let h = BotHarness::start().await;
    let payload = item_deep_link(&ItemId::new("htreviews-tobacco:darkside-cola").unwrap()).unwrap();
    for (lang, code) in LANGS {
        let calls = h
            .say(uid(lang, 200), code, &format!("/start {payload}"))
            .await;
        let text = text_of(&calls);
        assert!(text.contains("Darkside Cola"), "{text}");
        assert!(button_data(&calls, "w|").contains("darkside-cola"));
        // A deep link is not a referral.
        let stored = h
            .users()
            .user(UserId(uid(lang, 200)))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.referrer, None);
    }
}

#[tokio::test]
async fn help_and_unknown_commands() {
    let h = BotHarness::start().await;
    for (lang, code) in LANGS {
        assert_eq!(
            text_of(&h.say(uid(lang, 300), code, "/help").await),
            render(lang, &Text::Help)
        );
        assert_eq!(
            text_of(&h.say(uid(lang, 300), code, "/frobnicate").await),
            render(
                lang,
                &Text::UnknownCommand {
                    command: "frobnicate"
                }
            )
        );
    }
}

#[tokio::test]
async fn prices_all_one_source_and_an_unknown_source() {
    let h = BotHarness::start().await;
    for (lang, code) in LANGS {
        let user = uid(lang, 400);
        let all = text_of(&h.say(user, code, "/prices").await);
        assert!(all.starts_with(&render(lang, &Text::PricesTitle)), "{all}");
        assert!(
            all.contains("Darkside Cola")
                && all.contains("RTX 4070")
                && all.contains("Or 18 carats")
        );
        // Scraped names are escaped.
        assert!(all.contains("Milky Rice &lt;&amp;&gt;"), "{all}");
        let gpu = text_of(&h.say(user, code, "/prices olx-gpu").await);
        assert!(
            gpu.contains("RTX 4070") && !gpu.contains("Darkside"),
            "{gpu}"
        );
        let unknown = text_of(&h.say(user, code, "/prices nope").await);
        let known: Vec<String> = pricehound::sources::SourcesConfig::default_sources()
            .sources
            .iter()
            .map(|s| s.id.to_string())
            .collect();
        assert_eq!(
            unknown,
            render(
                lang,
                &Text::UnknownSource {
                    source: "nope",
                    known: &known.join(", ")
                }
            )
        );
    }
}

#[tokio::test]
async fn prices_page_with_buttons_and_every_page_fits() {
    let cfg = pricehound::telegram::bot::BotConfig {
        page_size: 2,
        burst: 1000,
        ..Default::default()
    };
    let h = BotHarness::start_with(cfg).await;
    let calls = h.say(1, "en", "/prices").await;
    let next = button_data(&calls, "p|1");
    let page2 = h.press(1, "en", &next).await;
    assert_eq!(answer_of(&page2), None);
    let edit = &page2[0];
    assert_eq!(edit["method"], "editMessageText");
    assert!(
        edit["text"]
            .as_str()
            .unwrap()
            .contains(&render(Lang::En, &Text::PageOf { page: 2, pages: 3 }))
    );
    assert!(button_data(&page2, "p|0").starts_with("p|0"));
}

#[tokio::test]
async fn search_by_name_and_brand_with_buttons_that_open_items() {
    let h = BotHarness::start().await;
    for (lang, code) in LANGS {
        let user = uid(lang, 500);
        let calls = h.say(user, code, "/search must have").await;
        assert_eq!(
            text_of(&calls),
            render(
                lang,
                &Text::SearchResults {
                    query: "must have",
                    count: 2
                }
            )
        );
        let open = button_data(&calls, "i|");
        let item = h.press(user, code, &open).await;
        answer_of(&item);
        assert!(texts(&item).contains("Must Have"), "{item:#?}");
        // By brand only.
        let by_brand = h.say(user, code, "/search darkside").await;
        assert_eq!(buttons(&by_brand).len(), 2);
        let none = text_of(&h.say(user, code, "/search zzzz").await);
        assert_eq!(none, render(lang, &Text::SearchNothing { query: "zzzz" }));
        assert_eq!(
            text_of(&h.say(user, code, "/search").await),
            render(lang, &Text::SearchUsage)
        );
    }
}

#[tokio::test]
async fn item_view_has_watch_alert_and_chart_buttons() {
    let h = BotHarness::start().await;
    for (lang, code) in LANGS {
        let user = uid(lang, 600);
        let calls = h.say(user, code, "/item darkside cola").await;
        let text = text_of(&calls);
        assert!(
            text.contains("<b>Darkside Cola</b>") && text.contains("htreviews.org"),
            "{text}"
        );
        for prefix in ["w|", "a|", "c|30d|"] {
            button_data(&calls, prefix);
        }
        // Several matches: a choice.
        let choose = h.say(user, code, "/item darkside").await;
        assert_eq!(
            text_of(&choose),
            render(lang, &Text::ItemChoose { query: "darkside" })
        );
        let unknown = h.say(user, code, "/item unobtainium").await;
        assert_eq!(
            text_of(&unknown),
            render(
                lang,
                &Text::ItemNotFound {
                    query: "unobtainium"
                }
            )
        );
    }
}

#[tokio::test]
async fn watch_add_remove_unwatch_and_list_with_current_prices() {
    let h = BotHarness::start().await;
    for (lang, code) in LANGS {
        let user = uid(lang, 700);
        let w = text_of(&h.say(user, code, "/watch darkside cola").await);
        assert_eq!(
            w,
            render(
                lang,
                &Text::Watching {
                    item: "Darkside Cola"
                }
            )
        );
        let again = text_of(&h.say(user, code, "/add darkside cola").await);
        assert_eq!(
            again,
            render(
                lang,
                &Text::AlreadyWatching {
                    item: "Darkside Cola"
                }
            )
        );
        h.say(user, code, "/add must have pinkman").await;
        let list = h.say(user, code, "/list").await;
        let text = text_of(&list);
        assert!(
            text.starts_with(&render(lang, &Text::ListTitle { count: 2 })),
            "{text}"
        );
        assert!(text.contains("Darkside Cola") && text.contains("Pinkman"));
        assert_eq!(buttons(&list).len(), 2);
        let removed = text_of(&h.say(user, code, "/remove pinkman").await);
        assert_eq!(
            removed,
            render(
                lang,
                &Text::Unwatched {
                    item: "Must Have Pinkman"
                }
            )
        );
        let not = text_of(&h.say(user, code, "/unwatch pinkman").await);
        assert_eq!(not, render(lang, &Text::NotWatching { item: "pinkman" }));
        // The watch button on an item view, then unwatch from it.
        let view = h.say(user, code, "/item rtx 4070").await;
        let pressed = h.press(user, code, &button_data(&view, "w|")).await;
        answer_of(&pressed);
        assert_eq!(pressed[0]["method"], "editMessageText");
        let unwatch = button_data(&pressed, "u|");
        let after = h.press(user, code, &unwatch).await;
        assert!(answer_of(&after).is_some());
        assert_eq!(h.users().watches(UserId(user)).await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn clear_asks_first_and_only_a_yes_clears() {
    let h = BotHarness::start().await;
    for (lang, code) in LANGS {
        let user = uid(lang, 800);
        assert_eq!(
            text_of(&h.say(user, code, "/clear").await),
            render(lang, &Text::ListEmpty)
        );
        h.say(user, code, "/add darkside cola").await;
        let ask = h.say(user, code, "/clear").await;
        assert_eq!(
            text_of(&ask),
            render(lang, &Text::ClearConfirm { count: 1 })
        );
        let no = h.press(user, code, &button_data(&ask, "k|n")).await;
        answer_of(&no);
        assert_eq!(no[0]["text"], render(lang, &Text::ClearCancelled));
        assert_eq!(h.users().watches(UserId(user)).await.unwrap().len(), 1);
        let yes = h.press(user, code, &button_data(&ask, "k|y")).await;
        assert_eq!(yes[0]["text"], render(lang, &Text::Cleared { count: 1 }));
        assert!(h.users().watches(UserId(user)).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn alerts_below_above_drop_back_in_stock_listed_and_deleted() {
    let h = BotHarness::start().await;
    for (lang, code) in LANGS {
        let user = uid(lang, 900);
        assert_eq!(
            text_of(&h.say(user, code, "/alert").await),
            render(lang, &Text::AlertUsage)
        );
        let below = text_of(&h.say(user, code, "/alert darkside cola below 1 400").await);
        assert!(
            below.contains("Darkside Cola") && below.contains("1"),
            "{below}"
        );
        let bad = text_of(&h.say(user, code, "/alert darkside cola below lots").await);
        assert_eq!(bad, render(lang, &Text::AlertBadPrice { input: "lots" }));
        let other_currency = text_of(&h.say(user, code, "/alert darkside cola below 10 EUR").await);
        assert_eq!(
            other_currency,
            render(lang, &Text::AlertBadPrice { input: "10 EUR" })
        );
        h.say(user, code, "/alert darkside cola above 2000").await;
        h.say(user, code, "/alert darkside cola drop 10%").await;
        let pct = text_of(&h.say(user, code, "/alert darkside cola drop 250%").await);
        assert_eq!(pct, render(lang, &Text::AlertBadPercent { input: "250%" }));
        h.say(user, code, "/alert darkside cola back in stock")
            .await;
        let stored = h.users().alerts(UserId(user)).await.unwrap();
        assert_eq!(stored.len(), 4);
        assert_eq!(stored[0].reference_price, stored[2].reference_price);

        // The item's alert button offers quick choices.
        let menu = h.say(user, code, "/alert must have pinkman").await;
        let drop = button_data(&menu, "d|10|");
        let made = h.press(user, code, &drop).await;
        assert!(answer_of(&made).is_some());
        assert_eq!(h.users().alerts(UserId(user)).await.unwrap().len(), 5);

        let list = h.say(user, code, "/alerts").await;
        assert!(text_of(&list).starts_with(&render(lang, &Text::AlertsTitle { count: 5 })));
        let delete = button_data(&list, "x|");
        let deleted = h.press(user, code, &delete).await;
        assert_eq!(answer_of(&deleted), Some(render(lang, &Text::AlertDeleted)));
        assert_eq!(h.users().alerts(UserId(user)).await.unwrap().len(), 4);
        // Pressing it again: already gone.
        let again = h.press(user, code, &delete).await;
        assert_eq!(answer_of(&again), Some(render(lang, &Text::AlertGone)));
    }
}

#[tokio::test]
async fn chart_sends_a_png_of_the_price_history() {
    let h = BotHarness::start().await;
    for (lang, code) in LANGS {
        let user = uid(lang, 1000);
        let calls = h.say(user, code, "/chart darkside cola 7d").await;
        assert_sendable(&calls);
        let photos = h.standin.calls_to("sendPhoto");
        assert_eq!(photos.len(), 1, "{calls:#?}");
        assert!(photos[0].photo_is_png && photos[0].photo_len.unwrap() > 1000);
        assert_eq!(
            photos[0].params["caption"],
            render(
                lang,
                &Text::ChartCaption {
                    item: "Darkside Cola",
                    window: "7d"
                }
            )
        );
        assert_eq!(
            text_of(&h.say(user, code, "/chart").await),
            render(lang, &Text::ChartUsage)
        );
        // The chart button on an item view.
        let view = h.say(user, code, "/item darkside cola").await;
        let pressed = h.press(user, code, &button_data(&view, "c|30d|")).await;
        answer_of(&pressed);
        assert_eq!(h.standin.calls_to("sendPhoto").len(), 1);
    }
}

#[tokio::test]
async fn lang_switches_the_language_over_telegrams() {
    let h = BotHarness::start().await;
    let user = 1100;
    let ask = h.say(user, "ru", "/lang").await;
    assert_eq!(text_of(&ask), render(Lang::Ru, &Text::LangChoose));
    assert_eq!(buttons(&ask).len(), 4);
    let set = h.press(user, "ru", "l|fr").await;
    assert_eq!(set[0]["text"], render(Lang::Fr, &Text::LangSet));
    assert_eq!(
        text_of(&h.say(user, "ru", "/help").await),
        render(Lang::Fr, &Text::Help)
    );
    h.say(user, "ru", "/lang ar").await;
    assert_eq!(
        text_of(&h.say(user, "ru", "/help").await),
        render(Lang::Ar, &Text::Help)
    );
    // A language the bot does not speak falls back to English.
    assert_eq!(
        text_of(&h.say(1101, "de", "/help").await),
        render(Lang::En, &Text::Help)
    );
}

#[tokio::test]
async fn stats_are_for_admins_and_count_users_commands_and_alerts() {
    let h = BotHarness::start().await;
    for (lang, code) in LANGS {
        let refused = text_of(&h.say(uid(lang, 1200), code, "/stats").await);
        assert_eq!(refused, render(lang, &Text::AdminOnly));
    }
    h.say(ADMIN, "en", "/prices").await;
    let stats = text_of(&h.say(ADMIN, "en", "/stats").await);
    assert!(
        stats.starts_with(&render(Lang::En, &Text::StatsTitle)),
        "{stats}"
    );
    assert!(
        stats.contains(&render(
            Lang::En,
            &Text::StatsUsers {
                users: 5,
                daily: 5,
                weekly: 5,
                monthly: 5
            }
        )),
        "{stats}"
    );
    assert!(
        stats.contains("/stats — 5") && stats.contains("/prices — 1"),
        "{stats}"
    );
}

#[tokio::test]
async fn a_pasted_link_without_tracking_says_so() {
    let h = BotHarness::start().await;
    for (lang, code) in LANGS {
        let reply = text_of(
            &h.say(uid(lang, 1300), code, "look at https://shop.example/p/1")
                .await,
        );
        assert_eq!(reply, render(lang, &Text::TrackUnavailable));
    }
}

#[tokio::test]
async fn plain_text_gets_help_in_private_and_nothing_in_groups() {
    let h = BotHarness::start().await;
    assert_eq!(
        text_of(&h.say(1400, "en", "hello").await),
        render(Lang::En, &Text::Help)
    );
    let mut group = pricehound_tests::bot::message(1400, "en", "hello everyone");
    group["message"]["chat"] =
        serde_json::json!({"id": -100123, "type": "supergroup", "title": "g"});
    assert!(h.send(group.clone()).await.is_empty());
    group["message"]["text"] = serde_json::json!("/help@pricehound_test_bot");
    let calls = h.send(group.clone()).await;
    assert_eq!(one_message(&calls)["chat_id"], -100123);
    group["message"]["text"] = serde_json::json!("/help@some_other_bot");
    assert!(h.send(group).await.is_empty());
}

#[tokio::test]
async fn an_alert_on_new_listings_in_a_series() {
    use pricehound::domain::user::{AlertRule, AlertTarget};
    let h = BotHarness::start().await;
    for (lang, code, text) in [
        (Lang::En, "en", "/alert new rtx-4070 under 1 000"),
        (Lang::Ru, "ru", "/alert новый rtx 4070 ниже 1000 лв."),
    ] {
        let user = uid(lang, 1500);
        let reply = text_of(&h.say(user, code, text).await);
        assert!(reply.contains("rtx-4070"), "{reply}");
        let alerts = h.users().alerts(UserId(user)).await.unwrap();
        assert_eq!(alerts.len(), 1);
        assert!(matches!(&alerts[0].target, AlertTarget::Series(s) if s.as_str() == "rtx-4070"));
        assert!(
            matches!(&alerts[0].rule, AlertRule::NewListingUnder { price } if price.currency.code() == "BGN" && price.amount == 1000.into())
        );
        let unknown = text_of(&h.say(user, code, "/alert new gtx-9999 under 5").await);
        assert_eq!(
            unknown,
            render(lang, &Text::ItemNotFound { query: "gtx-9999" })
        );
    }
}

/// The Mute button under a notification: only the alert's owner can press
/// it (a forged or forwarded button of someone else's alert changes
/// nothing), and it stops the alert for good.
#[tokio::test]
async fn mute_stops_the_owners_alert_and_nobody_elses() {
    let h = BotHarness::start().await;
    let (owner, stranger) = (9_000_900, 9_000_901);
    h.say(owner, "en", "/start").await;
    h.say(stranger, "en", "/start").await;
    h.say(owner, "en", "/alert darkside cola below 1 400").await;
    let alerts = h.users().alerts(UserId(owner)).await.unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let data = format!("m|{}", alerts[0].id);

    let answer = answer_of(&h.press(stranger, "en", &data).await);
    assert_eq!(answer.as_deref(), Some("That alert no longer exists."));
    let alerts = h.users().alerts(UserId(owner)).await.unwrap();
    assert!(alerts[0].active, "a stranger's press changed nothing");

    let answer = answer_of(&h.press(owner, "en", &data).await).unwrap();
    assert!(answer.contains("Alert muted"), "{answer}");
    let alerts = h.users().alerts(UserId(owner)).await.unwrap();
    assert!(!alerts[0].active, "{alerts:?}");
    // Pressed again (an old notification): still muted, no error.
    let again = answer_of(&h.press(owner, "en", &data).await).unwrap();
    assert!(again.contains("Alert muted"), "{again}");
}

/// The bot searches with the same index as `GET /api/search`: a typo or a
/// prefix still finds the item.
#[tokio::test]
async fn search_in_the_bot_forgives_typos_and_prefixes() {
    let bot = pricehound_tests::bot::BotHarness::start().await;
    for query in [
        "/search darkisde cola",
        "/search darksid col",
        "/search pinkmna",
    ] {
        let calls = bot.say(4242, "en", query).await;
        let text: String = calls
            .iter()
            .map(|c| {
                format!(
                    "{} {}",
                    c["text"].as_str().unwrap_or_default(),
                    c["reply_markup"]
                )
            })
            .collect();
        let want = if query.contains("pinkmna") {
            "Pinkman"
        } else {
            "Darkside Cola"
        };
        assert!(text.contains(want), "{query}: {text}");
    }
}
