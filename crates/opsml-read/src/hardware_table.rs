//! Hardware samples as an Arrow record batch, for the Python front (which hands it over
//! through the Arrow PyCapsule interface) and any Rust reader.

use std::collections::BTreeSet;
use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, TimestampMicrosecondArray};
use arrow_schema::{ArrowError, DataType, Field, Schema, TimeUnit};
use opsml_types::{GpuSample, HardwareSample};

/// A column of optional integers (bytes, counts) as Int64.
fn ints(samples: &[HardwareSample], field: impl Fn(&HardwareSample) -> Option<u64>) -> ArrayRef {
    Arc::new(
        samples
            .iter()
            .map(|s| field(s).map(|v| i64::try_from(v).unwrap_or(i64::MAX)))
            .collect::<Int64Array>(),
    )
}

/// A column of optional numbers (percentages, rates) as Float64.
fn floats(samples: &[HardwareSample], field: impl Fn(&HardwareSample) -> Option<f64>) -> ArrayRef {
    Arc::new(samples.iter().map(field).collect::<Float64Array>())
}

fn gpu(sample: &HardwareSample, index: u32) -> Option<&GpuSample> {
    sample.gpus.iter().find(|g| g.index == index)
}

/// Six columns per GPU index seen in any sample (`gpu<index>_...`, null where a sample lacks
/// the device).
fn gpu_columns(samples: &[HardwareSample], columns: &mut Vec<(String, ArrayRef)>) {
    let gpus: BTreeSet<u32> = samples
        .iter()
        .flat_map(|s| s.gpus.iter().map(|g| g.index))
        .collect();
    for index in gpus {
        let per_gpu: [(&str, ArrayRef); 6] = [
            (
                "utilization_percent",
                floats(samples, |s| {
                    gpu(s, index).and_then(|g| g.utilization_percent.map(f64::from))
                }),
            ),
            (
                "memory_used_bytes",
                ints(samples, |s| gpu(s, index).and_then(|g| g.memory_used_bytes)),
            ),
            (
                "memory_total_bytes",
                ints(samples, |s| {
                    gpu(s, index).and_then(|g| g.memory_total_bytes)
                }),
            ),
            (
                "process_memory_bytes",
                ints(samples, |s| {
                    gpu(s, index).and_then(|g| g.process_memory_bytes)
                }),
            ),
            (
                "temperature_celsius",
                floats(samples, |s| {
                    gpu(s, index).and_then(|g| g.temperature_celsius.map(f64::from))
                }),
            ),
            (
                "power_watts",
                floats(samples, |s| gpu(s, index).and_then(|g| g.power_watts)),
            ),
        ];
        for (name, array) in per_gpu {
            columns.push((format!("gpu{index}_{name}"), array));
        }
    }
}

/// One column per CPU core seen in any sample (`cpu<index>_percent`, null where a sample has
/// fewer cores).
fn core_columns(samples: &[HardwareSample], columns: &mut Vec<(String, ArrayRef)>) {
    let cores = samples
        .iter()
        .map(|s| s.cpu_percent_per_core.len())
        .max()
        .unwrap_or(0);
    for core in 0..cores {
        columns.push((
            format!("cpu{core}_percent"),
            floats(samples, |s| {
                s.cpu_percent_per_core.get(core).copied().map(f64::from)
            }),
        ));
    }
}

/// The samples as one record batch: fixed host, process, disk and network columns, then a
/// column per CPU core and the GPU columns.
pub fn hardware_batch(samples: &[HardwareSample]) -> Result<RecordBatch, ArrowError> {
    let mut columns: Vec<(String, ArrayRef)> = Vec::new();
    let mut push = |name: &str, array: ArrayRef| columns.push((name.to_owned(), array));
    push(
        "timestamp",
        Arc::new(
            TimestampMicrosecondArray::from_iter_values(samples.iter().map(|s| s.timestamp))
                .with_timezone("UTC"),
        ),
    );
    push(
        "cpu_percent",
        floats(samples, |s| s.cpu_percent.map(f64::from)),
    );
    push("memory_used_bytes", ints(samples, |s| s.memory_used_bytes));
    push(
        "memory_available_bytes",
        ints(samples, |s| s.memory_available_bytes),
    );
    push(
        "memory_total_bytes",
        ints(samples, |s| s.memory_total_bytes),
    );
    push("swap_used_bytes", ints(samples, |s| s.swap_used_bytes));
    push(
        "process_cpu_percent",
        floats(samples, |s| {
            s.process.as_ref().map(|p| f64::from(p.cpu_percent))
        }),
    );
    push(
        "process_rss_bytes",
        ints(samples, |s| s.process.as_ref().map(|p| p.rss_bytes)),
    );
    push(
        "process_threads",
        ints(samples, |s| s.process.as_ref().map(|p| p.threads)),
    );
    push(
        "process_count",
        ints(samples, |s| {
            s.process.as_ref().map(|p| u64::from(p.processes))
        }),
    );
    push(
        "disk_read_bytes",
        ints(samples, |s| s.disk.as_ref().map(|d| d.read_bytes)),
    );
    push(
        "disk_write_bytes",
        ints(samples, |s| s.disk.as_ref().map(|d| d.write_bytes)),
    );
    push(
        "network_received_bytes",
        ints(samples, |s| s.network.as_ref().map(|n| n.read_bytes)),
    );
    push(
        "network_sent_bytes",
        ints(samples, |s| s.network.as_ref().map(|n| n.write_bytes)),
    );
    push(
        "disk_read_bytes_per_second",
        floats(samples, |s| {
            s.disk.as_ref().map(|d| d.read_bytes_per_second)
        }),
    );
    push(
        "disk_write_bytes_per_second",
        floats(samples, |s| {
            s.disk.as_ref().map(|d| d.write_bytes_per_second)
        }),
    );
    push(
        "network_receive_bytes_per_second",
        floats(samples, |s| {
            s.network.as_ref().map(|n| n.read_bytes_per_second)
        }),
    );
    push(
        "network_send_bytes_per_second",
        floats(samples, |s| {
            s.network.as_ref().map(|n| n.write_bytes_per_second)
        }),
    );
    core_columns(samples, &mut columns);
    gpu_columns(samples, &mut columns);
    let fields: Vec<Field> = columns
        .iter()
        .map(|(name, array)| {
            let nullable = name != "timestamp";
            let data_type = match array.data_type() {
                DataType::Timestamp(_, _) => {
                    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
                }
                other => other.clone(),
            };
            Field::new(name, data_type, nullable)
        })
        .collect();
    let arrays = columns.into_iter().map(|(_, array)| array).collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
}

#[cfg(test)]
mod tests {
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Float64Type, Int64Type};
    use arrow_array::Array;
    use opsml_types::{IoSample, ProcessSample};

    use super::*;

    fn sample(timestamp: i64, gpus: &[(u32, u32)]) -> HardwareSample {
        HardwareSample {
            timestamp,
            cpu_percent: Some(12.5),
            memory_used_bytes: Some(1 << 30),
            process: Some(ProcessSample {
                cpu_percent: 99.0,
                rss_bytes: 4096,
                threads: 3,
                processes: 1,
            }),
            gpus: gpus
                .iter()
                .map(|&(index, utilization)| GpuSample {
                    index,
                    utilization_percent: Some(utilization),
                    memory_used_bytes: Some(u64::from(utilization) << 20),
                    ..GpuSample::default()
                })
                .collect(),
            ..HardwareSample::default()
        }
    }

    #[test]
    fn hardware_batches_have_columns_per_gpu_with_gaps_where_a_device_is_missing() {
        let samples = [sample(1, &[(0, 10), (2, 20)]), sample(2, &[(2, 30)])];
        let batch = hardware_batch(&samples).unwrap();
        let schema = batch.schema();
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        assert!(names.contains(&"gpu0_utilization_percent"), "{names:?}");
        assert!(names.contains(&"gpu2_memory_used_bytes"), "{names:?}");
        assert!(!names.iter().any(|n| n.starts_with("gpu1_")));
        let column = |name: &str| batch.column(names.iter().position(|n| *n == name).unwrap());
        let gpu0 = column("gpu0_utilization_percent").as_primitive::<Float64Type>();
        assert_eq!((gpu0.value(0), gpu0.is_null(1)), (10.0, true));
        let gpu2 = column("gpu2_memory_used_bytes").as_primitive::<Int64Type>();
        assert_eq!((gpu2.value(0), gpu2.value(1)), (20 << 20, 30 << 20));
        let rss = column("process_rss_bytes").as_primitive::<Int64Type>();
        assert_eq!((rss.value(0), rss.value(1)), (4096, 4096));
        let disk = column("disk_read_bytes").as_primitive::<Int64Type>();
        assert_eq!(disk.null_count(), 2);
        assert_eq!(
            schema.field(0).data_type(),
            &DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
        );
    }

    #[test]
    fn every_field_has_a_column_cores_and_rates_included() {
        let mut first = sample(1, &[]);
        first.cpu_percent_per_core = vec![10.0, 20.0, 30.0];
        first.network = Some(IoSample {
            read_bytes: 100,
            write_bytes: 50,
            read_bytes_per_second: 1000.0,
            write_bytes_per_second: 500.0,
        });
        let mut second = sample(2, &[]);
        second.cpu_percent_per_core = vec![40.0];
        let batch = hardware_batch(&[first, second]).unwrap();
        let schema = batch.schema();
        let column = |name: &str| {
            let index = schema
                .index_of(name)
                .unwrap_or_else(|_| panic!("no column {name}"));
            batch.column(index).as_primitive::<Float64Type>().clone()
        };
        let core2 = column("cpu2_percent");
        assert_eq!((core2.value(0), core2.is_null(1)), (30.0, true));
        assert_eq!(column("cpu0_percent").value(1), 40.0);
        assert!(schema.index_of("cpu3_percent").is_err());
        let received = column("network_receive_bytes_per_second");
        assert_eq!((received.value(0), received.is_null(1)), (1000.0, true));
        assert_eq!(column("network_send_bytes_per_second").value(0), 500.0);
        for rate in ["disk_read_bytes_per_second", "disk_write_bytes_per_second"] {
            assert_eq!(column(rate).null_count(), 2, "{rate}");
        }
    }

    #[test]
    fn no_samples_make_an_empty_batch() {
        let batch = hardware_batch(&[]).unwrap();
        assert_eq!(batch.num_rows(), 0);
        assert!(batch.num_columns() >= 10);
    }
}
