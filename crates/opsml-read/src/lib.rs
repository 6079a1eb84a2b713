//! Reading runs back from any store: experiments compared side by side, points selected for a
//! chart or a table, metrics and hardware samples as Arrow record batches, charts and HTML
//! reports. Shared by the CLI, the Python binding and the server; it never writes.
//!
//! Everything here reads what the store holds. A process that also logs (see
//! `opsml-experiment`) flushes its running experiments before it reads through these.

mod compare;
mod diff;
mod error;
mod hardware_table;
mod labels;
mod metric_table;
mod plot;
mod report;
mod run_table;
mod runs_frame;
mod select;
mod series;
mod text_table;

pub use compare::{compare_experiments, Cell, Comparison, Row, Section, COMPARED_STATISTICS};
pub use diff::{
    diff_runs, FileChange, PackageChanges, RunDiff, RunFiles, MAX_DIFFED_FILES,
    MAX_DIFFED_FILE_BYTES, MAX_DIFFED_TOTAL_BYTES,
};
pub use error::{ReadError, Result};
pub use hardware_table::hardware_batch;
pub use labels::distinct_labels;
pub use metric_table::{metric_schema, MetricTable};
/// HTML escaping of text, as the report and the tables' HTML use it.
pub use minijinja::HtmlEscape;
pub use plot::{metric_panels, plot_metrics};
pub use report::{render_report, write_report};
pub use run_table::{
    run_table, FloatCell, RunTable, SummaryColumns, TableValue, SUMMARY_STATISTICS,
};
pub use runs_frame::runs_batch;
pub use select::{select_points, PointSelection};
pub use series::{series_points, SeriesPoints, SeriesRequest};
pub use text_table::{tsv_field, write_tsv_row, Align, TextTable};
