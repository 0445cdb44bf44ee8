use super::*;

fn amount(text: &str) -> Option<String> {
    parse_amount(text, PriceHints::default()).map(|d| d.to_string())
}
fn price(text: &str) -> (Option<String>, Option<String>) {
    price_with(text, PriceHints::default())
}
fn price_with(text: &str, hints: PriceHints) -> (Option<String>, Option<String>) {
    let p = parse_price(text, hints);
    (
        p.amount.map(|d| d.to_string()),
        p.currency.map(|c| c.to_string()),
    )
}
fn some(amount: &str, currency: &str) -> (Option<String>, Option<String>) {
    (Some(amount.into()), Some(currency.into()))
}
fn bare(amount: &str) -> (Option<String>, Option<String>) {
    (Some(amount.into()), None)
}
fn cur(code: &str) -> Option<Currency> {
    Currency::new(code).ok()
}
fn hint_sep(sep: char) -> PriceHints {
    PriceHints {
        decimal_separator: Some(sep),
        currency: None,
    }
}
fn hint_cur(code: &str) -> PriceHints {
    PriceHints {
        decimal_separator: None,
        currency: cur(code),
    }
}

#[test]
fn local_formats() {
    assert_eq!(price("1 234,56 €"), some("1234.56", "EUR"));
    assert_eq!(price("€1.234,56"), some("1234.56", "EUR"));
    assert_eq!(price("12.500 лв."), some("12500", "BGN"));
    assert_eq!(price("13 500 DA"), some("13500", "DZD"));
    assert_eq!(price("١٣٥٠٠ دج"), some("13500", "DZD"));
    assert_eq!(price("$1,450"), some("1450", "USD"));
    assert_eq!(price("1.450.000 сум"), some("1450000", "UZS"));
    assert_eq!(price("US$ 12.99"), some("12.99", "USD"));
    assert_eq!(price("от 2 990 ₽"), some("2990", "RUB"));
    assert_eq!(price("13\u{a0}500\u{a0}DA"), some("13500", "DZD"));
    assert_eq!(price("1\u{202f}234,5 €"), some("1234.5", "EUR"));
    assert_eq!(price("1\u{2009}234\u{2009}567"), bare("1234567"));
}

#[test]
fn thousands_and_decimal_separators() {
    assert_eq!(amount("1,234.56"), Some("1234.56".into()));
    assert_eq!(amount("1.234.567,89"), Some("1234567.89".into()));
    assert_eq!(amount("1,234,567.89"), Some("1234567.89".into()));
    assert_eq!(price("12,50 €"), some("12.5", "EUR"));
    assert_eq!(amount("12,500"), Some("12500".into()));
    assert_eq!(price("0,99 €"), some("0.99", "EUR"));
    assert_eq!(price("€ 0.99"), some("0.99", "EUR"));
    assert_eq!(amount("0,990"), Some("0.99".into()), "no one groups a zero");
    assert_eq!(amount("1234.567"), Some("1234.567".into()));
    assert_eq!(price("2 990,00 руб."), some("2990", "RUB"));
    assert_eq!(price("1'234.50 CHF"), some("1234.5", "CHF"));
    assert_eq!(price("1’234.50 CHF"), some("1234.5", "CHF"));
    assert_eq!(price("US $1,299.00"), some("1299", "USD"));
    assert_eq!(price("Rs. 1,23,456"), some("123456", "INR"));
    assert_eq!(amount("12,34,56,789"), Some("123456789".into()));
    assert_eq!(price("¥1,280"), some("1280", "JPY"));
    assert_eq!(amount("1 200 000"), Some("1200000".into()));
    assert_eq!(price("EUR 1.234,00"), some("1234", "EUR"));
    assert_eq!(amount("1 234.5"), Some("1234.5".into()));
    assert_eq!(amount("1 234.567"), Some("1234.567".into()), "space groups");
}

#[test]
fn swiss_dash_means_whole_units() {
    assert_eq!(amount("12.-"), Some("12".into()));
    assert_eq!(amount("12,-"), Some("12".into()));
    assert_eq!(amount("12.–"), Some("12".into()));
    assert_eq!(price("1.234,- €"), some("1234", "EUR"));
    assert_eq!(price("CHF 1'234.--"), some("1234", "CHF"));
}

#[test]
fn digit_scripts_and_arabic_marks() {
    assert_eq!(price("١٣٬٥٠٠٫٥٠ د.ج"), some("13500.5", "DZD"));
    assert_eq!(amount("۱۲۳۴"), Some("1234".into()));
    assert_eq!(amount("\u{200f}١٣٥٠٠\u{200f}"), Some("13500".into()));
    assert_eq!(price("１，２８０円"), some("1280", "JPY"));
    assert_eq!(price("₹ १,२३,४५६"), some("123456", "INR"));
}

#[test]
fn ranges_take_the_first_number() {
    assert_eq!(price("12.50 - 15.00 €"), some("12.5", "EUR"));
    assert_eq!(price("12.50–15.00 €"), some("12.5", "EUR"));
    assert_eq!(price("от 2 990 до 3 500 ₽"), some("2990", "RUB"));
    assert_eq!(price("$10 to $20"), some("10", "USD"));
    assert_eq!(price("from 12"), bare("12"));
}

#[test]
fn percentages_are_not_prices() {
    assert_eq!(amount("-20%"), None);
    assert_eq!(amount("Save 20%"), None);
    assert_eq!(amount("Save 20 %"), None);
    assert_eq!(amount("%20 indirim"), None);
    assert_eq!(price("-20% 1 299 ₽"), some("1299", "RUB"));
    assert_eq!(price("Save 20%: now 12.99 €"), some("12.99", "EUR"));
}

#[test]
fn quantities_are_not_prices() {
    assert_eq!(amount("2x 19.99"), Some("19.99".into()));
    assert_eq!(amount("2x19.99"), Some("19.99".into()));
    assert_eq!(amount("2 × 19.99"), Some("19.99".into()));
    assert_eq!(amount("2 x 19.99"), Some("19.99".into()));
    assert_eq!(amount("3 pcs 19.99"), Some("19.99".into()));
    assert_eq!(price("12 шт. по 150 руб"), some("150", "RUB"));
    assert_eq!(amount("2x"), None);
    assert_eq!(amount("2 х 990 ₽"), Some("990".into()), "Cyrillic х");
}

#[test]
fn units_and_suffixes_after_the_price() {
    assert_eq!(price("Цена: 1 200 руб/мес"), some("1200", "RUB"));
    assert_eq!(price("US$12.99/mo"), some("12.99", "USD"));
    assert_eq!(price("4500р/1г"), some("4500", "RUB"));
    assert_eq!(price("Цена 1 200 рублей"), some("1200", "RUB"));
}

#[test]
fn the_number_next_to_a_currency_wins() {
    assert_eq!(price("Было 1 599, стало 1 299 ₽"), some("1299", "RUB"));
    assert_eq!(price("RTX 4070 12GB — 54 990 ₽"), some("54990", "RUB"));
    assert_eq!(price("AMD Ryzen 5 5600X 12 500 ₽"), some("12500", "RUB"));
    assert_eq!(price("Цена на 12.05.2024: 1 200 руб"), some("1200", "RUB"));
    assert_eq!(price("Was $20, now €15"), some("20", "USD"));
    assert_eq!(price("с 10:00, цена 300 грн"), some("300", "UAH"));
}

#[test]
fn dates_times_and_model_numbers_are_not_prices() {
    assert_eq!(amount("12.05.2024"), None);
    assert_eq!(amount("10:30"), None);
    assert_eq!(amount("1/2"), None);
    assert_eq!(amount("RTX4070"), None);
    assert_eq!(amount("128GB"), None);
    assert_eq!(amount("1.2.3"), None);
}

#[test]
fn three_minor_units_break_the_tie() {
    assert_eq!(price("TND 12.500"), some("12.5", "TND"));
    assert_eq!(price("12.500 TND"), some("12.5", "TND"));
    assert_eq!(price("12.500 DT"), some("12.5", "TND"));
    assert_eq!(price("1,250 KWD"), some("1.25", "KWD"));
    assert_eq!(price_with("12.500", hint_cur("TND")), some("12.5", "TND"));
    // Groups of three after more than one separator are still thousands.
    assert_eq!(price("1.250.000 TND"), some("1250000", "TND"));
    assert_eq!(price("12 500 TND"), some("12500", "TND"));
    // The source's separator hint says more than the currency.
    let hints = PriceHints {
        decimal_separator: Some(','),
        currency: cur("TND"),
    };
    assert_eq!(price_with("12.500", hints), some("12500", "TND"));
    // Two-decimal currencies keep the three-digit rule.
    assert_eq!(price("12.500 EUR"), some("12500", "EUR"));
}

#[test]
fn too_many_digits_is_no_price() {
    assert_eq!(amount(&"9".repeat(40)), None, "overflow is no price");
    assert_eq!(amount(&"9".repeat(30)), None);
    assert_eq!(
        amount("79228162514264337593543950335"),
        Some("79228162514264337593543950335".into()),
        "Decimal::MAX still fits"
    );
    assert_eq!(amount("79228162514264337593543950336"), None);
    assert_eq!(amount(&format!("0.{}1", "0".repeat(30))), None);
    assert_eq!(amount(&"1.000".repeat(20)), None);
}

#[test]
fn no_number_is_no_price_never_zero() {
    assert_eq!(amount("Free"), None);
    assert_eq!(amount("—"), None);
    assert_eq!(amount(""), None);
    assert_eq!(amount("цена по запросу"), None);
    assert_eq!(price("Free €"), (None, Some("EUR".into())));
    assert_eq!(amount("0"), Some("0".into()));
}

#[test]
fn decimal_hint_overrides_the_three_digit_rule() {
    let dot = hint_sep('.');
    let comma = hint_sep(',');
    assert_eq!(parse_amount("12.500", dot).unwrap().to_string(), "12.5");
    assert_eq!(parse_amount("1.234", comma).unwrap().to_string(), "1234");
    assert_eq!(parse_amount("1,5", comma).unwrap().to_string(), "1.5");
    assert_eq!(parse_amount("1,500", dot).unwrap().to_string(), "1500");
    // The hint never turns what the digits make certain.
    assert_eq!(parse_amount("12.50", comma).unwrap().to_string(), "12.5");
    assert_eq!(
        parse_amount("1,234.56", comma).unwrap().to_string(),
        "1234.56"
    );
    assert_eq!(
        parse_amount("1.450.000", dot).unwrap().to_string(),
        "1450000"
    );
}

#[test]
fn dollar_prefixes_name_the_country() {
    assert_eq!(find_currency("US$ 5"), cur("USD"));
    assert_eq!(find_currency("C$ 5"), cur("CAD"));
    assert_eq!(find_currency("A$5"), cur("AUD"));
    assert_eq!(find_currency("R$ 5"), cur("BRL"));
    assert_eq!(find_currency("HK$5"), cur("HKD"));
    assert_eq!(find_currency("NZ$5"), cur("NZD"));
    assert_eq!(find_currency("$5"), cur("USD"));
    // A bare $ takes the hint when the hint is a dollar.
    assert_eq!(price_with("$12.99", hint_cur("CAD")), some("12.99", "CAD"));
    assert_eq!(price_with("$12.99", hint_cur("EUR")), some("12.99", "USD"));
    assert_eq!(price_with("¥1,280", hint_cur("CNY")), some("1280", "CNY"));
}

#[test]
fn ambiguous_marks_need_a_hint() {
    assert_eq!(price("100 kr"), bare("100"));
    assert_eq!(price_with("100 kr", hint_cur("SEK")), some("100", "SEK"));
    assert_eq!(price_with("100,- kr", hint_cur("NOK")), some("100", "NOK"));
    // A hint that "kr" cannot mean is not used over the text's own word.
    assert_eq!(price_with("100 kr", hint_cur("EUR")), bare("100"));
    assert_eq!(price("500 dinars"), bare("500"));
    assert_eq!(
        price_with("500 dinars", hint_cur("TND")),
        some("500", "TND")
    );
    assert_eq!(price("100 dh"), some("100", "MAD"));
    assert_eq!(price_with("100 Dhs", hint_cur("AED")), some("100", "AED"));
}

#[test]
fn names_are_whole_words_only() {
    // "da" inside "data" is not dinars, nor "lei" in "Leipzig".
    assert_eq!(find_currency("data 100"), None);
    assert_eq!(find_currency("Leipzig 100"), None);
    assert_eq!(find_currency("100 lei"), cur("RON"));
    assert_eq!(find_currency("100 DA"), cur("DZD"));
    assert_eq!(find_currency("1200DA"), cur("DZD"));
    assert_eq!(find_currency("100 MAD"), cur("MAD"));
    assert_eq!(find_currency("рубашка 100"), None);
    assert_eq!(find_currency("сумка 100"), None);
    // Italian "da" (from) is not Algerian dinars; the euro sign wins.
    assert_eq!(price("da 12 €"), some("12", "EUR"));
    // Capitalised words that are ISO codes only count with the hint.
    assert_eq!(price("TOP 10"), bare("10"));
    assert_eq!(price("AMD Ryzen 5"), bare("5"));
}

#[test]
fn gulf_and_north_african_names() {
    assert_eq!(price("250 aed"), some("250", "AED"));
    assert_eq!(price("250 د.إ"), some("250", "AED"));
    assert_eq!(price("SR 99"), some("99", "SAR"));
    assert_eq!(price("99 ر.س"), some("99", "SAR"));
    assert_eq!(price("99 ريال"), some("99", "SAR"));
    assert_eq!(price("1500 egp"), some("1500", "EGP"));
    assert_eq!(price("1500 ج.م"), some("1500", "EGP"));
    assert_eq!(price("1 500 L.E."), some("1500", "EGP"));
    assert_eq!(price("300 د.م"), some("300", "MAD"));
    assert_eq!(price("45 TL"), some("45", "TRY"));
    assert_eq!(price("1 299 zł"), some("1299", "PLN"));
    assert_eq!(price("1 299 Kč"), some("1299", "CZK"));
}

#[test]
fn currency_falls_back_to_the_hint() {
    assert_eq!(price_with("13 500", hint_cur("DZD")), some("13500", "DZD"));
    assert_eq!(
        price_with("13 500 €", hint_cur("DZD")),
        some("13500", "EUR")
    );
}

#[test]
fn locales() {
    assert_eq!(locale_decimal_separator("de-DE"), Some(','));
    assert_eq!(locale_decimal_separator("de_CH"), Some('.'));
    assert_eq!(locale_decimal_separator("en-IN"), Some('.'));
    assert_eq!(locale_decimal_separator("ar-DZ"), Some(','));
    assert_eq!(locale_decimal_separator("ar-SA"), Some('.'));
    assert_eq!(locale_decimal_separator("es-MX"), Some('.'));
    assert_eq!(locale_decimal_separator("es-ES"), Some(','));
    assert_eq!(locale_decimal_separator("sr-Latn-RS"), Some(','));
    assert_eq!(locale_decimal_separator("xx"), None);
    assert_eq!(locale_decimal_separator(""), None);
    assert_eq!(locale_currency("fr-DZ"), cur("DZD"));
    assert_eq!(locale_currency("de-AT"), cur("EUR"));
    assert_eq!(locale_currency("ru"), None);
    let h = PriceHints::for_locale("bg-BG");
    assert_eq!(price_with("12.500", h), some("12500", "BGN"));
    let h = PriceHints::for_locale("ar-TN");
    assert_eq!(price_with("12,500", h), some("12.5", "TND"));
}

#[test]
fn hostile_input_does_not_panic() {
    for s in [
        "...",
        ",,,",
        "1..2",
        "9".repeat(500).as_str(),
        "1,",
        ".5",
        "\u{0}\u{202e}12",
        "1 2 3 4 5 6 7 8 9 0",
        "1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1",
        "$$$$$$$$$$$$$$$$$$$$$$$$$$$$$$$$$$$$$$$$$$$1",
        "١٫٫٢",
        "0x",
        "\u{200f}",
        "12.-\u{2014}-\u{2013}",
        "1%%",
        "US $",
        "kr.",
    ] {
        let _ = parse_price(s, PriceHints::default());
        let _ = parse_price(s, hint_sep('.'));
        let _ = parse_price(s, hint_cur("TND"));
    }
    assert_eq!(amount(".5"), Some("5".into()));
    assert_eq!(amount("1,"), Some("1".into()));
}

#[test]
fn dual_currency_prices_take_the_first_with_its_own_currency() {
    // Bulgaria's 2026 euro switch shows both; the first price and the
    // currency written next to it belong together.
    let p = parse_price("1 250 лв. / 639,11 €", PriceHints::default());
    assert_eq!(p.amount.unwrap().to_string(), "1250");
    assert_eq!(p.currency.unwrap().code(), "BGN");
    let p = parse_price("639,11 € / 1 250 лв.", PriceHints::default());
    assert_eq!(p.amount.unwrap().to_string(), "639.11");
    assert_eq!(p.currency.unwrap().code(), "EUR");
}

// Prices in shop text (`text`) and plain numbers (`strict_decimal`).

fn pick(text: &str) -> (Option<String>, Option<String>) {
    let p = choose_price_in_text(text, PriceHints::default());
    (
        p.amount.map(|a| a.to_string()),
        p.currency.map(|c| c.to_string()),
    )
}

#[test]
fn text_prices_skip_was_shipping_and_instalments() {
    assert_eq!(
        pick("Was €649.00 Now €599.00"),
        (Some("599".into()), Some("EUR".into()))
    );
    assert_eq!(
        pick("Free shipping over 50 € · 49,90 €"),
        (Some("49.9".into()), Some("EUR".into()))
    );
    assert_eq!(
        pick("4 x 25 € or 99,90 €"),
        (Some("99.9".into()), Some("EUR".into()))
    );
    assert_eq!(pick("from 12 €/month"), (None, None));
    assert_eq!(
        pick("-15% 2 490 ₽"),
        (Some("2490".into()), Some("RUB".into()))
    );
    assert_eq!(
        pick("Free shipping! Now €599.00"),
        (Some("599".into()), Some("EUR".into()))
    );
    assert_eq!(
        pick("Washing machine 399 €"),
        (Some("399".into()), Some("EUR".into()))
    );
    assert_eq!(
        pick("RTX 4070 Super 12GB — €599.00"),
        (Some("599".into()), Some("EUR".into()))
    );
    assert_eq!(pick("١٣٥٠٠ دج"), (Some("13500".into()), Some("DZD".into())));
    assert_eq!(pick("Бесплатная доставка от 3000 ₽"), (None, None));
    assert_eq!(pick("Save €50"), (None, None));
}

#[test]
fn plain_numbers_are_exact_and_bounded() {
    let d = |s: &str| strict_decimal(s).map(|r| r.map(|d| d.to_string()));
    assert_eq!(d("34990.00"), Some(Ok("34990".into())));
    assert_eq!(d("2.65031e3"), Some(Ok("2650.31".into())));
    assert!(matches!(d("-1"), Some(Err(_))));
    assert!(matches!(d("0"), Some(Err(_))));
    assert!(matches!(d("1e400"), Some(Err(_))));
    assert!(matches!(d("9".repeat(60).as_str()), Some(Err(_))));
    assert_eq!(d("1,299.00"), None);
    assert_eq!(d("NaN"), None);
}
