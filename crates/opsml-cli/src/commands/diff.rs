//! `opsml experiments diff A B`: what changed from run A to run B.
//!
//! As text: the runs, the parameters that differ, metric summaries and evaluation metrics
//! side by side, package changes, and the captured code as unified diffs. With `--json`,
//! one object of the same facts.

use opsml_experiment::{diff_runs, FileChange, Row, RunDiff};
use serde_json::{json, Value};

use crate::args::DiffArgs;
use crate::commands::compare::cell_json;
use crate::context::{distinct_uids, load_cards, Context};
use crate::error::Result;
use crate::points::write_ordered_object;

pub(super) fn run(context: &mut Context<'_, '_>, args: &DiffArgs) -> Result<()> {
    let given = [args.first.clone(), args.second.clone()];
    let uids = distinct_uids(&given)?;
    let (first, second) = (uids[0], uids[1]);
    let store = context.store()?;
    load_cards(store.as_ref(), &[first, second])?;
    let diff = diff_runs(&store, first, second)?;
    let out = &mut *context.out;
    if args.json {
        write_ordered_object(out, &json_fields(&diff))?;
        out.write_all(b"\n")?;
    } else {
        out.write_all(diff.text().as_bytes())?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

fn rows_json(rows: &[Row]) -> Value {
    Value::Array(
        rows.iter()
            .map(|row| {
                json!({
                    "key": row.key,
                    "first": cell_json(&row.cells[0]),
                    "second": cell_json(&row.cells[1]),
                })
            })
            .collect(),
    )
}

fn json_fields(diff: &RunDiff) -> Vec<(&'static str, Value)> {
    let [a, b] = &diff.runs;
    let git = |card: &opsml_experiment::ExperimentCard| {
        card.metadata.git.as_ref().map_or(
            Value::Null,
            |g| json!({"commit": g.commit, "dirty": g.dirty}),
        )
    };
    let packages = diff.packages.as_ref().map_or(Value::Null, |changes| {
        json!({
            "added": changes.added.iter().map(|(n, v)| json!({"name": n, "version": v})).collect::<Vec<_>>(),
            "removed": changes.removed.iter().map(|(n, v)| json!({"name": n, "version": v})).collect::<Vec<_>>(),
            "changed": changes.changed.iter().map(|(n, f, t)| json!({"name": n, "first": f, "second": t})).collect::<Vec<_>>(),
        })
    });
    let code: Vec<Value> = diff
        .code
        .iter()
        .map(|change| {
            let (kind, unified) = match change {
                FileChange::Added { .. } => ("added", None),
                FileChange::Removed { .. } => ("removed", None),
                FileChange::Binary { .. } => ("binary", None),
                FileChange::NotCompared { .. } => ("not_compared", None),
                FileChange::Changed { unified, .. } => ("changed", Some(unified.as_str())),
            };
            json!({"path": change.path(), "change": kind, "diff": unified})
        })
        .collect();
    vec![
        ("first", Value::from(a.uid.as_str())),
        ("second", Value::from(b.uid.as_str())),
        ("git", json!([git(a), git(b)])),
        ("parameters", rows_json(&diff.parameters)),
        ("metrics", rows_json(&diff.metrics)),
        ("eval_metrics", rows_json(&diff.eval_metrics)),
        ("packages", packages),
        ("code", Value::Array(code)),
        ("code_left_out", Value::from(diff.code_left_out)),
    ]
}
