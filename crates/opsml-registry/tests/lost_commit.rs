//! A batch whose COMMIT reached PostgreSQL but whose answer was lost with the connection: the
//! writer takes the write for failed, yet the database has it. Retried, or kept in the
//! recovery file and replayed by `opsml sync`, it must not be stored twice.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test stops at the first thing that is not as it should be"
)]

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{batch, create, postgres_schema, postgres_uri, TestStore};
use opsml_client::{replay_recovery, RecoveryFile};
use opsml_registry::{ExperimentWriter, PointRecord, PostgresStore, Store};
use opsml_types::MetricPoint;

/// A TCP proxy in front of PostgreSQL that, once armed, lets the next `COMMIT` through to the
/// database and then cuts the client off before the database's answer reaches it.
struct CommitCutter {
    port: u16,
    armed: Arc<AtomicBool>,
}

impl CommitCutter {
    fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let armed = Arc::new(AtomicBool::new(false));
        let arming = Arc::clone(&armed);
        std::thread::spawn(move || {
            for client in listener.incoming().map_while(Result::ok) {
                let server = TcpStream::connect(&upstream).unwrap();
                proxy(client, server, Arc::clone(&arming));
            }
        });
        Self { port, armed }
    }

    fn arm(&self) {
        self.armed.store(true, Ordering::SeqCst);
    }
}

/// Copies bytes both ways; once a COMMIT goes up while armed, nothing more comes down.
fn proxy(client: TcpStream, server: TcpStream, armed: Arc<AtomicBool>) {
    let cut = Arc::new(AtomicBool::new(false));
    let (mut client_in, mut server_out) =
        (client.try_clone().unwrap(), server.try_clone().unwrap());
    let (mut server_in, mut client_out) = (server, client);
    let cutting = Arc::clone(&cut);
    std::thread::spawn(move || {
        let mut buf = vec![0; 64 << 10];
        while let Ok(n) = client_in.read(&mut buf) {
            if n == 0 {
                break;
            }
            let commit = buf[..n].windows(7).any(|w| w == b"COMMIT\0");
            if commit && armed.swap(false, Ordering::SeqCst) {
                // Cut first: the answer to this COMMIT must never reach the client.
                cutting.store(true, Ordering::SeqCst);
            }
            if server_out.write_all(&buf[..n]).is_err() {
                break;
            }
        }
    });
    std::thread::spawn(move || {
        let mut buf = vec![0; 64 << 10];
        while let Ok(n) = server_in.read(&mut buf) {
            if n == 0 || cut.load(Ordering::SeqCst) {
                break;
            }
            if client_out.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        // The client sees its connection go; the database's side stays open a while longer,
        // so that it reads and finishes the COMMIT even on a loaded machine.
        std::thread::sleep(Duration::from_millis(200));
        let _ = client_out.shutdown(Shutdown::Both);
        std::thread::sleep(Duration::from_secs(3));
        let _ = server_in.shutdown(Shutdown::Both);
    });
}

/// The schema's store, reached through `cutter`.
fn store_through(test_store: &TestStore, cutter: &CommitCutter) -> Arc<dyn Store> {
    let TestStore::Postgres { uri, .. } = test_store else {
        unreachable!("a PostgreSQL schema")
    };
    let rest = uri.split_once('@').unwrap().1;
    let host = rest.split_once('/').unwrap().0;
    let proxied = uri.replacen(host, &format!("127.0.0.1:{}", cutter.port), 1);
    Arc::new(PostgresStore::open(&proxied).unwrap())
}

fn upstream_of(test_store: &TestStore) -> String {
    let TestStore::Postgres { uri, .. } = test_store else {
        unreachable!("a PostgreSQL schema")
    };
    let rest = uri.split_once('@').unwrap().1;
    rest.split_once('/').unwrap().0.to_owned()
}

fn points(steps: std::ops::Range<i64>) -> Vec<PointRecord> {
    steps
        .map(|step| PointRecord {
            name_id: 0,
            point: MetricPoint {
                step: Some(step),
                value: step as f64,
                timestamp: None,
                created_at: 1_700_000_000_000_000 + step,
            },
        })
        .collect()
}

fn stored_steps(store: &dyn Store, uid: &str) -> Vec<i64> {
    let columns = store.read_metrics(uid, None).unwrap();
    (0..columns.len())
        .map(|i| columns.point(i).step.unwrap())
        .collect()
}

/// A writer whose second batch was committed by the database although the writer saw its
/// connection break during the COMMIT.
fn after_a_lost_commit(
    test_store: &TestStore,
) -> (
    Arc<dyn Store>,
    String,
    Box<dyn ExperimentWriter>,
    Vec<String>,
) {
    let cutter = CommitCutter::start(upstream_of(test_store));
    let store = store_through(test_store, &cutter);
    let uid = create(store.as_ref(), "team", "lost-commit").uid;
    let names = vec!["loss".to_owned()];
    let mut writer = store.open_writer(&uid).unwrap();
    writer.write(&batch(&names, &points(0..10))).unwrap();
    cutter.arm();
    let second = points(10..20);
    let lost = writer.write(&batch(&names, &second)).unwrap_err();
    assert!(lost.is_transient(), "a broken connection may pass: {lost}");
    // The database finishes the COMMIT on its own time, which a loaded machine stretches.
    let direct = test_store.open_again();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while stored_steps(direct.as_ref(), &uid).len() < 20 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        stored_steps(direct.as_ref(), &uid),
        (0..20).collect::<Vec<_>>(),
        "the database committed the batch whose answer was lost"
    );
    (store, uid, writer, names)
}

#[test]
fn a_retried_batch_whose_commit_was_lost_is_stored_once() {
    let Some(admin) = postgres_uri() else { return };
    let test_store = postgres_schema(&admin);
    let (store, uid, mut writer, names) = after_a_lost_commit(&test_store);
    // The pipeline writes the same batch again: the writer reconnects and finds it stored.
    writer.write(&batch(&names, &points(10..20))).unwrap();
    writer.write(&batch(&names, &points(20..30))).unwrap();
    assert_eq!(
        stored_steps(store.as_ref(), &uid),
        (0..30).collect::<Vec<_>>()
    );
}

#[test]
fn a_kept_batch_whose_commit_was_lost_is_not_replayed_twice() {
    let Some(admin) = postgres_uri() else { return };
    let test_store = postgres_schema(&admin);
    let (store, uid, mut writer, names) = after_a_lost_commit(&test_store);
    // The end of the run gave up on it: it went to the recovery file under the writer and
    // sequence number it was written with, and later batches under a new writer.
    let spool = tempfile::tempdir().unwrap();
    std::env::set_var(opsml_registry::SPOOL_DIR_ENV, spool.path());
    let mut recovery = RecoveryFile::new(store.recovery_dir().unwrap(), &uid);
    recovery
        .keep(&batch(&names, &points(10..20)), writer.next_batch_writer())
        .unwrap();
    writer.skip_batch();
    writer.write(&batch(&names, &points(20..30))).unwrap();
    drop((recovery, writer));
    let report = replay_recovery(store.as_ref());
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(report.batches_sent, 1);
    assert_eq!(
        stored_steps(store.as_ref(), &uid),
        (0..30).collect::<Vec<_>>()
    );
}
