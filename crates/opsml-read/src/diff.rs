//! What changed between two runs, the question asked after a regression: the parameters
//! that differ, the metric summaries and evaluation metrics side by side, the installed
//! packages added, removed or changed, the git state, and a unified diff of the captured
//! code files.
//!
//! The captured files are artifacts, read through [`RunFiles`] by whoever holds the keys to
//! decrypt them; this crate never opens the artifact storage itself.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::time::Duration;

use opsml_store::Store;
use opsml_types::{float_text, printable, ExperimentCard, GitInfo, CODE_PREFIX, REQUIREMENTS_PATH};
use similar::TextDiff;

use crate::compare::{compare_experiments, row, Cell, Row, Section};
use crate::{distinct_labels, Align, Result, TextTable};

/// Largest file compared line by line (and largest package list read); a larger one is
/// reported as not compared.
pub const MAX_DIFFED_FILE_BYTES: u64 = 1 << 20;
/// Most bytes of captured files read for one diff; files past it are reported as not
/// compared.
pub const MAX_DIFFED_TOTAL_BYTES: u64 = 32 << 20;
/// Most captured files compared; beyond them the diff says how many were left out.
pub const MAX_DIFFED_FILES: usize = 2_000;
/// Longest the line diff of one file may take: two large files of unrelated lines would
/// otherwise take minutes. Past it, the diff is coarser, never wrong.
const LINE_DIFF_TIMEOUT: Duration = Duration::from_secs(1);
/// The statistics of each metric a diff shows.
const DIFFED_STATISTICS: [&str; 3] = ["last", "min", "max"];

/// The captured files of runs, decrypted.
pub trait RunFiles {
    /// Paths and sizes of the run's artifacts under `prefix`.
    fn list(&self, uid: &str, prefix: &str) -> Result<Vec<(String, u64)>>;
    /// The bytes of one artifact, verified.
    fn read(&self, uid: &str, path: &str) -> Result<Vec<u8>>;
}

/// Packages of the second run against the first, by normalised name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PackageChanges {
    /// `(name, version)` only in the second run.
    pub added: Vec<(String, String)>,
    /// `(name, version)` only in the first run.
    pub removed: Vec<(String, String)>,
    /// `(name, first version, second version)`.
    pub changed: Vec<(String, String, String)>,
}

impl PackageChanges {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// How one captured file differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileChange {
    /// Only the second run has it.
    Added { path: String },
    /// Only the first run has it.
    Removed { path: String },
    /// Both have it, with other text: the unified diff.
    Changed { path: String, unified: String },
    /// Both have it, with other bytes that are not text.
    Binary { path: String },
    /// Both have it, not read: larger than [`MAX_DIFFED_FILE_BYTES`] in a run, or past
    /// [`MAX_DIFFED_TOTAL_BYTES`]. It may or may not differ.
    NotCompared { path: String, sizes: (u64, u64) },
}

impl FileChange {
    pub fn path(&self) -> &str {
        match self {
            Self::Added { path }
            | Self::Removed { path }
            | Self::Changed { path, .. }
            | Self::Binary { path }
            | Self::NotCompared { path, .. } => path,
        }
    }
}

/// Two runs, what differs between them.
#[derive(Debug, Clone)]
pub struct RunDiff {
    /// The first run, then the second.
    pub runs: [ExperimentCard; 2],
    /// Parameters whose values differ (one run lacking it counts).
    pub parameters: Vec<Row>,
    /// Last, min and max of every metric of either run.
    pub metrics: Vec<Row>,
    /// The evaluation metrics of either run.
    pub eval_metrics: Vec<Row>,
    /// `None` when a run has no package list (started outside Python, or capture was off),
    /// or one over [`MAX_DIFFED_FILE_BYTES`].
    pub packages: Option<PackageChanges>,
    /// Captured files that differ, by path.
    pub code: Vec<FileChange>,
    /// Captured files left out beyond [`MAX_DIFFED_FILES`].
    pub code_left_out: usize,
}

/// What changed from run `first` to run `second` of `store`.
pub fn diff_runs(
    store: &dyn Store,
    files: &dyn RunFiles,
    first: &str,
    second: &str,
) -> Result<RunDiff> {
    let comparison = compare_experiments(store, &[first, second])?;
    let mut parameters = Vec::new();
    let mut metrics = Vec::new();
    for row in comparison.rows {
        match row.section {
            Section::Parameter if row.differs => parameters.push(row),
            Section::Parameter => {}
            Section::Metric => {
                let statistic = row.key.rsplit('.').next().unwrap_or_default();
                if DIFFED_STATISTICS.contains(&statistic) {
                    metrics.push(row);
                }
            }
        }
    }
    let mut cards = comparison.experiments.into_iter();
    let (Some(a), Some(b)) = (cards.next(), cards.next()) else {
        unreachable!("a comparison of two uids holds two cards");
    };
    let eval_metrics = eval_rows(&a, &b);
    let packages = package_changes(files, &a.uid, &b.uid)?;
    let (code, code_left_out) = code_changes(files, &a.uid, &b.uid)?;
    Ok(RunDiff {
        runs: [a, b],
        parameters,
        metrics,
        eval_metrics,
        packages,
        code,
        code_left_out,
    })
}

fn eval_rows(a: &ExperimentCard, b: &ExperimentCard) -> Vec<Row> {
    let (a, b) = (&a.metadata.eval_metrics, &b.metadata.eval_metrics);
    let names: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    names
        .into_iter()
        .map(|name| {
            let cell =
                |m: &BTreeMap<String, f64>| m.get(name).map_or(Cell::Missing, |v| Cell::Number(*v));
            row(Section::Metric, name.clone(), vec![cell(a), cell(b)])
        })
        .collect()
}

/// The package list of a run by normalised name, `None` when it has none or one too large
/// to read.
fn packages(files: &dyn RunFiles, uid: &str) -> Result<Option<BTreeMap<String, String>>> {
    let listed = files.list(uid, REQUIREMENTS_PATH)?;
    if !listed
        .iter()
        .any(|(path, size)| path == REQUIREMENTS_PATH && *size <= MAX_DIFFED_FILE_BYTES)
    {
        return Ok(None);
    }
    let text = String::from_utf8_lossy(&files.read(uid, REQUIREMENTS_PATH)?).into_owned();
    Ok(Some(
        text.lines()
            .filter_map(|line| {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    return None;
                }
                let (name, version) = line
                    .split_once("==")
                    .or_else(|| line.split_once(" @ "))
                    .unwrap_or((line, ""));
                Some((normalized(name), version.trim().to_owned()))
            })
            .collect(),
    ))
}

/// A package name as Python packaging compares them: case, `-`, `_` and `.` alike.
fn normalized(name: &str) -> String {
    name.trim().to_ascii_lowercase().replace(['_', '.'], "-")
}

fn package_changes(files: &dyn RunFiles, a: &str, b: &str) -> Result<Option<PackageChanges>> {
    let (Some(a), Some(b)) = (packages(files, a)?, packages(files, b)?) else {
        return Ok(None);
    };
    let mut changes = PackageChanges::default();
    for (name, version) in &a {
        match b.get(name) {
            None => changes.removed.push((name.clone(), version.clone())),
            Some(other) if other != version => {
                changes
                    .changed
                    .push((name.clone(), version.clone(), other.clone()));
            }
            Some(_) => {}
        }
    }
    for (name, version) in &b {
        if !a.contains_key(name) {
            changes.added.push((name.clone(), version.clone()));
        }
    }
    Ok(Some(changes))
}

fn code_changes(files: &dyn RunFiles, a: &str, b: &str) -> Result<(Vec<FileChange>, usize)> {
    let listed = |uid| -> Result<BTreeMap<String, u64>> {
        Ok(files
            .list(uid, CODE_PREFIX)?
            .into_iter()
            .filter_map(|(path, size)| {
                path.strip_prefix(CODE_PREFIX)
                    .map(|relative| (relative.to_owned(), size))
            })
            .collect())
    };
    let (first, second) = (listed(a)?, listed(b)?);
    let paths: BTreeSet<&String> = first.keys().chain(second.keys()).collect();
    let left_out = paths.len().saturating_sub(MAX_DIFFED_FILES);
    let mut changes = Vec::new();
    let mut budget = MAX_DIFFED_TOTAL_BYTES;
    for path in paths.into_iter().take(MAX_DIFFED_FILES) {
        let path_owned = path.clone();
        let change = match (first.get(path), second.get(path)) {
            (None, _) => Some(FileChange::Added { path: path_owned }),
            (_, None) => Some(FileChange::Removed { path: path_owned }),
            (Some(&size_a), Some(&size_b))
                if size_a.max(size_b) > MAX_DIFFED_FILE_BYTES || size_a + size_b > budget =>
            {
                Some(FileChange::NotCompared {
                    path: path_owned,
                    sizes: (size_a, size_b),
                })
            }
            (Some(&size_a), Some(&size_b)) => {
                budget -= size_a + size_b;
                let remote = format!("{CODE_PREFIX}{path}");
                let (old, new) = (files.read(a, &remote)?, files.read(b, &remote)?);
                file_change(path_owned, &old, &new)
            }
        };
        changes.extend(change);
    }
    Ok((changes, left_out))
}

fn file_change(path: String, old: &[u8], new: &[u8]) -> Option<FileChange> {
    if old == new {
        return None;
    }
    let (Ok(old), Ok(new)) = (std::str::from_utf8(old), std::str::from_utf8(new)) else {
        return Some(FileChange::Binary { path });
    };
    let unified = TextDiff::configure()
        .timeout(LINE_DIFF_TIMEOUT)
        .diff_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{path}"), &format!("b/{path}"))
        .to_string();
    Some(FileChange::Changed { path, unified })
}

/// A cell of a diff as text.
fn cell_text(cell: &Cell) -> String {
    match cell {
        Cell::Missing => "-".to_owned(),
        Cell::Parameter(value) => value.to_string(),
        Cell::Number(value) => float_text(*value),
        Cell::Count(count) => count.to_string(),
    }
}

fn git_text(git: Option<&GitInfo>) -> String {
    match git {
        None => "-".to_owned(),
        Some(git) => {
            let mut text = git.commit.chars().take(12).collect::<String>();
            if let Some(branch) = &git.branch {
                let _ = write!(text, " on {branch}");
            }
            if git.dirty {
                text.push_str(", with uncommitted changes");
            }
            text
        }
    }
}

impl RunDiff {
    /// The diff for a person: tables of what differs, then the changed code as unified
    /// diffs. Characters that would act on a terminal are escaped.
    pub fn text(&self) -> String {
        let [a, b] = &self.runs;
        let mut columns = vec![(String::new(), Align::Left)];
        columns.extend(
            distinct_labels(&self.runs)
                .into_iter()
                .map(|l| (l, Align::Right)),
        );
        let mut table = TextTable::with_columns(columns);
        table.push(vec!["uid".into(), a.uid.clone(), b.uid.clone()]);
        table.push(vec![
            "status".into(),
            a.status.to_string(),
            b.status.to_string(),
        ]);
        let git = |card: &ExperimentCard| git_text(card.metadata.git.as_ref());
        table.push(vec!["git".into(), git(a), git(b)]);
        let mut section = |title: &str, rows: &[Row]| {
            if rows.is_empty() {
                return;
            }
            table.heading(title);
            for row in rows {
                table.push(vec![
                    row.key.clone(),
                    cell_text(&row.cells[0]),
                    cell_text(&row.cells[1]),
                ]);
            }
        };
        section("Parameters that differ", &self.parameters);
        section("Metrics", &self.metrics);
        section("Evaluation metrics", &self.eval_metrics);
        let mut text = table.aligned();
        text.push_str("\n\n");
        if self.parameters.is_empty() {
            text.push_str("Parameters: the same\n");
        }
        match &self.packages {
            None => text.push_str(
                "Packages: not compared (a run has no package list, or one over 1 MiB)\n",
            ),
            Some(changes) if changes.is_empty() => text.push_str("Packages: the same\n"),
            Some(changes) => {
                text.push_str("Packages\n");
                for (name, from, to) in &changes.changed {
                    let _ = writeln!(text, "  ~ {name} {from} -> {to}");
                }
                for (name, version) in &changes.added {
                    let _ = writeln!(text, "  + {name} {version}");
                }
                for (name, version) in &changes.removed {
                    let _ = writeln!(text, "  - {name} {version}");
                }
            }
        }
        if self.code.is_empty() {
            text.push_str("Code: the same\n");
        } else {
            let _ = writeln!(
                text,
                "Code: {} file(s) differ or could not be compared",
                self.code.len()
            );
            for change in &self.code {
                match change {
                    FileChange::Added { path } => {
                        let _ = writeln!(text, "  + {path} (only in the second run)");
                    }
                    FileChange::Removed { path } => {
                        let _ = writeln!(text, "  - {path} (only in the first run)");
                    }
                    FileChange::Binary { path } => {
                        let _ = writeln!(text, "  ~ {path} (binary, differs)");
                    }
                    FileChange::NotCompared { path, sizes } => {
                        let _ = writeln!(
                            text,
                            "  ? {path} ({} and {} bytes: not compared, over the size limits)",
                            sizes.0, sizes.1
                        );
                    }
                    FileChange::Changed { .. } => {}
                }
            }
            for change in &self.code {
                if let FileChange::Changed { unified, .. } = change {
                    text.push('\n');
                    text.push_str(unified);
                }
            }
        }
        if self.code_left_out > 0 {
            let _ = writeln!(
                text,
                "({} more captured files not compared)",
                self.code_left_out
            );
        }
        printable(text.trim_end()).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_names_compare_as_pip_compares_them() {
        assert_eq!(normalized("Typing_Extensions"), "typing-extensions");
        assert_eq!(normalized(" zope.interface "), "zope-interface");
    }

    #[test]
    fn files_differ_as_text_or_as_bytes() {
        assert_eq!(file_change("same.py".into(), b"x = 1\n", b"x = 1\n"), None);
        let Some(FileChange::Changed { unified, .. }) =
            file_change("train.py".into(), b"a\nlr = 1\nb\n", b"a\nlr = 2\nb\n")
        else {
            panic!("a text change is a unified diff");
        };
        assert!(
            unified.starts_with("--- a/train.py\n+++ b/train.py\n"),
            "{unified}"
        );
        assert!(unified.contains("-lr = 1\n+lr = 2\n"), "{unified}");
        assert_eq!(
            file_change("model.bin".into(), &[0xff, 0], &[0xfe, 0]),
            Some(FileChange::Binary {
                path: "model.bin".into()
            })
        );
    }
}
