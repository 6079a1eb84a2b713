#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test stops at the first thing that is not as it should be"
)]
use std::sync::Arc;
use std::time::Duration;

mod common;

use common::{start, temp_store};
use opsml_experiment::{
    get_experiment_metrics, get_experiment_parameters, ExperimentError, MetricPoint,
    ParameterValue, StartOptions, Status,
};
use opsml_registry::{SqliteStore, Store};
use opsml_types::Parameter;

/// A second, independent view of the same file: what another process would see.
fn reopen(dir: &tempfile::TempDir) -> SqliteStore {
    SqliteStore::open(&dir.path().join("opsml.db")).unwrap()
}

fn options(name: &str) -> StartOptions {
    StartOptions {
        space: Some("tests".into()),
        name: Some(name.into()),
        ..StartOptions::default()
    }
}

#[test]
fn ending_drains_every_point_in_order() {
    let (dir, store) = temp_store();
    let exp = start(&dir, store, options("drain")).unwrap();
    for step in 0..50_000 {
        exp.log_metric("loss", f64::from(step), Some(i64::from(step)))
            .unwrap();
        exp.log_metric("acc", -f64::from(step), Some(i64::from(step)))
            .unwrap();
    }
    exp.end(Status::Completed).unwrap();

    let other = reopen(&dir);
    let points = other.read_metrics(exp.uid(), None).unwrap();
    assert_eq!(points.len(), 100_000);
    assert_eq!(points.names, ["acc", "loss"]);
    let loss: Vec<f64> = points.values[50_000..].to_vec();
    assert_eq!(loss, (0..50_000).map(f64::from).collect::<Vec<_>>());
    let card = other.get_experiment(exp.uid()).unwrap().unwrap();
    assert_eq!(card.status, Status::Completed);
    assert!(card.ended_at.is_some());
}

#[test]
fn a_full_queue_blocks_producers_and_loses_nothing() {
    let (dir, store) = temp_store();
    let exp = Arc::new(
        start(
            &dir,
            store,
            StartOptions {
                queue_capacity: 64,
                flush_interval: Duration::from_millis(5),
                ..options("full-queue")
            },
        )
        .unwrap(),
    );
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let exp = Arc::clone(&exp);
            std::thread::spawn(move || {
                for step in 0..20_000 {
                    exp.log_metric(&format!("thread{t}"), 1.0, Some(step))
                        .unwrap();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    exp.flush().unwrap();
    let points = reopen(&dir).read_metrics(exp.uid(), None).unwrap();
    assert_eq!(points.len(), 80_000);
    for (name_id, name) in points.names.iter().enumerate() {
        let steps: Vec<i64> = points
            .name_ids
            .iter()
            .zip(points.steps.iter())
            .filter(|(id, _)| **id as usize == name_id)
            .map(|(_, s)| s.unwrap())
            .collect();
        assert_eq!(steps, (0..20_000).collect::<Vec<_>>(), "{name}");
    }
}

#[test]
fn flush_makes_points_and_parameters_visible_to_other_readers() {
    let (dir, store) = temp_store();
    let exp = start(&dir, store, options("flush")).unwrap();
    exp.log_parameter("lr", ParameterValue::Float(0.5)).unwrap();
    for step in 0..1_000 {
        exp.log_metric("m", 2.0, Some(step)).unwrap();
    }
    exp.flush().unwrap();
    let other = reopen(&dir);
    assert_eq!(other.read_metrics(exp.uid(), None).unwrap().len(), 1_000);
    assert_eq!(other.read_parameters(exp.uid(), None).unwrap().len(), 1);
    assert_eq!(
        other.get_experiment(exp.uid()).unwrap().unwrap().status,
        Status::Running
    );
}

#[test]
fn reads_in_the_same_process_include_what_was_just_logged() {
    let (dir, store) = temp_store();
    let exp = start(&dir, Arc::clone(&store), options("read-your-writes")).unwrap();
    exp.log_metric("m", 1.0, None).unwrap();
    exp.log_parameter("p", ParameterValue::Bool(true)).unwrap();
    assert_eq!(
        get_experiment_metrics(&*store, exp.uid(), None)
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        get_experiment_parameters(&*store, exp.uid(), None).unwrap()[0].value,
        ParameterValue::Bool(true)
    );
}

#[test]
fn logging_after_end_fails_and_keeps_what_was_stored() {
    let (dir, store) = temp_store();
    let exp = start(&dir, Arc::clone(&store), options("ended")).unwrap();
    exp.log_metric("m", 1.0, Some(0)).unwrap();
    exp.end(Status::Completed).unwrap();
    exp.end(Status::Failed).unwrap();
    let err = exp.log_metric("m", 2.0, Some(1)).unwrap_err();
    assert!(matches!(err, ExperimentError::Ended { .. }), "{err}");
    assert!(err.to_string().contains(exp.uid()));
    assert!(exp.log_parameter("p", ParameterValue::Int(1)).is_err());
    assert_eq!(store.read_metrics(exp.uid(), None).unwrap().len(), 1);
    assert_eq!(exp.card().status, Status::Completed);
}

#[test]
fn resuming_continues_the_same_experiment() {
    let (dir, store) = temp_store();
    let first = start(&dir, Arc::clone(&store), options("resume")).unwrap();
    for step in 0..10 {
        first.log_metric("m", 1.0, Some(step)).unwrap();
    }
    first.end(Status::Failed).unwrap();
    let uid = first.uid().to_owned();

    let resumed = start(
        &dir,
        Arc::clone(&store),
        StartOptions {
            experiment_uid: Some(uid.clone()),
            ..StartOptions::default()
        },
    )
    .unwrap();
    assert_eq!(resumed.uid(), uid);
    assert_eq!(
        store.get_experiment(&uid).unwrap().unwrap().status,
        Status::Running
    );
    assert_eq!(store.get_experiment(&uid).unwrap().unwrap().ended_at, None);
    for step in 10..20 {
        resumed.log_metric("m", 1.0, Some(step)).unwrap();
    }
    resumed.end(Status::Completed).unwrap();
    let points = store.read_metrics(&uid, None).unwrap();
    assert_eq!(
        points.steps.iter().collect::<Vec<_>>(),
        (0..20).map(Some).collect::<Vec<_>>()
    );
    assert_eq!(
        store.get_experiment(&uid).unwrap().unwrap().status,
        Status::Completed
    );

    let err = start(
        &dir,
        Arc::clone(&store),
        StartOptions {
            experiment_uid: Some(uid.clone()),
            name: Some("another-name".into()),
            ..StartOptions::default()
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("another-name"), "{err}");
    let err = start(
        &dir,
        store,
        StartOptions {
            experiment_uid: Some("no-such-uid".into()),
            ..StartOptions::default()
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("no-such-uid"), "{err}");
}

#[test]
fn children_are_linked_both_ways_and_inherit_the_space() {
    let (dir, store) = temp_store();
    let parent = start(&dir, Arc::clone(&store), options("parent")).unwrap();
    let child = parent
        .start_child(StartOptions {
            name: Some("child".into()),
            ..StartOptions::default()
        })
        .unwrap();
    let elsewhere = parent
        .start_child(StartOptions {
            space: Some("other".into()),
            ..StartOptions::default()
        })
        .unwrap();
    assert_eq!(child.card().space, "tests");
    assert_eq!(elsewhere.card().space, "other");
    assert_eq!(child.card().parent_uid.as_deref(), Some(parent.uid()));
    let expected = vec![child.uid().to_owned(), elsewhere.uid().to_owned()];
    assert_eq!(parent.card().experimentcard_uids, expected);
    child.end(Status::Completed).unwrap();
    elsewhere.end(Status::Completed).unwrap();
    parent.end(Status::Completed).unwrap();
    let stored = store.get_experiment(parent.uid()).unwrap().unwrap();
    assert_eq!(stored.experimentcard_uids, expected);
}

#[test]
fn dropping_an_experiment_stores_its_data_and_completes_it() {
    let (dir, store) = temp_store();
    let exp = start(&dir, Arc::clone(&store), options("dropped")).unwrap();
    let uid = exp.uid().to_owned();
    exp.log_metric("m", 1.0, None).unwrap();
    drop(exp);
    assert_eq!(
        store.get_experiment(&uid).unwrap().unwrap().status,
        Status::Completed
    );
    assert_eq!(store.read_metrics(&uid, None).unwrap().len(), 1);
}

#[test]
fn a_batch_with_a_bad_name_logs_nothing() {
    let (dir, store) = temp_store();
    let exp = start(&dir, Arc::clone(&store), options("batch")).unwrap();
    let point = MetricPoint {
        step: None,
        value: 1.0,
        timestamp: None,
        created_at: 0,
    };
    let err = exp
        .log_points([("good", point), ("", point), ("also-good", point)])
        .unwrap_err();
    assert!(matches!(err, ExperimentError::Invalid(_)), "{err}");
    exp.log_points([("good", point), ("also-good", point)])
        .unwrap();
    exp.end(Status::Completed).unwrap();
    assert_eq!(store.read_metrics(exp.uid(), None).unwrap().len(), 2);
}

#[test]
fn a_batch_the_store_refuses_is_kept_reported_and_replayed_once_the_cause_is_gone() {
    let (dir, store) = temp_store();
    let exp = start(
        &dir,
        Arc::clone(&store),
        StartOptions {
            flush_interval: Duration::from_millis(10),
            ..options("refusing")
        },
    )
    .unwrap();
    for step in 0..50 {
        exp.log_metric("m", 1.0, Some(step)).unwrap();
    }
    exp.flush().unwrap();
    let control = rusqlite::Connection::open(dir.path().join("opsml.db")).unwrap();
    control
        .execute_batch(
            "CREATE TABLE refuse_writes (on_ INTEGER);
             INSERT INTO refuse_writes VALUES (1);
             CREATE TRIGGER refuse_chunk_insert BEFORE INSERT ON metric_chunks
             WHEN EXISTS (SELECT 1 FROM refuse_writes) BEGIN SELECT RAISE(ABORT, 'refused'); END;
             CREATE TRIGGER refuse_chunk_update BEFORE UPDATE ON metric_chunks
             WHEN EXISTS (SELECT 1 FROM refuse_writes) BEGIN SELECT RAISE(ABORT, 'refused'); END;",
        )
        .unwrap();
    for step in 50..100 {
        exp.log_metric("m", 1.0, Some(step)).unwrap();
    }
    // A refusal no retry cures: the batch goes to the recovery file, so nothing waits.
    exp.flush().unwrap();
    let err = exp.end(Status::Completed).unwrap_err();
    assert!(matches!(err, ExperimentError::Kept { .. }), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("refused") && message.contains("50 point(s)"),
        "{message}"
    );
    assert!(message.contains("opsml sync"), "{message}");
    let stored = || {
        store
            .read_metrics(exp.uid(), None)
            .unwrap()
            .steps
            .iter()
            .count()
    };
    assert_eq!(stored(), 50);
    assert_eq!(
        store.get_experiment(exp.uid()).unwrap().unwrap().status,
        Status::Failed
    );

    control.execute("DELETE FROM refuse_writes", []).unwrap();
    let report = opsml_registry::replay_recovery(store.as_ref());
    assert_eq!(
        (report.batches_sent, report.statuses_sent),
        (1, 1),
        "{report:?}"
    );
    let points = reopen(&dir).read_metrics(exp.uid(), None).unwrap();
    assert_eq!(
        points.steps.iter().collect::<Vec<_>>(),
        (0..100).map(Some).collect::<Vec<_>>()
    );
    assert_eq!(
        store.get_experiment(exp.uid()).unwrap().unwrap().status,
        Status::Completed
    );
    // Applied once: a second replay finds nothing.
    assert_eq!(
        opsml_registry::replay_recovery(store.as_ref()).batches_sent,
        0
    );
}

#[test]
fn hardware_is_sampled_at_start_at_each_interval_and_at_the_end() {
    let (dir, store) = temp_store();
    let exp = start(
        &dir,
        Arc::clone(&store),
        StartOptions {
            log_hardware: true,
            hardware_interval: Some(Duration::from_millis(100)),
            ..options("hardware")
        },
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(350));
    exp.end(Status::Completed).unwrap();
    let samples = opsml_experiment::get_experiment_hardware_metrics(&*store, exp.uid()).unwrap();
    assert!(
        (4..=7).contains(&samples.len()),
        "{} samples",
        samples.len()
    );
    assert!(samples.windows(2).all(|w| w[0].timestamp <= w[1].timestamp));
    assert!(samples
        .iter()
        .all(|s| s.process.as_ref().is_some_and(|p| p.rss_bytes > 0)));
    let card = store.get_experiment(exp.uid()).unwrap().unwrap();
    let summary = card.metadata.hardware.expect("summary stored on the card");
    assert_eq!(summary.samples, samples.len() as u64);
    assert!(summary.process_rss_bytes.peak > 0.0);
}

#[test]
fn only_the_part_of_a_batch_the_store_refuses_is_kept() {
    let (dir, store) = temp_store();
    let control = rusqlite::Connection::open(dir.path().join("opsml.db")).unwrap();
    let exp = start(
        &dir,
        Arc::clone(&store),
        StartOptions {
            // One batch holds everything logged below.
            flush_interval: Duration::from_mins(1),
            ..options("partly-refused")
        },
    )
    .unwrap();
    control
        .execute_batch(
            "CREATE TRIGGER refuse_poison BEFORE INSERT ON parameters WHEN NEW.name = 'poison'
             BEGIN SELECT RAISE(ABORT, 'the parameter poison is refused'); END;",
        )
        .unwrap();
    for step in 0..30 {
        exp.log_metric("loss", 1.0 / (step as f64 + 1.0), Some(step))
            .unwrap();
    }
    exp.log_parameters(vec![
        Parameter {
            name: "lr".to_owned(),
            value: ParameterValue::Float(0.1),
        },
        Parameter {
            name: "poison".to_owned(),
            value: ParameterValue::Str("refused".to_owned()),
        },
        Parameter {
            name: "epochs".to_owned(),
            value: ParameterValue::Int(3),
        },
    ])
    .unwrap();
    exp.flush().unwrap();
    let err = exp.end(Status::Completed).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("0 point(s), 1 parameter(s) and 0 hardware sample(s) in 1 batch(es)"),
        "{message}"
    );
    // Everything else of the batch is stored.
    assert_eq!(store.read_metrics(exp.uid(), None).unwrap().len(), 30);
    let names: Vec<String> = store
        .read_parameters(exp.uid(), None)
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names, ["lr", "epochs"]);

    control.execute_batch("DROP TRIGGER refuse_poison").unwrap();
    let report = opsml_registry::replay_recovery(store.as_ref());
    assert_eq!((report.batches_sent, report.statuses_sent), (1, 1));
    assert_eq!(store.read_parameters(exp.uid(), None).unwrap().len(), 3);
    assert_eq!(store.read_metrics(exp.uid(), None).unwrap().len(), 30);
}

#[test]
fn too_short_hardware_intervals_are_refused_by_value() {
    let (dir, store) = temp_store();
    let err = start(
        &dir,
        store,
        StartOptions {
            log_hardware: true,
            hardware_interval: Some(Duration::from_millis(50)),
            ..options("hw")
        },
    )
    .unwrap_err();
    assert!(
        matches!(err, ExperimentError::InvalidOption { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("0.05"), "{err}");
}
