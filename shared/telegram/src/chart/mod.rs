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
//! Text uses DejaVu Sans compiled into the binary (`shared/telegram/assets/fonts/`,
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

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

mod draw;
mod ticks;
mod window;

#[cfg(test)]
mod tests;

use draw::{draw, font_ready};
use window::Window;

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
