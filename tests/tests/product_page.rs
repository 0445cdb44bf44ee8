//! The product_page source against recorded pages: JSON-LD, microdata and
//! OpenGraph; the page's main product among related ones; the out-of-stock
//! rule; the price selector and the text it reads; hostile input.

use pricehound::demo::page;
use pricehound::domain::Availability;
use pricehound::sources::config::ProductPageConfig;
use pricehound::sources::product_page::extract;
use pricehound::sources::{
    Fetcher, Listing, ScrapeError, SourceKind, SourcesConfig, scrape_source,
};
use pricehound_tests::pages::serve;
use url::Url;

const ALPHA: (&str, &str) = (
    "https://www.kalyan-lab.ru",
    "/shop/kalyany/alpha-hookah-model-x",
);
const TANGIERS: (&str, &str) = (
    "https://www.shisha-depot.de",
    "/shop/product/tangiers-noir-kashmir-peach-250g/",
);
const RTX_AGGREGATE: (&str, &str) = (
    "https://www.cenoteka-pc.pl",
    "/shop/karty-graficzne/msi-geforce-rtx-4070-super-ventus-2x-oc-12g",
);
const AL_FAKHER: (&str, &str) = (
    "https://www.dymka-shop.cz",
    "/shop/tabak/al-fakher-mint-250g",
);
const LEGO: (&str, &str) = (
    "https://www.briques-et-cie.fr",
    "/shop/p/lego-technic-42143-ferrari-daytona-sp3",
);
const MAMAY: (&str, &str) = (
    "https://www.kalyan-lab.ru",
    "/shop/kalyany/mamay-customs-coilover-micro",
);
const PIXEL: (&str, &str) = (
    "https://www.pixelparts.ie",
    "/shop/gpu/asus-dual-rtx-4070-super-evo-oc-12g",
);
const CASIO: (&str, &str) = (
    "https://www.saa3a-dz.com",
    "/shop/montres/casio-mtp-1302d-7a1v",
);

/// A product_page config from a sources.toml snippet; `extra` adds keys.
fn config(url: &str, extra: &str) -> ProductPageConfig {
    let toml = format!(
        r#"
[groups.products]
schedule = "rate(6 hours)"

[[sources]]
id = "product"
name = "A product"
group = "products"
kind = "product_page"
url = "{url}"
{extra}
"#
    );
    let sources = SourcesConfig::from_toml(&toml).unwrap();
    match &sources.sources[0].kind {
        SourceKind::ProductPage(c) => c.clone(),
        other => panic!("not a product page: {}", other.name()),
    }
}

fn body((_, path): (&str, &str)) -> &'static str {
    page(path)
        .unwrap_or_else(|| panic!("no recorded page at {path}"))
        .body
}

fn url((host, path): (&str, &str)) -> Url {
    Url::parse(&format!("{host}{path}")).unwrap()
}

fn read(p: (&str, &str), extra: &str) -> Result<Listing, ScrapeError> {
    let u = url(p);
    extract(body(p), &u, &config(u.as_str(), extra))
}

fn read_html(html: &str, extra: &str) -> Result<Listing, ScrapeError> {
    let u = Url::parse("https://shop.test/shop/p/thing").unwrap();
    extract(html, &u, &config(u.as_str(), extra))
}

fn price(l: &Listing) -> Option<(String, String)> {
    l.price
        .as_ref()
        .map(|m| (m.amount.to_string(), m.currency.to_string()))
}

fn money(amount: &str, currency: &str) -> Option<(String, String)> {
    Some((amount.into(), currency.into()))
}

fn note(l: &Listing) -> &str {
    l.note.as_deref().unwrap_or("")
}

#[test]
fn hookah_shop_json_ld_prefers_in_stock_offers_over_a_cheaper_sold_out_one() {
    let l = read(ALPHA, "").unwrap();
    // Black 34 990 (in stock), Red 36 990 (limited), Gold 31 990 (out of stock).
    assert_eq!(price(&l), money("34990", "RUB"));
    assert_eq!(l.availability, Availability::InStock);
    assert_eq!(l.name, "Кальян Alpha Hookah Model X");
    assert_eq!(
        l.key,
        "https://www.kalyan-lab.ru/shop/kalyany/alpha-hookah-model-x"
    );
    assert_eq!(l.details.brand.as_deref(), Some("Alpha Hookah"));
    assert_eq!(
        l.details.image.as_deref(),
        Some("https://www.kalyan-lab.ru/upload/iblock/4f2/alpha-model-x-black-1200.jpg")
    );
    assert_eq!(
        l.details.url.as_deref(),
        Some("https://www.kalyan-lab.ru/shop/kalyany/alpha-hookah-model-x")
    );
    assert_eq!(l.price_text.as_deref(), Some("34990 RUB"));
    let n = note(&l);
    assert!(n.starts_with("JSON-LD Offer price"), "{n}");
    assert!(n.contains("lowest of 2 in-stock offers in RUB"), "{n}");
    assert!(n.contains("1 offer not in stock ignored"), "{n}");
}

#[test]
fn woocommerce_graph_picks_the_pages_product_and_skips_the_list_price() {
    let l = read(TANGIERS, "").unwrap();
    assert_eq!(price(&l), money("24.9", "EUR"));
    assert_eq!(l.availability, Availability::InStock);
    assert_eq!(l.name, "Tangiers Noir Kashmir Peach 250g");
    // The brand and image are @id references into the graph.
    assert_eq!(l.details.brand.as_deref(), Some("Tangiers"));
    assert_eq!(
        l.details.image.as_deref(),
        Some(
            "https://www.shisha-depot.de/wp-content/uploads/2025/03/tangiers-noir-kashmir-peach-250g.jpg"
        )
    );
    assert_eq!(
        l.key,
        "https://www.shisha-depot.de/shop/product/tangiers-noir-kashmir-peach-250g/"
    );
    let n = note(&l);
    assert!(n.starts_with("JSON-LD Offer priceSpecification"), "{n}");
    assert!(n.contains("ListPrice 29.90"), "{n}");
    // The "frequently bought together" Product comes first on the page.
    assert!(
        n.contains("url matches the page among 2 JSON-LD products"),
        "{n}"
    );
}

#[test]
fn aggregate_offer_gives_its_low_price() {
    let l = read(RTX_AGGREGATE, "").unwrap();
    assert_eq!(price(&l), money("2649", "PLN"));
    assert_eq!(l.availability, Availability::InStock);
    assert_eq!(
        l.name,
        "MSI GeForce RTX 4070 SUPER Ventus 2X OC 12GB GDDR6X"
    );
    assert_eq!(l.details.brand.as_deref(), Some("MSI"));
    // A relative image URL is made absolute against the page.
    assert_eq!(
        l.details.image.as_deref(),
        Some("https://www.cenoteka-pc.pl/p/msi-rtx-4070-super-ventus-2x-oc/1.webp")
    );
    let n = note(&l);
    assert!(n.contains("AggregateOffer lowPrice"), "{n}");
    assert!(
        n.contains("14 offers") && n.contains("highPrice 3199.99 ignored"),
        "{n}"
    );
}

#[test]
fn microdata_page_reads_the_main_product_not_the_similar_ones() {
    let l = read(AL_FAKHER, "").unwrap();
    assert_eq!(price(&l), money("389", "CZK"));
    assert_eq!(l.availability, Availability::InStock);
    assert_eq!(l.name, "Al Fakher Mint 250 g");
    // <a itemprop="brand" href="/al-fakher">Al Fakher</a> is a name, not a link.
    assert_eq!(l.details.brand.as_deref(), Some("Al Fakher"));
    // Resolved against <base href>.
    assert_eq!(
        l.details.image.as_deref(),
        Some(
            "https://www.dymka-shop.cz/image/cache/catalog/tabak/al-fakher/al-fakher-mint-250g-400x400.jpg"
        )
    );
    let n = note(&l);
    assert!(n.starts_with("microdata Offer price"), "{n}");
    assert!(n.contains("2 in related-product blocks ignored"), "{n}");
}

#[test]
fn opengraph_only_page_prefers_the_sale_price() {
    let l = read(LEGO, "").unwrap();
    assert_eq!(price(&l), money("399.99", "EUR"));
    assert_eq!(l.availability, Availability::InStock);
    assert_eq!(l.name, "LEGO® Technic 42143 Ferrari Daytona SP3");
    assert_eq!(l.details.brand.as_deref(), Some("LEGO"));
    assert_eq!(
        l.details.image.as_deref(),
        Some("https://cdn.briques-et-cie.fr/products/42143/42143-main-1200x1200.jpg")
    );
    let n = note(&l);
    assert!(n.contains("OpenGraph product:sale_price:amount"), "{n}");
    assert!(n.contains("regular price 449.99 ignored"), "{n}");
}

#[test]
fn out_of_stock_page_has_no_price_never_a_related_products() {
    let l = read(MAMAY, "").unwrap();
    assert_eq!(l.price, None);
    assert_eq!(l.availability, Availability::OutOfStock);
    assert_eq!(l.name, "Кальян Mamay Customs Coilover Micro");
    assert_eq!(l.details.brand.as_deref(), Some("Mamay Customs"));
    assert!(
        note(&l).contains("out of stock, no price given"),
        "{}",
        note(&l)
    );

    // Without its JSON-LD Product, the carousel's microdata and JSON-LD
    // (all with prices) are still not taken; OpenGraph says out of stock.
    let html = body(MAMAY);
    let start = html.find("<script type=\"application/ld+json\">\n{\n  \"@context\": \"https://schema.org/\",\n  \"@type\": \"Product\"").unwrap();
    let end = start + html[start..].find("</script>").unwrap() + "</script>".len();
    let without_product = format!("{}{}", &html[..start], &html[end..]);
    let u = url(MAMAY);
    let l = extract(&without_product, &u, &config(u.as_str(), "")).unwrap();
    assert_eq!(l.price, None);
    assert_eq!(l.availability, Availability::OutOfStock);
    assert_eq!(l.name, "Кальян Mamay Customs Coilover Micro");

    // And with nothing about the main product's offer at all: still no price.
    let bare = without_product.replace(
        r#"<meta property="product:availability" content="out of stock">"#,
        "",
    );
    let l = extract(&bare, &u, &config(u.as_str(), "")).unwrap();
    assert_eq!(l.price, None, "{l:?}");
    assert_eq!(l.availability, Availability::Unknown);
}

#[test]
fn a_page_with_only_text_prices_needs_a_selector() {
    let err = read(PIXEL, "").unwrap_err().to_string();
    assert!(err.contains("no product data"), "{err}");
    assert!(
        err.contains("JSON-LD") && err.contains("microdata") && err.contains("OpenGraph"),
        "{err}"
    );
    assert!(err.contains("price_selector"), "{err}");

    // A broad selector: the whole info column, with the "Was" price, a
    // free-shipping banner, Klarna instalments and a saving in it.
    let l = read(
        PIXEL,
        "price_selector = \".product-info\"\ncurrency = \"EUR\"\navailability_selector = \".stock\"",
    )
    .unwrap();
    assert_eq!(price(&l), money("599", "EUR"), "{l:?}");
    assert_eq!(l.availability, Availability::InStock);
    assert_eq!(
        l.name,
        "ASUS Dual GeForce RTX 4070 SUPER EVO OC 12GB GDDR6X"
    );
    assert_eq!(
        l.key,
        "https://www.pixelparts.ie/shop/gpu/asus-dual-rtx-4070-super-evo-oc-12g"
    );
    let n = note(&l);
    for ignored in [
        "\"649,00 €\" (struck through)",
        "\"50 €\" (a shipping threshold or cost)",
        "\"4\" (an instalment)",
        "\"149,75 €\" (an instalment)",
        "\"27,50 €\" (an instalment)",
        "\"50,00 €\" (a saving)",
    ] {
        assert!(n.contains(ignored), "{ignored} not in {n}");
    }

    // A tight selector reads the same price.
    let l = read(PIXEL, "price_selector = \".price-now\"").unwrap();
    assert_eq!(price(&l), money("599", "EUR"));
    // The instalment line alone holds no price.
    let l = read(PIXEL, "price_selector = \".instalments\"").unwrap();
    assert_eq!(l.price, None);
    assert!(note(&l).contains("no price in the text"), "{}", note(&l));
    // The banner alone neither.
    let l = read(PIXEL, "price_selector = \".promo-banner\"").unwrap();
    assert_eq!(l.price, None, "{l:?}");
}

#[test]
fn arabic_page_reads_arabic_indic_digits_and_the_dinar_sign() {
    let l = read(CASIO, "").unwrap();
    assert_eq!(price(&l), money("13500", "DZD"));
    assert_eq!(l.availability, Availability::InStock);
    assert_eq!(l.name, "ساعة كاسيو MTP-1302D-7A1V للرجال");
    assert_eq!(l.details.brand.as_deref(), Some("Casio"));
    assert_eq!(
        l.details.image.as_deref(),
        Some("https://www.saa3a-dz.com/uploads/products/casio-mtp-1302d-7a1v-600.jpg")
    );
    // With a selector on the price block, the struck old price is skipped.
    let l = read(CASIO, "price_selector = \".product-price\"").unwrap();
    assert_eq!(price(&l), money("13500", "DZD"));
}

#[test]
fn selectors_override_structured_data() {
    let l = read(
        ALPHA,
        "price_selector = \".product__price .price\"\nname_selector = \"h1.product__title\"",
    )
    .unwrap();
    assert_eq!(price(&l), money("34990", "RUB"));
    assert_eq!(l.availability, Availability::InStock);
    let n = note(&l);
    assert!(
        n.starts_with("price_selector `.product__price .price`"),
        "{n}"
    );
    assert!(n.contains("overrides the JSON-LD Offer price"), "{n}");

    // WooCommerce's sale markup: <del>29,90 €</del>, screen-reader "war" text, <ins>24,90 €</ins>.
    let l = read(TANGIERS, "price_selector = \"p.price\"").unwrap();
    assert_eq!(price(&l), money("24.9", "EUR"));

    // An attribute: the text's currency is missing, the structured data's is used.
    let l = read(ALPHA, "price_selector = \".product__buy@data-offer\"").unwrap();
    assert_eq!(price(&l), money("11873", "RUB"));

    // Availability from a selector, with the configured out-of-stock words.
    let l = read(
        ALPHA,
        "availability_selector = \".offer--disabled .offer__stock\"",
    )
    .unwrap();
    assert_eq!(l.availability, Availability::OutOfStock);
    assert_eq!(price(&l), money("34990", "RUB"));

    // Out of stock by its selector, and the price selector finds nothing: no price, no error.
    let l = read(
        PIXEL,
        "price_selector = \".price-gone\"\navailability_selector = \".sku\"\nout_of_stock_words = [\"part no\"]",
    )
    .unwrap();
    assert_eq!(
        (l.price.clone(), l.availability),
        (None, Availability::OutOfStock)
    );

    // A name selector that matches nothing falls back to the structured name.
    let l = read(ALPHA, "name_selector = \".nope\"").unwrap();
    assert_eq!(l.name, "Кальян Alpha Hookah Model X");
}

#[test]
fn a_price_selector_that_matches_nothing_is_a_layout_error_unless_out_of_stock() {
    let err = read(ALPHA, "price_selector = \".price--gone\"").unwrap_err();
    assert!(matches!(err, ScrapeError::Layout(_)), "{err}");
    assert!(err.to_string().contains(".price--gone"), "{err}");
    let l = read(MAMAY, "price_selector = \".price--current\"").unwrap();
    assert_eq!(l.price, None);
    assert_eq!(l.availability, Availability::OutOfStock);
}

fn ld(json: &str) -> String {
    format!(
        r#"<!doctype html><html><head><title>Thing – Shop</title>
<script type="application/ld+json">{json}</script></head>
<body><h1>Thing</h1></body></html>"#
    )
}

#[test]
fn json_ld_shapes_shops_emit() {
    // @type as an array and as a URL; a top-level array; price as a string with a comma.
    let l = read_html(
        &ld(r#"[{"@type":"Organization","name":"Shop"},{"@type":["Product","Car"],"name":"Thing","offers":{"@type":"http://schema.org/Offer","price":"1,299.00","priceCurrency":"usd","availability":"InStock"}}]"#),
        "",
    )
    .unwrap();
    assert_eq!(price(&l), money("1299", "USD"));
    assert_eq!(l.availability, Availability::InStock);
    // RUR is the old rouble code; BackOrder can be ordered now.
    let l = read_html(
        &ld(r#"{"@type":"Product","name":"Thing","offers":{"@type":"Offer","price":990,"priceCurrency":"RUR","availability":"https://schema.org/BackOrder"}}"#),
        "",
    )
    .unwrap();
    assert_eq!(price(&l), money("990", "RUB"));
    assert_eq!(l.availability, Availability::InStock);
    // Discontinued and SoldOut are out of stock; PreOrder in stock.
    for (word, want) in [
        ("Discontinued", Availability::OutOfStock),
        ("SoldOut", Availability::OutOfStock),
        ("PreOrder", Availability::InStock),
        ("LimitedAvailability", Availability::InStock),
    ] {
        let l = read_html(
            &ld(&format!(r#"{{"@type":"Product","name":"Thing","offers":{{"@type":"Offer","price":5,"priceCurrency":"EUR","availability":"http://schema.org/{word}"}}}}"#)),
            "",
        )
        .unwrap();
        assert_eq!(l.availability, want, "{word}");
    }
    // A JSON number keeps its decimal text exactly.
    let l = read_html(
        &ld(r#"{"@type":"Product","name":"Thing","offers":{"@type":"Offer","price":0.1,"priceCurrency":"EUR"}}"#),
        "",
    )
    .unwrap();
    assert_eq!(price(&l), money("0.1", "EUR"));
    // Offers in two currencies: the configured one wins.
    let two = ld(
        r#"{"@type":"Product","name":"Thing","offers":[{"@type":"Offer","price":10,"priceCurrency":"USD"},{"@type":"Offer","price":9,"priceCurrency":"EUR"}]}"#,
    );
    let l = read_html(&two, "").unwrap();
    assert_eq!(price(&l), money("10", "USD"));
    assert!(
        note(&l).contains("1 offer in other currencies ignored"),
        "{}",
        note(&l)
    );
    let l = read_html(&two, "currency = \"EUR\"").unwrap();
    assert_eq!(price(&l), money("9", "EUR"));
    // No currency anywhere: the configured one.
    let l = read_html(
        &ld(r#"{"@type":"Product","name":"Thing","offers":{"@type":"Offer","price":"12.50"}}"#),
        "currency = \"BGN\"",
    )
    .unwrap();
    assert_eq!(price(&l), money("12.5", "BGN"));
    // Instalment and strikethrough specifications are not the price.
    let l = read_html(
        &ld(r#"{"@type":"Product","name":"Thing","offers":{"@type":"Offer","priceCurrency":"EUR","priceSpecification":[
            {"@type":"UnitPriceSpecification","priceType":"https://schema.org/StrikethroughPrice","price":120},
            {"@type":"UnitPriceSpecification","priceComponentType":"https://schema.org/Installment","billingDuration":4,"price":25},
            {"@type":"DeliveryChargeSpecification","price":4.9},
            {"@type":"UnitPriceSpecification","price":99}]}}"#),
        "",
    )
    .unwrap();
    assert_eq!(price(&l), money("99", "EUR"));
    // A WebPage's mainEntity beats a product listed before it.
    let l = read_html(
        &ld(r##"{"@graph":[{"@type":"Product","name":"Other","offers":{"price":5,"priceCurrency":"EUR"}},{"@type":"WebPage","mainEntity":{"@id":"https://elsewhere.test/x#main"}},{"@type":"Product","@id":"https://elsewhere.test/x#main","name":"Main","offers":{"price":7,"priceCurrency":"EUR"}}]}"##),
        "",
    )
    .unwrap();
    assert_eq!(l.name, "Main");
    assert_eq!(price(&l), money("7", "EUR"));
    // The product named like the <h1> beats the first one.
    let l = read_html(
        &ld(r#"[{"@type":"Product","name":"Other","offers":{"price":5,"priceCurrency":"EUR"}},{"@type":"Product","name":"Thing","offers":{"price":8,"priceCurrency":"EUR"}}]"#),
        "",
    )
    .unwrap();
    assert_eq!(price(&l), money("8", "EUR"));
    assert!(
        note(&l).contains("named like the page's <h1>"),
        "{}",
        note(&l)
    );
    // A ProductGroup's variants.
    let l = read_html(
        &ld(r#"{"@type":"ProductGroup","name":"Thing","hasVariant":[{"@type":"Product","offers":{"price":30,"priceCurrency":"EUR","availability":"OutOfStock"}},{"@type":"Product","offers":{"price":35,"priceCurrency":"EUR","availability":"InStock"}}]}"#),
        "",
    )
    .unwrap();
    assert_eq!(price(&l), money("35", "EUR"));
    assert!(note(&l).contains("variant Offer price"), "{}", note(&l));
}

#[test]
fn a_priceless_in_stock_layer_lets_a_later_one_give_the_price() {
    let html = r#"<html><head>
<meta property="product:price:amount" content="15.00"><meta property="product:price:currency" content="EUR">
<script type="application/ld+json">{"@type":"Product","name":"Thing","offers":{"@type":"Offer","availability":"https://schema.org/InStock"}}</script>
</head><body></body></html>"#;
    let l = read_html(html, "").unwrap();
    assert_eq!(price(&l), money("15", "EUR"));
    assert_eq!(l.availability, Availability::InStock);
    let n = note(&l);
    assert!(n.starts_with("OpenGraph product:price:amount"), "{n}");
    assert!(n.contains("JSON-LD Product: in_stock but no price"), "{n}");
    // Out of stock without a price stops there: the OpenGraph price is not used.
    let l = read_html(&html.replace("InStock", "OutOfStock"), "").unwrap();
    assert_eq!(
        (l.price.clone(), l.availability),
        (None, Availability::OutOfStock)
    );
}

#[test]
fn malformed_blocks_are_skipped_and_the_others_used() {
    let html = r#"<html><head><title>T</title>
<script type="application/ld+json">{"@type":"Product","name":"Broken","offers":{"price":1</script>
<script type="application/ld+json"><!-- {"@type":"Product","name":"Thing","offers":{"@type":"Offer","price":"45.00","priceCurrency":"EUR"}} --></script>
</head><body></body></html>"#;
    let l = read_html(html, "").unwrap();
    assert_eq!(price(&l), money("45", "EUR"));
    assert_eq!(l.name, "Thing");

    let err = read_html(
        r#"<html><head><script type="application/ld+json">{"@type":"Product","name":"Broken","offers":{"price":1</script></head></html>"#,
        "",
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("1 malformed and skipped"), "{err}");
}

#[test]
fn hostile_input_never_panics_and_gives_sensible_results() {
    let product = |price: &str| {
        ld(&format!(
            r#"{{"@type":"Product","name":"Thing","offers":{{"@type":"Offer","price":{price},"priceCurrency":"EUR","availability":"InStock"}}}}"#
        ))
    };
    // Prices that are not prices: no price, never zero or a made-up number.
    for bad in [
        "-1",
        "\"-1\"",
        "\"NaN\"",
        "0",
        "\"0.00\"",
        "null",
        "{}",
        "[1,2]",
        "true",
        "\"1e400\"",
        "\"\"",
    ] {
        let l = read_html(&product(bad), "").unwrap();
        assert_eq!(l.price, None, "price {bad}: {l:?}");
        assert_eq!(l.availability, Availability::InStock, "price {bad}");
    }
    // A number beyond f64: serde_json rejects the block, which is skipped.
    let err = read_html(&product("1e400"), "").unwrap_err().to_string();
    assert!(err.contains("malformed"), "{err}");
    // 10,000 nested arrays: beyond serde_json's depth limit, skipped.
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert!(read_html(&ld(&deep), "").is_err());
    // Nested divs around a product: 1,000 are read; 10,000 are refused
    // before parsing (the HTML tree builder is quadratic in that depth).
    let nested = |depth: usize| {
        format!(
            "<html><body>{}<div itemscope itemtype=\"https://schema.org/Product\"><span itemprop=\"name\">Deep</span><meta itemprop=\"price\" content=\"3\"><meta itemprop=\"priceCurrency\" content=\"EUR\"></div>{}</body></html>",
            "<div>".repeat(depth),
            "</div>".repeat(depth)
        )
    };
    let l = read_html(&nested(400), "").unwrap();
    assert_eq!(price(&l), money("3", "EUR"));
    let l = read_html(
        &nested(400),
        "price_selector = \"meta[itemprop=price]@content\"",
    )
    .unwrap();
    assert_eq!(price(&l), money("3", "EUR"), "{l:?}");
    let l = read_html(&nested(400), "price_selector = \"div\"").unwrap();
    assert_eq!((l.price, l.name.as_str()), (None, "Deep"));
    let err = read_html(&nested(10_000), "").unwrap_err().to_string();
    assert!(err.contains("nests more than"), "{err}");
    // Ten thousand spans left open nest as deep as ten thousand divs:
    // the guard counts every element, so this is refused unparsed too.
    let spans = format!(
        "{}{}",
        "<span>".repeat(10_000),
        ld(r#"{"@type":"Product","name":"Thing","offers":{"price":2,"priceCurrency":"EUR"}}"#)
    );
    let err = read_html(&spans, "").unwrap_err().to_string();
    assert!(err.contains("nests more than"), "{err}");
    // @type numbers, objects, nulls; offers as a string; names as objects.
    let l = read_html(
        &ld(r#"[{"@type":5},{"@type":{"x":1}},{"@type":null},{"@type":["Product",7],"name":{"a":[1]},"offers":"cheap"},{"@type":"Product","name":"Thing","offers":[null,5,"x",{"@type":3,"price":"4.5","priceCurrency":"XYZ"}]}]"#),
        "currency = \"EUR\"",
    )
    .unwrap();
    assert_eq!(price(&l), money("4.5", "EUR"), "{l:?}");
    // A 2 MB script (a product with a huge description), and a 2 MB junk script.
    let big = format!(
        r#"{{"@type":"Product","name":"Thing","description":"{}","offers":{{"price":"19.99","priceCurrency":"EUR"}}}}"#,
        "x".repeat(2 * 1024 * 1024)
    );
    let l = read_html(&ld(&big), "").unwrap();
    assert_eq!(price(&l), money("19.99", "EUR"));
    let junk = format!(
        "<html><head><script>var x = '{}';</script><script type=\"application/ld+json\">{}</script></head></html>",
        "y".repeat(2 * 1024 * 1024),
        "{".repeat(2 * 1024 * 1024)
    );
    assert!(read_html(&junk, "").is_err());
    // Thousands of offers and products.
    let many: Vec<String> = (1..=5000)
        .map(|i| format!(r#"{{"@type":"Offer","price":{i},"priceCurrency":"EUR"}}"#))
        .collect();
    let l = read_html(
        &ld(&format!(
            r#"{{"@type":"Product","name":"Thing","offers":[{}]}}"#,
            many.join(",")
        )),
        "",
    )
    .unwrap();
    assert_eq!(price(&l), money("1", "EUR"));
    // Garbage, empty and binary-ish documents.
    for html in [
        "",
        "<",
        "\u{0}\u{feff}<html>",
        "<script type=\"application/ld+json\">",
        "<meta property=\"product:price:amount\" content=\"-5\">",
    ] {
        let _ = read_html(html, "");
        let _ = read_html(html, "price_selector = \"body\"");
    }
    // A canonical link to the home page is not the product's key.
    let l = read_html(
        &ld(r#"{"@type":"Product","name":"Thing","offers":{"price":1,"priceCurrency":"EUR"}}"#)
            .replace("<title>", "<link rel=\"canonical\" href=\"/\"><title>"),
        "",
    )
    .unwrap();
    assert_eq!(l.key, "https://shop.test/shop/p/thing");
    // Hostile URLs are dropped, not followed.
    let l = read_html(
        &ld(r#"{"@type":"Product","name":"Thing","url":"javascript:alert(1)","image":"data:image/png;base64,AAAA","offers":{"price":1,"priceCurrency":"EUR"}}"#),
        "",
    )
    .unwrap();
    assert_eq!(l.details.image, None);
    assert_eq!(
        l.details.url.as_deref(),
        Some("https://shop.test/shop/p/thing")
    );
}

#[tokio::test]
async fn served_pages_become_observations() {
    let base = serve(pricehound::demo::router()).await;
    let toml = format!(
        r#"
[groups.products]
schedule = "rate(6 hours)"

[[sources]]
id = "kalyan-lab-alpha-model-x"
name = "Kalyan Lab — Alpha Hookah Model X"
group = "products"
kind = "product_page"
url = "{base}shop/kalyany/alpha-hookah-model-x"

[[sources]]
id = "kalyan-lab-mamay-micro"
name = "Kalyan Lab — Mamay Coilover Micro"
group = "products"
kind = "product_page"
url = "{base}shop/kalyany/mamay-customs-coilover-micro"

[[sources]]
id = "pixelparts-rtx-4070-super"
name = "PixelParts — ASUS Dual RTX 4070 SUPER"
group = "products"
kind = "product_page"
url = "{base}shop/gpu/asus-dual-rtx-4070-super-evo-oc-12g"
currency = "EUR"
price_selector = ".product-info"
"#
    );
    let sources = SourcesConfig::from_toml(&toml).unwrap();
    let fetcher = Fetcher::for_tests();

    let out = scrape_source(
        sources.source("kalyan-lab-alpha-model-x").unwrap(),
        &fetcher,
        None,
    )
    .await
    .unwrap();
    assert_eq!(out.observations.len(), 1);
    let o = &out.observations[0];
    assert_eq!(o.price.as_ref().unwrap().to_string(), "34990 RUB");
    assert_eq!(o.item_name, "Кальян Alpha Hookah Model X");
    assert_eq!(o.availability, Availability::InStock);
    // The item is keyed by the canonical URL, not the demo server's.
    assert_eq!(
        o.item_id.as_str(),
        "kalyan-lab-alpha-model-x:www-kalyan-lab-ru-shop-kalyany-alpha-hookah-model-x"
    );
    assert_eq!(out.notes.len(), 1);

    // Out of stock: an observation without a price.
    let out = scrape_source(
        sources.source("kalyan-lab-mamay-micro").unwrap(),
        &fetcher,
        None,
    )
    .await
    .unwrap();
    assert_eq!(out.observations.len(), 1, "{:?}", out.rejected);
    assert_eq!(out.observations[0].price, None);
    assert_eq!(out.observations[0].availability, Availability::OutOfStock);

    let out = scrape_source(
        sources.source("pixelparts-rtx-4070-super").unwrap(),
        &fetcher,
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        out.observations[0].price.as_ref().unwrap().to_string(),
        "599 EUR"
    );
}
