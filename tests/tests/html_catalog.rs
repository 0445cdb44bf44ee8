//! The html_catalog source against recorded catalogue and marketplace pages
//! (the demo server's, read directly and served on loopback): fields, prices
//! in ₽, лв. and €, lazy images, brands, availability, paging, empty result
//! pages, a changed layout, and hostile HTML.
//!
//! The configs are built from the same TOML blocks sources.toml uses for
//! `htreviews-tobacco` and `olx-gpu`.

use chrono::Utc;
use pricehound::domain::{Availability, Money};
use pricehound::sources::config::HtmlCatalogConfig;
use pricehound::sources::html_catalog::{CatalogPage, parse_page};
use pricehound::sources::listing::to_observations;
use pricehound::sources::{
    Fetcher, Listing, ScrapeError, SourceConfig, SourceKind, SourcesConfig, scrape_source,
};
use pricehound_tests::pages::serve;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashSet};
use url::Url;

/// The `htreviews-tobacco` source, as in sources.toml.
const TOBACCO_TOML: &str = r#"
[groups.tobacco]
schedule = "rate(6 hours)"

[[sources]]
id = "htreviews-tobacco"
name = "HTReviews — табак для кальяна (Darkside, Must Have)"
group = "tobacco"
kind = "html_catalog"
urls = [
    "https://htreviews.org/tobaccos/brands/darkside",
    "https://htreviews.org/tobaccos/brands/musthave",
]
max_pages = 5
currency = "RUB"

[sources.selectors]
item = "div.tobacco_list_item"
name = "a.tobacco_list_item_name"
price = ".tobacco_list_item_price .price_current"
url = "a.tobacco_list_item_name@href"
image = ".tobacco_list_item_image img"
brand = ".tobacco_list_item_brand"
page_brand = "h1.object_card_title"
availability = ".tobacco_list_item_stock"
next_page = "nav.pagination a.pagination_next"
empty = ".tobacco_list_empty"
"#;

/// The `olx-gpu` source, as in sources.toml.
const OLX_TOML: &str = r#"
[groups.marketplace]
schedule = "rate(30 minutes)"

[[sources]]
id = "olx-gpu"
name = "OLX.bg — RTX 4070, втора ръка"
group = "marketplace"
kind = "html_catalog"
urls = ["https://www.olx.bg/ads/q-rtx-4070/"]
max_pages = 3
currency = "BGN"
# The ad id: it survives a title edit, which changes the ad's URL.
key = "@id"

[sources.selectors]
item = 'div[data-cy="l-card"]'
# OLX is moving card titles from h6 to h4; both are in use.
name = "h6, h4"
price = 'p[data-testid="ad-price"]'
url = 'a[href^="/d/ad/"]'
image = 'div[data-testid="image-container"] img'
next_page = 'a[data-testid="pagination-forward"]'
empty = '[data-cy="empty-state"]'

[sources.filters]
# Not the bare "кутия" (box): "без кутия" (no box) is a real card. A box
# sold alone says "кутия от" / "само кутия", and is under min_price anyway.
blacklist = [
    "за части", "неработеща", "неработещ", "не работи", "for parts", "broken",
    "кутия от", "само кутия", "купувам", "размяна", "бартер",
    "компютър", "конфигурация", "лаптоп", "laptop",
]
min_price = 100
max_price = 3000

[[sources.series]]
pattern = '(?i)\brtx\s*-?\s*(\d{4})\s*(ti\s*super|ti|super)?\b'
series = "rtx-{1}-{2}"

[[sources.series]]
pattern = '(?i)\brx\s*-?\s*(\d{4})\s*(xtx|xt)?\b'
series = "rx-{1}-{2}"
"#;

const DARKSIDE: &str = "https://htreviews.org/tobaccos/brands/darkside";
const MUSTHAVE: &str = "https://htreviews.org/tobaccos/brands/musthave";
const OLX: &str = "https://www.olx.bg/ads/q-rtx-4070/";

fn source(toml: &str) -> SourceConfig {
    let sources = SourcesConfig::from_toml(toml).unwrap();
    sources.sources.into_iter().next().unwrap()
}

fn catalog(source: &SourceConfig) -> &HtmlCatalogConfig {
    match &source.kind {
        SourceKind::HtmlCatalog(c) => c,
        other => panic!("not an html_catalog source: {}", other.name()),
    }
}

/// The recorded page at the path and query of `url`, parsed as if fetched from `url`.
fn parse_recorded(toml: &str, url: &str) -> Result<CatalogPage, ScrapeError> {
    let url = Url::parse(url).unwrap();
    let path = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    };
    let page = pricehound::demo::page(&path).unwrap_or_else(|| panic!("no recorded page {path}"));
    parse_page(page.body, &url, catalog(&source(toml)))
}

fn by_name<'a>(page: &'a CatalogPage, name: &str) -> &'a Listing {
    page.listings
        .iter()
        .find(|l| l.name == name)
        .unwrap_or_else(|| panic!("no listing {name:?}"))
}

fn money(amount: i64, currency: &str) -> Option<Money> {
    Some(Money::new(
        Decimal::from(amount),
        pricehound::domain::Currency::new(currency).unwrap(),
    ))
}

#[test]
fn tobacco_brand_page_reads_every_card_with_its_fields() {
    let page = parse_recorded(TOBACCO_TOML, DARKSIDE).unwrap();
    // 16 flavour cards; the promo card (no name), the <template> skeleton
    // and the card template inside a <script> are not items.
    assert_eq!(page.listings.len(), 16);
    assert!(
        page.listings
            .iter()
            .all(|l| l.name != "Загрузка…" && !l.name.contains("{{"))
    );

    let supernova = by_name(&page, "Supernova");
    assert_eq!(
        supernova.key,
        "https://htreviews.org/tobaccos/darkside/core/supernova"
    );
    assert_eq!(
        supernova.details.url.as_deref(),
        Some(supernova.key.as_str())
    );
    assert_eq!(supernova.price, money(1190, "RUB"));
    assert_eq!(supernova.price_text.as_deref(), Some("1 190 ₽"));
    assert_eq!(supernova.availability, Availability::InStock);
    assert_eq!(supernova.details.brand.as_deref(), Some("Darkside"));
    assert_eq!(
        supernova.details.image.as_deref(),
        Some("https://htreviews.org/uploads/objects/4521/supernova-240.webp")
    );

    // A price grouped with &nbsp; reads the same.
    assert_eq!(by_name(&page, "Falling Star").price, money(1190, "RUB"));
    // A discounted card: the current price, not the struck-out one.
    assert_eq!(by_name(&page, "Space Dessert").price, money(1090, "RUB"));
    // Lazy-loaded: src is a data: placeholder, the image is in data-src.
    assert_eq!(
        by_name(&page, "Bananapapa").details.image.as_deref(),
        Some("https://htreviews.org/uploads/objects/4522/bananapapa-240.webp")
    );
    // Out of stock, with its last price.
    let wild = by_name(&page, "Wild Forest");
    assert_eq!(wild.availability, Availability::OutOfStock);
    assert_eq!(wild.price, money(1190, "RUB"));
    // "Цена по запросу": no price, never zero; the text is kept.
    let red_tea = by_name(&page, "Red Tea");
    assert_eq!(red_tea.price, None);
    assert_eq!(red_tea.price_text.as_deref(), Some("Цена по запросу"));

    // Every link and image is absolute http(s).
    for l in &page.listings {
        for u in [&l.details.url, &l.details.image] {
            let u = u
                .as_deref()
                .unwrap_or_else(|| panic!("{} lacks a URL", l.name));
            assert!(u.starts_with("https://htreviews.org/"), "{u}");
        }
    }
    assert_eq!(
        page.next_page.as_ref().map(Url::as_str),
        Some("https://htreviews.org/tobaccos/brands/darkside?page=2")
    );
}

#[test]
fn brand_comes_from_the_page_heading_when_cards_do_not_name_it() {
    for url in [MUSTHAVE, &format!("{MUSTHAVE}?page=2")] {
        let page = parse_recorded(TOBACCO_TOML, url).unwrap();
        assert!(!page.listings.is_empty());
        for l in &page.listings {
            assert_eq!(l.details.brand.as_deref(), Some("Must Have"), "{}", l.name);
        }
    }
    let page = parse_recorded(TOBACCO_TOML, MUSTHAVE).unwrap();
    assert_eq!(page.listings.len(), 15);
    assert_eq!(by_name(&page, "Tropic Juice").price, money(1290, "RUB"));
    assert_eq!(by_name(&page, "Frosty").price, money(320, "RUB"));
    assert_eq!(
        by_name(&page, "Milky Rice").availability,
        Availability::OutOfStock
    );
    assert_eq!(
        page.next_page.as_ref().map(Url::as_str),
        Some("https://htreviews.org/tobaccos/brands/musthave?page=2")
    );
}

#[test]
fn second_pages_lazy_images_unknown_stock_and_the_end_of_paging() {
    let page = parse_recorded(TOBACCO_TOML, &format!("{DARKSIDE}?page=2")).unwrap();
    assert_eq!(page.listings.len(), 12);
    // data-lazy-src, with no src at all.
    assert_eq!(
        by_name(&page, "Cyber Punch").details.image.as_deref(),
        Some("https://htreviews.org/uploads/objects/4547/cyber-punch-240.webp")
    );
    // No stock badge: unknown, and the price still counts.
    let supra = by_name(&page, "Darksupra");
    assert_eq!(supra.availability, Availability::Unknown);
    assert_eq!(supra.price, money(1190, "RUB"));
    // The last page's disabled "next" arrow links to the page itself.
    assert_eq!(page.next_page, None);

    let page = parse_recorded(TOBACCO_TOML, &format!("{MUSTHAVE}?page=2")).unwrap();
    assert_eq!(page.listings.len(), 10);
    assert_eq!(page.next_page, None, "the last page has no next link");
}

#[test]
fn marketplace_search_page_reads_forty_cards() {
    let page = parse_recorded(OLX_TOML, OLX).unwrap();
    assert_eq!(page.listings.len(), 40);
    for l in &page.listings {
        assert!(
            l.key.chars().all(|c| c.is_ascii_digit()),
            "key is the ad id: {}",
            l.key
        );
        let url = l.details.url.as_deref().unwrap();
        assert!(
            url.starts_with("https://www.olx.bg/d/ad/") && url.ends_with(".html"),
            "{url}"
        );
        assert!(l.details.image.as_deref().unwrap().starts_with("https://"));
        assert_eq!(l.availability, Availability::Unknown);
    }

    // The promoted ad is shown twice: same id, same URL.
    let promoted: Vec<&Listing> = page
        .listings
        .iter()
        .filter(|l| l.name == "Gigabyte RTX 4070 Ti Gaming OC 12GB - с гаранция")
        .collect();
    assert_eq!(promoted.len(), 2);
    assert_eq!(promoted[0], promoted[1]);

    let vent = by_name(&page, "Видеокарта MSI GeForce RTX 4070 Ventus 2X 12G OC");
    assert_eq!(vent.price, money(1150, "BGN"));
    assert_eq!(vent.price_text.as_deref(), Some("1 150 лв."));
    assert!(
        vent.details
            .image
            .as_deref()
            .unwrap()
            .starts_with("https://ireland.apollo.olxcdn.com/v1/files/"),
        "{:?}",
        vent.details.image
    );
    // A price followed by "Договаряне" (negotiable) is still that price.
    let zotac = by_name(&page, "Zotac Gaming GeForce RTX 4070 Twin Edge 12GB");
    assert_eq!(zotac.price, money(1100, "BGN"));
    assert!(zotac.price_text.as_deref().unwrap().contains("Договаряне"));
    // "Договаряне" alone: no price.
    let inno = by_name(&page, "Inno3D RTX 4070 Twin X2 OC");
    assert_eq!(inno.price, None);
    assert_eq!(inno.price_text.as_deref(), Some("Договаряне"));
    // Prices in euro keep their currency.
    assert_eq!(
        by_name(&page, "Gigabyte GeForce RTX 4070 SUPER Windforce OC 12G").price,
        money(689, "EUR")
    );
    // Titles in h6 (the older card markup) are read too.
    assert_eq!(
        by_name(&page, "Palit RTX 4070 Dual 12GB GDDR6X").price,
        money(1050, "BGN")
    );
    // A card without a photo: the placeholder, absolute.
    assert!(page.listings.iter().any(|l| l.details.image.as_deref()
        == Some("https://www.olx.bg/app/static/media/no_thumbnail.15f456ec5.svg")));

    assert_eq!(
        page.next_page.as_ref().map(Url::as_str),
        Some("https://www.olx.bg/ads/q-rtx-4070/?page=2")
    );
    let page2 = parse_recorded(OLX_TOML, &format!("{OLX}?page=2")).unwrap();
    assert_eq!(page2.listings.len(), 40);
    assert_eq!(
        page2.next_page.as_ref().map(Url::as_str),
        Some("https://www.olx.bg/ads/q-rtx-4070/?page=3")
    );
}

#[test]
fn marketplace_filters_drop_junk_and_series_group_models() {
    let src = source(OLX_TOML);
    let page = parse_recorded(OLX_TOML, OLX).unwrap();
    let (observations, rejected) = to_observations(&src, page.listings, OLX, Utc::now());

    let reason = |name: &str| {
        rejected
            .iter()
            .find(|r| r.name == name)
            .map(|r| r.reason.clone())
            .unwrap_or_else(|| panic!("{name:?} was not rejected"))
    };
    assert!(reason("Видеокарта RTX 4070 за части").contains("за части"));
    assert!(reason("Неработеща видеокарта RTX 3070 - няма образ").contains("неработещ"));
    assert!(reason("Кутия от RTX 4070 Gigabyte Windforce").contains("кутия"));
    assert!(reason("Купувам RTX 4070 / 4070 Ti").contains("купувам"));
    assert!(
        reason("Геймърски компютър Ryzen 7 7700 / RTX 4070 / 32GB DDR5 / 1TB NVMe")
            .contains("компютър")
    );
    assert!(reason("Лаптоп Lenovo Legion 5 Pro RTX 4070 / i7-13700HX").contains("лаптоп"));
    assert!(reason("Inno3D RTX 4070 Twin X2 OC").contains("no price"));

    // 40 cards: one promoted copy, 7 rejected, 32 observations.
    assert_eq!(rejected.len(), 7, "{rejected:#?}");
    assert_eq!(observations.len(), 32);
    let ids: HashSet<_> = observations.iter().map(|o| o.item_id.clone()).collect();
    assert_eq!(
        ids.len(),
        observations.len(),
        "the promoted copy is one item"
    );

    let series = |name: &str| {
        observations
            .iter()
            .find(|o| o.item_name == name)
            .unwrap_or_else(|| panic!("no observation {name:?}"))
            .series
            .as_ref()
            .map(|s| s.as_str().to_string())
    };
    assert_eq!(
        series("Видеокарта MSI GeForce RTX 4070 Ventus 2X 12G OC").as_deref(),
        Some("rtx-4070")
    );
    assert_eq!(
        series("ASUS TUF Gaming RTX 4070 Ti OC 12GB").as_deref(),
        Some("rtx-4070-ti")
    );
    assert_eq!(
        series("ASUS Dual RTX 4070 SUPER EVO OC 12GB").as_deref(),
        Some("rtx-4070-super")
    );
    assert_eq!(
        series("RTX 4070 Ti SUPER 16GB Gigabyte Gaming OC").as_deref(),
        Some("rtx-4070-ti-super")
    );
    assert_eq!(
        series("MSI GeForce RTX 3060 Ventus 2X 12G OC").as_deref(),
        Some("rtx-3060")
    );
    assert_eq!(
        series("EVGA GeForce RTX 3080 FTW3 Ultra 10GB").as_deref(),
        Some("rtx-3080")
    );
    assert_eq!(
        series("Sapphire Pulse AMD Radeon RX 6700 XT 12GB").as_deref(),
        Some("rx-6700-xt")
    );

    let mut per_series: BTreeMap<String, usize> = BTreeMap::new();
    for o in &observations {
        let s = o
            .series
            .as_ref()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default();
        *per_series.entry(s).or_default() += 1;
    }
    assert!(per_series["rtx-4070"] >= 10, "{per_series:?}");
    assert!(
        !per_series.contains_key(""),
        "every kept listing has a series: {per_series:?}"
    );
    // What is left of the 4070s is priced like a second-hand 4070.
    for o in observations
        .iter()
        .filter(|o| o.series.as_ref().is_some_and(|s| s.as_str() == "rtx-4070"))
    {
        let p = o.price.as_ref().unwrap();
        if p.currency.code() == "BGN" {
            assert!(
                (Decimal::from(900)..=Decimal::from(1400)).contains(&p.amount),
                "{} {p}",
                o.item_name
            );
        }
    }
}

#[test]
fn an_empty_results_page_is_empty_not_a_layout_change() {
    let page = parse_recorded(OLX_TOML, &format!("{OLX}?page=3")).unwrap();
    assert!(page.listings.is_empty());
    assert_eq!(page.next_page, None);

    // Without the `empty` marker the same page cannot be told from a
    // changed layout, and says so.
    let toml = OLX_TOML.replace("empty = '[data-cy=\"empty-state\"]'\n", "");
    let err = parse_recorded(&toml, &format!("{OLX}?page=3")).unwrap_err();
    assert!(matches!(err, ScrapeError::Layout(_)), "{err}");
}

#[test]
fn a_changed_layout_is_an_error_that_names_the_selector() {
    let src = source(OLX_TOML);
    let url = Url::parse(OLX).unwrap();
    let body = pricehound::demo::page("/ads/q-rtx-4070/").unwrap().body;

    // The cards were renamed: nothing matches the item selector.
    let renamed = body.replace("data-cy=\"l-card\"", "data-cy=\"listing-card\"");
    let err = parse_page(&renamed, &url, catalog(&src))
        .unwrap_err()
        .to_string();
    assert!(err.contains(r#"div[data-cy="l-card"]"#), "{err}");
    assert!(
        err.contains(OLX) && err.contains("layout may have changed"),
        "{err}"
    );

    // The titles moved to another element: cards match but none has a name.
    let retitled = body
        .replace("<h4 ", "<div ")
        .replace("</h4>", "</div>")
        .replace("<h6 ", "<div ")
        .replace("</h6>", "</div>");
    let err = parse_page(&retitled, &url, catalog(&src))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("none has a name") && err.contains("`h6, h4`"),
        "{err}"
    );

    // Another site's page altogether.
    let tobacco = pricehound::demo::page("/tobaccos/brands/darkside")
        .unwrap()
        .body;
    assert!(matches!(
        parse_page(tobacco, &url, catalog(&src)),
        Err(ScrapeError::Layout(_))
    ));
}

const CARD_TOML: &str = r#"
[groups.x]
schedule = "rate(1 hour)"

[[sources]]
id = "x"
name = "x"
group = "x"
kind = "html_catalog"
urls = ["https://shop.test/c/gpu"]
currency = "EUR"
key = "@data-sku"

[sources.selectors]
item = ".card"
name = ".name"
price = ".price"
url = "a@href"
image = "img"
brand = ".brand"
availability = ".stock"
next_page = "a.next"
"#;

fn parse_cards(html: &str) -> Result<CatalogPage, ScrapeError> {
    let src = source(CARD_TOML);
    parse_page(
        html,
        &Url::parse("https://shop.test/c/gpu?page=1").unwrap(),
        catalog(&src),
    )
}

#[test]
fn items_without_a_name_are_skipped() {
    let page = parse_cards(
        r#"<div class="card"><span class="name">  </span><span class="price">10 €</span></div>
           <div class="card"><span class="price">20 €</span></div>
           <div class="card"><span class="name"><script>document.write("Ghost")</script><style>.x{}</style></span><span class="price">30 €</span></div>
           <div class="card"><span class="name">Real <b>one</b></span><span class="price">40 €</span></div>"#,
    )
    .unwrap();
    assert_eq!(page.listings.len(), 1);
    assert_eq!(page.listings[0].name, "Real one");
    assert_eq!(page.listings[0].price, money(40, "EUR"));
    assert_eq!(page.listings[0].key, "Real one", "no key, no URL: the name");
}

#[test]
fn keys_urls_images_and_availability_follow_the_rules() {
    let page = parse_cards(
        r##"<div class="card" data-sku="A-1"><a href="../p/a1#reviews"><span class="name">A1</span></a>
              <img src="data:image/png;base64,AAAA" data-lazy-src="//cdn.shop.test/a1.jpg">
              <span class="stock">НЕТ В НАЛИЧИИ</span><span class="price">1.234,50 €</span></div>
            <div class="card"><a href="javascript:void(0)"><span class="name">No link</span></a>
              <img src="data:image/gif;base64,R0lG"><span class="stock">Available</span></div>
            <div class="card"><a href="https://other.test/x?y=1"><span class="name">Elsewhere</span></a>
              <img src="ftp://cdn.test/x.png"><span class="brand">Acme</span><span class="price">Free</span></div>
            <div class="card"><a href="#"><span class="name">Self link</span></a></div>
            <a class="next" href="?page=2#top">next</a>"##,
    )
    .unwrap();
    let [a1, no_link, elsewhere, self_link] = &page.listings[..] else {
        panic!("{:#?}", page.listings)
    };
    assert_eq!(a1.key, "A-1", "the configured key wins");
    assert_eq!(
        a1.details.url.as_deref(),
        Some("https://shop.test/p/a1"),
        "resolved, fragment dropped"
    );
    assert_eq!(
        a1.details.image.as_deref(),
        Some("https://cdn.shop.test/a1.jpg")
    );
    assert_eq!(
        a1.availability,
        Availability::OutOfStock,
        "case-insensitive"
    );
    assert_eq!(
        a1.price,
        Some(Money::new(
            "1234.50".parse().unwrap(),
            pricehound::domain::Currency::new("EUR").unwrap()
        ))
    );
    assert_eq!(a1.details.brand, None);

    assert_eq!(no_link.details.url, None, "javascript: is no URL");
    assert_eq!(no_link.key, "No link");
    assert_eq!(
        no_link.details.image, None,
        "a data: placeholder without a fallback is no image"
    );
    assert_eq!(
        no_link.availability,
        Availability::InStock,
        "'available' is not 'unavailable'"
    );
    assert_eq!(no_link.price, None);

    assert_eq!(
        elsewhere.key, "https://other.test/x?y=1",
        "no key: the absolute URL"
    );
    assert_eq!(elsewhere.details.image, None, "only http(s)");
    assert_eq!(elsewhere.details.brand.as_deref(), Some("Acme"));
    assert_eq!(elsewhere.availability, Availability::Unknown);
    assert_eq!(elsewhere.price, None);
    assert_eq!(elsewhere.price_text.as_deref(), Some("Free"));

    assert_eq!(
        self_link.details.url, None,
        "a link to the page itself is no item URL"
    );
    assert_eq!(self_link.key, "Self link");

    assert_eq!(
        page.next_page.as_ref().map(Url::as_str),
        Some("https://shop.test/c/gpu?page=2")
    );
}

#[test]
fn hostile_html_does_not_panic_or_invent_items() {
    let deep = format!(
        "{}<div class=\"card\"><span class=\"name\">Deep</span></div>{}",
        "<div><span>".repeat(5_000),
        "</span></div>".repeat(5_000)
    );
    let deep_name = format!(
        "<div class=\"card\"><span class=\"name\">{}Deep name{}</span></div>",
        "<b><i>".repeat(3_000),
        "</i></b>".repeat(3_000)
    );
    let huge_attr = format!(
        "<div class=\"card\" data-sku=\"{}\"><span class=\"name\">Big</span></div>",
        "x".repeat(1_000_000)
    );
    let cases: Vec<(&str, String, usize)> = vec![
        ("empty", String::new(), 0),
        ("binary", String::from_utf8_lossy(&[0xff, 0, 0x1b, b'<', 0xfe, b'>', 0]).into_owned(), 0),
        ("not html", "{\"items\":[{\"name\":\"x\"}]}".into(), 0),
        ("unclosed", "<div class=\"card\"><span class=\"name\">Open <div class=\"card\"><span class=\"name\">Inner".into(), 2),
        ("in script", "<script>var s='<div class=\"card\"><span class=\"name\">S</span></div>';</script>".into(), 0),
        ("in style", "<style>.card{}</style><style><div class=\"card\"><span class=\"name\">S</span></div></style>".into(), 0),
        ("in template", "<template><div class=\"card\"><span class=\"name\">T</span></div><template><div class=\"card\"><span class=\"name\">T2</span></div></template></template>".into(), 0),
        ("in comment", "<!-- <div class=\"card\"><span class=\"name\">C</span></div> -->".into(), 0),
        ("in textarea", "<textarea><div class=\"card\"><span class=\"name\">X</span></div></textarea>".into(), 0),
        ("nul and bidi", "<div class=\"card\"><span class=\"name\">\u{0}\u{202e}Evil\u{0}</span><a href=\"http://[::1\">x</a><span class=\"price\">\u{0}9\u{0}9 €</span></div>".into(), 1),
        ("bad urls", "<div class=\"card\"><span class=\"name\">U</span><a href=\"http://\">x</a><img src=\"https://exa mple.com/%%\"></div><a class=\"next\" href=\"javascript:alert(1)\">n</a>".into(), 1),
        // Refused before parsing by the nesting guard (see sources::html_guard).
        ("deep nesting", deep, 0),
        // 3,000 open <b><i> pairs: the guard counts every element now,
        // not only blocks, so this is refused unparsed too.
        ("deep name", deep_name, 0),
        ("huge attribute", huge_attr, 1),
        ("many items", "<div class=\"card\"><span class=\"name\">n</span><span class=\"price\">1 €</span></div>".repeat(5_000), 5_000),
    ];
    for (what, html, expected) in cases {
        let result = std::panic::catch_unwind(|| parse_cards(&html));
        let Ok(result) = result else {
            panic!("{what}: panicked")
        };
        let found = result.map(|p| p.listings).unwrap_or_default();
        assert_eq!(
            found.len(),
            expected,
            "{what}: {:?}",
            found.iter().take(3).collect::<Vec<_>>()
        );
        for l in &found {
            assert!(!l.name.trim().is_empty(), "{what}");
            if let Some(u) = &l.details.url {
                assert!(
                    u.starts_with("http://") || u.starts_with("https://"),
                    "{what}: {u}"
                );
            }
        }
    }
}

#[tokio::test]
async fn both_sources_page_through_the_demo_server() {
    let base = serve(pricehound::demo::router()).await;
    let mut sources = SourcesConfig::from_toml(TOBACCO_TOML).unwrap();
    sources
        .sources
        .extend(SourcesConfig::from_toml(OLX_TOML).unwrap().sources);
    sources
        .groups
        .extend(SourcesConfig::from_toml(OLX_TOML).unwrap().groups);
    sources.rebase(&base);
    let fetcher = Fetcher::new();

    let out = scrape_source(sources.source("htreviews-tobacco").unwrap(), &fetcher, None)
        .await
        .unwrap();
    assert_eq!(out.pages_fetched, 4, "two brands, two pages each");
    assert_eq!(out.listings.len(), 16 + 12 + 15 + 10);
    // Priced cards and out-of-stock ones become observations; the two
    // "Цена по запросу" cards do not.
    assert_eq!(out.rejected.len(), 2, "{:#?}", out.rejected);
    assert_eq!(out.observations.len(), 51);
    let host = base.host_str().unwrap();
    for o in &out.observations {
        assert!(
            o.details.url.as_deref().unwrap().contains(host),
            "links stay on the demo server"
        );
        assert!(o.details.brand.is_some());
    }

    let out = scrape_source(sources.source("olx-gpu").unwrap(), &fetcher, None)
        .await
        .unwrap();
    assert_eq!(out.pages_fetched, 3, "page 3 is the empty results page");
    assert_eq!(out.listings.len(), 80);
    let ids: HashSet<_> = out.observations.iter().map(|o| &o.item_id).collect();
    assert_eq!(ids.len(), out.observations.len());
    assert!(
        out.observations
            .iter()
            .all(|o| o.series.is_some() && o.price.is_some())
    );
}

#[test]
fn recorded_catalog_pages_are_where_the_sources_ask() {
    for path in [
        "/tobaccos/brands/darkside",
        "/tobaccos/brands/darkside?page=2",
        "/tobaccos/brands/musthave",
        "/tobaccos/brands/musthave?page=2",
        "/ads/q-rtx-4070/",
        "/ads/q-rtx-4070/?page=2",
        "/ads/q-rtx-4070/?page=3",
    ] {
        let page = pricehound::demo::page(path).unwrap_or_else(|| panic!("{path} is not recorded"));
        assert!(page.content_type.starts_with("text/html"));
    }
    let mut seen = HashSet::new();
    for p in pricehound::demo::pages() {
        assert!(seen.insert(p.path), "{} is recorded twice", p.path);
    }
}
