//! A metrics read is sent in pieces as it is written, not built whole first: the JSON still
//! reads back as the same points (NaN and the infinities as strings), and the HTTP store's
//! Arrow reads still get every point bit for bit.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test stops at the first thing that is not as it should be"
)]

mod common;

use common::{uid, Server};
use opsml_api::wire::MetricsBody;
use opsml_client::HttpStore;
use opsml_registry::Store;
use opsml_types::MetricColumns;
use serde_json::json;

/// Points logged, over three metrics: more than several pieces' worth.
const POINTS: usize = 20_000;

/// The value of point `i`: now and then NaN, an infinity or minus zero.
fn value(i: usize) -> serde_json::Value {
    match i % 1000 {
        0 => json!("NaN"),
        1 => json!("Infinity"),
        2 => json!("-Infinity"),
        3 => json!(-0.0),
        _ => json!(i as f64 / 7.0),
    }
}

/// Experiment `uid(1)` in space `team`, with [`POINTS`] points sent as one batch.
fn logged() -> Server {
    let server = Server::start();
    server.create_experiment(&uid(1), "team");
    let batch = json!({
        "writer_id": "w1",
        "seq": 1,
        "lease": { "host": "h", "pid": 1, "started": 1 },
        "names": ["loss", "acc", "lr"],
        "points": {
            "name_ids": (0..POINTS).map(|i| i % 3).collect::<Vec<_>>(),
            "steps": (0..POINTS).map(|i| (i % 5 != 0).then_some(i)).collect::<Vec<_>>(),
            "values": (0..POINTS).map(value).collect::<Vec<_>>(),
            "timestamps": (0..POINTS).map(|i| (i % 2 == 0).then_some(i)).collect::<Vec<_>>(),
            "created_at": (0..POINTS).map(|i| 1_700_000_000_000_000_i64 + i as i64).collect::<Vec<_>>(),
        },
    });
    let applied = server
        .admin_client()
        .post(server.url(&format!("/experiments/{}/batches", uid(1))))
        .json(&batch)
        .send()
        .unwrap();
    assert_eq!(applied.status(), 200);
    server
}

/// Asserts that `read` holds the same points as `stored`, values bit for bit.
fn assert_same_points(read: &MetricColumns, stored: &MetricColumns) {
    assert_eq!(read.names, stored.names);
    assert_eq!(read.len(), stored.len());
    for i in 0..stored.len() {
        let (a, b) = (read.point(i), stored.point(i));
        assert_eq!(read.name(i), stored.name(i), "point {i}");
        assert_eq!(
            (a.step, a.timestamp, a.created_at),
            (b.step, b.timestamp, b.created_at),
            "point {i}"
        );
        assert_eq!(a.value.to_bits(), b.value.to_bits(), "point {i}");
    }
}

#[test]
fn a_json_read_is_sent_in_pieces_and_parses_to_the_same_points() {
    let server = logged();
    let stored = server.store.read_metrics(&uid(1), None).unwrap();
    assert_eq!(stored.len(), POINTS);
    let response = server
        .admin_client()
        .get(server.url(&format!("/experiments/{}/metrics", uid(1))))
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    // A body built whole would have been sent with its length.
    assert!(
        response.headers().get("content-length").is_none(),
        "{:?}",
        response.headers()
    );
    assert_eq!(response.headers()["transfer-encoding"], "chunked");
    let text = response.text().unwrap();
    assert!(text.contains(r#""NaN","#) && text.contains(r#""-Infinity""#));
    let body: MetricsBody = serde_json::from_str(&text).unwrap();
    assert_eq!(
        text,
        serde_json::to_string(&MetricsBody::from_columns(&stored)).unwrap(),
        "the same text as the whole body"
    );
    assert_eq!(body.names, stored.names);
    assert_eq!(body.points.values.len(), POINTS);
}

#[test]
fn the_http_store_reads_every_point_of_a_streamed_arrow_body() {
    let server = logged();
    let stored = server.store.read_metrics(&uid(1), None).unwrap();
    let client =
        HttpStore::with_credentials(&server.base, common::ADMIN, common::ADMIN_PASSWORD).unwrap();
    assert_same_points(&client.read_metrics(&uid(1), None).unwrap(), &stored);
    let some = ["lr".to_owned(), "acc".to_owned()];
    let stored_some = server.store.read_metrics(&uid(1), Some(&some)).unwrap();
    assert_same_points(
        &client.read_metrics(&uid(1), Some(&some)).unwrap(),
        &stored_some,
    );
    let arrow = server
        .admin_client()
        .get(server.url(&format!("/experiments/{}/metrics", uid(1))))
        .header("accept", opsml_api::ARROW_STREAM_MEDIA_TYPE)
        .send()
        .unwrap();
    assert!(arrow.headers().get("content-length").is_none());
    let bytes = arrow.bytes().unwrap();
    let whole = opsml_api::encode_ipc(stored).unwrap();
    assert!(
        bytes.as_ref() == whole.as_slice(),
        "the same bytes as one whole stream"
    );
}

#[test]
fn an_experiment_without_points_reads_as_empty_columns() {
    let server = Server::start();
    server.create_experiment(&uid(1), "team");
    let body: MetricsBody = server
        .admin_client()
        .get(server.url(&format!("/experiments/{}/metrics", uid(1))))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(body, MetricsBody::default());
    let client =
        HttpStore::with_credentials(&server.base, common::ADMIN, common::ADMIN_PASSWORD).unwrap();
    assert!(client.read_metrics(&uid(1), None).unwrap().is_empty());
}
