//! `opsml report`: one self-contained HTML file (inline CSS and SVG, nothing fetched) with
//! the card details, parameters, metric summaries, a chart of every metric and of the
//! hardware series, and the artifact list of each experiment. The page is the template
//! `templates/report.html.j2`, which escapes every value it is given.

use std::path::Path;

use minijinja::{context, Environment, UndefinedBehavior, Value};
use opsml_plot::{render_svg_fragment, Panel, Series};
use opsml_store::{Store, StoreError};
use opsml_types::{ExperimentCard, HardwareSample, ParameterValue};

use crate::plot::metric_panels;
use crate::{ReadError, Result};

/// The page; `.html` in its name makes the environment escape every value as HTML.
const TEMPLATE: &str = include_str!("../templates/report.html.j2");

const CHART_WIDTH: u32 = 900;
const CHART_HEIGHT: u32 = 360;

const STYLE: &str =
    "body{font-family:system-ui,sans-serif;margin:2rem;color:#222;max-width:1000px}\
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}\
h3{font-size:1rem}table{border-collapse:collapse;margin:.5rem 0}\
td,th{border:1px solid #ddd;padding:.2rem .6rem;text-align:left;font-size:.9rem}\
th{background:#f5f5f5}td.n{text-align:right;font-variant-numeric:tabular-nums}\
.chart svg{width:100%;height:auto}code{font-size:.85rem}";

fn number(value: Option<f64>) -> String {
    match value {
        None => "–".to_owned(),
        Some(v) if v.is_nan() => "NaN".to_owned(),
        Some(v) => format!("{v}"),
    }
}

fn parameter(value: &ParameterValue) -> String {
    match value {
        ParameterValue::Int(n) => n.to_string(),
        ParameterValue::Float(x) => number(Some(*x)),
        ParameterValue::Str(s) => s.clone(),
        ParameterValue::Bool(b) => b.to_string(),
        ParameterValue::Null => "null".to_owned(),
    }
}

/// A table cell for the template: its text, and whether it is a number (right-aligned).
fn cell(text: impl Into<String>, numeric: bool) -> Value {
    context! { text => text.into(), numeric => numeric }
}

/// Rows of text cells.
fn text_rows(rows: impl IntoIterator<Item = [String; 2]>) -> Value {
    Value::from(
        rows.into_iter()
            .map(|[a, b]| Value::from(vec![cell(a, false), cell(b, false)]))
            .collect::<Vec<_>>(),
    )
}

/// A chart as SVG, to be placed in the page as it is (opsml-plot escapes its own text).
fn chart(panel: Panel, title: &str) -> Result<Value> {
    let svg = render_svg_fragment(&[panel], CHART_WIDTH, CHART_HEIGHT, title)?;
    Ok(Value::from_safe_string(svg))
}

fn card_details(card: &ExperimentCard) -> Value {
    let mut rows = vec![
        ("uid", card.uid.clone()),
        ("space", card.space.clone()),
        ("status", card.status.to_string()),
        ("created", card.created_at.to_rfc3339()),
        (
            "ended",
            card.ended_at
                .map_or_else(|| "–".to_owned(), |t| t.to_rfc3339()),
        ),
        ("user", card.username.clone()),
        ("tags", card.tags.join(", ")),
    ];
    if let Some(parent) = &card.parent_uid {
        rows.push(("parent", parent.clone()));
    }
    if let Some(git) = &card.metadata.git {
        rows.push((
            "git",
            format!(
                "{} {}{}",
                git.branch.as_deref().unwrap_or("(detached)"),
                git.commit,
                if git.dirty { " (dirty)" } else { "" }
            ),
        ));
    }
    let env = &card.compute_environment;
    rows.push((
        "environment",
        format!(
            "{} on {}, {} CPUs ({}), Python {}",
            env.hostname,
            env.os,
            env.cpu_count,
            env.cpu_model,
            env.python_version.as_deref().unwrap_or("–")
        ),
    ));
    text_rows(rows.into_iter().map(|(k, v)| [k.to_owned(), v]))
}

/// Hardware series as chart panels: CPU, process memory, and GPU utilisation if any.
fn hardware_panels(samples: &[HardwareSample]) -> Vec<Panel> {
    let Some(start) = samples.first().map(|s| s.timestamp) else {
        return Vec::new();
    };
    let seconds: Vec<f64> = samples
        .iter()
        .map(|s| (s.timestamp - start) as f64 / 1e6)
        .collect();
    let series = |label: &str, values: Vec<f64>| Series::new(label, seconds.clone(), values);
    let or_nan = |v: Option<f64>| v.unwrap_or(f64::NAN);
    let mut panels = vec![
        Panel::new(
            "CPU %",
            "seconds",
            vec![
                series(
                    "host",
                    samples
                        .iter()
                        .map(|s| or_nan(s.cpu_percent.map(f64::from)))
                        .collect(),
                ),
                series(
                    "process",
                    samples
                        .iter()
                        .map(|s| or_nan(s.process.as_ref().map(|p| f64::from(p.cpu_percent))))
                        .collect(),
                ),
            ],
        ),
        Panel::new(
            "process memory (MiB)",
            "seconds",
            vec![series(
                "rss",
                samples
                    .iter()
                    .map(|s| or_nan(s.process.as_ref().map(|p| p.rss_bytes as f64 / 1_048_576.0)))
                    .collect(),
            )],
        ),
    ];
    let gpus: std::collections::BTreeSet<u32> = samples
        .iter()
        .flat_map(|s| s.gpus.iter().map(|g| g.index))
        .collect();
    if !gpus.is_empty() {
        let gpu_series = gpus
            .iter()
            .map(|&index| {
                series(
                    &format!("gpu {index}"),
                    samples
                        .iter()
                        .map(|s| {
                            or_nan(
                                s.gpus
                                    .iter()
                                    .find(|g| g.index == index)
                                    .and_then(|g| g.utilization_percent)
                                    .map(f64::from),
                            )
                        })
                        .collect(),
                )
            })
            .collect();
        panels.push(Panel::new("GPU utilisation %", "seconds", gpu_series));
    }
    panels
}

/// What the template shows of one experiment.
fn experiment_section(store: &dyn Store, card: &ExperimentCard) -> Result<Value> {
    let uid = card.uid.as_str();
    let parameters = store.read_parameters(uid, None)?;
    let summaries: Vec<Value> = store
        .metric_summaries(uid)?
        .iter()
        .map(|s| {
            Value::from(vec![
                cell(s.name.clone(), false),
                cell(s.count.to_string(), true),
                cell(number(s.min), true),
                cell(number(s.max), true),
                cell(number(s.mean()), true),
                cell(number(Some(s.first)), true),
                cell(number(Some(s.last)), true),
                cell(
                    s.last_step
                        .map_or_else(|| "–".to_owned(), |step| step.to_string()),
                    true,
                ),
            ])
        })
        .collect();
    let samples = store.read_hardware(uid)?;
    let hardware_charts = hardware_panels(&samples)
        .into_iter()
        .map(|panel| {
            let title = format!("{} — {}", card.name, panel.title);
            chart(panel, &title)
        })
        .collect::<Result<Vec<_>>>()?;
    let artifacts: Vec<Value> = store
        .list_artifacts(uid, None)?
        .iter()
        .map(|a| {
            Value::from(vec![
                cell(a.path.clone(), false),
                cell(a.size.to_string(), true),
                cell(a.media_type.clone(), false),
                cell(a.digest.clone(), false),
            ])
        })
        .collect();
    Ok(context! {
        uid => uid,
        space => card.space.clone(),
        name => card.name.clone(),
        version => card.version.to_string(),
        details => card_details(card),
        parameters => text_rows(parameters.iter().map(|p| [p.name.clone(), parameter(&p.value)])),
        summaries => summaries,
        hardware_samples => samples.len(),
        hardware_charts => hardware_charts,
        artifacts => artifacts,
    })
}

/// The report of experiments `uids` as one HTML document.
pub fn render_report(store: &dyn Store, uids: &[&str]) -> Result<String> {
    if uids.is_empty() {
        return Err(ReadError::InvalidOption {
            name: "uids",
            value: String::new(),
            reason: "a report needs at least one experiment".to_owned(),
        });
    }
    let cards = uids
        .iter()
        .map(|uid| {
            store
                .get_experiment(uid)?
                .ok_or_else(|| StoreError::ExperimentNotFound((*uid).to_owned()).into())
        })
        .collect::<Result<Vec<_>>>()?;
    let title = crate::distinct_labels(&cards).join(", ");
    let metric_charts = metric_panels(store, uids, None)?
        .into_iter()
        .map(|panel| {
            let title = panel.title.clone();
            chart(panel, &title)
        })
        .collect::<Result<Vec<_>>>()?;
    let experiments = cards
        .iter()
        .map(|card| experiment_section(store, card))
        .collect::<Result<Vec<_>>>()?;
    Ok(page(context! {
        title => title,
        style => STYLE,
        metric_charts => metric_charts,
        experiments => experiments,
    }))
}

/// The template filled with `values`.
#[allow(
    clippy::expect_used,
    reason = "the template is part of this crate and every value it reads is given: it \
              renders whenever it parses, which the report tests show"
)]
fn page(values: Value) -> String {
    let mut environment = Environment::new();
    // A name the template reads and no value has is an error, not an empty cell.
    environment.set_undefined_behavior(UndefinedBehavior::Strict);
    environment
        .add_template("report.html.j2", TEMPLATE)
        .and_then(|()| environment.get_template("report.html.j2")?.render(values))
        .expect("the report's template renders")
}

/// Writes the report of experiments `uids` to `path`.
pub fn write_report(store: &dyn Store, uids: &[&str], path: &Path) -> Result<()> {
    let html = render_report(store, uids)?;
    std::fs::write(path, html).map_err(|source| ReadError::Output {
        path: path.to_path_buf(),
        source,
    })
}
