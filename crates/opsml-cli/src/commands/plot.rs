//! `opsml experiments plot`: a chart of the metrics of experiments, PNG or SVG.

use std::collections::BTreeSet;
use std::path::Path;

use opsml_experiment::get_metric_summaries;
use opsml_read::plot_metrics;

use crate::args::PlotArgs;
use crate::context::{distinct_uids, load_cards, Context};
use crate::error::{CliError, Result};
use crate::output::write_via_temp;

pub(super) fn run(context: &mut Context<'_, '_>, args: &PlotArgs) -> Result<()> {
    check_extension(&args.output)?;
    let uids = distinct_uids(&args.uids)?;
    let store = context.store()?;
    load_cards(store.as_ref(), &uids)?;
    // Every metric name any of the experiments has.
    let mut available = BTreeSet::new();
    for uid in &uids {
        available.extend(
            get_metric_summaries(store.as_ref(), uid)?
                .into_iter()
                .map(|s| s.name),
        );
    }
    if available.is_empty() {
        return Err(CliError::NothingToPlot(if uids.len() == 1 {
            format!("experiment {} has", uids[0])
        } else {
            "the experiments have".to_owned()
        }));
    }
    if let Some(missing) = args.names.iter().find(|n| !available.contains(*n)) {
        return Err(CliError::NoMetricToPlot {
            name: missing.clone(),
            available: available.into_iter().collect::<Vec<_>>().join(", "),
        });
    }
    let names = (!args.names.is_empty()).then_some(args.names.as_slice());
    write_via_temp(&args.output, "plot", |temp| {
        Ok(plot_metrics(store.as_ref(), &uids, names, temp)?)
    })?;
    writeln!(context.out, "{}", args.output.display())?;
    Ok(())
}

/// Charts are PNG or SVG, chosen by the extension (in any case).
fn check_extension(path: &Path) -> Result<()> {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("png" | "svg") => Ok(()),
        _ => Err(CliError::Usage(format!(
            "cannot plot to {}: a chart is written as PNG or SVG, so the path must end in \
             .png or .svg",
            path.display()
        ))),
    }
}
