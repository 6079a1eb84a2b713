mod common;

use common::{create, temp_store};
use opsml_store::{PointRecord, StoreError, WriteBatch, CHUNK_POINTS};
use opsml_types::{MetricPoint, Parameter, ParameterValue};

fn point(step: Option<i64>, value: f64) -> MetricPoint {
    MetricPoint {
        step,
        value,
        timestamp: None,
        created_at: 1_700_000_000_000_000,
    }
}

fn records(name_id: u32, steps: impl IntoIterator<Item = i64>) -> Vec<PointRecord> {
    steps
        .into_iter()
        .map(|s| PointRecord {
            name_id,
            point: point(Some(s), s as f64),
        })
        .collect()
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn points_spanning_many_chunks_and_flushes_read_back_complete() {
    let (_dir, store) = temp_store();
    let card = create(&*store, "s", "n");
    let mut writer = store.open_writer(&card.uid).unwrap();
    let names = names(&["loss", "acc"]);
    let total = CHUNK_POINTS * 3 + 17;
    // Many small flushes: the open tail is rewritten each time.
    for start in (0..total).step_by(1000) {
        let end = (start + 1000).min(total);
        let mut batch = records(0, start as i64..end as i64);
        batch.extend(records(1, start as i64..end as i64));
        writer
            .write(&WriteBatch {
                names: &names,
                points: &batch,
                parameters: &[],
                hardware: &[],
            })
            .unwrap();
    }
    let read = store.read_metrics(&card.uid, None).unwrap();
    assert_eq!(read.len(), total * 2);
    assert_eq!(read.names, ["acc", "loss"]);
    for (i, step) in read.steps.iter().take(total).enumerate() {
        assert_eq!(step, Some(i as i64));
        assert_eq!(read.values[i], i as f64);
        assert_eq!(read.name(i), "acc");
    }
    let only_loss = store
        .read_metrics(&card.uid, Some(&["loss".to_owned()]))
        .unwrap();
    assert_eq!(only_loss.len(), total);
    assert_eq!(only_loss.names, ["loss"]);
}

#[test]
fn points_are_ordered_by_step_then_insertion_with_missing_steps_first() {
    let (_dir, store) = temp_store();
    let card = create(&*store, "s", "n");
    let mut writer = store.open_writer(&card.uid).unwrap();
    let names = names(&["m"]);
    let logged = [
        point(Some(3), 30.0),
        point(Some(1), 10.0),
        point(None, -1.0),
        point(Some(2), 20.0),
        point(Some(1), 11.0),
    ];
    let batch: Vec<PointRecord> = logged
        .iter()
        .map(|p| PointRecord {
            name_id: 0,
            point: *p,
        })
        .collect();
    writer
        .write(&WriteBatch {
            names: &names,
            points: &batch,
            parameters: &[],
            hardware: &[],
        })
        .unwrap();
    let read = store.read_metrics(&card.uid, None).unwrap();
    assert_eq!(
        read.steps.iter().collect::<Vec<_>>(),
        [None, Some(1), Some(1), Some(2), Some(3)]
    );
    assert_eq!(read.values, [-1.0, 10.0, 11.0, 20.0, 30.0]);
}

#[test]
fn a_second_writer_on_the_same_experiment_adds_rather_than_overwrites() {
    let (_dir, store) = temp_store();
    let card = create(&*store, "s", "n");
    let names = names(&["m"]);
    for round in 0..2 {
        let mut writer = store.open_writer(&card.uid).unwrap();
        let batch = records(0, round * 10..round * 10 + 10);
        writer
            .write(&WriteBatch {
                names: &names,
                points: &batch,
                parameters: &[],
                hardware: &[],
            })
            .unwrap();
    }
    let read = store.read_metrics(&card.uid, None).unwrap();
    assert_eq!(read.len(), 20);
}

#[test]
fn parameters_keep_types_and_later_values_replace_earlier_ones() {
    let (_dir, store) = temp_store();
    let card = create(&*store, "s", "n");
    let mut writer = store.open_writer(&card.uid).unwrap();
    let params = vec![
        Parameter {
            name: "lr".into(),
            value: ParameterValue::Float(0.1),
        },
        Parameter {
            name: "epochs".into(),
            value: ParameterValue::Int(3),
        },
        Parameter {
            name: "lr".into(),
            value: ParameterValue::Float(0.01),
        },
        Parameter {
            name: "augment".into(),
            value: ParameterValue::Bool(false),
        },
    ];
    writer
        .write(&WriteBatch {
            names: &[],
            points: &[],
            parameters: &params,
            hardware: &[],
        })
        .unwrap();
    let read = store.read_parameters(&card.uid, None).unwrap();
    assert_eq!(
        read,
        vec![
            Parameter {
                name: "lr".into(),
                value: ParameterValue::Float(0.01)
            },
            Parameter {
                name: "epochs".into(),
                value: ParameterValue::Int(3)
            },
            Parameter {
                name: "augment".into(),
                value: ParameterValue::Bool(false)
            },
        ]
    );
    let one = store
        .read_parameters(&card.uid, Some(&["epochs".to_owned()]))
        .unwrap();
    assert_eq!(one.len(), 1);
}

#[test]
fn deleting_an_experiment_removes_its_points_and_parameters() {
    let (_dir, store) = temp_store();
    let card = create(&*store, "s", "n");
    let keep = create(&*store, "s", "other");
    for uid in [&card.uid, &keep.uid] {
        let mut writer = store.open_writer(uid).unwrap();
        writer
            .write(&WriteBatch {
                names: &names(&["m"]),
                points: &records(0, 0..100),
                parameters: &[Parameter {
                    name: "p".into(),
                    value: ParameterValue::Int(1),
                }],
                hardware: &[],
            })
            .unwrap();
    }
    assert!(store.delete_experiment(&card.uid).unwrap());
    assert!(matches!(
        store.read_metrics(&card.uid, None),
        Err(StoreError::ExperimentNotFound(_))
    ));
    assert!(matches!(
        store.read_parameters(&card.uid, None),
        Err(StoreError::ExperimentNotFound(_))
    ));
    assert_eq!(store.read_metrics(&keep.uid, None).unwrap().len(), 100);
    assert_eq!(store.read_parameters(&keep.uid, None).unwrap().len(), 1);
}

#[test]
fn a_failed_write_rolls_back_and_the_retried_batch_is_stored_once() {
    let (test_store, store) = temp_store();
    let card = create(&*store, "s", "n");
    test_store.install_write_failure();
    let mut writer = store.open_writer(&card.uid).unwrap();
    let names = names(&["m"]);
    let first = records(0, 0..5);
    writer
        .write(&WriteBatch {
            names: &names,
            points: &first,
            parameters: &[],
            hardware: &[],
        })
        .unwrap();

    test_store.fail_writes(true);
    let second = records(0, 5..10);
    let failed = writer.write(&WriteBatch {
        names: &names,
        points: &second,
        parameters: &[Parameter {
            name: "p".into(),
            value: ParameterValue::Int(1),
        }],
        hardware: &[],
    });
    let err = failed.unwrap_err();
    assert!(err.to_string().contains("injected failure"), "{err}");
    // Nothing of the failed batch is visible, and nothing earlier was lost.
    assert_eq!(store.read_metrics(&card.uid, None).unwrap().len(), 5);
    assert!(store.read_parameters(&card.uid, None).unwrap().is_empty());

    test_store.fail_writes(false);
    writer
        .write(&WriteBatch {
            names: &names,
            points: &second,
            parameters: &[Parameter {
                name: "p".into(),
                value: ParameterValue::Int(1),
            }],
            hardware: &[],
        })
        .unwrap();
    writer
        .write(&WriteBatch {
            names: &names,
            points: &records(0, 10..12),
            parameters: &[],
            hardware: &[],
        })
        .unwrap();
    let read = store.read_metrics(&card.uid, None).unwrap();
    assert_eq!(
        read.steps.iter().collect::<Vec<_>>(),
        (0..12).map(Some).collect::<Vec<_>>()
    );
    assert_eq!(store.read_parameters(&card.uid, None).unwrap().len(), 1);
}

#[test]
fn opening_a_writer_for_a_missing_experiment_names_it() {
    let (_dir, store) = temp_store();
    let err = store.open_writer("nope").err().expect("must fail");
    assert!(err.to_string().contains("\"nope\""), "{err}");
}

#[test]
fn a_table_of_runs_reads_each_runs_parameters_and_summaries_in_the_order_asked() {
    let (_dir, store) = temp_store();
    let first = create(&*store, "s", "first");
    let second = create(&*store, "s", "second");
    let empty = create(&*store, "s", "empty");
    for (card, lr, points) in [(&first, 0.1, 3), (&second, 0.2, 5)] {
        let metric = names(&["loss"]);
        let mut writer = store.open_writer(&card.uid).unwrap();
        writer
            .write(&WriteBatch {
                names: &metric,
                points: &records(0, 0..points),
                parameters: &[Parameter {
                    name: "lr".into(),
                    value: ParameterValue::Float(lr),
                }],
                hardware: &[],
            })
            .unwrap();
    }
    let uids = [
        second.uid.clone(),
        "no-such-experiment".to_owned(),
        empty.uid.clone(),
        first.uid.clone(),
    ];
    let cells = store.table_cells(&uids).unwrap();
    assert_eq!(cells.parameters.keys().collect::<Vec<_>>(), ["lr"]);
    assert_eq!(
        cells.parameters["lr"],
        [
            Some(ParameterValue::Float(0.2)),
            None,
            None,
            Some(ParameterValue::Float(0.1))
        ]
    );
    let loss = &cells.summaries["loss"];
    assert_eq!(loss.len(), 4);
    let mut stored = store.metric_summaries(&second.uid).unwrap().remove(0);
    stored.name = String::new();
    assert_eq!(loss[0].as_ref(), Some(&stored), "the name is the column's");
    assert_eq!(loss[0].as_ref().map(|s| s.count), Some(5));
    assert!(loss[1].is_none() && loss[2].is_none());
    assert_eq!(loss[3].as_ref().map(|s| s.last), Some(2.0));
}
