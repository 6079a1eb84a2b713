//! Batches of remote writers (clients of a server): applied once per sequence number, into
//! full blocks, on either store (`OPSML_TEST_STORE=postgres` for PostgreSQL).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test stops at the first thing that is not as it should be"
)]

mod common;

use common::{batch, create, temp_store, TestStore};
use opsml_store::{
    Lease, PointRecord, RemoteWriter, Store, StoreError, WriteBatch, CHUNK_POINTS, REOPEN_BELOW,
};
use opsml_types::{MetricPoint, Parameter, ParameterValue};

fn records(name_id: u32, steps: std::ops::Range<i64>) -> Vec<PointRecord> {
    steps
        .map(|s| PointRecord {
            name_id,
            point: MetricPoint {
                step: Some(s),
                value: s as f64 / 2.0,
                timestamp: None,
                created_at: 1_700_000_000_000_000,
            },
        })
        .collect()
}

fn writer(id: &str, seq: u64) -> RemoteWriter {
    RemoteWriter {
        writer_id: id.to_owned(),
        seq,
        lease: Lease::current(),
    }
}

#[test]
fn a_resent_batch_is_applied_once() {
    let (_guard, store) = temp_store();
    let card = create(&*store, "s", "n");
    let names = vec!["loss".to_owned()];
    let first = records(0, 0..10);
    let second = records(0, 10..20);
    let parameters = [Parameter {
        name: "lr".into(),
        value: ParameterValue::Float(0.1),
    }];
    let with_parameters = WriteBatch {
        parameters: &parameters,
        ..batch(&names, &second)
    };
    assert!(store
        .append_batch(&card.uid, &writer("w1", 1), &batch(&names, &first))
        .unwrap());
    assert!(store
        .append_batch(&card.uid, &writer("w1", 2), &with_parameters)
        .unwrap());
    // The answer to batch 2 was lost: the writer sends it again, and an older one too.
    assert!(!store
        .append_batch(&card.uid, &writer("w1", 2), &with_parameters)
        .unwrap());
    assert!(!store
        .append_batch(&card.uid, &writer("w1", 1), &batch(&names, &first))
        .unwrap());

    let read = store.read_metrics(&card.uid, None).unwrap();
    assert_eq!(
        read.steps.iter().collect::<Vec<_>>(),
        (0..20).map(Some).collect::<Vec<_>>()
    );
    assert_eq!(store.read_parameters(&card.uid, None).unwrap().len(), 1);
    let summary = &store.metric_summaries(&card.uid).unwrap()[0];
    assert_eq!((summary.count, summary.last_step), (20, Some(19)));
}

/// Sends `batches` batches of `per_batch` points of "loss" (and 10 of "acc") as writer w1, and
/// one point per batch of "loss" as writer w2; returns the points of w1's "loss".
fn send_batches(store: &dyn Store, uid: &str, batches: i64, per_batch: i64) -> usize {
    let names = vec!["loss".to_owned(), "acc".to_owned()];
    for seq in 0..batches {
        let start = seq * per_batch;
        let mut points = records(0, start..start + per_batch);
        points.extend(records(1, start..start + 10));
        let other = records(0, 1_000_000 + seq..1_000_000 + seq + 1);
        let seq = u64::try_from(seq).unwrap() + 1;
        store
            .append_batch(uid, &writer("w1", seq), &batch(&names, &points))
            .unwrap();
        store
            .append_batch(uid, &writer("w2", seq), &batch(&names, &other))
            .unwrap();
    }
    usize::try_from(batches * per_batch).unwrap()
}

/// Point counts of the blocks of `loss` written by `writer_id`, oldest first.
fn block_sizes(test_store: &TestStore, writer_id: &str) -> Vec<i64> {
    let sql = format!(
        "SELECT point_count FROM metric_chunks WHERE name = 'loss' AND writer_id = '{writer_id}' \
         ORDER BY id"
    );
    test_store.column(&sql, &sql)
}

#[test]
fn small_batches_fill_blocks_and_writers_keep_their_own() {
    let (test_store, store) = temp_store();
    let card = create(&*store, "s", "n");
    let total = send_batches(&*store, &card.uid, 200, 100);
    let read = store
        .read_metrics(&card.uid, Some(&["loss".to_owned()]))
        .unwrap();
    assert_eq!(read.len(), total + 200);
    let steps: Vec<i64> = read.steps.iter().map(Option::unwrap).collect();
    assert!(steps.windows(2).all(|w| w[0] < w[1]), "in step order");
    // 200 batches of 100 points make a few blocks, each but the newest at least
    // REOPEN_BELOW points: never one block per batch.
    let sizes = block_sizes(&test_store, "w1");
    assert_eq!(sizes.iter().sum::<i64>(), i64::try_from(total).unwrap());
    assert!(sizes.len() <= total / REOPEN_BELOW + 1, "{sizes:?}");
    let (_newest, older) = sizes.split_last().unwrap();
    assert!(older.iter().all(|&n| n >= REOPEN_BELOW as i64), "{sizes:?}");
    assert_eq!(
        block_sizes(&test_store, "w2"),
        [200],
        "w2's points are its own"
    );
}

#[test]
fn large_batches_never_rewrite_a_large_block() {
    let (test_store, store) = temp_store();
    let card = create(&*store, "s", "n");
    let total = send_batches(&*store, &card.uid, 5, 3_000);
    let sizes = block_sizes(&test_store, "w1");
    // Each batch starts a block of its own: the one before holds REOPEN_BELOW points or more.
    assert_eq!(sizes, vec![3_000; 5]);
    assert_eq!(
        store
            .read_metrics(&card.uid, Some(&["loss".to_owned()]))
            .unwrap()
            .len(),
        total + 5
    );
    // A batch larger than a block fills whole blocks.
    let (test_store, store) = temp_store();
    send_batches(&*store, &create(&*store, "s", "big").uid, 1, 20_000);
    let full = CHUNK_POINTS as i64;
    assert_eq!(
        block_sizes(&test_store, "w1"),
        [full, full, 20_000 - 2 * full]
    );
}

#[test]
fn a_batch_for_a_missing_experiment_names_it() {
    let (_guard, store) = temp_store();
    let names = vec!["loss".to_owned()];
    let points = records(0, 0..1);
    let err = store
        .append_batch("no-such-uid", &writer("w1", 1), &batch(&names, &points))
        .unwrap_err();
    assert!(matches!(err, StoreError::ExperimentNotFound(_)), "{err}");
}

#[test]
fn batches_out_of_sequence_or_from_another_experiments_writer_are_refused() {
    let (_guard, store) = temp_store();
    let card = create(&*store, "s", "n");
    let other = create(&*store, "s", "other");
    let names = vec!["loss".to_owned()];
    let points = records(0, 0..5);
    let refused = |uid: &str, writer: RemoteWriter| match store.append_batch(
        uid,
        &writer,
        &batch(&names, &points),
    ) {
        Err(StoreError::BatchRefused(why)) => why,
        other => panic!("expected a refusal, got {other:?}"),
    };
    let why = refused(&card.uid, writer("w1", 3));
    assert!(why.contains("batches 1 to 2 are missing"), "{why}");
    let why = refused(&card.uid, writer("w1", 0));
    assert!(why.contains("outside 1"), "{why}");
    let why = refused(&card.uid, writer("w1", u64::MAX));
    assert!(why.contains("outside 1"), "{why}");
    assert!(store
        .append_batch(&card.uid, &writer("w1", 1), &batch(&names, &points))
        .unwrap());
    // The same writer id on another experiment would share (and spoil) its sequence.
    let why = refused(&other.uid, writer("w1", 2));
    assert!(why.contains("another experiment"), "{why}");
    assert!(store.read_metrics(&other.uid, None).unwrap().is_empty());
    assert_eq!(store.read_metrics(&card.uid, None).unwrap().len(), 5);
}

#[test]
fn a_resend_after_the_experiment_ended_is_still_applied_once() {
    let (_guard, store) = temp_store();
    let card = create(&*store, "s", "n");
    let names = vec!["loss".to_owned()];
    let points = records(0, 0..5);
    assert!(store
        .append_batch(&card.uid, &writer("w1", 1), &batch(&names, &points))
        .unwrap());
    store
        .set_status(&card.uid, opsml_types::Status::Completed, None)
        .unwrap();
    assert!(!store
        .append_batch(&card.uid, &writer("w1", 1), &batch(&names, &points))
        .unwrap());
    assert_eq!(store.read_metrics(&card.uid, None).unwrap().len(), 5);
}
