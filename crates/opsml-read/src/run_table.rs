//! The runs table of the web UI: the cards of many experiments with, in columns, every
//! parameter and each metric's last, minimum, maximum and mean, read from the stored
//! summaries (no points are read). Columns hold one cell per run, in the runs' order, and an
//! empty cell where a run lacks that parameter or metric.

use std::collections::BTreeMap;

use opsml_store::Store;
use opsml_types::{CardRecord, MetricSummary, ParameterValue};
use serde::{Serialize, Serializer};

use crate::Result;

/// Runs and their parameter and metric columns.
#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
            ParameterValue::Null => serializer.serialize_none(),
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

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for TableValue {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, SchemaType};
        ObjectBuilder::new()
            .schema_type(SchemaType::AnyValue)
            .description(Some(
                "The value as a JSON scalar (a float's NaN and infinities as strings)",
            ))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for TableValue {}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for FloatCell {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use opsml_types::json_float::JsonFloat;
        use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
        OneOfBuilder::new()
            .item(JsonFloat::schema())
            .item(ObjectBuilder::new().schema_type(Type::Null))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for FloatCell {}

/// One metric's summaries, a cell per run; a statistic not asked for is left empty and
/// not sent (see [`SummaryColumns::keep`]).
#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SummaryColumns {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub last: Vec<FloatCell>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub min: Vec<FloatCell>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub max: Vec<FloatCell>,
    /// Mean of the values that are not NaN.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mean: Vec<FloatCell>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub last_step: Vec<Option<i64>>,
    /// Points logged.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub count: Vec<Option<u64>>,
}

/// The statistics of a metric that a runs table can hold, by their names in the API.
pub const SUMMARY_STATISTICS: [&str; 6] = ["last", "min", "max", "mean", "last_step", "count"];

impl SummaryColumns {
    /// Empties every statistic not named in `statistics` (names of [`SUMMARY_STATISTICS`]).
    pub fn keep(&mut self, statistics: &[&str]) {
        let wanted = |name: &str| statistics.contains(&name);
        if !wanted("last") {
            self.last = Vec::new();
        }
        if !wanted("min") {
            self.min = Vec::new();
        }
        if !wanted("max") {
            self.max = Vec::new();
        }
        if !wanted("mean") {
            self.mean = Vec::new();
        }
        if !wanted("last_step") {
            self.last_step = Vec::new();
        }
        if !wanted("count") {
            self.count = Vec::new();
        }
    }

    fn of(cells: Vec<Option<MetricSummary>>) -> Self {
        let runs = cells.len();
        let mut columns = Self {
            last: Vec::with_capacity(runs),
            min: Vec::with_capacity(runs),
            max: Vec::with_capacity(runs),
            mean: Vec::with_capacity(runs),
            last_step: Vec::with_capacity(runs),
            count: Vec::with_capacity(runs),
        };
        for cell in cells {
            let summary = cell.as_ref();
            columns.last.push(FloatCell(summary.map(|s| s.last)));
            columns.min.push(FloatCell(summary.and_then(|s| s.min)));
            columns.max.push(FloatCell(summary.and_then(|s| s.max)));
            // u64 counts of points fit f64 exactly far beyond what one run logs.
            let mean = summary
                .filter(|s| s.value_count > 0)
                .map(|s| s.sum / s.value_count as f64);
            columns.mean.push(FloatCell(mean));
            columns.last_step.push(summary.and_then(|s| s.last_step));
            columns.count.push(summary.map(|s| s.count));
        }
        columns
    }
}

/// The table of `runs` (in their order), reading the runs' parameters and summaries at once.
pub fn run_table(store: &dyn Store, runs: Vec<CardRecord>) -> Result<RunTable> {
    let uids: Vec<String> = runs.iter().map(|run| run.uid.clone()).collect();
    let cells = store.table_cells(&uids)?;
    Ok(RunTable {
        runs,
        parameters: cells
            .parameters
            .into_iter()
            .map(|(name, cells)| (name, cells.into_iter().map(|c| c.map(TableValue)).collect()))
            .collect(),
        metrics: cells
            .summaries
            .into_iter()
            .map(|(name, cells)| (name, SummaryColumns::of(cells)))
            .collect(),
    })
}
