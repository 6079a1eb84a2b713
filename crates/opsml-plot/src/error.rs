//! The one error type of this crate.

use std::path::PathBuf;

/// Why a chart could not be rendered or written.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// There was nothing to draw: the list of panels was empty.
    #[error("no panels to plot")]
    NoPanels,

    /// The requested image size is unusable (zero, too small for the panel grid, or too large).
    #[error("invalid chart size {width}x{height}: {reason}")]
    InvalidSize {
        width: u32,
        height: u32,
        reason: &'static str,
    },

    /// A series has a different number of steps and values.
    #[error("series {series:?} in panel {panel:?} has {steps} steps but {values} values")]
    LengthMismatch {
        panel: String,
        series: String,
        steps: usize,
        values: usize,
    },

    /// The output path's extension is neither `.png` nor `.svg`.
    #[error("unsupported chart format for {}: expected a .png or .svg extension", path.display())]
    UnsupportedFormat { path: PathBuf },

    /// The embedded font could not be parsed (a build problem, never a data problem).
    #[error("the embedded font could not be loaded")]
    Font,

    /// The drawing library failed.
    #[error("drawing failed: {0}")]
    Draw(String),

    /// The PNG encoder failed.
    #[error("PNG encoding failed: {0}")]
    Png(#[from] ::png::EncodingError),

    /// Writing the chart file failed.
    #[error("could not write {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl<E: std::error::Error + Send + Sync> From<plotters::drawing::DrawingAreaErrorKind<E>>
    for PlotError
{
    fn from(e: plotters::drawing::DrawingAreaErrorKind<E>) -> Self {
        Self::Draw(e.to_string())
    }
}
