//! The command line's grammar: every command, option and its help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// The opsml command line: inspect, export, download and delete experiments.
///
/// The store is named by OPSML_TRACKING_URI (default: sqlite:///<cwd>/opsml.db) and the
/// artifact storage by OPSML_STORAGE_URI (default: <cwd>/opsml_registries), as in Python.
/// Tables are aligned on a terminal and tab-separated (with a header line) when piped.
#[derive(Debug, Parser)]
#[command(
    name = "opsml",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Store to use instead of OPSML_TRACKING_URI (sqlite:///path.db or a path ending in .db).
    #[arg(
        long,
        global = true,
        value_name = "URI",
        help_heading = "Global options"
    )]
    pub tracking_uri: Option<String>,

    /// Artifact storage to use instead of OPSML_STORAGE_URI (a directory).
    #[arg(
        long,
        global = true,
        value_name = "URI",
        help_heading = "Global options"
    )]
    pub storage_uri: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List, show, export, download and delete experiments.
    #[command(subcommand, visible_alias = "exp")]
    Experiments(ExperimentsCommand),
}

#[derive(Debug, Subcommand)]
pub enum ExperimentsCommand {
    /// List experiments, newest first.
    #[command(visible_alias = "ls")]
    List(ListArgs),
    /// Show one experiment: its card, environment, parameters, metrics and artifacts.
    Show(UidArg),
    /// Print every metric point of an experiment (name, step, value, timestamp, created_at).
    ///
    /// Points come ordered by (name, step, order logged). created_at is ISO-8601 UTC with
    /// microseconds. Non-finite values are written as nan, inf and -inf in tables and CSV, and
    /// as the strings "NaN", "inf" and "-inf" in JSON. A missing step or timestamp is an empty
    /// field in CSV and null in JSON.
    Metrics(MetricsArgs),
    /// Print the parameters of an experiment (name, type, value) in the order first logged.
    Params(ParamsArgs),
    /// Write the metric points of several experiments to one file, with a leading uid column.
    Export(ExportArgs),
    /// Download the artifacts of an experiment (all, or those at or under PATH).
    ///
    /// Files keep their artifact paths under the output directory; each is verified against
    /// its recorded SHA-256 before it appears. The files written are printed, one a line.
    Download(DownloadArgs),
    /// Delete an experiment with its metrics, parameters and artifact files.
    ///
    /// Asks for confirmation on a terminal; elsewhere --yes is required. Child experiments
    /// are kept (they lose their parent).
    #[command(visible_alias = "rm")]
    Delete(DeleteArgs),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only experiments of this space.
    #[arg(long)]
    pub space: Option<String>,
    /// Only experiments with this name.
    #[arg(long)]
    pub name: Option<String>,
    /// Only experiments carrying this tag (repeat for several: all must match).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// Most experiments listed; 0 lists all.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
}

#[derive(Debug, Args)]
pub struct UidArg {
    /// Uid of the experiment.
    pub uid: String,
}

/// How a table of values is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TableFormat {
    /// Aligned columns on a terminal, tab-separated with a header line otherwise.
    Table,
    /// Comma-separated values with a header line (RFC 4180 quoting).
    Csv,
    /// One JSON array of objects.
    Json,
}

#[derive(Debug, Args)]
pub struct MetricsArgs {
    /// Uid of the experiment.
    pub uid: String,
    /// Only this metric (repeat for several).
    #[arg(long = "name", value_name = "NAME")]
    pub names: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TableFormat::Table)]
    pub format: TableFormat,
}

#[derive(Debug, Args)]
pub struct ParamsArgs {
    /// Uid of the experiment.
    pub uid: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TableFormat::Table)]
    pub format: TableFormat,
}

/// File formats of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// Comma-separated values: uid,name,step,value,timestamp,created_at.
    Csv,
    /// One JSON object a line, with the same fields.
    Jsonl,
    /// Not available yet.
    #[value(hide = true)]
    Parquet,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Uids of the experiments.
    #[arg(required = true, value_name = "UID")]
    pub uids: Vec<String>,
    /// File format (values are written as by `metrics`).
    #[arg(long, value_enum, default_value_t = ExportFormat::Csv)]
    pub format: ExportFormat,
    /// File to write; `-` writes to standard output. The file appears only when complete.
    #[arg(short, long, value_name = "PATH")]
    pub output: PathBuf,
}

#[derive(Debug, Args)]
pub struct DownloadArgs {
    /// Uid of the experiment.
    pub uid: String,
    /// Artifact path (a file, or a directory of artifacts); all artifacts when absent.
    pub path: Option<String>,
    /// Directory to write into.
    #[arg(short, long, value_name = "DIR", default_value = "artifacts")]
    pub output: PathBuf,
}

#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// Uid of the experiment.
    pub uid: String,
    /// Delete without asking.
    #[arg(short, long)]
    pub yes: bool,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_grammar_is_consistent() {
        Cli::command().debug_assert();
    }
}
