//! Tables of rows: aligned on a terminal, tab-separated anywhere else (see
//! `opsml_read::TextTable`, which the Python module prints with too).

pub(crate) use opsml_read::{write_tsv_row, Align, TextTable as Table};
