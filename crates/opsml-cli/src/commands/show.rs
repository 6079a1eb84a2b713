//! `opsml experiments show`: everything known about one experiment.
//!
//! On a terminal: titled sections of aligned `key  value` lines. Piped: one
//! `key<TAB>value` line each, keys prefixed by their section (`compute.os`,
//! `git.commit`, `param.lr`, `metric.loss.count`, `eval.auc`), times in ISO-8601 UTC, durations in
//! seconds and sizes in bytes.
//!
//! Metrics are shown from the summaries the writer keeps (count, min, max, last value
//! and step), so showing an experiment never reads its points.

use std::io::{self, Write};

use opsml_experiment::get_metric_summaries;
use opsml_registry::Store;
use opsml_types::{ExperimentCard, HardwareSummary, MeanPeak, MetricSummary};

use crate::context::{load_card, Context};
use crate::error::Result;
use crate::format::{
    float_text, human_bytes, human_duration, iso_time, local_time, opt_int, parameter_text,
    run_time, seconds,
};
use crate::table::write_tsv_row;

/// A titled group of `key  value` lines.
struct Section {
    title: &'static str,
    /// Put before each key in piped output.
    prefix: &'static str,
    rows: Vec<(String, String)>,
}

impl Section {
    fn new(title: &'static str, prefix: &'static str) -> Self {
        Self {
            title,
            prefix,
            rows: Vec::new(),
        }
    }

    fn row(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.rows.push((key.into(), value.into()));
    }
}

/// How values are written: for a person or for a program.
#[derive(Clone, Copy)]
struct Style {
    terminal: bool,
}

impl Style {
    fn time(self, time: chrono::DateTime<chrono::Utc>) -> String {
        if self.terminal {
            local_time(time)
        } else {
            iso_time(time)
        }
    }

    fn bytes(self, bytes: u64) -> String {
        if self.terminal {
            human_bytes(bytes)
        } else {
            bytes.to_string()
        }
    }

    fn mean_peak(self, value: MeanPeak, unit: &str) -> String {
        if self.terminal {
            format!("mean {:.1}{unit}, peak {:.1}{unit}", value.mean, value.peak)
        } else {
            format!("{} {}", value.mean, value.peak)
        }
    }

    fn mean_peak_bytes(self, value: MeanPeak) -> String {
        if self.terminal {
            format!(
                "mean {}, peak {}",
                human_bytes(value.mean as u64),
                human_bytes(value.peak as u64)
            )
        } else {
            format!("{} {}", value.mean as u64, value.peak as u64)
        }
    }
}

pub(super) fn run(context: &mut Context<'_, '_>, uid: &str) -> Result<()> {
    let store = context.store()?;
    let card = load_card(store.as_ref(), uid)?;
    let style = Style {
        terminal: context.terminal(),
    };
    let mut sections = vec![card_section(store.as_ref(), &card, style)?];
    sections.push(compute_section(&card, style));
    if let Some(git) = &card.metadata.git {
        let mut section = Section::new("Git", "git.");
        section.row("commit", git.commit.clone());
        section.row("branch", git.branch.clone().unwrap_or_default());
        section.row("dirty", git.dirty.to_string());
        section.row("remote", git.remote_url.clone().unwrap_or_default());
        sections.push(section);
    }
    if let Some(code) = &card.metadata.code {
        let mut section = Section::new("Code", "code.");
        section.row("root", code.root.clone());
        section.row("files", code.files.to_string());
        section.row("size", style.bytes(code.bytes));
        section.row("skipped", code.skipped.len().to_string());
        sections.push(section);
    }
    if let Some(hardware) = &card.metadata.hardware {
        sections.push(hardware_section(hardware, style));
    }
    let mut params = Section::new("Parameters", "param.");
    for parameter in store.read_parameters(uid, None)? {
        params.row(parameter.name, parameter_text(&parameter.value));
    }
    sections.push(params);
    sections.push(metrics_section(
        &get_metric_summaries(store.as_ref(), uid)?,
        style,
    ));
    if !card.metadata.eval_metrics.is_empty() {
        let mut section = Section::new("Evaluation metrics", "eval.");
        for (name, value) in &card.metadata.eval_metrics {
            section.row(name.clone(), float_text(*value));
        }
        sections.push(section);
    }
    let artifacts = store.list_artifacts(uid, None)?;
    let mut section = Section::new("Artifacts", "artifacts.");
    section.row("files", artifacts.len().to_string());
    section.row("size", style.bytes(artifacts.iter().map(|a| a.size).sum()));
    sections.push(section);
    write_sections(context.out, &sections, style)?;
    Ok(())
}

fn card_section(store: &dyn Store, card: &ExperimentCard, style: Style) -> Result<Section> {
    let mut section = Section::new("Experiment", "");
    section.row("uid", card.uid.clone());
    section.row("space", card.space.clone());
    section.row("name", card.name.clone());
    section.row("version", card.version.to_string());
    section.row("status", card.status.to_string());
    section.row("created", style.time(card.created_at));
    section.row(
        "ended",
        card.ended_at.map(|t| style.time(t)).unwrap_or_default(),
    );
    let duration = run_time(card.created_at, card.ended_at);
    section.row(
        "duration",
        if style.terminal {
            human_duration(duration)
        } else {
            seconds(duration)
        },
    );
    section.row("user", card.username.clone());
    section.row("opsml_version", card.opsml_version.clone());
    section.row("tags", card.tags.join(", "));
    section.row(
        "description",
        card.metadata.description.clone().unwrap_or_default(),
    );
    let describe = |uid: &str| -> Result<String> {
        Ok(match store.get_experiment(uid)? {
            Some(other) if style.terminal => {
                format!("{uid} ({} v{})", other.name, other.version)
            }
            _ => uid.to_owned(),
        })
    };
    section.row(
        "parent",
        card.parent_uid
            .as_deref()
            .map(describe)
            .transpose()?
            .unwrap_or_default(),
    );
    for child in &card.experimentcard_uids {
        section.row("child", describe(child)?);
    }
    Ok(section)
}

fn compute_section(card: &ExperimentCard, style: Style) -> Section {
    let env = &card.compute_environment;
    let mut section = Section::new("Compute environment", "compute.");
    section.row("host", env.hostname.clone());
    section.row("os", env.os.clone());
    section.row("cpu", env.cpu_model.clone());
    section.row("cpus", env.cpu_count.to_string());
    section.row("memory", style.bytes(env.total_memory_bytes));
    section.row("python", env.python_version.clone().unwrap_or_default());
    for gpu in &env.gpus {
        section.row(
            format!("gpu{}", gpu.index),
            format!("{} ({})", gpu.name, style.bytes(gpu.memory_total_bytes)),
        );
    }
    if let Some(driver) = &env.gpu_driver_version {
        section.row("gpu_driver", driver.clone());
    }
    if let Some(cuda) = &env.cuda_version {
        section.row("cuda", cuda.clone());
    }
    section
}

fn hardware_section(hardware: &HardwareSummary, style: Style) -> Section {
    let mut section = Section::new("Hardware use", "hardware.");
    section.row("samples", hardware.samples.to_string());
    section.row("cpu", style.mean_peak(hardware.cpu_percent, "%"));
    section.row(
        "process_cpu",
        style.mean_peak(hardware.process_cpu_percent, "%"),
    );
    section.row(
        "process_memory",
        style.mean_peak_bytes(hardware.process_rss_bytes),
    );
    // A reading no sample could take is left out, not shown as 0.
    for gpu in &hardware.gpus {
        if let Some(utilization) = gpu.utilization_percent {
            section.row(
                format!("gpu{}", gpu.index),
                style.mean_peak(utilization, "%"),
            );
        }
        if let Some(memory) = gpu.memory_used_bytes {
            section.row(
                format!("gpu{}_memory", gpu.index),
                style.mean_peak_bytes(memory),
            );
        }
    }
    section
}

/// Each metric with its number of points, extremes (NaN left out; none when every value
/// is NaN), and last value and step: on one line for a person, one key each for a program.
fn metrics_section(summaries: &[MetricSummary], style: Style) -> Section {
    let mut section = Section::new("Metrics", "metric.");
    for summary in summaries {
        let name = &summary.name;
        let extreme = |value: Option<f64>| value.map(float_text);
        if style.terminal {
            let count = summary.count;
            let text = format!(
                "{count} point{}, min {}, max {}, last {}{}",
                if count == 1 { "" } else { "s" },
                extreme(summary.min).as_deref().unwrap_or("-"),
                extreme(summary.max).as_deref().unwrap_or("-"),
                float_text(summary.last),
                summary
                    .last_step
                    .map(|step| format!(" at step {step}"))
                    .unwrap_or_default(),
            );
            section.row(name.clone(), text);
        } else {
            section.row(format!("{name}.count"), summary.count.to_string());
            section.row(
                format!("{name}.min"),
                extreme(summary.min).unwrap_or_default(),
            );
            section.row(
                format!("{name}.max"),
                extreme(summary.max).unwrap_or_default(),
            );
            section.row(format!("{name}.last"), float_text(summary.last));
            section.row(format!("{name}.last_step"), opt_int(summary.last_step));
        }
    }
    section
}

fn write_sections(out: &mut dyn Write, sections: &[Section], style: Style) -> io::Result<()> {
    if !style.terminal {
        for section in sections {
            for (key, value) in &section.rows {
                let key = format!("{}{key}", section.prefix);
                write_tsv_row(out, [key.as_str(), value.as_str()])?;
            }
        }
        return Ok(());
    }
    let width = sections
        .iter()
        .flat_map(|s| &s.rows)
        .map(|(key, _)| key.chars().count())
        .max()
        .unwrap_or(0);
    for (i, section) in sections.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        writeln!(out, "{}", section.title)?;
        if section.rows.is_empty() {
            writeln!(out, "  (none)")?;
        }
        for (key, value) in &section.rows {
            // Multi-line values (a remote URL never has one, a tag might) stay indented.
            let value = value.replace('\n', &format!("\n  {:width$}  ", ""));
            writeln!(out, "{}", format!("  {key:width$}  {value}").trim_end())?;
        }
    }
    Ok(())
}
