//! Arabic (Modern Standard Arabic). Numbers and command names stay in
//! Latin script; counts are given as "العدد: n" so no plural forms are needed.

use super::{Text, esc};

pub const COMMANDS: &[(&str, &str)] = &[
    ("start", "ابدأ واكتشف ما يستطيع pricehound فعله"),
    ("help", "طريقة استخدام البوت"),
    ("prices", "أحدث الأسعار، ويمكن حصرها في مصدر واحد"),
    ("search", "ابحث عن منتج بالاسم أو العلامة التجارية"),
    ("item", "اعرض منتجًا مع سعره"),
    ("list", "قائمة متابعتك بالأسعار الحالية"),
    ("add", "أضف منتجًا إلى قائمتك"),
    ("remove", "احذف منتجًا من قائمتك"),
    ("watch", "تابع منتجًا"),
    ("unwatch", "أوقف متابعة منتج"),
    ("clear", "أفرغ قائمتك"),
    (
        "alert",
        "نبّهني عندما يصبح السعر أقل أو أعلى من حد، أو عند انخفاضه",
    ),
    ("alerts", "تنبيهاتك"),
    ("chart", "رسم بياني للسعر: 7d أو 30d أو 1y"),
    ("lang", "غيّر اللغة"),
    ("untrack", "أوقف متابعة صفحة أرسلتها"),
];

pub fn render(text: &Text) -> String {
    match *text {
        Text::Welcome { first_name } => format!(
            "👋 مرحبًا {}! أتابع الأسعار نيابةً عنك: الذهب في محلات المجوهرات، وتبغ الشيشة، وبطاقات الرسومات المستعملة، وأي صفحة متجر ترسلها إليّ.\n\n\
             • /prices — أحدث الأسعار\n• /search <i>الاسم</i> — ابحث عن منتج\n• /add <i>الاسم</i> — أضفه إلى قائمتك\n\
             • /alert <i>المنتج</i> تحت <i>السعر</i> — أُعلمك عندما ينخفض السعر\n\n\
             الصق رابط منتج لمتابعته. ويعرض /help كل ما أستطيع فعله.",
            esc(first_name)
        ),
        Text::WelcomeBack { first_name } => format!(
            "👋 أهلًا بعودتك يا {}! يعرض /list منتجاتك، و/alerts تنبيهاتك.",
            esc(first_name)
        ),
        Text::Help => "<b>ما يمكنني فعله</b>\n\
            /prices [المصدر] — أحدث الأسعار\n\
            /search <i>نص</i> — البحث بالاسم أو العلامة التجارية\n\
            /item <i>الاسم أو المعرّف</i> — منتج مع أزراره\n\
            /list — قائمتك بالأسعار الحالية\n\
            /add، /watch <i>المنتج</i> — الإضافة إلى قائمتك\n\
            /remove، /unwatch <i>المنتج</i> — الحذف منها\n\
            /clear — إفراغ قائمتك\n\
            /alert <i>المنتج</i> تحت|فوق <i>السعر</i>\n\
            /alert <i>المنتج</i> انخفاض <i>10</i>%\n\
            /alerts — تنبيهاتك، ويُحذف كل منها بزر\n\
            /chart <i>المنتج</i> [7d|30d|1y] — رسم بياني للسعر\n\
            /untrack — أوقف متابعة صفحة\n\
            /lang — اللغة\n\n\
            الصق رابط صفحة منتج وسأعرض عليك متابعة سعره."
            .to_string(),
        Text::UnknownCommand { command } => format!(
            "لا أعرف الأمر /{}. اكتب /help لترى ما يمكنني فعله.",
            esc(command)
        ),
        Text::SlowDown => {
            "🐢 على مهلك! رسائل كثيرة دفعة واحدة؛ حاول مجددًا بعد بضع ثوانٍ.".to_string()
        }
        Text::SomethingWentWrong => "حدث خطأ من جهتي. يُرجى المحاولة مجددًا بعد دقيقة.".to_string(),
        Text::ButtonExpired => "انتهت صلاحية هذا الزر؛ يُرجى إرسال الأمر من جديد.".to_string(),

        Text::PricesTitle => "<b>أحدث الأسعار</b>".to_string(),
        Text::PricesTitleSource { source } => format!("<b>أحدث الأسعار — {}</b>", esc(source)),
        Text::PricesEmpty => "لا توجد أسعار بعد: لم تُقرأ المصادر حتى الآن. حاول لاحقًا.".to_string(),
        Text::UnknownSource { source, known } => format!(
            "لا يوجد مصدر باسم {}. المصادر المعروفة: {}",
            esc(source),
            esc(known)
        ),
        Text::PageOf { page, pages } => format!("الصفحة {page} من {pages}"),
        Text::SearchUsage => {
            "عمّ أبحث؟ /search <i>الاسم أو العلامة التجارية</i>، مثلًا /search rtx 4070".to_string()
        }
        Text::SearchResults { query, count } => format!(
            "🔎 نتائج البحث عن <b>{}</b> — العدد: {count}. اختر واحدًا:",
            esc(query)
        ),
        Text::SearchNothing { query } => format!(
            "🔎 لم أجد شيئًا عن <b>{}</b>. جرّب اسمًا أقصر أو علامة تجارية.",
            esc(query)
        ),
        Text::ItemUsage => "أي منتج؟ /item <i>الاسم أو المعرّف</i>".to_string(),
        Text::ItemNotFound { query } => format!(
            "لا أعرف منتجًا باسم <b>{}</b>. يساعدك /search في العثور عليه.",
            esc(query)
        ),
        Text::ItemChoose { query } => {
            format!("تطابق عدة منتجات <b>{}</b>؛ اختر واحدًا:", esc(query))
        }
        Text::NoPrice => "بلا سعر".to_string(),
        Text::InStock => "متوفر".to_string(),
        Text::OutOfStock => "غير متوفر".to_string(),
        Text::Updated { when } => format!("آخر تحديث: {}", esc(when)),
        Text::SourceLine { source } => format!("المصدر: {}", esc(source)),
        Text::OpenAtSource => "افتح في موقع المصدر".to_string(),

        Text::WatchUsage => "أي منتج؟ مثلًا /add al fakher mint".to_string(),
        Text::Watching { item } => format!("👀 أصبح <b>{}</b> في قائمتك.", esc(item)),
        Text::AlreadyWatching { item } => {
            format!("<b>{}</b> موجود في قائمتك بالفعل.", esc(item))
        }
        Text::Unwatched { item } => format!("حُذف <b>{}</b> من قائمتك.", esc(item)),
        Text::NotWatching { item } => format!("<b>{}</b> ليس في قائمتك.", esc(item)),
        Text::ListTitle { count } => format!("<b>قائمتك</b> ({count})"),
        Text::ListEmpty => {
            "قائمتك فارغة. ابحث عن منتج بـ /search واضغط ➕، أو استخدم /add <i>الاسم</i>."
                .to_string()
        }
        Text::ClearConfirm { count } => {
            format!("هل تريد حذف جميع المنتجات من قائمتك؟ العدد: {count}")
        }
        Text::Cleared { count } => {
            format!("تم: حُذفت المنتجات من قائمتك. العدد: {count}")
        }
        Text::ClearCancelled => "لم يُحذف شيء.".to_string(),

        Text::AlertUsage => "أنشئ تنبيهًا هكذا:\n\
            /alert <i>المنتج</i> تحت <i>100</i>\n\
            /alert <i>المنتج</i> فوق <i>200</i>\n\
            /alert <i>المنتج</i> انخفاض <i>10</i>%\n\
            /alert <i>المنتج</i> متوفر\n\
            /alert جديد <i>rtx-4070</i> تحت <i>500</i> — إعلان جديد في سلسلة"
            .to_string(),
        Text::AlertBadPrice { input } => format!(
            "لا أستطيع قراءة «{}» كسعر. اكتب رقمًا، مثلًا 99.90 أو 1 250.",
            esc(input)
        ),
        Text::AlertBadPercent { input } => format!(
            "«{}» ليست نسبة مئوية بين 0 و100، مثلًا: انخفاض 10%.",
            esc(input)
        ),
        Text::AlertCreated { item, rule_html } => format!(
            "🔔 تم ضبط التنبيه: <b>{}</b> — {rule_html}. سأُعلمك مرة واحدة عند حدوث ذلك، ولن أُعلمك مجددًا إلا بعد أن يُعاد تفعيله.",
            esc(item),
        ),
        Text::AlertPick { item } => format!(
            "تنبيه لـ <b>{}</b>: اختر نوعه، أو اكتب /alert مع سعر.",
            esc(item)
        ),
        Text::AlertsTitle { count } => {
            format!("<b>تنبيهاتك</b> ({count})؛ اضغط على تنبيه لحذفه:")
        }
        Text::AlertsEmpty => {
            "ليست لديك تنبيهات. أنشئ واحدًا بـ /alert <i>المنتج</i> تحت <i>السعر</i>.".to_string()
        }
        Text::AlertDeleted => "حُذف التنبيه.".to_string(),
        Text::AlertGone => "هذا التنبيه لم يعد موجودًا.".to_string(),
        Text::RuleBelow { price } => format!("أقل من {}", esc(price)),
        Text::RuleAbove { price } => format!("أعلى من {}", esc(price)),
        Text::RuleDrop { percent } => format!("انخفاض بنسبة {}%", esc(percent)),
        Text::RuleBackInStock => "عودة التوفر".to_string(),
        Text::RuleNewListing { series, price } => {
            format!("إعلان جديد لـ {} بأقل من {}", esc(series), esc(price))
        }
        Text::AlertFired {
            item,
            rule_html,
            old,
            new,
            percent,
        } => format!(
            "🔔 <b>{}</b> — {rule_html}\n{} ← <b>{}</b>{}",
            esc(item),
            esc(old),
            esc(new),
            if percent.is_empty() {
                String::new()
            } else {
                format!(" ({})", esc(percent))
            }
        ),
        Text::AlertMuted => "🔕 تم إيقاف التنبيه. ‏/alerts يعرض تنبيهاتك.".to_string(),
        Text::Paused => "متوقف مؤقتًا".to_string(),

        Text::ChartUsage => "أي منتج؟ /chart <i>المنتج</i> [7d|30d|1y]".to_string(),
        Text::ChartNoData { item } => {
            format!("لا توجد أسعار لـ <b>{}</b> في هذه الفترة بعد.", esc(item))
        }
        Text::ChartCaption { item, window } => {
            format!("📈 <b>{}</b> — {}", esc(item), esc(window))
        }

        Text::LangChoose => "اختر لغتك:".to_string(),
        Text::LangSet => "تم: سأتحدث معك بالعربية.".to_string(),

        Text::AdminOnly => "الأمر /stats متاح للمشرفين فقط.".to_string(),
        Text::StatsTitle => "<b>الاستخدام</b>".to_string(),
        Text::StatsUsers {
            users,
            daily,
            weekly,
            monthly,
        } => format!(
            "المستخدمون: {users}\nالنشطون: اليوم {daily}، هذا الأسبوع {weekly}، هذا الشهر {monthly}"
        ),
        Text::StatsCommandsTitle => "<b>الأوامر (30 يومًا)</b>".to_string(),
        Text::StatsAlertsSent { count } => format!("التنبيهات المرسلة (30 يومًا): {count}"),

        Text::TrackOffer { url } => format!("هل تريد متابعة سعر هذه الصفحة؟\n{}", esc(url)),
        Text::TrackStarted { item, price } => format!(
            "✅ بدأت متابعة <b>{}</b> — {}. أصبح في قائمتك؛ ويضبط /alert تنبيهًا له.",
            esc(item),
            esc(price)
        ),
        Text::TrackFailed => "عذرًا، لا يمكنني متابعة هذه الصفحة: لم أتمكن من قراءة سعر منتج فيها. صفحات المنتجات في المتاجر الإلكترونية هي الأنسب.".to_string(),
        Text::TrackReading => "⏳ أقرأ الصفحة… سأرسل لك سعرها بعد قليل.".to_string(),
        Text::TrackBusy => "أقرأ صفحات كثيرة الآن؛ اضغط الزر مرة أخرى بعد دقيقة.".to_string(),
        Text::TrackLimitUser { limit } => format!("أنت تتابع {limit} صفحة بالفعل، وهو الحد الأقصى للشخص الواحد. أزل واحدة عبر /untrack لإفساح المجال."),
        Text::TrackLimitGlobal => "أتابع الآن أكبر عدد ممكن من الصفحات ولا يمكنني إضافة المزيد. حاول لاحقًا.".to_string(),
        Text::TrackInFlight => "ما زلت أقرأ الصفحة التي أرسلتها من قبل. انتظر الرد ثم اضغط الزر مرة أخرى.".to_string(),
        Text::TrackLimitDaily { limit } => format!("طلبت مني اليوم متابعة {limit} صفحة، وهو الحد الأقصى للشخص الواحد في اليوم. حاول غدًا."),
        Text::Untracked { item } => format!("توقفت عن متابعة <b>{}</b> وأزلته من قائمتك.", esc(item)),
        Text::NotTracking { item } => format!("أنت لا تتابع <b>{}</b>. يعرض /untrack الصفحات التي تتابعها.", esc(item)),
        Text::UntrackChoose => "أي صفحة أتوقف عن متابعتها؟".to_string(),
        Text::UntrackNone => "أنت لا تتابع أي صفحة. الصق رابط منتج لتبدأ.".to_string(),
        Text::TrackUnavailable => "متابعة صفحات جديدة غير مفعّلة في هذا البوت.".to_string(),

        Text::BtnWatch => "➕ متابعة".to_string(),
        Text::BtnUnwatch => "➖ إلغاء المتابعة".to_string(),
        Text::BtnAlert => "🔔 تنبيه".to_string(),
        Text::BtnChart => "📈 رسم بياني".to_string(),
        Text::BtnApp => "📱 فتح التطبيق".to_string(),
        Text::BtnOpen => "🔗 فتح".to_string(),
        Text::BtnDelete => "🗑 حذف".to_string(),
        Text::BtnClearYes => "نعم، أفرغها".to_string(),
        Text::BtnClearNo => "لا".to_string(),
        Text::BtnPrev => "◀ السابق".to_string(),
        Text::BtnNext => "التالي ▶".to_string(),
        Text::BtnDrop { percent } => format!("انخفاض {percent}%"),
        Text::BtnBackInStock => "عند عودة التوفر".to_string(),
        Text::BtnMute => "🔕 إيقاف".to_string(),
        Text::BtnTrack => "✅ تابِع السعر".to_string(),
        Text::BtnUntrack => "✖ إلغاء المتابعة".to_string(),
    }
}
