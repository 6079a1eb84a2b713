//! Summaries of the points of one write batch, merged by each store into the stored
//! summaries inside the batch's transaction.

use std::collections::HashMap;

use opsml_types::MetricSummary;

use crate::store::PointRecord;

/// Summaries of a batch of points, by metric name id, in logging order.
pub(crate) fn summarise_batch(records: &[PointRecord]) -> HashMap<u32, MetricSummary> {
    let mut batch: HashMap<u32, MetricSummary> = HashMap::new();
    for record in records {
        batch
            .entry(record.name_id)
            .and_modify(|s| s.add(&record.point))
            .or_insert_with(|| MetricSummary::of_point("", &record.point));
    }
    batch
}
