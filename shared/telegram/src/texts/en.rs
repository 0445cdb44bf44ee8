//! English, the default.

use super::{Text, esc};

pub const COMMANDS: &[(&str, &str)] = &[
    ("start", "Start and see what pricehound can do"),
    ("help", "How to use the bot"),
    ("prices", "Latest prices, optionally from one source"),
    ("search", "Find items by name or brand"),
    ("item", "Show an item with its price"),
    ("list", "Your watch list with current prices"),
    ("add", "Add an item to your list"),
    ("remove", "Remove an item from your list"),
    ("watch", "Watch an item"),
    ("unwatch", "Stop watching an item"),
    ("clear", "Empty your list"),
    ("alert", "Alert me below/above a price or on a drop"),
    ("alerts", "Your alerts"),
    ("chart", "Price chart: 7d, 30d or 1y"),
    ("lang", "Change the language"),
    ("untrack", "Stop tracking a page you pasted"),
];

pub fn render(text: &Text) -> String {
    match *text {
        Text::Welcome { first_name } => format!(
            "👋 Hi {}! I track prices for you: gold at jewelers, tobacco, second-hand GPUs and any shop page you send me.\n\n\
             • /prices — latest prices\n• /search <i>name</i> — find an item\n• /add <i>name</i> — put it on your list\n\
             • /alert <i>item</i> below <i>price</i> — get told when it drops\n\nPaste a product link to track it. /help shows everything.",
            esc(first_name)
        ),
        Text::WelcomeBack { first_name } => format!(
            "👋 Welcome back, {}! /list shows your items, /alerts your alerts.",
            esc(first_name)
        ),
        Text::Help => "<b>What I can do</b>\n\
            /prices [source] — latest prices\n\
            /search <i>text</i> — find items by name or brand\n\
            /item <i>name or id</i> — an item with buttons\n\
            /list — your list with current prices\n\
            /add, /watch <i>item</i> — add to your list\n\
            /remove, /unwatch <i>item</i> — remove from it\n\
            /clear — empty your list\n\
            /alert <i>item</i> below|above <i>price</i>\n\
            /alert <i>item</i> drop <i>10</i>%\n\
            /alerts — your alerts, delete with a button\n\
            /chart <i>item</i> [7d|30d|1y] — price chart\n\
            /untrack — stop tracking a pasted page\n\
            /lang — language\n\n\
            Paste a product page link and I will offer to track it."
            .to_string(),
        Text::UnknownCommand { command } => {
            format!("I don't know /{}. /help lists what I can do.", esc(command))
        }
        Text::SlowDown => {
            "🐢 Easy there! Too many messages at once; try again in a few seconds.".to_string()
        }
        Text::SomethingWentWrong => {
            "Something went wrong on my side. Please try again in a minute.".to_string()
        }
        Text::ButtonExpired => "This button has expired; please run the command again.".to_string(),

        Text::PricesTitle => "<b>Latest prices</b>".to_string(),
        Text::PricesTitleSource { source } => format!("<b>Latest prices — {}</b>", esc(source)),
        Text::PricesEmpty => {
            "No prices yet: the sources have not been read. Try again later.".to_string()
        }
        Text::UnknownSource { source, known } => format!(
            "There is no source {}. Known sources: {}",
            esc(source),
            esc(known)
        ),
        Text::PageOf { page, pages } => format!("Page {page} of {pages}"),
        Text::SearchUsage => {
            "Tell me what to look for: /search <i>name or brand</i>, e.g. /search rtx 4070"
                .to_string()
        }
        Text::SearchResults { query, count } => {
            format!("🔎 {count} found for <b>{}</b>; tap one:", esc(query))
        }
        Text::SearchNothing { query } => format!(
            "🔎 Nothing found for <b>{}</b>. Try a shorter name or a brand.",
            esc(query)
        ),
        Text::ItemUsage => "Which item? /item <i>name or id</i>".to_string(),
        Text::ItemNotFound { query } => format!(
            "I don't know an item called <b>{}</b>. /search helps find it.",
            esc(query)
        ),
        Text::ItemChoose { query } => {
            format!("Several items match <b>{}</b>; pick one:", esc(query))
        }
        Text::NoPrice => "no price".to_string(),
        Text::InStock => "in stock".to_string(),
        Text::OutOfStock => "out of stock".to_string(),
        Text::Updated { when } => format!("updated {}", esc(when)),
        Text::SourceLine { source } => format!("at {}", esc(source)),
        Text::OpenAtSource => "open at the source".to_string(),

        Text::WatchUsage => "Which item? e.g. /add al fakher mint".to_string(),
        Text::Watching { item } => format!("👀 <b>{}</b> is on your list.", esc(item)),
        Text::AlreadyWatching { item } => format!("<b>{}</b> is already on your list.", esc(item)),
        Text::Unwatched { item } => format!("Removed <b>{}</b> from your list.", esc(item)),
        Text::NotWatching { item } => format!("<b>{}</b> is not on your list.", esc(item)),
        Text::ListTitle { count } => format!("<b>Your list</b> ({count})"),
        Text::ListEmpty => {
            "Your list is empty. /search an item and tap ➕, or /add <i>name</i>.".to_string()
        }
        Text::ClearConfirm { count } => format!("Remove all {count} items from your list?"),
        Text::Cleared { count } => format!("Done: removed {count} items."),
        Text::ClearCancelled => "Nothing removed.".to_string(),

        Text::AlertUsage => "Set an alert like this:\n\
            /alert <i>item</i> below <i>100</i>\n\
            /alert <i>item</i> above <i>200</i>\n\
            /alert <i>item</i> drop <i>10</i>%\n\
            /alert <i>item</i> back in stock\n\
            /alert new <i>rtx-4070</i> under <i>500</i> — a new listing in a series"
            .to_string(),
        Text::AlertBadPrice { input } => format!(
            "{} is not a price I can read. Write a number, e.g. 99.90 or 1 250.",
            esc(input)
        ),
        Text::AlertBadPercent { input } => format!(
            "{} is not a percentage between 0 and 100, e.g. drop 10%.",
            esc(input)
        ),
        Text::AlertCreated { item, rule_html } => format!(
            "🔔 Alert set: <b>{}</b> — {rule_html}. I'll message you once when it happens, and again only after it re-arms.",
            esc(item),
        ),
        Text::AlertPick { item } => format!(
            "Alert for <b>{}</b>: pick one, or type /alert with a price.",
            esc(item)
        ),
        Text::AlertsTitle { count } => {
            format!("<b>Your alerts</b> ({count}); tap one to delete it:")
        }
        Text::AlertsEmpty => {
            "You have no alerts. /alert <i>item</i> below <i>price</i> sets one.".to_string()
        }
        Text::AlertDeleted => "Alert deleted.".to_string(),
        Text::AlertGone => "That alert no longer exists.".to_string(),
        Text::RuleBelow { price } => format!("below {}", esc(price)),
        Text::RuleAbove { price } => format!("above {}", esc(price)),
        Text::RuleDrop { percent } => format!("drops by {}%", esc(percent)),
        Text::RuleBackInStock => "back in stock".to_string(),
        Text::RuleNewListing { series, price } => {
            format!("new {} under {}", esc(series), esc(price))
        }
        Text::AlertFired {
            item,
            rule_html,
            old,
            new,
            percent,
        } => format!(
            "🔔 <b>{}</b> — {rule_html}\n{} → <b>{}</b>{}",
            esc(item),
            esc(old),
            esc(new),
            if percent.is_empty() {
                String::new()
            } else {
                format!(" ({})", esc(percent))
            }
        ),
        Text::AlertMuted => "🔕 Alert muted. /alerts lists your alerts.".to_string(),
        Text::Paused => "paused".to_string(),

        Text::ChartUsage => "Which item? /chart <i>item</i> [7d|30d|1y]".to_string(),
        Text::ChartNoData { item } => {
            format!("No prices for <b>{}</b> in that window yet.", esc(item))
        }
        Text::ChartCaption { item, window } => format!("📈 <b>{}</b> — {}", esc(item), esc(window)),

        Text::LangChoose => "Choose your language:".to_string(),
        Text::LangSet => "Done: I'll speak English.".to_string(),

        Text::AdminOnly => "Only admins can use /stats.".to_string(),
        Text::StatsTitle => "<b>Usage</b>".to_string(),
        Text::StatsUsers {
            users,
            daily,
            weekly,
            monthly,
        } => format!(
            "Users: {users}\nActive: {daily} today, {weekly} this week, {monthly} this month"
        ),
        Text::StatsCommandsTitle => "<b>Commands (30 days)</b>".to_string(),
        Text::StatsAlertsSent { count } => format!("Alerts sent (30 days): {count}"),

        Text::TrackOffer { url } => format!("Track the price of this page?\n{}", esc(url)),
        Text::TrackStarted { item, price } => format!(
            "✅ Tracking <b>{}</b> — {}. It is on your list; /alert sets an alert.",
            esc(item),
            esc(price)
        ),
        Text::TrackFailed => "Sorry, I can't track this page: I couldn't read a product price from it. Product pages of online shops work best.".to_string(),
        Text::TrackReading => "⏳ Reading the page… I'll send you its price in a moment.".to_string(),
        Text::TrackBusy => "I'm reading many pages right now; please press the button again in a minute.".to_string(),
        Text::TrackLimitUser { limit } => format!("You already track {limit} pages, the most I allow per person. /untrack one to make room."),
        Text::TrackLimitGlobal => "I'm tracking as many pages as I can for now, so I can't add new ones. Please try again later.".to_string(),
        Text::TrackInFlight => "I'm still reading the page you sent before. Please wait for its answer, then press the button again.".to_string(),
        Text::TrackLimitDaily { limit } => format!("You've asked me to track {limit} pages today, the most I can do for one person in a day. Please try again tomorrow."),
        Text::Untracked { item } => format!("Stopped tracking <b>{}</b>; it is off your list.", esc(item)),
        Text::NotTracking { item } => format!("You are not tracking <b>{}</b>. /untrack lists the pages you track.", esc(item)),
        Text::UntrackChoose => "Which page should I stop tracking?".to_string(),
        Text::UntrackNone => "You are not tracking any pages. Paste a product link to track one.".to_string(),
        Text::TrackUnavailable => "Tracking new pages is not enabled on this bot.".to_string(),

        Text::BtnWatch => "➕ Watch".to_string(),
        Text::BtnUnwatch => "➖ Unwatch".to_string(),
        Text::BtnAlert => "🔔 Alert".to_string(),
        Text::BtnChart => "📈 Chart".to_string(),
        Text::BtnApp => "📱 Open app".to_string(),
        Text::BtnOpen => "🔗 Open".to_string(),
        Text::BtnDelete => "🗑 Delete".to_string(),
        Text::BtnClearYes => "Yes, clear".to_string(),
        Text::BtnClearNo => "No".to_string(),
        Text::BtnPrev => "◀ Back".to_string(),
        Text::BtnNext => "Next ▶".to_string(),
        Text::BtnDrop { percent } => format!("Drop {percent}%"),
        Text::BtnBackInStock => "Back in stock".to_string(),
        Text::BtnMute => "🔕 Mute".to_string(),
        Text::BtnTrack => "✅ Track it".to_string(),
        Text::BtnUntrack => "✖ Untrack".to_string(),
    }
}
