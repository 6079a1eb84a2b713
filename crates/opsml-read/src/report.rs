//! `opsml report`: one self-contained HTML file (inline CSS and SVG, nothing fetched) with
//! the card details, parameters, metric summaries, a chart of every metric and of the
//! hardware series, and the artifact list of each experiment.

use std::fmt::Write as _;
use std::path::Path;

use opsml_plot::{escape_markup as escape, render_svg_fragment, Panel, Series};
use opsml_registry::{RegistryError, Store};
use opsml_types::{ExperimentCard, HardwareSample, ParameterValue};

use crate::plot::metric_panels;
use crate::{ReadError, Result};

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
    }
}

fn table(out: &mut String, header: &[&str], rows: &[Vec<(String, bool)>]) {
    out.push_str("<table><tr>");
    for h in header {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out.push_str("</tr>");
    for row in rows {
        out.push_str("<tr>");
        for (cell, numeric) in row {
            let class = if *numeric { " class=\"n\"" } else { "" };
            let _ = write!(out, "<td{class}>{}</td>", escape(cell));
        }
        out.push_str("</tr>");
    }
    out.push_str("</table>\n");
}

fn chart(out: &mut String, panel: Panel, title: &str) -> Result<()> {
    let svg = render_svg_fragment(&[panel], CHART_WIDTH, CHART_HEIGHT, title)?;
    let _ = writeln!(out, "<div class=\"chart\">{svg}</div>");
    Ok(())
}

fn card_details(out: &mut String, card: &ExperimentCard) {
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
    let rows: Vec<Vec<(String, bool)>> = rows
        .into_iter()
        .map(|(k, v)| vec![(k.to_owned(), false), (v, false)])
        .collect();
    table(out, &["field", "value"], &rows);
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

fn experiment_section(out: &mut String, store: &dyn Store, card: &ExperimentCard) -> Result<()> {
    let uid = card.uid.as_str();
    let _ = writeln!(
        out,
        "<h2 id=\"{}\">{} / {} v{}</h2>",
        escape(uid),
        escape(&card.space),
        escape(&card.name),
        card.version
    );
    card_details(out, card);

    out.push_str("<h3>Parameters</h3>\n");
    let parameters = store.read_parameters(uid, None)?;
    let rows: Vec<_> = parameters
        .iter()
        .map(|p| vec![(p.name.clone(), false), (parameter(&p.value), false)])
        .collect();
    table(out, &["name", "value"], &rows);

    out.push_str("<h3>Metric summaries</h3>\n");
    let summaries = store.metric_summaries(uid)?;
    let rows: Vec<_> = summaries
        .iter()
        .map(|s| {
            vec![
                (s.name.clone(), false),
                (s.count.to_string(), true),
                (number(s.min), true),
                (number(s.max), true),
                (number(s.mean()), true),
                (number(Some(s.first)), true),
                (number(Some(s.last)), true),
                (
                    s.last_step
                        .map_or_else(|| "–".to_owned(), |step| step.to_string()),
                    true,
                ),
            ]
        })
        .collect();
    table(
        out,
        &[
            "metric",
            "count",
            "min",
            "max",
            "mean",
            "first",
            "last",
            "last step",
        ],
        &rows,
    );

    let samples = store.read_hardware(uid)?;
    if !samples.is_empty() {
        let _ = writeln!(out, "<h3>Hardware ({} samples)</h3>", samples.len());
        for panel in hardware_panels(&samples) {
            let title = format!("{} — {}", card.name, panel.title);
            chart(out, panel, &title)?;
        }
    }

    out.push_str("<h3>Artifacts</h3>\n");
    let artifacts = store.list_artifacts(uid, None)?;
    let rows: Vec<_> = artifacts
        .iter()
        .map(|a| {
            vec![
                (a.path.clone(), false),
                (a.size.to_string(), true),
                (a.media_type.clone(), false),
                (a.digest.clone(), false),
            ]
        })
        .collect();
    table(out, &["path", "bytes", "type", "digest"], &rows);
    Ok(())
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
                .ok_or_else(|| RegistryError::ExperimentNotFound((*uid).to_owned()).into())
        })
        .collect::<Result<Vec<_>>>()?;
    let title = cards
        .iter()
        .map(|c| format!("{}:{}", c.name, c.version))
        .collect::<Vec<_>>()
        .join(", ");
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>opsml report: {t}</title><style>{STYLE}</style></head><body>\n\
         <h1>opsml report: {t}</h1>",
        t = escape(&title)
    );

    out.push_str("<h2>Metrics</h2>\n");
    let panels = metric_panels(store, uids, None)?;
    if panels.is_empty() {
        out.push_str("<p>No metrics were logged.</p>\n");
    }
    for panel in panels {
        let title = panel.title.clone();
        chart(&mut out, panel, &title)?;
    }
    for card in &cards {
        experiment_section(&mut out, store, card)?;
    }
    out.push_str("</body></html>\n");
    Ok(out)
}

/// Writes the report of experiments `uids` to `path`.
pub fn write_report(store: &dyn Store, uids: &[&str], path: &Path) -> Result<()> {
    let html = render_report(store, uids)?;
    std::fs::write(path, html).map_err(|source| ReadError::Output {
        path: path.to_path_buf(),
        source,
    })
}
