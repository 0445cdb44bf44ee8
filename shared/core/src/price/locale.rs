//! Locales: the decimal separator and the currency a locale tag implies.

use crate::domain::Currency;

/// Splits `de-CH`, `fr_DZ`, `sr-Latn-RS` into a lower-case language and an
/// upper-case region (as bytes, to stay allocation-free).
fn split_locale(tag: &str) -> Option<(&str, Option<[u8; 2]>)> {
    let mut parts = tag.trim().split(['-', '_']);
    let lang = parts.next().filter(|l| (2..=3).contains(&l.len()))?;
    let region = parts
        .find(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_alphabetic()))
        .map(|p| {
            let b = p.as_bytes();
            [b[0].to_ascii_uppercase(), b[1].to_ascii_uppercase()]
        });
    Some((lang, region))
}

/// The decimal separator a locale writes prices with, from CLDR's common
/// usage: '.' for English, Chinese, Japanese, Korean, Hindi, Hebrew, Thai,
/// Swiss German and Latin-American Spanish north of Panama; ',' for most of
/// continental Europe, Russian, Turkish, Portuguese and Maghreb Arabic.
pub fn locale_decimal_separator(tag: &str) -> Option<char> {
    let (lang, region) = split_locale(tag)?;
    let lang_is = |l: &str| lang.eq_ignore_ascii_case(l);
    let in_region = |regions: &[[u8; 2]]| region.is_some_and(|r| regions.contains(&r));
    if (lang_is("de") || lang_is("it") || lang_is("rm") || lang_is("gsw"))
        && in_region(&[*b"CH", *b"LI"])
    {
        return Some('.');
    }
    let dot_spanish = [
        *b"MX", *b"US", *b"PR", *b"GT", *b"HN", *b"NI", *b"PA", *b"SV", *b"DO",
    ];
    if lang_is("es") && in_region(&dot_spanish) {
        return Some('.');
    }
    if lang_is("ar") {
        let maghreb = [*b"DZ", *b"MA", *b"TN", *b"LY", *b"EH", *b"MR"];
        return Some(if in_region(&maghreb) { ',' } else { '.' });
    }
    if lang_is("en") && in_region(&[*b"ZA"]) {
        return Some(',');
    }
    const DOT: &[&str] = &[
        "en", "ja", "zh", "ko", "th", "he", "hi", "bn", "ta", "te", "mr", "gu", "ur", "ms", "fil",
        "tl", "ga", "mt", "sw", "my", "km", "ne", "si", "fa",
    ];
    const COMMA: &[&str] = &[
        "de", "fr", "es", "it", "pt", "nl", "ru", "uk", "be", "pl", "cs", "sk", "sl", "hr", "sr",
        "bs", "mk", "bg", "ro", "hu", "el", "tr", "sv", "nb", "nn", "no", "da", "fi", "is", "et",
        "lv", "lt", "az", "kk", "uz", "ky", "ka", "hy", "id", "vi", "ca", "eu", "gl", "sq", "mn",
        "tk", "tg",
    ];
    if DOT.iter().any(|l| lang_is(l)) {
        Some('.')
    } else if COMMA.iter().any(|l| lang_is(l)) {
        Some(',')
    } else {
        None
    }
}

/// The currency of a locale's region (`fr-DZ` → DZD, `de-AT` → EUR).
pub fn locale_currency(tag: &str) -> Option<Currency> {
    let (_, region) = split_locale(tag)?;
    let region = region?;
    const EURO: &[&[u8; 2]] = &[
        b"AT", b"BE", b"CY", b"DE", b"EE", b"ES", b"FI", b"FR", b"GR", b"HR", b"IE", b"IT", b"LT",
        b"LU", b"LV", b"MT", b"NL", b"PT", b"SI", b"SK", b"MC", b"SM", b"VA", b"AD", b"ME", b"XK",
    ];
    const OTHER: &[(&[u8; 2], &str)] = &[
        (b"US", "USD"),
        (b"GB", "GBP"),
        (b"CH", "CHF"),
        (b"LI", "CHF"),
        (b"RU", "RUB"),
        (b"BY", "BYN"),
        (b"UA", "UAH"),
        (b"BG", "BGN"),
        (b"UZ", "UZS"),
        (b"KZ", "KZT"),
        (b"KG", "KGS"),
        (b"PL", "PLN"),
        (b"CZ", "CZK"),
        (b"HU", "HUF"),
        (b"RO", "RON"),
        (b"MD", "MDL"),
        (b"RS", "RSD"),
        (b"SE", "SEK"),
        (b"NO", "NOK"),
        (b"DK", "DKK"),
        (b"IS", "ISK"),
        (b"TR", "TRY"),
        (b"GE", "GEL"),
        (b"AM", "AMD"),
        (b"AZ", "AZN"),
        (b"DZ", "DZD"),
        (b"MA", "MAD"),
        (b"TN", "TND"),
        (b"LY", "LYD"),
        (b"EG", "EGP"),
        (b"SA", "SAR"),
        (b"AE", "AED"),
        (b"QA", "QAR"),
        (b"KW", "KWD"),
        (b"BH", "BHD"),
        (b"OM", "OMR"),
        (b"JO", "JOD"),
        (b"IQ", "IQD"),
        (b"LB", "LBP"),
        (b"IL", "ILS"),
        (b"IN", "INR"),
        (b"PK", "PKR"),
        (b"JP", "JPY"),
        (b"CN", "CNY"),
        (b"KR", "KRW"),
        (b"HK", "HKD"),
        (b"TW", "TWD"),
        (b"SG", "SGD"),
        (b"TH", "THB"),
        (b"VN", "VND"),
        (b"ID", "IDR"),
        (b"MY", "MYR"),
        (b"PH", "PHP"),
        (b"AU", "AUD"),
        (b"NZ", "NZD"),
        (b"CA", "CAD"),
        (b"MX", "MXN"),
        (b"BR", "BRL"),
        (b"AR", "ARS"),
        (b"CL", "CLP"),
        (b"CO", "COP"),
        (b"ZA", "ZAR"),
        (b"NG", "NGN"),
        (b"KE", "KES"),
    ];
    let code = if EURO.contains(&&region) {
        "EUR"
    } else {
        OTHER.iter().find(|(r, _)| **r == region)?.1
    };
    Currency::new(code).ok()
}
