//! Metric charts for opsml, drawn in Rust: no matplotlib, no system fonts, no network.
//!
//! A chart is a grid of [`Panel`]s (one per metric, up to two side by side), each with one
//! [`Series`] per run: a line in its own colour, named in the legend. It renders to PNG bytes
//! ([`render_png`]), to an SVG document ([`render_svg`]), to an inline `<svg>` element for a
//! self-contained HTML report ([`render_svg_fragment`]), or to a file chosen by extension
//! ([`write_chart`]).
//!
//! - Long series are thinned with Largest-Triangle-Three-Buckets ([`lttb`]) to about one point
//!   per horizontal pixel, so a chart of many long runs stays fast and small while spikes stay.
//! - NaN or infinite points are not drawn: the line has a gap there. A point between two gaps
//!   is drawn as a dot.
//! - A panel with nothing to draw shows its title over a framed "no data"; an empty list of
//!   panels is an error ([`PlotError::NoPanels`]).
//! - Text is measured (and, in PNGs, drawn) with Noto Sans Regular compiled into the binary.
//!
//! ```
//! use opsml_plot::{render_svg, suggested_size, Panel, Series};
//!
//! let steps: Vec<f64> = (0..100).map(f64::from).collect();
//! let loss: Vec<f64> = steps.iter().map(|s| 1.0 / (1.0 + s)).collect();
//! let panels = [Panel::new("loss", "step", vec![Series::new("run-1", steps, loss)])];
//! let (width, height) = suggested_size(panels.len());
//! let svg = render_svg(&panels, width, height)?;
//! assert!(svg.contains("run-1"));
//! # Ok::<(), opsml_plot::PlotError>(())
//! ```

mod error;
mod font;
mod lttb;
mod model;
mod png;
mod render;
mod svg;
mod ticks;

use std::path::Path;

pub use crate::error::PlotError;
pub use crate::lttb::lttb;
pub use crate::model::{Panel, Series};
pub use crate::png::render_png;
pub use crate::render::{
    grid, suggested_size, MAX_COLUMNS, MAX_SIDE, MIN_PANEL_HEIGHT, MIN_PANEL_WIDTH,
};
pub use crate::svg::{render_svg, render_svg_fragment};

/// Render the chart and write it to `path`, as PNG or SVG by the (case-insensitive) extension.
///
/// Any other extension, or none, is [`PlotError::UnsupportedFormat`] naming the path; nothing
/// is written then.
pub fn write_chart(
    path: &Path,
    panels: &[Panel],
    width: u32,
    height: u32,
) -> Result<(), PlotError> {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let bytes = match extension.as_deref() {
        Some("png") => render_png(panels, width, height)?,
        Some("svg") => render_svg(panels, width, height)?.into_bytes(),
        _ => {
            return Err(PlotError::UnsupportedFormat {
                path: path.to_path_buf(),
            })
        }
    };
    std::fs::write(path, bytes).map_err(|source| PlotError::Io {
        path: path.to_path_buf(),
        source,
    })
}
