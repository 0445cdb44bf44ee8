//! Drawing: the embedded font, colours and layout, and the chart itself
//! on the canvas.

use std::fmt::Display;
use std::ops::Range;
use std::sync::OnceLock;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::ticks::{TimeUnit, format_amount, format_decimal, money_scale, price_ticks, time_ticks};
use super::window::{Window, step_path};
use super::{ChartError, ChartRequest, HEIGHT, WIDTH};

const FONT_FAMILY: &str = "pricehound-dejavu-sans";
static FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// Registers the embedded font with plotters once per process.
pub(super) fn font_ready() -> Result<(), ChartError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FONT_FAMILY, FontStyle::Normal, FONT_BYTES).is_ok()
    });
    if ok { Ok(()) } else { Err(ChartError::Font) }
}

pub(super) fn font(size: f64) -> FontDesc<'static> {
    (FONT_FAMILY, size).into_font()
}

fn draw_err(e: impl Display) -> ChartError {
    ChartError::Draw(e.to_string())
}

const TEXT: RGBColor = RGBColor(33, 33, 33);
const MUTED: RGBColor = RGBColor(110, 110, 110);
const GRID: RGBColor = RGBColor(228, 228, 228);
const AXIS: RGBColor = RGBColor(160, 160, 160);
pub(super) const LINE: RGBColor = RGBColor(25, 103, 210);
const LOW: RGBColor = RGBColor(46, 125, 50);
const HIGH: RGBColor = RGBColor(198, 40, 40);

pub(super) const TITLE_SIZE: f64 = 20.0;
const LABEL_SIZE: f64 = 13.0;
const TITLE_AREA: u32 = 40;
const MARGIN_LEFT: u32 = 10;
const MARGIN_RIGHT: u32 = 24;
const MARGIN_TOP: u32 = 22;
const MARGIN_BOTTOM: u32 = 6;
const X_LABEL_AREA: u32 = 26;

pub(super) fn draw(req: &ChartRequest, window: &Window, rgb: &mut [u8]) -> Result<(), ChartError> {
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
pub(super) fn fit_text(text: &str, font: &FontDesc, max_width: u32) -> Result<String, ChartError> {
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
