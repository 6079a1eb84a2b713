//! What Jupyter shows for the module's objects (`_repr_html_`): their tables as HTML, a card
//! as its text, and a small line chart (sparkline) per metric. Every text is escaped.

use opsml_experiment::{HtmlEscape, TextTable};

/// Points a sparkline draws at most: far more than its width in pixels.
const SPARKLINE_POINTS: usize = 120;
const SPARKLINE_WIDTH: f64 = 120.0;
const SPARKLINE_HEIGHT: f64 = 24.0;

/// A table and the line under it (`3 cards`).
pub(crate) fn table(table: &TextTable, note: &str) -> String {
    format!("{}\n<p>{}</p>", table.html(), HtmlEscape(note))
}

/// Text as it prints, kept as it is laid out.
pub(crate) fn preformatted(text: &str) -> String {
    format!("<pre>{}</pre>", HtmlEscape(text))
}

/// An inline SVG line of `values` in order (NaN and infinities left out), scaled to its box;
/// empty where fewer than two values are finite.
pub(crate) fn sparkline(values: &[f64]) -> String {
    let stride = values.len().div_ceil(SPARKLINE_POINTS).max(1);
    let points: Vec<(usize, f64)> = values
        .iter()
        .copied()
        .enumerate()
        .step_by(stride)
        .filter(|(_, v)| v.is_finite())
        .collect();
    if points.len() < 2 {
        return String::new();
    }
    let (low, high) = points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &(_, v)| {
            (lo.min(v), hi.max(v))
        });
    let span = if high > low { high - low } else { 1.0 };
    let last = (values.len() - 1).max(1) as f64;
    let coordinates: Vec<String> = points
        .iter()
        .map(|&(i, v)| {
            let x = i as f64 / last * SPARKLINE_WIDTH;
            // SVG's y grows downwards: the highest value is at the top.
            let y = (1.0 - (v - low) / span) * (SPARKLINE_HEIGHT - 2.0) + 1.0;
            format!("{x:.1},{y:.1}")
        })
        .collect();
    format!(
        "<svg width=\"{SPARKLINE_WIDTH}\" height=\"{SPARKLINE_HEIGHT}\" \
         viewBox=\"0 0 {SPARKLINE_WIDTH} {SPARKLINE_HEIGHT}\"><polyline fill=\"none\" \
         stroke=\"currentColor\" stroke-width=\"1\" points=\"{}\"/></svg>",
        coordinates.join(" ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sparkline_spans_its_box_and_skips_what_it_cannot_draw() {
        let line = sparkline(&[1.0, f64::NAN, 3.0, 2.0]);
        assert!(line.starts_with("<svg"), "{line}");
        // The lowest value at the bottom, the highest at the top, NaN left out.
        assert!(
            line.contains("points=\"0.0,23.0 80.0,1.0 120.0,12.0\""),
            "{line}"
        );
        assert_eq!(sparkline(&[1.0]), "");
        assert_eq!(sparkline(&[f64::NAN, f64::INFINITY, 2.0]), "");
        let long: Vec<f64> = (0..100_000).map(f64::from).collect();
        let points = sparkline(&long).matches(',').count();
        assert!(points <= SPARKLINE_POINTS, "{points}");
    }
}
