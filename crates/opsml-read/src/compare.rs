//! Experiments side by side: their parameters (those that differ first) and the summaries of
//! their metrics, for experiments of any space and name.

use std::collections::{BTreeMap, BTreeSet};

use opsml_store::{Store, StoreError};
use opsml_types::{ExperimentCard, MetricSummary, ParameterValue};

use crate::Result;

/// The statistics of each metric shown in a comparison, in order.
pub const COMPARED_STATISTICS: [&str; 5] = ["last", "min", "max", "mean", "count"];

/// One value in a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// The experiment has no such parameter or metric.
    Missing,
    Parameter(ParameterValue),
    Number(f64),
    Count(u64),
}

impl Cell {
    fn same_as(&self, other: &Cell) -> bool {
        match (self, other) {
            // NaN compares equal to NaN here: two runs that both diverged do not differ.
            (Cell::Number(a), Cell::Number(b))
            | (
                Cell::Parameter(ParameterValue::Float(a)),
                Cell::Parameter(ParameterValue::Float(b)),
            ) => a == b || (a.is_nan() && b.is_nan()),
            (a, b) => a == b,
        }
    }
}

/// Whether a row holds a parameter or a metric statistic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Parameter,
    Metric,
}

/// One row: a parameter, or one statistic of a metric, across the experiments.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub section: Section,
    /// The parameter name, or `metric.statistic`.
    pub key: String,
    /// One cell per experiment, in the order asked for.
    pub cells: Vec<Cell>,
    /// Whether the experiments disagree (a missing value counts as different).
    pub differs: bool,
}

/// Experiments side by side.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub experiments: Vec<ExperimentCard>,
    /// Parameters that differ, then those all share; then metric statistics by metric name.
    pub rows: Vec<Row>,
}

pub(crate) fn row(section: Section, key: String, cells: Vec<Cell>) -> Row {
    let differs = cells.windows(2).any(|pair| !pair[0].same_as(&pair[1]));
    Row {
        section,
        key,
        cells,
        differs,
    }
}

fn statistic(summary: &MetricSummary, name: &str) -> Cell {
    let number = |value: Option<f64>| value.map_or(Cell::Missing, Cell::Number);
    match name {
        "last" => Cell::Number(summary.last),
        "min" => number(summary.min),
        "max" => number(summary.max),
        "mean" => number(summary.mean()),
        "count" => Cell::Count(summary.count),
        _ => unreachable!("COMPARED_STATISTICS lists every statistic"),
    }
}

/// Compares experiments `uids` of `store`, in that order.
pub fn compare_experiments(store: &dyn Store, uids: &[&str]) -> Result<Comparison> {
    let mut experiments = Vec::with_capacity(uids.len());
    let mut parameters = Vec::with_capacity(uids.len());
    let mut summaries = Vec::with_capacity(uids.len());
    for uid in uids {
        let card = store
            .get_experiment(uid)?
            .ok_or_else(|| StoreError::ExperimentNotFound((*uid).to_owned()))?;
        let by_name: BTreeMap<String, ParameterValue> = store
            .read_parameters(uid, None)?
            .into_iter()
            .map(|p| (p.name, p.value))
            .collect();
        let metrics: BTreeMap<String, MetricSummary> = store
            .metric_summaries(uid)?
            .into_iter()
            .map(|s| (s.name.clone(), s))
            .collect();
        experiments.push(card);
        parameters.push(by_name);
        summaries.push(metrics);
    }

    let parameter_names: BTreeSet<&String> = parameters.iter().flat_map(BTreeMap::keys).collect();
    let (mut differing, mut shared): (Vec<Row>, Vec<Row>) = parameter_names
        .into_iter()
        .map(|name| {
            let cells = parameters
                .iter()
                .map(|p| p.get(name).cloned().map_or(Cell::Missing, Cell::Parameter))
                .collect();
            row(Section::Parameter, name.clone(), cells)
        })
        .partition(|r| r.differs);
    let mut rows = Vec::new();
    rows.append(&mut differing);
    rows.append(&mut shared);

    let metric_names: BTreeSet<&String> = summaries.iter().flat_map(BTreeMap::keys).collect();
    for name in metric_names {
        for stat in COMPARED_STATISTICS {
            let cells = summaries
                .iter()
                .map(|s| s.get(name).map_or(Cell::Missing, |s| statistic(s, stat)))
                .collect();
            rows.push(row(Section::Metric, format!("{name}.{stat}"), cells));
        }
    }
    Ok(Comparison { experiments, rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_differ_when_any_cell_differs_and_nan_equals_nan() {
        let same = row(
            Section::Metric,
            "x".into(),
            vec![Cell::Number(f64::NAN), Cell::Number(f64::NAN)],
        );
        assert!(!same.differs);
        let missing = row(
            Section::Parameter,
            "lr".into(),
            vec![Cell::Parameter(ParameterValue::Float(0.1)), Cell::Missing],
        );
        assert!(missing.differs);
        let one = row(Section::Parameter, "lr".into(), vec![Cell::Missing]);
        assert!(!one.differs);
    }
}
