//! The embedded font, so that text never depends on the fonts a machine has installed.
//!
//! Noto Sans Regular comes from the `ttf-noto-sans` crate (the font is Apache-2.0, Copyright
//! Google; the crate is MIT OR Apache-2.0) and is compiled into the binary. It is registered with
//! plotters' `ab_glyph` backend under the generic family name `sans-serif`, which is also the
//! family written into SVG `<text>` elements, so a browser uses its own sans-serif face.

use std::sync::OnceLock;

use plotters::style::{register_font, FontStyle};

use crate::error::PlotError;

/// The family name every text style in this crate uses.
pub(crate) const FAMILY: &str = "sans-serif";

/// Register the embedded font with plotters, once per process.
pub(crate) fn ensure_registered() -> Result<(), PlotError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED
        .get_or_init(|| register_font(FAMILY, FontStyle::Normal, ttf_noto_sans::REGULAR).is_ok());
    if ok {
        Ok(())
    } else {
        Err(PlotError::Font)
    }
}
