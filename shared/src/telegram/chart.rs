//! Price charts for the bot's `/chart <item> [7d|30d|1y]`: an item's price
//! history drawn as an 800×450 PNG.
//!
//! The shape is a step line: a price holds from one observation until the
//! next, so the line stays flat between them and the last price runs on to
//! the end of the window. A price observed before the window starts is the
//! one in force at its start, so the newest such point opens the line.
//! The lowest and highest prices are marked and labelled with their exact
//! decimal amounts; axis ticks are plain round numbers (y) and whole hours,
//! days or months (x, in UTC).
//!
//! Text uses DejaVu Sans compiled into the binary (`shared/assets/fonts/`,
//! licence beside it), so nothing depends on the fonts a machine has: Latin,
//! Cyrillic and Arabic letters all have glyphs. Glyphs are drawn one by one,
//! left to right, without shaping, so Arabic script shows its letters
//! unjoined and in stored order.
//!
//! Decimals become `f64` only to place things on the canvas. Points are
//! gathered into the plot's pixel columns first: the line steps through each
//! column's last price and a bar spans the column's lowest to highest, which
//! is the same picture as every point drawn, so 10,000 points cost about as
//! much as 700 (2–3 ms a chart, release build).

use std::fmt::Display;
use std::ops::Range;
use std::sync::OnceLock;

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

/// Size of the PNG in pixels.
pub const WIDTH: u32 = 800;
/// Size of the PNG in pixels.
pub const HEIGHT: u32 = 450;

/// One observed price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChartPoint {
    pub at: DateTime<Utc>,
    pub price: Decimal,
}

/// What to draw. `points` need not be sorted; points after `to` are left
/// out, and of those at or before `from` only the newest counts (as the
/// price at `from`).
#[derive(Debug, Clone, Copy)]
pub struct ChartRequest<'a> {
    /// The item's name, shown on top (cut with "…" when too long).
    pub title: &'a str,
    /// Currency code shown over the price axis, e.g. "EUR".
    pub currency: &'a str,
    pub points: &'a [ChartPoint],
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    /// No price in force anywhere in the window.
    #[error("no prices to chart in this window")]
    NoData,
    /// `from` is not before `to`.
    #[error("the chart window is empty: `from` is not before `to`")]
    EmptyWindow,
    #[error("the embedded chart font could not be loaded")]
    Font,
    #[error("drawing the chart: {0}")]
    Draw(String),
    #[error("encoding the chart as PNG: {0}")]
    Encode(#[from] png::EncodingError),
}

/// Draws the chart and returns the PNG file's bytes.
pub fn render_png(req: &ChartRequest) -> Result<Vec<u8>, ChartError> {
    if req.from >= req.to {
        return Err(ChartError::EmptyWindow);
    }
    let window = Window::new(req)?;
    font_ready()?;
    let mut rgb = vec![255u8; (WIDTH * HEIGHT * 3) as usize];
    draw(req, &window, &mut rgb)?;
    encode_png(&rgb)
}

const FONT_FAMILY: &str = "pricehound-dejavu-sans";
static FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// Registers the embedded font with plotters once per process.
fn font_ready() -> Result<(), ChartError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FONT_FAMILY, FontStyle::Normal, FONT_BYTES).is_ok()
    });
    if ok { Ok(()) } else { Err(ChartError::Font) }
}

fn font(size: f64) -> FontDesc<'static> {
    (FONT_FAMILY, size).into_font()
}

fn draw_err(e: impl Display) -> ChartError {
    ChartError::Draw(e.to_string())
}

const TEXT: RGBColor = RGBColor(33, 33, 33);
const MUTED: RGBColor = RGBColor(110, 110, 110);
const GRID: RGBColor = RGBColor(228, 228, 228);
const AXIS: RGBColor = RGBColor(160, 160, 160);
const LINE: RGBColor = RGBColor(25, 103, 210);
const LOW: RGBColor = RGBColor(46, 125, 50);
const HIGH: RGBColor = RGBColor(198, 40, 40);

const TITLE_SIZE: f64 = 20.0;
const LABEL_SIZE: f64 = 13.0;
const TITLE_AREA: u32 = 40;
const MARGIN_LEFT: u32 = 10;
const MARGIN_RIGHT: u32 = 24;
const MARGIN_TOP: u32 = 22;
const MARGIN_BOTTOM: u32 = 6;
const X_LABEL_AREA: u32 = 26;

/// The prices in force during the window, sorted by time, with the lowest
/// and highest found on the exact decimals.
struct Window {
    /// (unix seconds, price), the first at or after `from`.
    points: Vec<(f64, f64)>,
    low: (f64, Decimal),
    high: (f64, Decimal),
    from: f64,
    to: f64,
}

fn secs(at: DateTime<Utc>) -> f64 {
    at.timestamp_millis() as f64 / 1000.0
}

impl Window {
    fn new(req: &ChartRequest) -> Result<Self, ChartError> {
        let mut opening: Option<ChartPoint> = None;
        let mut inside: Vec<ChartPoint> = Vec::with_capacity(req.points.len());
        for p in req.points {
            if p.at <= req.from {
                if opening.is_none_or(|o| p.at >= o.at) {
                    opening = Some(*p);
                }
            } else if p.at <= req.to {
                inside.push(*p);
            }
        }
        if !inside.is_sorted_by_key(|p| p.at) {
            inside.sort_by_key(|p| p.at);
        }
        let opening = opening.map(|o| ChartPoint {
            at: req.from,
            price: o.price,
        });
        let all = || opening.iter().chain(&inside);
        let first = all().next().ok_or(ChartError::NoData)?;
        let (mut low, mut high) = (*first, *first);
        for p in all() {
            if p.price < low.price {
                low = *p;
            }
            if p.price > high.price {
                high = *p;
            }
        }
        let points = all()
            .map(|p| (secs(p.at), p.price.to_f64().unwrap_or(f64::NAN)))
            .filter(|(_, v)| v.is_finite())
            .collect::<Vec<_>>();
        if points.is_empty() {
            return Err(ChartError::NoData);
        }
        Ok(Self {
            points,
            low: (secs(low.at), low.price),
            high: (secs(high.at), high.price),
            from: secs(req.from),
            to: secs(req.to),
        })
    }

    /// Price axis range: the prices with room above and below for the
    /// labels, never below zero for prices that are not.
    fn y_range(&self) -> (f64, f64) {
        let (lo, hi) = self
            .points
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &(_, v)| {
                (lo.min(v), hi.max(v))
            });
        let pad = if hi - lo > hi.abs().max(lo.abs()) * 1e-9 {
            (hi - lo) * 0.15
        } else if hi != 0.0 {
            hi.abs() * 0.05
        } else {
            1.0
        };
        let bottom = if lo >= 0.0 {
            (lo - pad).max(0.0)
        } else {
            lo - pad
        };
        (bottom, hi + pad)
    }

    /// The points gathered into the plot's pixel columns, in time order;
    /// each column placed at its left edge. Drawing columns instead of
    /// points keeps 10,000 points as cheap as 700, and leaves no sub-pixel
    /// segments to smear.
    fn columns(&self, count: usize) -> Vec<Column> {
        let count = count.max(1);
        let span = self.to - self.from;
        let index = |t: f64| ((((t - self.from) / span) * count as f64) as usize).min(count - 1);
        let mut out: Vec<Column> = Vec::with_capacity(self.points.len().min(count));
        for &(t, v) in &self.points {
            let c = index(t);
            match out.last_mut() {
                Some(column) if column.index == c => {
                    column.low = column.low.min(v);
                    column.high = column.high.max(v);
                    column.last = v;
                }
                _ => out.push(Column {
                    index: c,
                    x: self.from + span * c as f64 / count as f64,
                    first: v,
                    low: v,
                    high: v,
                    last: v,
                }),
            }
        }
        out
    }
}

/// The prices observed within one pixel column of the plot.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Column {
    index: usize,
    /// Time at the column's left edge.
    x: f64,
    first: f64,
    low: f64,
    high: f64,
    last: f64,
}

/// The step line's vertices: each column's last price held until the next
/// column, the last one until `to`. Segments only go right, up or down, never
/// back on themselves (which wide lines draw badly); the range within a
/// column is drawn as a bar of its own.
fn step_path(columns: &[Column], to: f64) -> Vec<(f64, f64)> {
    let mut path = Vec::with_capacity(columns.len() * 2 + 1);
    if let Some(first) = columns.first() {
        path.push((first.x, first.first));
    }
    for (i, column) in columns.iter().enumerate() {
        path.push((column.x, column.last));
        let until = columns.get(i + 1).map_or(to, |next| next.x);
        path.push((until, column.last));
    }
    path.dedup();
    path
}

fn draw(req: &ChartRequest, window: &Window, rgb: &mut [u8]) -> Result<(), ChartError> {
    let (y_lo, y_hi) = window.y_range();
    let (y_ticks, decimals) = price_ticks(y_lo, y_hi);
    let y_label = |v: &f64| format_amount(*v, decimals);
    let label_font = font(LABEL_SIZE);
    let mut y_label_width = 0;
    for v in &y_ticks {
        y_label_width = y_label_width.max(label_font.box_size(&y_label(v)).map_err(draw_err)?.0);
    }
    let y_label_area = y_label_width + 14;

    let (x_ticks, unit) = time_ticks(window.from, window.to);
    let x_label = |t: &f64| unit.format(*t);

    let root = BitMapBackend::with_buffer(rgb, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE).map_err(draw_err)?;

    let title_font = font(TITLE_SIZE);
    let title = fit_text(req.title, &title_font, WIDTH - 2 * 16)?;
    root.draw(&Text::new(
        title,
        (16, 12),
        title_font.color(&TEXT).pos(Pos::new(HPos::Left, VPos::Top)),
    ))
    .map_err(draw_err)?;

    let (_, body) = root.split_vertically(TITLE_AREA);
    let mut chart = ChartBuilder::on(&body)
        .margin_left(MARGIN_LEFT)
        .margin_right(MARGIN_RIGHT)
        .margin_top(MARGIN_TOP)
        .margin_bottom(MARGIN_BOTTOM)
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size(y_label_area)
        .build_cartesian_2d(
            Axis {
                range: window.from..window.to,
                ticks: x_ticks,
            },
            Axis {
                range: y_lo..y_hi,
                ticks: y_ticks,
            },
        )
        .map_err(draw_err)?;
    chart
        .configure_mesh()
        .bold_line_style(GRID)
        .axis_style(AXIS)
        .label_style(label_font.color(&MUTED))
        .x_label_formatter(&x_label)
        .y_label_formatter(&y_label)
        .draw()
        .map_err(draw_err)?;

    let (plot_x, plot_y) = chart.plotting_area().get_pixel_range();
    let small = label_font.color(&MUTED);
    let currency = fit_text(req.currency, &label_font, y_label_area + MARGIN_LEFT)?;
    root.draw(&Text::new(
        currency,
        (plot_x.start - 6, plot_y.start - 6),
        small.pos(Pos::new(HPos::Right, VPos::Bottom)),
    ))
    .map_err(draw_err)?;
    if matches!(unit, TimeUnit::Hours(_)) {
        root.draw(&Text::new(
            "UTC",
            (plot_x.end, plot_y.start - 6),
            small.pos(Pos::new(HPos::Right, VPos::Bottom)),
        ))
        .map_err(draw_err)?;
    }

    let columns = window.columns(plot_x.len());
    let path = step_path(&columns, window.to);
    let mut area = path.clone();
    area.push((window.to, y_lo));
    area.push((columns[0].x, y_lo));
    chart
        .draw_series(std::iter::once(Polygon::new(area, LINE.mix(0.12).filled())))
        .map_err(draw_err)?;
    chart
        .draw_series(LineSeries::new(path, LINE.stroke_width(2)))
        .map_err(draw_err)?;
    // Where a column saw prices the line does not pass through.
    for column in columns.iter().filter(|c| c.low < c.high) {
        let (px, top) = chart.backend_coord(&(column.x, column.high));
        let (_, bottom) = chart.backend_coord(&(column.x, column.low));
        root.draw(&Rectangle::new(
            [(px - 1, top), (px, bottom)],
            LINE.filled(),
        ))
        .map_err(draw_err)?;
    }

    let marks: &[(&str, (f64, Decimal), RGBColor, bool)] = if window.low.1 == window.high.1 {
        &[("", window.high, TEXT, true)]
    } else {
        &[
            ("max ", window.high, HIGH, true),
            ("min ", window.low, LOW, false),
        ]
    };
    let scale = money_scale(&[window.low.1, window.high.1]);
    for &(word, (t, price), color, above) in marks {
        let y = price.to_f64().unwrap_or(y_lo);
        let (px, py) = chart.backend_coord(&(t, y));
        root.draw(&Circle::new((px, py), 4, color.filled()))
            .map_err(draw_err)?;
        let text = format!("{word}{}", format_decimal(price, scale));
        let style = font(LABEL_SIZE + 1.0).color(&color);
        let (w, _) = style.font.box_size(&text).map_err(draw_err)?;
        let half = w as i32 / 2;
        let cx = px.clamp(
            plot_x.start + half + 2,
            (plot_x.end - half - 2).max(plot_x.start + half + 2),
        );
        // Above the max and below the min, unless that leaves the plot.
        let room = 10 + LABEL_SIZE as i32 + 2;
        let above = if above {
            py - room >= plot_y.start
        } else {
            py + room > plot_y.end
        };
        let (cy, v) = if above {
            (py - 8, VPos::Bottom)
        } else {
            (py + 8, VPos::Top)
        };
        root.draw(&Text::new(
            text,
            (cx, cy),
            style.pos(Pos::new(HPos::Center, v)),
        ))
        .map_err(draw_err)?;
    }

    root.present().map_err(draw_err)?;
    Ok(())
}

/// A linear `f64` axis with the ticks we chose. (Plotters' own `f64` axis
/// with `with_key_points` takes no label formatter.)
struct Axis {
    range: Range<f64>,
    ticks: Vec<f64>,
}

impl Ranged for Axis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let share = (value - self.range.start) / (self.range.end - self.range.start);
        let share = if share.is_finite() { share } else { 0.5 };
        limit.0 + ((limit.1 - limit.0) as f64 * share).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        // Grid lines at the ticks only, none in between.
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.range.clone()
    }
}

/// `text` on one line, as is if it fits in `max_width` pixels, else cut and
/// ended with "…".
fn fit_text(text: &str, font: &FontDesc, max_width: u32) -> Result<String, ChartError> {
    let fits = |s: &str| -> Result<bool, ChartError> {
        Ok(font.box_size(s).map_err(draw_err)?.0 <= max_width)
    };
    // No glyph is narrower than a few pixels: longer never fits.
    let most = max_width as usize / 3;
    let mut chars: Vec<char> = Vec::with_capacity(most + 1);
    for word in text.split_whitespace() {
        if !chars.is_empty() {
            chars.push(' ');
        }
        chars.extend(word.chars().filter(|c| !c.is_control()));
        if chars.len() > most {
            break;
        }
    }
    let whole: String = chars.iter().collect();
    if chars.len() <= most && fits(&whole)? {
        return Ok(whole);
    }
    chars.truncate(most);
    loop {
        let candidate = format!("{}…", chars.iter().collect::<String>().trim_end());
        if chars.is_empty() || fits(&candidate)? {
            return Ok(candidate);
        }
        chars.pop();
    }
}

/// Round price ticks (1, 2 or 5 × 10ⁿ apart) within the range, and how many
/// decimals their labels need.
fn price_ticks(lo: f64, hi: f64) -> (Vec<f64>, usize) {
    let step = nice_step((hi - lo) / 5.0);
    let decimals = if step >= 1.0 {
        0
    } else {
        // 0.5 apart reads as money with two decimals ("12.50"), not one.
        ((-step.log10()).ceil() as usize).clamp(2, 8)
    };
    let mut ticks = Vec::new();
    let mut k = (lo / step).ceil();
    while k * step <= hi + step * 1e-9 && ticks.len() < 20 {
        let v = k * step;
        ticks.push(if v.abs() < step * 1e-6 { 0.0 } else { v });
        k += 1.0;
    }
    (ticks, decimals)
}

fn nice_step(rough: f64) -> f64 {
    if !(rough.is_finite() && rough > 0.0) {
        return 1.0;
    }
    let magnitude = 10f64.powf(rough.log10().floor());
    let f = rough / magnitude;
    let nice = if f < 1.5 {
        1.0
    } else if f < 3.0 {
        2.0
    } else if f < 7.0 {
        5.0
    } else {
        10.0
    };
    nice * magnitude
}

/// How the time axis is ticked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TimeUnit {
    Hours(i64),
    Days(i64),
    Months(i32),
}

impl TimeUnit {
    fn format(self, t: f64) -> String {
        let Some(at) = DateTime::<Utc>::from_timestamp(t.round() as i64, 0) else {
            return String::new();
        };
        match self {
            TimeUnit::Hours(_) if at.hour() == 0 && at.minute() == 0 => {
                at.format("%d.%m").to_string()
            }
            TimeUnit::Hours(_) => at.format("%H:%M").to_string(),
            TimeUnit::Days(_) => at.format("%d.%m").to_string(),
            TimeUnit::Months(_) => at.format("%m.%Y").to_string(),
        }
    }
}

const MAX_X_TICKS: f64 = 8.0;

/// Whole hours for windows up to two days, whole days (Mondays for weekly
/// ticks) up to four months, first days of months beyond; at most eight.
fn time_ticks(from: f64, to: f64) -> (Vec<f64>, TimeUnit) {
    let span = to - from;
    let hour = 3600.0;
    let day = 24.0 * hour;
    let every = |step: f64, offset: f64| -> Vec<f64> {
        let mut k = ((from - offset) / step).ceil();
        let mut out = Vec::new();
        while offset + k * step <= to && out.len() < 64 {
            out.push(offset + k * step);
            k += 1.0;
        }
        out
    };
    if span <= 2.0 * day {
        let h = [1, 2, 3, 6, 12]
            .into_iter()
            .find(|&h| span / (h as f64 * hour) <= MAX_X_TICKS)
            .unwrap_or(12);
        return (every(h as f64 * hour, 0.0), TimeUnit::Hours(h));
    }
    if span <= 120.0 * day {
        let d = [1, 2, 3, 7, 14]
            .into_iter()
            .find(|&d| span / (d as f64 * day) <= MAX_X_TICKS)
            .unwrap_or(14);
        // 1970-01-05 was a Monday.
        let offset = if d % 7 == 0 { 4.0 * day } else { 0.0 };
        return (every(d as f64 * day, offset), TimeUnit::Days(d));
    }
    let months = span / (30.44 * day);
    let m = [1, 2, 3, 6, 12]
        .into_iter()
        .find(|&m| months / m as f64 <= MAX_X_TICKS)
        .unwrap_or_else(|| 12 * (months / (12.0 * MAX_X_TICKS)).ceil() as i32);
    let Some(start) = DateTime::<Utc>::from_timestamp(from.floor() as i64, 0) else {
        return (Vec::new(), TimeUnit::Months(m));
    };
    let mut index = start.year() * 12 + start.month0() as i32;
    index += (m - index.rem_euclid(m)) % m;
    let mut ticks = Vec::new();
    while ticks.len() < 64 {
        let Some(first) =
            NaiveDate::from_ymd_opt(index.div_euclid(12), index.rem_euclid(12) as u32 + 1, 1)
        else {
            break;
        };
        let t = first
            .and_hms_opt(0, 0, 0)
            .map_or(f64::INFINITY, |d| d.and_utc().timestamp() as f64);
        if t > to {
            break;
        }
        if t >= from {
            ticks.push(t);
        }
        index += m;
    }
    (ticks, TimeUnit::Months(m))
}

/// An axis amount: fixed decimals, thousands grouped with spaces.
fn format_amount(v: f64, decimals: usize) -> String {
    group_thousands(&format!("{v:.decimals$}"))
}

/// How many decimals the exact prices need together: none when all are
/// whole amounts, else at least two ("12.50", "0.0049") and at most eight.
fn money_scale(prices: &[Decimal]) -> u32 {
    match prices.iter().map(|p| p.normalize().scale()).max() {
        Some(1) => 2,
        Some(scale) => scale.min(8),
        None => 0,
    }
}

/// An exact price with `scale` decimals, thousands grouped with spaces.
fn format_decimal(price: Decimal, scale: u32) -> String {
    let mut p = price.round_dp(scale);
    p.rescale(scale);
    group_thousands(&p.to_string())
}

fn group_thousands(number: &str) -> String {
    let (sign, rest) = match number.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", number),
    };
    let (int, frac) = match rest.find('.') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let mut out = String::with_capacity(number.len() + int.len() / 3);
    out.push_str(sign);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out.push_str(frac);
    out
}

fn encode_png(rgb: &[u8]) -> Result<Vec<u8>, ChartError> {
    let mut out = Vec::with_capacity(64 * 1024);
    let mut encoder = png::Encoder::new(&mut out, WIDTH, HEIGHT);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(rgb)?;
    writer.finish()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};
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
}
