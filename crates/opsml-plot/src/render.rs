//! Drawing panels onto any plotters backend: the grid, one chart per panel, lines and legend.
//!
//! The SVG and PNG modules only pick a backend; everything that decides what a chart looks like
//! is here, so both formats show the same picture.

use std::ops::Range;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::error::PlotError;
use crate::font::{self, FAMILY};
use crate::lttb::lttb;
use crate::model::{Panel, Series};
use crate::ticks::TickFormat;

/// The largest width or height accepted, in pixels.
pub const MAX_SIDE: u32 = 8_192;
/// The smallest width of one panel's cell in the grid, in pixels.
pub const MIN_PANEL_WIDTH: u32 = 160;
/// The smallest height of one panel's cell in the grid, in pixels.
pub const MIN_PANEL_HEIGHT: u32 = 120;
/// At most this many panels side by side.
pub const MAX_COLUMNS: usize = 2;

/// Distinct line colours (matplotlib's "tab10"), reused in order when a panel has more series.
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];
/// A point in data coordinates: (step, value).
type Point = (f64, f64);

const TEXT: RGBColor = RGBColor(33, 33, 33);
const GRID: RGBColor = RGBColor(232, 232, 232);
const FRAME: RGBColor = RGBColor(190, 190, 190);
/// Labels per axis; also what the tick label precision is computed for.
const TICKS: usize = 6;

/// How a backend gets lines wider than one pixel drawn correctly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lines {
    /// One path per gap-free run; the backend joins segments itself (SVG `<polyline>`).
    Paths,
    /// One two-point path per segment. plotters turns a thick path into a polygon whose joins
    /// overshoot at sharp turns, far outside the chart for noisy data (plotters issue #549);
    /// a two-point path has no joins. Used for the bitmap backend.
    Segments,
}

/// `(rows, columns)` of the grid for `panels` panels: up to [`MAX_COLUMNS`] side by side.
pub fn grid(panels: usize) -> (usize, usize) {
    let cols = panels.clamp(1, MAX_COLUMNS);
    (panels.div_ceil(cols).max(1), cols)
}

/// A size that gives every panel a comfortable 600×360 pixel cell.
pub fn suggested_size(panels: usize) -> (u32, u32) {
    let (rows, cols) = grid(panels);
    let (w, h) = (600 * cols as u32, 360 * rows as u32);
    (w.min(MAX_SIDE), h.min(MAX_SIDE))
}

/// Reject what cannot be drawn before any backend is created.
pub(crate) fn check(panels: &[Panel], width: u32, height: u32) -> Result<(), PlotError> {
    if panels.is_empty() {
        return Err(PlotError::NoPanels);
    }
    let invalid = |reason| PlotError::InvalidSize {
        width,
        height,
        reason,
    };
    if width > MAX_SIDE || height > MAX_SIDE {
        return Err(invalid("each side must be at most 8192 pixels"));
    }
    let (rows, cols) = grid(panels.len());
    if width / (cols as u32) < MIN_PANEL_WIDTH || height / (rows as u32) < MIN_PANEL_HEIGHT {
        return Err(invalid(
            "each panel needs at least 160x120 pixels; see suggested_size",
        ));
    }
    panels.iter().try_for_each(Panel::validate)
}

/// Draw every panel into its grid cell on a white background.
pub(crate) fn draw_panels<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    panels: &[Panel],
    mode: Lines,
) -> Result<(), PlotError> {
    font::ensure_registered()?;
    root.fill(&WHITE)?;
    let cells = root.split_evenly(grid(panels.len()));
    for (cell, panel) in cells.iter().zip(panels) {
        draw_panel(cell, panel, mode)?;
    }
    root.present()?;
    Ok(())
}

fn draw_panel<DB: DrawingBackend>(
    cell: &DrawingArea<DB, Shift>,
    panel: &Panel,
    mode: Lines,
) -> Result<(), PlotError> {
    let Some(bounds) = panel.bounds() else {
        return draw_no_data(cell, panel);
    };
    let (x_range, y_range) = (axis_range(bounds.x, 0.0), axis_range(bounds.y, 0.05));
    let (x_ticks, y_ticks) = (
        TickFormat::for_axis(&x_range, TICKS),
        TickFormat::for_axis(&y_range, TICKS),
    );
    let x_label = |v: &f64| x_ticks.label(*v);
    let y_label = |v: &f64| y_ticks.label(*v);
    let mut chart = ChartBuilder::on(cell)
        .caption(&panel.title, (FAMILY, 20).with_color(TEXT))
        .margin(10)
        .x_label_area_size(if panel.x_label.is_empty() { 26 } else { 46 })
        .y_label_area_size(64)
        .build_cartesian_2d(x_range, y_range)?;

    let mut mesh = chart.configure_mesh();
    mesh.x_labels(TICKS)
        .y_labels(TICKS)
        .x_label_formatter(&x_label)
        .y_label_formatter(&y_label)
        .max_light_lines(1)
        .light_line_style(GRID)
        .bold_line_style(GRID)
        .axis_style(FRAME)
        .label_style((FAMILY, 13).with_color(TEXT));
    if !panel.x_label.is_empty() {
        mesh.x_desc(&panel.x_label)
            .axis_desc_style((FAMILY, 14).with_color(TEXT));
    }
    mesh.draw()?;

    // About one kept point per horizontal pixel and series.
    let budget = cell.dim_in_pixel().0 as usize;
    for (k, series) in panel.series.iter().enumerate() {
        let style = PALETTE[k % PALETTE.len()].stroke_width(2);
        let (paths, dots) = shapes(series, budget, mode);
        // One legend entry per series, also for a series with nothing to draw.
        chart
            .draw_series(paths.into_iter().map(|p| PathElement::new(p, style)))?
            .label(&series.label)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], style));
        chart.draw_series(dots.into_iter().map(|p| Circle::new(p, 3, style.filled())))?;
    }

    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(FRAME)
        .label_font((FAMILY, 13).with_color(TEXT))
        .draw()?;
    Ok(())
}

/// A panel without a single drawable point: its title over a framed "no data".
fn draw_no_data<DB: DrawingBackend>(
    cell: &DrawingArea<DB, Shift>,
    panel: &Panel,
) -> Result<(), PlotError> {
    let inner = cell.titled(
        &panel.title,
        TextStyle::from((FAMILY, 20).into_font()).color(&TEXT),
    )?;
    let (w, h) = inner.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    inner.draw(&Rectangle::new([(10, 10), (w - 10, h - 10)], FRAME))?;
    let style = (FAMILY, 14)
        .with_color(FRAME)
        .into_text_style(&inner)
        .pos(Pos::new(HPos::Center, VPos::Center));
    inner.draw(&Text::new("no data", (w / 2, h / 2), style))?;
    Ok(())
}

/// What to draw for one series: paths (split as `mode` asks) and the lone points between gaps.
fn shapes(series: &Series, budget: usize, mode: Lines) -> (Vec<Vec<Point>>, Vec<Point>) {
    let runs = series.finite_runs();
    let total: usize = runs.iter().map(ExactSizeIterator::len).sum();
    let mut paths = Vec::with_capacity(runs.len());
    let mut dots = Vec::new();
    for run in runs {
        let points = downsample(series, run, budget, total);
        match (&points[..], mode) {
            ([single], _) => dots.push(*single),
            (_, Lines::Paths) => paths.push(points),
            (_, Lines::Segments) => paths.extend(points.windows(2).map(<[_]>::to_vec)),
        }
    }
    (paths, dots)
}

/// LTTB over one gap-free run, with the series' pixel budget shared by run length.
fn downsample(series: &Series, run: Range<usize>, budget: usize, total: usize) -> Vec<Point> {
    let (xs, ys) = (&series.steps[run.clone()], &series.values[run]);
    let share = budget
        .saturating_mul(xs.len())
        .div_ceil(total.max(1))
        .max(2);
    lttb(xs, ys, share)
        .into_iter()
        .map(|i| (xs[i], ys[i]))
        .collect()
}

/// The axis range for a data range: widened by `frac` of its span on each side, never empty,
/// never of infinite span, and never narrower than `1e-9` of its magnitude.
///
/// plotters computes tick positions by repeatedly refining a step inside the range; a range
/// whose span is infinite, or only a few ulps wide at a large magnitude, never lets that search
/// end. A (nearly) flat range is widened to ±5% of its magnitude (±1 around zero); a range too
/// wide for an `f64` span is halved, clipping the most extreme points.
fn axis_range(r: Range<f64>, frac: f64) -> Range<f64> {
    let magnitude = r.start.abs().max(r.end.abs());
    let span = r.end - r.start;
    let (lo, hi) = if span > magnitude * 1e-9 {
        (r.start - span * frac, r.end + span * frac)
    } else if magnitude == 0.0 {
        (-1.0, 1.0)
    } else {
        let half = (magnitude * 0.05).max(f64::MIN_POSITIVE);
        let mid = r.start / 2.0 + r.end / 2.0;
        (mid - half, mid + half)
    };
    let (lo, hi) = (lo.max(-f64::MAX), hi.min(f64::MAX));
    if (hi - lo).is_finite() {
        lo..hi
    } else {
        lo / 2.0..hi / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_has_at_most_two_columns() {
        assert_eq!(grid(1), (1, 1));
        assert_eq!(grid(2), (1, 2));
        assert_eq!(grid(3), (2, 2));
        assert_eq!(grid(20), (10, 2));
    }

    #[test]
    fn suggested_size_passes_the_size_check() {
        for n in 1..=40 {
            let panels = vec![Panel::default(); n];
            let (w, h) = suggested_size(n);
            check(&panels, w, h).unwrap();
        }
    }

    #[test]
    fn axis_ranges_are_never_empty() {
        assert_eq!(axis_range(0.0..0.0, 0.05), -1.0..1.0);
        assert_eq!(axis_range(10.0..10.0, 0.05), 9.5..10.5);
        assert_eq!(axis_range(0.0..10.0, 0.0), 0.0..10.0);
        assert_eq!(axis_range(0.0..10.0, 0.1), -1.0..11.0);
        assert_eq!(
            axis_range(-f64::MAX..f64::MAX, 0.05),
            -f64::MAX / 2.0..f64::MAX / 2.0
        );
        // A few ulps wide at 1e20 becomes a range plotters can put ticks on.
        let r = axis_range(1e20..1e20 + 16_384.0, 0.05);
        assert!(r.end - r.start > 1e18, "{r:?}");
    }

    proptest::proptest! {
        #[test]
        fn axis_ranges_are_finite_and_wide_enough(
            a in proptest::num::f64::NORMAL | proptest::num::f64::ZERO | proptest::num::f64::SUBNORMAL,
            b in proptest::num::f64::NORMAL | proptest::num::f64::ZERO | proptest::num::f64::SUBNORMAL,
            frac in 0.0..0.5f64,
        ) {
            let r = axis_range(a.min(b)..a.max(b), frac);
            let span = r.end - r.start;
            proptest::prop_assert!(r.start.is_finite() && r.end.is_finite(), "{:?}", r);
            proptest::prop_assert!(span.is_finite() && span > 0.0, "{:?}", r);
            proptest::prop_assert!(span >= r.start.abs().max(r.end.abs()) * 1e-9, "{:?}", r);
        }
    }
}
