use super::draw::{LINE, TITLE_SIZE, fit_text, font, font_ready};
use super::ticks::{TimeUnit, format_amount, format_decimal, money_scale, price_ticks, time_ticks};
use super::window::{Window, secs, step_path};
use super::*;
use chrono::{Duration, TimeZone};
use rust_decimal::prelude::ToPrimitive;
use std::str::FromStr;

fn at(days: i64, hours: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 0, 0, 0).unwrap()
        + Duration::days(days)
        + Duration::hours(hours)
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn request<'a>(title: &'a str, points: &'a [ChartPoint]) -> ChartRequest<'a> {
    ChartRequest {
        title,
        currency: "EUR",
        points,
        from: at(0, 0),
        to: at(30, 0),
    }
}

/// Decodes the PNG and returns its size and RGB pixels.
fn decode(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb);
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

fn month_of_points(n: usize) -> Vec<ChartPoint> {
    let span = Duration::days(30).num_seconds();
    (0..n)
        .map(|i| ChartPoint {
            at: at(0, 0) + Duration::seconds(span * i as i64 / n as i64),
            price: Decimal::new(120_000 + ((i * 7919) % 5000) as i64, 2),
        })
        .collect()
}

#[test]
fn renders_a_png_of_the_expected_size() {
    let points = [
        ChartPoint {
            at: at(1, 0),
            price: dec("1299.00"),
        },
        ChartPoint {
            at: at(8, 5),
            price: dec("1249.90"),
        },
        ChartPoint {
            at: at(15, 12),
            price: dec("1349"),
        },
        ChartPoint {
            at: at(22, 0),
            price: dec("1199.5"),
        },
    ];
    let png = render_png(&request("RTX 4070 12GB", &points)).unwrap();
    assert!(png.starts_with(&[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a]));
    let (w, h, pixels) = decode(&png);
    assert_eq!((w, h), (WIDTH, HEIGHT));
    // White background, and the line's colour somewhere.
    assert_eq!(&pixels[..3], &[255, 255, 255]);
    assert!(pixels.chunks(3).any(|p| p == [LINE.0, LINE.1, LINE.2]));
}

#[test]
fn a_single_point_is_a_flat_line() {
    let points = [ChartPoint {
        at: at(3, 0),
        price: dec("13500"),
    }];
    let (w, h, pixels) = decode(&render_png(&request("Or 18K", &points)).unwrap());
    assert_eq!((w, h), (WIDTH, HEIGHT));
    assert!(pixels.chunks(3).any(|p| p == [LINE.0, LINE.1, LINE.2]));
    // A zero price is also one point.
    let zero = [ChartPoint {
        at: at(3, 0),
        price: Decimal::ZERO,
    }];
    render_png(&request("Free", &zero)).unwrap();
}

#[test]
fn no_points_is_no_data() {
    assert!(matches!(
        render_png(&request("x", &[])),
        Err(ChartError::NoData)
    ));
    // Only points after the window: nothing in force either.
    let later = [ChartPoint {
        at: at(31, 0),
        price: dec("1"),
    }];
    assert!(matches!(
        render_png(&request("x", &later)),
        Err(ChartError::NoData)
    ));
    let mut empty = request("x", &later);
    empty.to = empty.from;
    assert!(matches!(render_png(&empty), Err(ChartError::EmptyWindow)));
}

#[test]
fn a_price_from_before_the_window_opens_it() {
    let points = [
        ChartPoint {
            at: at(-40, 0),
            price: dec("5"),
        },
        ChartPoint {
            at: at(-10, 0),
            price: dec("7"),
        },
        ChartPoint {
            at: at(-20, 0),
            price: dec("6"),
        },
    ];
    let window = Window::new(&request("x", &points)).unwrap();
    assert_eq!(window.points, vec![(secs(at(0, 0)), 7.0)]);
    render_png(&request("x", &points)).unwrap();
}

#[test]
fn ten_thousand_points_render_and_are_thinned() {
    let points = month_of_points(10_000);
    let window = Window::new(&request("x", &points)).unwrap();
    let columns = window.columns(700);
    assert!(columns.len() <= 700, "{}", columns.len());
    assert!(columns.is_sorted_by(|a, b| a.x < b.x));
    let lowest = columns.iter().map(|c| c.low).fold(f64::INFINITY, f64::min);
    let highest = columns
        .iter()
        .map(|c| c.high)
        .fold(f64::NEG_INFINITY, f64::max);
    let (low, high) = (
        window.low.1.to_f64().unwrap(),
        window.high.1.to_f64().unwrap(),
    );
    assert_eq!((lowest, highest), (low, high));
    assert_eq!(
        columns.last().unwrap().last,
        window.points.last().unwrap().1
    );
    let path = step_path(&columns, window.to);
    assert!(path.len() <= 2 * 700 + 1);
    assert_eq!(path.last().unwrap().0, window.to);
    let started = std::time::Instant::now();
    let png = render_png(&request("Many", &points)).unwrap();
    assert_eq!(decode(&png).0, WIDTH);
    // Generous for a debug build on a busy machine; release is ~100× less.
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

#[test]
fn unsorted_points_are_sorted() {
    let mut points = month_of_points(50);
    points.reverse();
    let window = Window::new(&request("x", &points)).unwrap();
    assert!(window.points.is_sorted_by(|a, b| a.0 <= b.0));
}

#[test]
fn arabic_cyrillic_and_long_titles_render() {
    let points = month_of_points(30);
    for title in [
        "ذهب عيار 18 — سعر الغرام",
        "Видеокарта RTX 4070 12 ГБ",
        &"Очень длинное название товара ".repeat(20),
        "",
    ] {
        let mut req = request(title, &points);
        req.currency = "DZD";
        let (w, h, _) = decode(&render_png(&req).unwrap());
        assert_eq!((w, h), (WIDTH, HEIGHT));
    }
}

#[test]
fn long_titles_are_cut_to_fit() {
    font_ready().unwrap();
    let f = font(TITLE_SIZE);
    let long = "Очень длинное название ".repeat(30);
    let cut = fit_text(&long, &f, 500).unwrap();
    assert!(cut.ends_with('…'));
    assert!(f.box_size(&cut).unwrap().0 <= 500);
    assert_eq!(fit_text(" short ", &f, 500).unwrap(), "short");
    assert_eq!(
        fit_text("two\nlines\t here", &f, 500).unwrap(),
        "two lines here"
    );
    assert_eq!(
        fit_text(&"x".repeat(100_000), &f, 500)
            .unwrap()
            .chars()
            .last(),
        Some('…')
    );
}

#[test]
fn amounts_are_formatted_for_people() {
    let fmt = |p: &str| format_decimal(dec(p), money_scale(&[dec(p)]));
    assert_eq!(fmt("1249.90"), "1 249.90");
    assert_eq!(fmt("1249.9"), "1 249.90");
    assert_eq!(fmt("13500.00"), "13 500");
    assert_eq!(fmt("0.0049"), "0.0049");
    assert_eq!(fmt("1234567.5"), "1 234 567.50");
    assert_eq!(fmt("1"), "1");
    let third = Decimal::ONE / Decimal::from(3);
    assert_eq!(format_decimal(third, money_scale(&[third])), "0.33333333");
    // Shown together, both get the decimals either needs.
    let scale = money_scale(&[dec("1349"), dec("1199.5")]);
    assert_eq!(format_decimal(dec("1349"), scale), "1 349.00");
    assert_eq!(format_decimal(dec("1199.5"), scale), "1 199.50");
    assert_eq!(format_amount(12000.0, 0), "12 000");
    assert_eq!(format_amount(-1500.5, 2), "-1 500.50");
    assert_eq!(format_amount(999.0, 0), "999");
    let (ticks, decimals) = price_ticks(11.8, 13.1);
    assert_eq!(decimals, 2);
    assert_eq!(
        ticks
            .iter()
            .map(|v| format_amount(*v, decimals))
            .collect::<Vec<_>>(),
        [
            "11.80", "12.00", "12.20", "12.40", "12.60", "12.80", "13.00"
        ]
    );
    let (ticks, decimals) = price_ticks(12_000.0, 15_000.0);
    assert_eq!(decimals, 0);
    assert_eq!(ticks.first(), Some(&12_000.0));
}

#[test]
fn time_ticks_suit_the_window() {
    let (from, to) = (secs(at(0, 0)), secs(at(1, 0)));
    let (ticks, unit) = time_ticks(from, to);
    assert_eq!(unit, TimeUnit::Hours(3));
    assert_eq!(unit.format(ticks[0]), "01.03");
    assert_eq!(unit.format(ticks[1]), "03:00");

    let (ticks, unit) = time_ticks(secs(at(0, 5)), secs(at(7, 5)));
    assert_eq!(unit, TimeUnit::Days(1));
    assert_eq!(unit.format(ticks[0]), "02.03");

    let (ticks, unit) = time_ticks(secs(at(0, 0)), secs(at(30, 0)));
    assert_eq!(unit, TimeUnit::Days(7));
    // Mondays: 3 March 2025 was one.
    assert_eq!(unit.format(ticks[0]), "03.03");

    let (ticks, unit) = time_ticks(secs(at(0, 5)), secs(at(365, 5)));
    assert_eq!(unit, TimeUnit::Months(2));
    assert_eq!(unit.format(ticks[0]), "05.2025");
    assert!(ticks.len() <= 8);
}
