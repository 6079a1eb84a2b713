//! Tracks a (simulated) training loop from Rust, with no Python involved.
//!
//! Run with `cargo run -p opsml-experiment --example training_loop`; it writes
//! to the store of `OPSML_TRACKING_URI` (default `./opsml.db`).

use opsml_experiment::{get_experiment_metrics, Experiment, ParameterValue, StartOptions, Status};

#[allow(clippy::print_stderr)] // the example reports what it stored
fn main() -> Result<(), opsml_experiment::ExperimentError> {
    let exp = Experiment::start(StartOptions {
        space: Some("rust-examples".into()),
        name: Some("training-loop".into()),
        tags: vec!["rust".into()],
        ..StartOptions::default()
    })?;
    exp.log_parameter("learning_rate", ParameterValue::Float(3e-4))?;
    exp.log_parameter("batch_size", ParameterValue::Int(64))?;

    for step in 0..10_000_i64 {
        let loss = (-(step as f64) / 2_000.0).exp();
        exp.log_metric("loss", loss, Some(step))?;
    }
    exp.end(Status::Completed)?;

    let card = exp.card();
    let points = get_experiment_metrics(exp.store()?.as_ref(), exp.uid(), None)?;
    eprintln!(
        "{}/{} v{} ({}) stored {} points; last loss {:.5}",
        card.space,
        card.name,
        card.version,
        card.status,
        points.len(),
        points.values.last().copied().unwrap_or(f64::NAN)
    );
    Ok(())
}
