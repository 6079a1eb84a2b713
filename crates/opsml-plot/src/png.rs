//! PNG output: plotters draws into an RGB buffer, the `png` crate encodes it.

use plotters::prelude::*;

use crate::error::PlotError;
use crate::model::Panel;
use crate::render::{check, draw_panels, Lines};

/// The chart as PNG-encoded bytes of exactly `width`×`height` pixels, 8-bit RGB.
pub fn render_png(panels: &[Panel], width: u32, height: u32) -> Result<Vec<u8>, PlotError> {
    check(panels, width, height)?;
    let mut rgb = vec![0u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
        draw_panels(&root, panels, Lines::Segments)?;
    }
    encode(&rgb, width, height)
}

fn encode(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>, PlotError> {
    let mut out = Vec::new();
    let mut encoder = ::png::Encoder::new(&mut out, width, height);
    encoder.set_color(::png::ColorType::Rgb);
    encoder.set_depth(::png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(rgb)?;
    writer.finish()?;
    Ok(out)
}
