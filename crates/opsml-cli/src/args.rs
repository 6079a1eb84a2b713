//! The command line's grammar: every command, option and its help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// The opsml command line: find, inspect, compare, plot, export, download and delete experiments.
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
pub(crate) struct Cli {
    /// Store to use instead of OPSML_TRACKING_URI: sqlite:///path.db (or a path ending in
    /// .db), postgres://user:password@host:port/database, or an opsml server http(s)://host:port.
    #[arg(
        long,
        global = true,
        value_name = "URI",
        help_heading = "Global options"
    )]
    pub tracking_uri: Option<String>,

    /// Artifact storage to use instead of OPSML_STORAGE_URI: a directory, or s3://bucket/prefix
    /// (endpoint, region and credentials from AWS_*).
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
pub(crate) enum Command {
    /// List, search, show, compare, diff, plot, report, export, download and delete experiments.
    #[command(subcommand, visible_alias = "exp")]
    Experiments(ExperimentsCommand),
    /// Run an opsml server: a team's registry over HTTP.
    #[command(subcommand)]
    Server(ServerCommand),
    /// Serve the web UI of the local store (OPSML_TRACKING_URI, default ./opsml.db).
    ///
    /// Prints the address to open: it carries a token made for this launch, so that other
    /// users of the machine and other sites cannot read the store. Runs started while it
    /// serves appear as they log. Stops on SIGINT or SIGTERM. A server has its own UI at its
    /// address.
    Ui(UiArgs),
    /// Store what runs left unsent or the store refused.
    ///
    /// A run on a server keeps every batch in a local write-ahead file (OPSML_SPOOL_DIR,
    /// default ~/.cache/opsml/spool) until the server has it. Batches a server outage or a
    /// crash left there, and statuses of runs that ended during an outage, are sent in order
    /// and removed; the server applies each batch once, so sending one twice changes nothing.
    /// On a local store (SQLite or PostgreSQL), batches the store refused are kept in its
    /// recovery directory (beside a SQLite file: <file>.recovery) and applied the same way.
    /// Files of runs still going are left to them.
    Sync,
}

impl Command {
    /// Whether the command runs a server (which logs what it serves).
    pub(crate) fn serves(&self) -> bool {
        matches!(self, Self::Server(ServerCommand::Start(_)) | Self::Ui(_))
    }
}

#[derive(Debug, Args)]
pub(crate) struct UiArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: std::net::IpAddr,
    /// Port to listen on; 0 for a free one.
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Open the address in a browser ($BROWSER, else the desktop's default).
    #[arg(long)]
    pub open: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ServerCommand {
    /// Serve the store of OPSML_TRACKING_URI and the artifact storage of OPSML_STORAGE_URI.
    ///
    /// On a store with no users, OPSML_ADMIN_USERNAME and OPSML_ADMIN_PASSWORD create the
    /// first admin; without them the server refuses to start. Stops on SIGINT or SIGTERM
    /// after the requests under way.
    Start(ServerStartArgs),
    /// List, disable, enable and delete the users of a server, and revoke their tokens.
    ///
    /// Works on the server's database, named by OPSML_TRACKING_URI or --tracking-uri as for
    /// `opsml server start` (a sqlite:// or postgres:// URI, not the server's http:// one): it
    /// needs no running server and no login, so it also serves when no admin can log in.
    /// Servers on the database notice a change within 10 seconds.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Remove what a user may do in a space (on the server's database, as `users` does).
    #[command(subcommand)]
    Grants(GrantsCommand),
}

#[derive(Debug, Subcommand)]
pub(crate) enum UsersCommand {
    /// List the users: name, admin, disabled and when created (never a password or token).
    #[command(visible_alias = "ls")]
    List,
    /// Disable a user: it can no longer log in and its tokens are revoked; grants are kept.
    ///
    /// The last enabled admin cannot be disabled.
    Disable(UsernameArg),
    /// Enable a disabled user again; it logs in anew (its old tokens stay revoked).
    Enable(UsernameArg),
    /// Delete a user with its grants and tokens.
    ///
    /// Asks for confirmation on a terminal; elsewhere --yes is required. The last enabled
    /// admin cannot be deleted.
    #[command(visible_alias = "rm")]
    Delete(DeleteUserArgs),
    /// Revoke every token of a user, ending all its sessions; it may log in again.
    RevokeTokens(UsernameArg),
}

#[derive(Debug, Subcommand)]
pub(crate) enum GrantsCommand {
    /// Remove a user's access to a space.
    #[command(visible_alias = "rm")]
    Remove(GrantArgs),
}

#[derive(Debug, Args)]
pub(crate) struct UsernameArg {
    /// Name of the user.
    pub username: String,
}

#[derive(Debug, Args)]
pub(crate) struct DeleteUserArgs {
    /// Name of the user.
    pub username: String,
    /// Delete without asking.
    #[arg(short, long)]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub(crate) struct GrantArgs {
    /// Name of the user.
    pub username: String,
    /// The space.
    pub space: String,
}

#[derive(Debug, Args)]
pub(crate) struct ServerStartArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: std::net::IpAddr,
    /// Port to listen on.
    #[arg(long, default_value_t = 8000)]
    pub port: u16,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ExperimentsCommand {
    /// List experiments, newest first.
    #[command(visible_alias = "ls")]
    List(ListArgs),
    /// Find experiments with a filter over their fields, parameters and metric summaries.
    ///
    /// Prints the same table as `list`. The filter is evaluated by the store, so a search
    /// never loads every experiment. Ties, and the whole order without --order-by, are newest
    /// first.
    #[command(after_help = SEARCH_HELP)]
    Search(SearchArgs),
    /// Show one experiment: its card, environment, parameters, metric summaries and artifacts.
    ///
    /// Each metric is shown with its number of points, smallest and largest value (NaN left
    /// out), and its last value and step.
    Show(UidArg),
    /// Compare experiments side by side: parameters, then statistics of every metric.
    ///
    /// One row per parameter (those that differ first) and per metric statistic (last, min,
    /// max, mean, count), one column per experiment; a `*` marks the rows where the
    /// experiments differ (a missing value differs, NaN equals NaN). On a terminal the columns
    /// are headed name:version under PARAMETERS and METRICS headings. Piped, the table is
    /// tab-separated with a header line (differs, key, name:version…) and keys prefixed with
    /// param. or metric. CSV and JSON rows have the fields section, key, differs and one field
    /// per experiment uid; a missing value is an empty field in CSV and null in JSON.
    Compare(CompareArgs),
    /// What changed from run FIRST to run SECOND: why is one worse than the other?
    ///
    /// The parameters that differ, the last, min and max of every metric and the evaluation
    /// metrics side by side, the installed packages added, removed or changed (from the
    /// package list code capture stored), each run's git commit and uncommitted changes, and
    /// a unified diff of the captured code files (decrypted with the key at hand). A file over
    /// 1 MiB (or past 32 MiB read in all) is listed as not compared. With --json, one object with the fields first, second,
    /// git, parameters, metrics, eval_metrics (rows of key, first, second), packages (null
    /// when a run has no package list), code (path, change, diff) and code_left_out.
    Diff(DiffArgs),
    /// Print the metric points of an experiment (name, step, value, timestamp, created_at).
    ///
    /// All points, or those of a step range (--steps) and/or at most N per metric
    /// (--max-points, chosen with largest-triangle-three-buckets). Points come ordered by
    /// (name, step, order logged). created_at is ISO-8601 UTC with microseconds. Non-finite
    /// values are written as nan, inf and -inf in tables and CSV, and as the strings "NaN",
    /// "Infinity" and "-Infinity" in JSON (as the server's API does). A missing step or timestamp is an empty field in CSV and
    /// null in JSON.
    Metrics(MetricsArgs),
    /// Print the parameters of an experiment (name, type, value) in the order first logged.
    Params(ParamsArgs),
    /// Write the metric points of several experiments to one file, with a leading uid column.
    ///
    /// One row per point, experiments in the order given, each one's points as `metrics`
    /// orders them. CSV and JSON Lines write values as `metrics` does. Parquet keeps every
    /// value as stored, NaN and infinities included, in typed columns: uid and name
    /// (dictionary-encoded strings), step and timestamp (int64, null where missing), value
    /// (float64) and created_at (timestamp, microseconds, UTC), zstd-compressed. Parquet is
    /// written to a file only, never to standard output.
    Export(ExportArgs),
    /// Draw the metrics of experiments as a PNG or SVG chart.
    ///
    /// One panel per metric, one line per experiment (labelled name:version), steps along
    /// the x axis; a point without a step takes its position. The format follows the file
    /// name: .png or .svg. Long runs are thinned to a few thousand points per line, keeping
    /// the extremes. Prints the path written.
    Plot(PlotArgs),
    /// Write a self-contained HTML report of experiments.
    ///
    /// A chart of every metric, then each experiment's details, parameters, metric summaries,
    /// hardware charts (when samples were taken) and artifacts. The file needs nothing else
    /// to open (styles and SVG charts are inline). Prints the path written.
    Report(ReportArgs),
    /// Download the artifacts of an experiment (all, or those at or under PATH).
    ///
    /// Files keep their artifact paths under the output directory; each is verified against
    /// its recorded digest before it appears. The files written are printed, one a line.
    Download(DownloadArgs),
    /// Delete an experiment with its metrics, parameters and artifact files.
    ///
    /// Asks for confirmation on a terminal; elsewhere --yes is required. Child experiments
    /// are kept (they lose their parent).
    #[command(visible_alias = "rm")]
    Delete(DeleteArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ListArgs {
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
    /// Extra columns: params.NAME or metrics.NAME[.STAT] (STAT: last, min, max, mean,
    /// last_step, count; last by default), comma-separated or repeated.
    #[arg(long = "columns", value_name = "COLUMNS")]
    pub columns: Vec<String>,
}

/// The filter language, after the options of `search --help`.
const SEARCH_HELP: &str = "\
Filter:
  Conditions joined with and, or, not and parentheses: FIELD OP VALUE, where OP is one of
  = != < <= > >=, like, not like, in (...), not in (...), is null, is not null.
  Strings are quoted ('x' or \"x\"); numbers may have an exponent (1e-4); dates are UTC
  ('2026-11-26' or '2026-11-26T10:00:00Z'); an empty filter matches every experiment.

Fields:
  uid, space, name, status, username, parent_uid, created_at, ended_at, version, tags
  params.NAME               a parameter, compared with values of its own kind
  metrics.NAME.STAT         STAT: last (default), first, min, max, mean, count, last_step
  A condition on a value an experiment lacks is false; test absence with `is null`.

Examples:
  opsml experiments search \"status = 'completed' and metrics.loss.min < 0.1\"
  opsml experiments search \"params.lr >= 1e-4 and tags = 'baseline'\" --order-by metrics.loss.min
  opsml experiments search \"name like 'resnet%'\" --order-by 'created_at asc' --limit 0";

#[derive(Debug, Args)]
pub(crate) struct SearchArgs {
    /// The filter, e.g. "status = 'completed' and metrics.loss.min < 0.1" (see below).
    pub filter: String,
    /// Only experiments of this space.
    #[arg(long)]
    pub space: Option<String>,
    /// Sort by FIELD [asc|desc] (ascending by default); repeat for several keys.
    #[arg(long = "order-by", value_name = "ITEM")]
    pub order_by: Vec<String>,
    /// Most experiments listed; 0 lists all.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// Extra columns: params.NAME or metrics.NAME[.STAT] (STAT: last, min, max, mean,
    /// last_step, count; last by default), comma-separated or repeated.
    #[arg(long = "columns", value_name = "COLUMNS")]
    pub columns: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct UidArg {
    /// Uid of the experiment.
    pub uid: String,
}

/// How a table of values is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum TableFormat {
    /// Aligned columns on a terminal, tab-separated with a header line otherwise.
    Table,
    /// Comma-separated values with a header line (RFC 4180 quoting).
    Csv,
    /// One JSON array of objects.
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct MetricsArgs {
    /// Uid of the experiment.
    pub uid: String,
    /// Only this metric (repeat for several).
    #[arg(long = "name", value_name = "NAME")]
    pub names: Vec<String>,
    /// Only points with START <= step < STOP (points without a step are left out).
    #[arg(
        long,
        value_name = "START:STOP",
        value_parser = parse_steps,
        allow_hyphen_values = true
    )]
    pub steps: Option<(i64, i64)>,
    /// At most N points per metric (N >= 2), chosen to keep the shape of the curve: the
    /// first and last point and the extremes stay.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(2..))]
    pub max_points: Option<u64>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TableFormat::Table)]
    pub format: TableFormat,
}

/// `START:STOP`, two integers with START < STOP.
fn parse_steps(text: &str) -> Result<(i64, i64), String> {
    let (start, stop) = text
        .split_once(':')
        .ok_or_else(|| "expected START:STOP, e.g. 100:200".to_owned())?;
    let bound = |part: &str, what: &str| {
        part.trim()
            .parse::<i64>()
            .map_err(|_| format!("{what} {part:?} is not an integer (expected START:STOP)"))
    };
    let (start, stop) = (bound(start, "START")?, bound(stop, "STOP")?);
    if start >= stop {
        return Err(format!(
            "the range {start}:{stop} holds no step (STOP is excluded, so it must exceed START)"
        ));
    }
    Ok((start, stop))
}

#[derive(Debug, Args)]
pub(crate) struct CompareArgs {
    /// Uids of the experiments, in the order of the columns.
    #[arg(required = true, value_name = "UID")]
    pub uids: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TableFormat::Table)]
    pub format: TableFormat,
}

#[derive(Debug, Args)]
pub(crate) struct DiffArgs {
    /// Uid of the run to compare from (the one that was fine).
    #[arg(value_name = "FIRST")]
    pub first: String,
    /// Uid of the run to compare to.
    #[arg(value_name = "SECOND")]
    pub second: String,
    /// Write one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct PlotArgs {
    /// Uids of the experiments.
    #[arg(required = true, value_name = "UID")]
    pub uids: Vec<String>,
    /// Only this metric (repeat for several); all metrics when absent.
    #[arg(long = "name", value_name = "NAME")]
    pub names: Vec<String>,
    /// Image to write: a path ending in .png or .svg.
    #[arg(short, long, value_name = "PATH")]
    pub output: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    /// Uids of the experiments.
    #[arg(required = true, value_name = "UID")]
    pub uids: Vec<String>,
    /// HTML file to write.
    #[arg(short, long, value_name = "PATH", default_value = "report.html")]
    pub output: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct ParamsArgs {
    /// Uid of the experiment.
    pub uid: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TableFormat::Table)]
    pub format: TableFormat,
}

/// File formats of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ExportFormat {
    /// Comma-separated values: uid,name,step,value,timestamp,created_at.
    Csv,
    /// One JSON object a line, with the same fields.
    Jsonl,
    /// Apache Parquet (zstd) with the same columns, typed; to a file only, not to `-`.
    Parquet,
}

#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    /// Uids of the experiments.
    #[arg(required = true, value_name = "UID")]
    pub uids: Vec<String>,
    /// File format.
    #[arg(long, value_enum, default_value_t = ExportFormat::Csv)]
    pub format: ExportFormat,
    /// File to write; `-` writes CSV or JSON Lines to standard output. The file appears only
    /// when complete.
    #[arg(short, long, value_name = "PATH")]
    pub output: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct DownloadArgs {
    /// Uid of the experiment.
    pub uid: String,
    /// Artifact path (a file, or a directory of artifacts); all artifacts when absent.
    pub path: Option<String>,
    /// Directory to write into.
    #[arg(short, long, value_name = "DIR", default_value = "artifacts")]
    pub output: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct DeleteArgs {
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

    #[test]
    fn step_ranges_are_start_colon_stop_with_start_below_stop() {
        assert_eq!(parse_steps("0:10"), Ok((0, 10)));
        assert_eq!(parse_steps("-5:-1"), Ok((-5, -1)));
        assert_eq!(parse_steps(" 3 : 4 "), Ok((3, 4)));
        assert!(parse_steps("10").unwrap_err().contains("START:STOP"));
        assert!(parse_steps("a:3").unwrap_err().contains("START \"a\""));
        assert!(parse_steps("1:").unwrap_err().contains("STOP \"\""));
        assert!(parse_steps("5:5").unwrap_err().contains("holds no step"));
        assert!(parse_steps("6:5").is_err());
    }
}
