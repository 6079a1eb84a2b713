//! One batch of the logging pipeline on its way into the store: written whole; where the
//! store refuses it for good, written again part by part (the points, the hardware samples,
//! each parameter) so that only what the store refuses goes to the recovery file.

use opsml_registry::{ExperimentWriter, PointRecord, RecoveryFile, StoreError, WriteBatch};
use opsml_types::{HardwareSample, Parameter};

/// What the writer holds between taking it from the queue and storing it.
#[derive(Default)]
pub(crate) struct Batch {
    pub(crate) names: Vec<String>,
    pub(crate) points: Vec<PointRecord>,
    pub(crate) parameters: Vec<Parameter>,
    pub(crate) hardware: Vec<HardwareSample>,
    /// `Queue::logged` when the batch was taken.
    pub(crate) upto: u64,
}

impl Batch {
    pub(crate) fn is_empty(&self) -> bool {
        self.points.is_empty() && self.parameters.is_empty() && self.hardware.is_empty()
    }

    fn whole(&self) -> WriteBatch<'_> {
        WriteBatch {
            names: &self.names,
            points: &self.points,
            parameters: &self.parameters,
            hardware: &self.hardware,
        }
    }

    /// How many parts a refused batch is written again in.
    fn parts(&self) -> usize {
        usize::from(!self.points.is_empty())
            + usize::from(!self.hardware.is_empty())
            + self.parameters.len()
    }

    /// The first part not yet stored: the points, else the hardware samples, else the first
    /// parameter.
    fn first_part(&self) -> WriteBatch<'_> {
        let none = WriteBatch {
            names: &self.names,
            points: &[],
            parameters: &[],
            hardware: &[],
        };
        if !self.points.is_empty() {
            WriteBatch {
                points: &self.points,
                ..none
            }
        } else if !self.hardware.is_empty() {
            WriteBatch {
                hardware: &self.hardware,
                ..none
            }
        } else {
            WriteBatch {
                parameters: &self.parameters[..1],
                ..none
            }
        }
    }

    /// Drops the part [`Batch::first_part`] named: stored or kept.
    fn drop_first_part(&mut self) {
        if !self.points.is_empty() {
            self.points.clear();
        } else if !self.hardware.is_empty() {
            self.hardware.clear();
        } else {
            self.parameters.remove(0);
        }
    }
}

/// What became of a batch handed to the store.
pub(crate) enum Outcome {
    Stored,
    /// The store did not take it, and the failure may pass: it is written again later.
    Failed(String),
    /// The store did not take (some of) it; that is in the recovery file, the rest stored.
    Kept(String),
    /// The experiment is ending, the store did not take it and it could not be kept either.
    Lost(String),
}

/// Attempts at storing a batch while the experiment ends before a failure that may pass is
/// given up on and the batch kept (a restarted database needs one attempt to reconnect).
pub(crate) const ATTEMPTS_AT_CLOSE: u32 = 3;

/// Writes `batch`; where the store refuses it for good, or still fails after
/// [`ATTEMPTS_AT_CLOSE`] attempts while the experiment ends, keeps it in `recovery` instead.
/// A batch refused for good is written again part by part first: what the store takes is
/// stored, only what it refuses is kept. Parts stored or kept leave `batch`; what is left in
/// it is written again later.
pub(crate) fn store_batch(
    writer: &mut dyn ExperimentWriter,
    mut recovery: Option<&mut RecoveryFile>,
    batch: &mut Batch,
    attempts_at_close: u32,
) -> Outcome {
    let closing = attempts_at_close > 0;
    let error = match writer.write(&batch.whole()) {
        Ok(()) => return Outcome::Stored,
        Err(e) => e,
    };
    if error.is_transient() || batch.parts() < 2 || recovery.is_none() {
        let give_up = !error.is_transient() || attempts_at_close >= ATTEMPTS_AT_CLOSE;
        return match recovery {
            Some(recovery) if give_up => keep(writer, recovery, &batch.whole(), &error, closing),
            _ => Outcome::Failed(error.to_string()),
        };
    }
    let mut kept = None;
    while !batch.is_empty() {
        let part = batch.first_part();
        let outcome = match writer.write(&part) {
            Ok(()) => Outcome::Stored,
            Err(e) if e.is_transient() => return Outcome::Failed(e.to_string()),
            Err(e) => match recovery.as_deref_mut() {
                Some(recovery) => keep(writer, recovery, &part, &e, closing),
                None => return Outcome::Failed(e.to_string()),
            },
        };
        match outcome {
            Outcome::Stored => {}
            Outcome::Kept(reason) => {
                kept.get_or_insert(reason);
            }
            failed @ (Outcome::Failed(_) | Outcome::Lost(_)) => return failed,
        }
        batch.drop_first_part();
    }
    kept.map_or(Outcome::Stored, Outcome::Kept)
}

/// Keeps `batch`, which the store did not take (`error`), in `recovery`.
fn keep(
    writer: &mut dyn ExperimentWriter,
    recovery: &mut RecoveryFile,
    batch: &WriteBatch<'_>,
    error: &StoreError,
    closing: bool,
) -> Outcome {
    match recovery.keep(batch, writer.next_batch_writer()) {
        Ok(()) => {
            writer.skip_batch();
            Outcome::Kept(error.to_string())
        }
        Err(e) if closing => Outcome::Lost(format!(
            "{error}; keeping the batch in a recovery file failed too ({e}): it is lost"
        )),
        Err(e) => Outcome::Failed(format!("{error}; keeping the batch in a file failed: {e}")),
    }
}
