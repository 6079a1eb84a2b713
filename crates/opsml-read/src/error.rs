//! What can go wrong reading runs back.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    Store(#[from] opsml_store::StoreError),

    #[error(transparent)]
    Plot(#[from] opsml_plot::PlotError),

    /// A chart or report could not be written.
    #[error("writing {}: {source}", path.display())]
    Output {
        path: PathBuf,
        source: std::io::Error,
    },

    /// The captured files of a run could not be read (see [`crate::RunFiles`]).
    #[error("{source}")]
    Files {
        uid: String,
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// An option given by value that cannot be used.
    #[error("{name} = {value:?}: {reason}")]
    InvalidOption {
        name: &'static str,
        value: String,
        reason: String,
    },
}

pub type Result<T, E = ReadError> = std::result::Result<T, E>;
