//! The runs table of the web UI: the cards of many experiments with, in columns, every
//! parameter and each metric's last, minimum, maximum and mean, read from the stored
//! summaries (no points are read). Columns hold one cell per run, in the runs' order, and an
//! empty cell where a run lacks that parameter or metric.

use std::collections::BTreeMap;

use opsml_registry::Store;
use opsml_types::{CardRecord, MetricSummary, ParameterValue};
use serde::{Serialize, Serializer};

use crate::Result;

/// Runs and their parameter and metric columns.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunTable {
    pub runs: Vec<CardRecord>,
    /// Each parameter's value per run.
    pub parameters: BTreeMap<String, Vec<Option<TableValue>>>,
    /// Each metric's summaries per run.
    pub metrics: BTreeMap<String, SummaryColumns>,
}

/// A parameter's value as a plain JSON scalar (the table needs no type tags): integers and
/// floats as numbers (NaN and the infinities as the strings `"NaN"`, `"Infinity"`,
/// `"-Infinity"`), text as a string, booleans as booleans.
#[derive(Debug, Clone, PartialEq)]
pub struct TableValue(pub ParameterValue);

impl Serialize for TableValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        match &self.0 {
            ParameterValue::Int(v) => serializer.serialize_i64(*v),
            ParameterValue::Float(v) => opsml_types::json_float::serialize(v, serializer),
            ParameterValue::Str(v) => serializer.serialize_str(v),
            ParameterValue::Bool(v) => serializer.serialize_bool(*v),
        }
    }
}

/// A float cell: `null` where the run lacks the metric, NaN and the infinities as strings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FloatCell(pub Option<f64>);

impl Serialize for FloatCell {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        opsml_types::json_float::option::serialize(&self.0, serializer)
    }
}

/// One metric's summaries, a cell per run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SummaryColumns {
    pub last: Vec<FloatCell>,
    pub min: Vec<FloatCell>,
    pub max: Vec<FloatCell>,
    /// Mean of the values that are not NaN.
    pub mean: Vec<FloatCell>,
    pub last_step: Vec<Option<i64>>,
    /// Points logged.
    pub count: Vec<Option<u64>>,
}

impl SummaryColumns {
    fn with_runs(runs: usize) -> Self {
        Self {
            last: vec![FloatCell(None); runs],
            min: vec![FloatCell(None); runs],
            max: vec![FloatCell(None); runs],
            mean: vec![FloatCell(None); runs],
            last_step: vec![None; runs],
            count: vec![None; runs],
        }
    }

    fn set(&mut self, run: usize, summary: &MetricSummary) {
        self.last[run] = FloatCell(Some(summary.last));
        self.min[run] = FloatCell(summary.min);
        self.max[run] = FloatCell(summary.max);
        // u64 counts of points fit f64 exactly far beyond what one run logs.
        #[allow(clippy::cast_precision_loss)]
        let mean = (summary.value_count > 0).then(|| summary.sum / summary.value_count as f64);
        self.mean[run] = FloatCell(mean);
        self.last_step[run] = summary.last_step;
        self.count[run] = Some(summary.count);
    }
}

/// The table of `runs` (in their order), reading the runs' parameters and summaries at once.
pub fn run_table(store: &dyn Store, runs: Vec<CardRecord>) -> Result<RunTable> {
    let uids: Vec<String> = runs.iter().map(|run| run.uid.clone()).collect();
    let cells = store.table_cells(&uids)?;
    let mut parameters: BTreeMap<String, Vec<Option<TableValue>>> = BTreeMap::new();
    let mut metrics: BTreeMap<String, SummaryColumns> = BTreeMap::new();
    let count = runs.len();
    for (index, run) in cells.into_iter().enumerate() {
        for parameter in run.parameters {
            parameters
                .entry(parameter.name)
                .or_insert_with(|| vec![None; count])[index] = Some(TableValue(parameter.value));
        }
        for summary in run.summaries {
            metrics
                .entry(summary.name.clone())
                .or_insert_with(|| SummaryColumns::with_runs(count))
                .set(index, &summary);
        }
    }
    Ok(RunTable {
        runs,
        parameters,
        metrics,
    })
}
