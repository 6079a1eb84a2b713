//! The server over real HTTP on loopback, on a SQLite store in a temporary directory.

mod common;

use common::{error_of, new_experiment, uid, Server};
use serde_json::{json, Value};

#[test]
fn health_and_readiness_answer() {
    let server = Server::start();
    let admin = server.admin_client();
    let client = || admin.clone();
    let health: Value = client()
        .get(format!("{}/healthz", server.base))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(health["status"], "ok");
    let ready = client()
        .get(format!("{}/readyz", server.base))
        .send()
        .unwrap();
    assert_eq!(ready.status(), 200);
}

#[test]
fn experiments_are_created_with_versions_listed_searched_and_deleted() {
    let server = Server::start();
    let admin = server.admin_client();
    let client = || admin.clone();
    let url = |path: &str| server.url(path);
    for n in 0..3 {
        let created = client()
            .post(url("/experiments"))
            .json(&new_experiment(&uid(n), "team", "run"))
            .send()
            .unwrap();
        assert_eq!(created.status(), 201);
        let card: Value = created.json().unwrap();
        assert_eq!(card["version"], format!("0.{}.0", n + 1));
    }
    let card: Value = client()
        .get(url(&format!("/experiments/{}", uid(1))))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(
        card["username"],
        common::ADMIN,
        "the authenticated user, not the client's"
    );
    assert_eq!(
        (card["name"].as_str(), card["version"].as_str()),
        (Some("run"), Some("0.2.0"))
    );

    let listed: Vec<Value> = client()
        .get(url("/experiments?space=team&limit=2"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let versions: Vec<&str> = listed
        .iter()
        .map(|c| c["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["0.3.0", "0.2.0"]);

    let found: Vec<Value> = client().post(url("/experiments/search"))
        .json(&json!({ "filter": "version >= '0.2.0' and tag = 'baseline'", "order_by": ["version"] }))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let versions: Vec<&str> = found
        .iter()
        .map(|c| c["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["0.2.0", "0.3.0"]);

    let deleted = client()
        .delete(url(&format!("/experiments/{}", uid(0))))
        .send()
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let again = client()
        .delete(url(&format!("/experiments/{}", uid(0))))
        .send()
        .unwrap();
    assert_eq!(again.status(), 404);
}

#[test]
fn bad_requests_get_clear_4xx_errors_and_change_nothing() {
    let server = Server::start();
    let admin = server.admin_client();
    let client = || admin.clone();
    let url = |path: &str| server.url(path);

    let (status, message) = error_of(
        client()
            .post(url("/experiments/search"))
            .json(&json!({ "filter": "params.lr <" }))
            .send()
            .unwrap(),
    );
    assert_eq!(status, 400);
    assert!(message.contains("params.lr <"), "{message}");

    let mut bad_name = new_experiment(&uid(7), "team", "bad\nname");
    let (status, message) = error_of(
        client()
            .post(url("/experiments"))
            .json(&bad_name)
            .send()
            .unwrap(),
    );
    assert_eq!(status, 400);
    assert!(message.contains("control character"), "{message}");
    bad_name["name"] = json!("fine");
    bad_name["uid"] = json!("../../etc/passwd");
    let (status, message) = error_of(
        client()
            .post(url("/experiments"))
            .json(&bad_name)
            .send()
            .unwrap(),
    );
    assert_eq!(status, 400);
    assert!(message.contains("../../etc/passwd"), "{message}");

    // A uid already taken: 409, and the first card stays as it was.
    let first = client()
        .post(url("/experiments"))
        .json(&new_experiment(&uid(8), "team", "first"))
        .send()
        .unwrap();
    assert_eq!(first.status(), 201);
    let (status, message) = error_of(
        client()
            .post(url("/experiments"))
            .json(&new_experiment(&uid(8), "other", "second"))
            .send()
            .unwrap(),
    );
    assert_eq!(status, 409);
    assert!(message.contains(&uid(8)), "{message}");
    assert_eq!(
        server.store.get_experiment(&uid(8)).unwrap().unwrap().name,
        "first"
    );
    assert!(server.store.delete_experiment(&uid(8)).unwrap());

    let (status, message) = error_of(client().get(url("/experiments?limit=0")).send().unwrap());
    assert_eq!(status, 400);
    assert!(message.contains("limit 0"), "{message}");

    let (status, _) = error_of(
        client()
            .get(url(&format!("/experiments/{}", uid(9))))
            .send()
            .unwrap(),
    );
    assert_eq!(status, 404);

    let listed: Vec<Value> = client()
        .get(url("/experiments"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(listed.is_empty(), "nothing was created: {listed:?}");
}

#[test]
fn malformed_bodies_get_clear_errors_in_the_api_shape() {
    let server = Server::start();
    // Malformed JSON and unknown fields: 4xx in the API's error shape, naming what is wrong.
    let malformed = server
        .admin_client()
        .post(server.url("/experiments"))
        .header("content-type", "application/json")
        .body("{\"uid\": ")
        .send()
        .unwrap();
    let (status, message) = error_of(malformed);
    assert_eq!(status, 400);
    assert!(message.contains("EOF"), "{message}");
    let (status, message) = error_of(
        server
            .admin_client()
            .post(server.url("/experiments/search"))
            .json(&json!({ "filter": "", "extra": 1 }))
            .send()
            .unwrap(),
    );
    assert_eq!(status, 422);
    assert!(message.contains("extra"), "{message}");
    let oversized = server
        .admin_client()
        .post(server.url("/experiments/search"))
        .header("content-type", "application/json")
        .body(format!(
            "{{\"filter\": \"{}\"}}",
            "x".repeat(opsml_server::MAX_BODY_BYTES)
        ))
        .send()
        .unwrap();
    let (status, message) = error_of(oversized);
    assert_eq!(status, 413);
    assert!(message.contains("limit"), "{message}");
}

#[test]
fn batches_are_stored_once_with_special_values_intact() {
    let server = Server::start();
    let admin = server.admin_client();
    server.create_experiment(&uid(1), "team");
    let batch = |seq: u64, first: i64| {
        json!({
            "writer_id": "01a21900-aaaa-7000-8000-000000000001",
            "seq": seq,
            "lease": { "host": "laptop", "pid": 42, "started": 1 },
            "names": ["loss", "acc"],
            "points": {
                "name_ids": [0, 0, 1],
                "steps": [first, first + 1, null],
                "values": [0.5, "NaN", "-Infinity"],
                "timestamps": [null, 7, null],
                "created_at": [1, 2, 3],
            },
            "parameters": [{ "name": "lr", "value": { "type": "float", "value": 0.01 } }],
        })
    };
    let send = |body: Value| -> Value {
        let response = admin
            .post(server.url(&format!("/experiments/{}/batches", uid(1))))
            .json(&body)
            .send()
            .unwrap();
        assert_eq!(response.status(), 200);
        response.json().unwrap()
    };
    assert_eq!(send(batch(1, 0))["applied"], true);
    assert_eq!(send(batch(2, 2))["applied"], true);
    assert_eq!(
        send(batch(2, 2))["applied"],
        false,
        "a resend changes nothing"
    );

    let stored = server.store.read_metrics(&uid(1), None).unwrap();
    assert_eq!(stored.names, ["acc", "loss"]);
    assert_eq!(stored.len(), 6);
    let loss: Vec<(Option<i64>, u64)> = (0..stored.len())
        .filter(|&i| stored.name(i) == "loss")
        .map(|i| (stored.point(i).step, stored.point(i).value.to_bits()))
        .collect();
    assert_eq!(loss.len(), 4);
    assert_eq!(loss[0], (Some(0), 0.5f64.to_bits()));
    assert!(f64::from_bits(loss[1].1).is_nan());
    let acc = stored.point(0);
    assert_eq!(acc.value, f64::NEG_INFINITY);
    let parameters = server.store.read_parameters(&uid(1), None).unwrap();
    assert_eq!(parameters.len(), 1);

    // A batch after a gap is refused: the one before it must come first.
    let (status, message) = error_of(
        admin
            .post(server.url(&format!("/experiments/{}/batches", uid(1))))
            .json(&batch(5, 10))
            .send()
            .unwrap(),
    );
    assert_eq!(status, 409);
    assert!(message.contains("batches 3 to 4 are missing"), "{message}");

    // Columns that disagree, and a parameter with NUL, are refused and store nothing.
    let mut uneven = batch(3, 10);
    uneven["points"]["values"] = json!([1.0]);
    let (status, message) = error_of(
        admin
            .post(server.url(&format!("/experiments/{}/batches", uid(1))))
            .json(&uneven)
            .send()
            .unwrap(),
    );
    assert_eq!(status, 400);
    assert!(message.contains("points.values"), "{message}");
    let mut nul = batch(3, 10);
    nul["parameters"][0]["value"] = json!({ "type": "str", "value": "a\u{0}b" });
    let (status, _) = error_of(
        admin
            .post(server.url(&format!("/experiments/{}/batches", uid(1))))
            .json(&nul)
            .send()
            .unwrap(),
    );
    assert_eq!(status, 400);
    assert_eq!(server.store.read_metrics(&uid(1), None).unwrap().len(), 6);
}

#[test]
fn tampered_artifact_requests_are_refused_and_store_nothing() {
    let server = Server::start();
    let admin = server.admin_client();
    for n in [1, 2] {
        server.create_experiment(&uid(n), "team");
    }
    let one = format!("/experiments/{}", uid(1));
    let record = |path: &str, key: &str| {
        json!([{
            "path": path, "size": 3, "digest": "00", "media_type": "text/plain",
            "created_at": "2026-11-26T10:00:00Z", "storage_key": key,
        }])
    };
    let own_key = format!(
        "experiment/{}/objects/01a21900-0000-7000-8000-000000000001",
        uid(1)
    );
    let foreign_key = format!(
        "experiment/{}/objects/01a21900-0000-7000-8000-000000000001",
        uid(2)
    );
    for (body, named) in [
        // A path that climbs out of the experiment, or is not in normal form.
        (record("../etc/passwd", &own_key), "../etc/passwd"),
        (record("a//b", &own_key), "a//b"),
        // A record pointing at another experiment's object, or outside any experiment.
        (record("x.txt", &foreign_key), foreign_key.as_str()),
        (record("x.txt", "../../secrets"), "../../secrets"),
    ] {
        let (status, message) = error_of(
            admin
                .post(server.url(&format!("{one}/artifacts")))
                .json(&body)
                .send()
                .unwrap(),
        );
        assert_eq!(status, 400, "{body}");
        assert!(message.contains(named), "{message}");
    }
    // Object ids are UUIDs: nothing else reaches the storage.
    for id in ["..%2F..%2Fsecrets", "not-a-uuid", "%2E%2E"] {
        let response = admin
            .put(server.url(&format!("{one}/objects/{id}")))
            .body("bytes")
            .send()
            .unwrap();
        assert!(
            response.status().is_client_error(),
            "{id}: {}",
            response.status()
        );
    }
    let malformed = admin
        .post(server.url(&format!("{one}/key")))
        .header("content-type", "application/json")
        .body("{\"wrapped\": ")
        .send()
        .unwrap();
    assert_eq!(error_of(malformed).0, 400);
    let (status, message) = error_of(
        admin
            .post(server.url(&format!("{one}/key")))
            .json(&json!({ "wrapped": "AAAA", "extra": 1 }))
            .send()
            .unwrap(),
    );
    assert_eq!(status, 422);
    assert!(message.contains("extra"), "{message}");
    let (status, message) = error_of(
        admin
            .post(server.url(&format!("{one}/key")))
            .json(&json!({ "wrapped": "not base64!" }))
            .send()
            .unwrap(),
    );
    assert_eq!(status, 400);
    assert!(message.contains("base64"), "{message}");
    let oversized = admin
        .post(server.url(&format!("{one}/batches")))
        .header("content-type", "application/json")
        .body(vec![b' '; opsml_server::MAX_BODY_BYTES + 1])
        .send()
        .unwrap();
    assert_eq!(oversized.status(), 413);
    // An object that is not stored: 404, not a server failure.
    let missing = admin
        .get(server.url(&format!(
            "{one}/objects/01a21900-0000-7000-8000-000000000009"
        )))
        .send()
        .unwrap();
    assert_eq!(missing.status(), 404);

    assert!(server
        .store
        .list_artifacts(&uid(1), None)
        .unwrap()
        .is_empty());
    assert!(server.store.wrapped_data_key(&uid(1)).unwrap().is_none());
    assert!(!server.objects_dir().exists(), "no object was stored");
}

#[test]
fn metrics_are_read_back_as_json_columns_or_an_arrow_stream() {
    let server = Server::start();
    let admin = server.admin_client();
    server.create_experiment(&uid(1), "team");
    let sent = admin
        .post(server.url(&format!("/experiments/{}/batches", uid(1))))
        .json(&json!({
            "writer_id": "w", "seq": 1,
            "lease": { "host": "laptop", "pid": 42, "started": 1 },
            "names": ["loss", "acc"],
            "points": {
                "name_ids": [0, 0, 1], "steps": [0, 1, null], "values": [0.5, "NaN", 1.0],
                "timestamps": [null, 7, null], "created_at": [1, 2, 3],
            },
        }))
        .send()
        .unwrap();
    assert_eq!(sent.status(), 200);
    let metrics = server.url(&format!("/experiments/{}/metrics?name=loss", uid(1)));
    let json: Value = admin.get(&metrics).send().unwrap().json().unwrap();
    assert_eq!(json["names"], json!(["loss"]));
    assert_eq!(json["points"]["values"], json!([0.5, "NaN"]));
    let arrow = admin
        .get(&metrics)
        .header("accept", opsml_api::ARROW_STREAM_MEDIA_TYPE)
        .send()
        .unwrap();
    assert_eq!(
        arrow.headers()["content-type"],
        opsml_api::ARROW_STREAM_MEDIA_TYPE
    );
    let columns = opsml_api::decode_ipc(&arrow.bytes().unwrap()).unwrap();
    assert_eq!(columns.names, ["loss"]);
    assert_eq!(columns.len(), 2);
    assert!(columns.point(1).value.is_nan());
}
