//! SVG output: a standalone document, or an inline fragment for a self-contained HTML report.

use plotters::prelude::*;

use crate::error::PlotError;
use crate::model::Panel;
use crate::render::{check, draw_panels, Lines};

/// The chart as a standalone SVG document of `width`×`height` user units.
///
/// Text is kept as `<text>` elements in the `sans-serif` family (so labels stay searchable and
/// selectable); its layout is measured with the embedded font.
pub fn render_svg(panels: &[Panel], width: u32, height: u32) -> Result<String, PlotError> {
    check(panels, width, height)?;
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (width, height)).into_drawing_area();
        draw_panels(&root, panels, Lines::Paths)?;
    }
    Ok(out)
}

/// The chart as one `<svg>` element to paste into an HTML page.
///
/// Unlike [`render_svg`] the element has no fixed `width`/`height`: it keeps its aspect ratio
/// through `viewBox` and shrinks to the width of its container. It refers to nothing outside
/// itself (no links, images, stylesheets or fonts), so a report built from such fragments works
/// offline. `title` becomes the element's accessible name (`aria-label`), escaped.
pub fn render_svg_fragment(
    panels: &[Panel],
    width: u32,
    height: u32,
    title: &str,
) -> Result<String, PlotError> {
    let document = render_svg(panels, width, height)?;
    // plotters opens the document with exactly one `<svg ...>` tag; replace it.
    let body = document
        .find('>')
        .map_or(document.as_str(), |end| &document[end + 1..]);
    Ok(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" \
         role=\"img\" aria-label=\"{}\" style=\"max-width:100%;height:auto\">{body}",
        escape_markup(title)
    ))
}

/// Escape text for XML/HTML content or a quoted attribute value (also used by the HTML
/// report that embeds these charts).
pub(crate) fn escape_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
