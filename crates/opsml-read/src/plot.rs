//! `plot_metrics`: metric curves of several experiments, one panel per metric and one line
//! per experiment, drawn in Rust (PNG or SVG).

use std::collections::BTreeMap;
use std::path::Path;

use opsml_plot::{suggested_size, Panel, Series};
use opsml_store::{Store, StoreError};

use crate::select::{select_points, PointSelection};
use crate::{ReadError, Result};

/// Points per metric and experiment kept for a chart: far more than its pixels.
const CHART_POINTS: usize = 4_000;

/// One panel per metric (all metrics, or `names`), one series per experiment labelled
/// `name:version` (see [`crate::distinct_labels`]).
pub fn metric_panels(
    store: &dyn Store,
    uids: &[&str],
    names: Option<&[String]>,
) -> Result<Vec<Panel>> {
    let mut panels: BTreeMap<String, Vec<Series>> = BTreeMap::new();
    if let Some(names) = names {
        for name in names {
            panels.entry(name.clone()).or_default();
        }
    }
    let cards = uids
        .iter()
        .map(|uid| {
            store
                .get_experiment(uid)?
                .ok_or_else(|| StoreError::ExperimentNotFound((*uid).to_owned()))
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    for (uid, label) in uids.iter().zip(crate::distinct_labels(&cards)) {
        let columns = select_points(
            store.read_metrics(uid, names)?,
            &PointSelection {
                steps: None,
                max_points: Some(CHART_POINTS),
            },
        );
        for (id, points) in columns.metric_ranges() {
            let (start, end) = (points.start, points.end);
            // Steps as x; a point without one takes its position instead.
            let steps: Vec<f64> = (start..end)
                .map(|i| {
                    columns
                        .steps
                        .get(i)
                        .map_or((i - start) as f64, |s| s as f64)
                })
                .collect();
            let values = columns.values[start..end].to_vec();
            panels
                .entry(columns.names[id as usize].clone())
                .or_default()
                .push(Series::new(label.clone(), steps, values));
        }
    }
    if let Some((missing, _)) = panels.iter().find(|(_, series)| series.is_empty()) {
        return Err(no_such_metric(store, uids, missing)?);
    }
    Ok(panels
        .into_iter()
        .map(|(name, series)| Panel::new(name, "step", series))
        .collect())
}

/// The error for a metric asked for by name that none of `uids` logged: it names the metrics
/// they have, so that a typo is seen at once rather than as an empty chart.
fn no_such_metric(store: &dyn Store, uids: &[&str], missing: &str) -> Result<ReadError> {
    let mut logged = std::collections::BTreeSet::new();
    for uid in uids {
        logged.extend(store.metric_summaries(uid)?.into_iter().map(|s| s.name));
    }
    let logged: Vec<String> = logged.into_iter().collect();
    let reason = if logged.is_empty() {
        "no metric was logged by these experiments".to_owned()
    } else {
        format!(
            "no such metric in these experiments; they have {}",
            logged.join(", ")
        )
    };
    Ok(ReadError::InvalidOption {
        name: "names",
        value: missing.to_owned(),
        reason,
    })
}

/// Draws the metrics of experiments `uids` (all metrics, or `names`) to `path`, as PNG or
/// SVG by its extension.
pub fn plot_metrics(
    store: &dyn Store,
    uids: &[&str],
    names: Option<&[String]>,
    path: &Path,
) -> Result<()> {
    let panels = metric_panels(store, uids, names)?;
    let (width, height) = suggested_size(panels.len().max(1));
    opsml_plot::write_chart(path, &panels, width, height)?;
    Ok(())
}
