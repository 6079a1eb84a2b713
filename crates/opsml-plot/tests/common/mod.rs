//! Chart data shared by the integration tests.

use opsml_plot::{Panel, Series};

/// A smooth, deterministic curve: a decaying loss with a little wobble.
pub(crate) fn curve(points: usize, phase: f64) -> (Vec<f64>, Vec<f64>) {
    let steps: Vec<f64> = (0..points).map(|i| i as f64).collect();
    let values = steps
        .iter()
        .map(|s| 1.0 / (1.0 + s * 0.01) + 0.05 * (s * 0.3 + phase).sin())
        .collect();
    (steps, values)
}

/// `panels` panels named `metric-{i}`, each with `series` series labelled `run-{j}`.
pub(crate) fn panels(panels: usize, series: usize, points: usize) -> Vec<Panel> {
    (0..panels)
        .map(|i| {
            let lines = (0..series)
                .map(|j| {
                    let (steps, values) = curve(points, (i * series + j) as f64);
                    Series::new(format!("run-{j}"), steps, values)
                })
                .collect();
            Panel::new(format!("metric-{i}"), "step", lines)
        })
        .collect()
}
