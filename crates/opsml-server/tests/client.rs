//! The HTTP store (`OPSML_TRACKING_URI=http://…`) against a real server: everything the
//! embedded stores do, logging through a server outage, and `opsml sync`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test stops at the first thing that is not as it should be"
)]

mod common;

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use chrono::Utc;
use common::{uid, Server};
use opsml_client::{sync_spool, HttpStore};
use opsml_crypt::MasterKey;
use opsml_registry::{
    Access, Artifacts, CardQuery, Lease, NewExperiment, PointRecord, SearchQuery, Store,
    StoreError, WriteBatch,
};
use opsml_types::{MetricPoint, Parameter, ParameterValue, Status};

/// One write-ahead directory for this test binary (the variable is process-wide).
fn spool_dir() -> PathBuf {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    let dir = DIR
        .get_or_init(|| tempfile::tempdir().unwrap())
        .path()
        .to_owned();
    std::env::set_var(opsml_registry::SPOOL_DIR_ENV, &dir);
    // The end of a run waits briefly for a server that is down.
    std::env::set_var(opsml_client::SHIP_TIMEOUT_ENV, "0.5");
    dir
}

fn client(server: &Server, user: &str, grants: &[(&str, Access)]) -> HttpStore {
    server.user(user, grants);
    HttpStore::with_credentials(&server.base, user, &format!("{user} password")).unwrap()
}

fn new_experiment(store: &HttpStore, n: u32, space: &str, name: &str) -> String {
    let uid = uid(n);
    store
        .create_experiment(&NewExperiment {
            uid: uid.clone(),
            space: space.to_owned(),
            name: name.to_owned(),
            tags: vec!["a,b".to_owned()],
            parent_uid: None,
            compute_environment: opsml_types::ComputeEnvironment::default(),
            opsml_version: "0.1.0".to_owned(),
            username: "ignored".to_owned(),
            created_at: Utc::now(),
            lease: Lease::current(),
        })
        .unwrap();
    uid
}

fn points(from: i64, to: i64) -> Vec<PointRecord> {
    (from..to)
        .map(|step| PointRecord {
            name_id: (step % 2) as u32,
            point: MetricPoint {
                step: Some(step),
                value: if step == 3 {
                    f64::NAN
                } else {
                    step as f64 / 2.0
                },
                timestamp: None,
                created_at: 1_700_000_000_000_000 + step,
            },
        })
        .collect()
}

fn names() -> Vec<String> {
    vec!["loss".to_owned(), "acc, top-1".to_owned()]
}

fn write(writer: &mut dyn opsml_registry::ExperimentWriter, records: &[PointRecord]) {
    writer
        .write(&WriteBatch {
            names: &names(),
            points: records,
            parameters: &[],
            hardware: &[],
        })
        .unwrap();
}

fn steps_of(store: &dyn Store, uid: &str) -> Vec<i64> {
    let columns = store.read_metrics(uid, None).unwrap();
    let mut steps: Vec<i64> = (0..columns.len())
        .map(|i| columns.point(i).step.unwrap())
        .collect();
    steps.sort_unstable();
    steps
}

#[test]
fn the_http_store_does_what_the_embedded_one_does() {
    spool_dir();
    let server = Server::start();
    let store = client(&server, "ana", &[("team", Access::Write)]);
    let uid = new_experiment(&store, 1, "team", "run");
    let card = store.get_experiment(&uid).unwrap().unwrap();
    assert_eq!(card.username, "ana", "the server records who created it");
    assert_eq!(
        store
            .find_experiment("team", "run", None)
            .unwrap()
            .unwrap()
            .uid,
        uid
    );
    assert!(store
        .find_experiment("team", "nope", None)
        .unwrap()
        .is_none());
    assert!(store.get_experiment(&common::uid(99)).unwrap().is_none());

    let listed = store
        .list_experiments(&CardQuery {
            tags: vec!["a,b".to_owned()],
            limit: 10,
            ..CardQuery::default()
        })
        .unwrap();
    assert_eq!(listed.len(), 1, "a tag with a comma is one tag");

    let mut writer = store.open_writer(&uid).unwrap();
    write(writer.as_mut(), &points(0, 6));
    writer
        .write(&WriteBatch {
            names: &names(),
            points: &points(6, 10),
            parameters: &[Parameter {
                name: "lr".to_owned(),
                value: ParameterValue::Float(0.01),
            }],
            hardware: &[],
        })
        .unwrap();
    writer.finish().unwrap();
    drop(writer);

    let columns = store.read_metrics(&uid, None).unwrap();
    assert_eq!(columns.len(), 10);
    let nan = (0..columns.len())
        .find(|&i| columns.point(i).step == Some(3))
        .unwrap();
    assert!(columns.point(nan).value.is_nan(), "NaN survives the trip");
    let only_loss = store
        .read_metrics(&uid, Some(&["loss".to_owned()]))
        .unwrap();
    assert_eq!(only_loss.names, ["loss"]);
    assert_eq!(only_loss.len(), 5);
    let parameters = store.read_parameters(&uid, None).unwrap();
    assert_eq!(parameters[0].value, ParameterValue::Float(0.01));
    let summaries = store.metric_summaries(&uid).unwrap();
    assert_eq!(summaries.len(), 2);

    let found = store
        .search_experiments(&SearchQuery {
            filter: Some(
                opsml_query::parse_filter("params.lr < 0.1 and metrics.loss.count = 5").unwrap(),
            ),
            limit: 10,
            ..SearchQuery::default()
        })
        .unwrap();
    assert_eq!(found.len(), 1);

    let mut card = store.get_experiment(&uid).unwrap().unwrap();
    card.tags = vec!["best".to_owned()];
    store.update_experiment(&card).unwrap();
    store
        .set_status(&uid, Status::Completed, Some(Utc::now()))
        .unwrap();
    let card = store.get_experiment(&uid).unwrap().unwrap();
    assert_eq!(
        (card.tags.as_slice(), card.status),
        (&["best".to_owned()][..], Status::Completed)
    );
}

fn walkdir(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return files;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walkdir(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[test]
fn artifacts_reach_the_server_as_ciphertext_only() {
    spool_dir();
    let server = Server::start();
    let store = client(&server, "gu", &[("team", Access::Write)]);
    let uid = new_experiment(&store, 5, "team", "artifacts");
    let store: Arc<dyn Store> = Arc::new(store);
    let artifacts = Artifacts::new(
        Arc::clone(&store),
        opsml_registry::artifact_storage(store.as_ref()).unwrap(),
        Arc::new(MasterKey::generate()),
    );
    let secret = b"the weights of a very secret model".repeat(100_000);
    artifacts
        .log_bytes(&uid, "model/weights.bin", &secret)
        .unwrap();
    let stored: Vec<PathBuf> = walkdir(&server.objects_dir());
    assert_eq!(stored.len(), 1);
    let ciphertext = std::fs::read(&stored[0]).unwrap();
    assert!(!ciphertext.windows(20).any(|w| w == &secret[..20]));
    let record = &artifacts.list(&uid, None).unwrap()[0];
    let out = tempfile::tempdir().unwrap();
    let key = artifacts.data_key(&uid).unwrap();
    artifacts
        .download(&key, record, &out.path().join("w.bin"))
        .unwrap();
    assert_eq!(std::fs::read(out.path().join("w.bin")).unwrap(), secret);

    assert!(store.delete_experiment(&uid).unwrap());
    assert!(
        walkdir(&server.objects_dir()).is_empty(),
        "objects go with the card"
    );
    assert!(!store.delete_experiment(&uid).unwrap());
}

#[test]
fn logging_goes_on_through_a_server_outage_and_nothing_is_lost() {
    spool_dir();
    let mut server = Server::start();
    let store = client(&server, "bo", &[("team", Access::Write)]);
    let uid = new_experiment(&store, 2, "team", "outage");
    let mut writer = store.open_writer(&uid).unwrap();
    write(writer.as_mut(), &points(0, 100));

    server.stop();
    // The server is gone: each write still succeeds, into the write-ahead file.
    for k in 1..5 {
        write(writer.as_mut(), &points(k * 100, (k + 1) * 100));
    }
    // More than the writer keeps in memory (16 MiB of batches): the rest is read back from
    // the file when its turn comes.
    write(writer.as_mut(), &points(500, 600_500));
    writer.heartbeat().unwrap();
    let spooled: u64 = walkdir(&spool_dir())
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum();
    assert!(spooled > 0, "unsent batches are on disk");

    server.restart();
    write(writer.as_mut(), &points(600_500, 600_600));
    writer.finish().unwrap();
    drop(writer);
    assert_eq!(steps_of(&store, &uid), (0..600_600).collect::<Vec<_>>());
    assert!(
        !spool_dir().join(&uid).exists(),
        "the write-ahead file goes once the server has everything"
    );
}

#[test]
fn sync_sends_what_a_run_left_behind() {
    spool_dir();
    let mut server = Server::start();
    let store = client(&server, "cy", &[("team", Access::Write)]);
    let uid = new_experiment(&store, 3, "team", "left");
    let mut writer = store.open_writer(&uid).unwrap();
    server.stop();
    write(writer.as_mut(), &points(0, 50));
    write(writer.as_mut(), &points(50, 80));
    let unsent = writer.finish().unwrap_err();
    assert!(
        matches!(unsent, StoreError::Unshipped { batches: 2, .. }),
        "{unsent}"
    );
    assert!(unsent.to_string().contains("opsml sync"), "{unsent}");
    // The run ends while the server is down: its status waits on disk too.
    store
        .set_status(&uid, Status::Completed, Some(Utc::now()))
        .unwrap();
    drop(writer);

    server.restart();
    assert_eq!(
        store.get_experiment(&uid).unwrap().unwrap().status,
        Status::Running,
        "the status waits for the data it ends"
    );
    let report = sync_spool(&store, &spool_dir());
    assert_eq!((report.batches_sent, report.statuses_sent), (2, 1));
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(steps_of(&store, &uid), (0..80).collect::<Vec<_>>());
    let card = store.get_experiment(&uid).unwrap().unwrap();
    assert_eq!(card.status, Status::Completed);
    // A second sync finds nothing, and sending twice stored nothing twice.
    let again = sync_spool(&store, &spool_dir());
    assert_eq!((again.batches_sent, again.statuses_sent), (0, 0));
    assert_eq!(steps_of(&store, &uid).len(), 80);
}

#[test]
fn a_reader_cannot_write_and_strangers_learn_nothing() {
    spool_dir();
    let server = Server::start();
    let owner = client(&server, "di", &[("team", Access::Write)]);
    let uid = new_experiment(&owner, 4, "team", "private");
    let reader = client(&server, "ed", &[("team", Access::Read)]);
    assert_eq!(reader.get_experiment(&uid).unwrap().unwrap().uid, uid);
    let denied = reader.set_status(&uid, Status::Failed, None).unwrap_err();
    assert!(
        matches!(denied, StoreError::Server { status: 403, .. }),
        "{denied}"
    );
    // To a stranger the experiment is one that does not exist.
    let stranger = client(&server, "fa", &[]);
    assert!(stranger.get_experiment(&uid).unwrap().is_none());
    let err = stranger.set_status(&uid, Status::Failed, None).unwrap_err();
    assert!(
        matches!(err, StoreError::ExperimentNotFound(ref missing) if *missing == uid),
        "{err}"
    );
    assert!(stranger
        .list_experiments(&CardQuery {
            limit: 10,
            ..CardQuery::default()
        })
        .unwrap()
        .is_empty());
    let wrong = HttpStore::with_credentials(&server.base, "di", "not the password").unwrap();
    let err = wrong.get_experiment(&uid).unwrap_err();
    assert!(
        matches!(err, StoreError::Server { status: 401, .. }),
        "{err}"
    );
}

#[test]
fn a_batch_larger_than_a_request_is_sent_in_parts() {
    spool_dir();
    let server = Server::start();
    let store = client(&server, "ha", &[("team", Access::Write)]);
    let uid = new_experiment(&store, 6, "team", "large");
    let mut writer = store.open_writer(&uid).unwrap();
    // 300,000 points are about 20 MB of JSON: over the server's 16 MiB body limit in one.
    let points: Vec<PointRecord> = (0..300_000)
        .map(|step| PointRecord {
            name_id: 0,
            point: MetricPoint {
                step: Some(step),
                value: step as f64,
                timestamp: Some(1_700_000_000_000 + step),
                created_at: 1_700_000_000_000_000 + step,
            },
        })
        .collect();
    writer
        .write(&WriteBatch {
            names: &names(),
            points: &points,
            parameters: &[Parameter {
                name: "lr".to_owned(),
                value: ParameterValue::Float(0.5),
            }],
            hardware: &[],
        })
        .unwrap();
    writer.finish().unwrap();
    drop(writer);
    assert_eq!(steps_of(&store, &uid), (0..300_000).collect::<Vec<_>>());
    assert_eq!(store.read_parameters(&uid, None).unwrap().len(), 1);
}

fn new_offline(uid: &str, parent_uid: Option<&str>) -> NewExperiment {
    NewExperiment {
        uid: uid.to_owned(),
        space: "team".to_owned(),
        name: "offline".to_owned(),
        tags: Vec::new(),
        parent_uid: parent_uid.map(str::to_owned),
        compute_environment: opsml_types::ComputeEnvironment::default(),
        opsml_version: "0.1.0".to_owned(),
        username: "hal".to_owned(),
        created_at: Utc::now(),
        lease: Lease::current(),
    }
}

fn artifacts_of(store: &Arc<dyn Store>, master: &Arc<MasterKey>) -> Artifacts {
    Artifacts::new(
        Arc::clone(store),
        opsml_registry::artifact_storage(store.as_ref()).unwrap(),
        Arc::clone(master),
    )
}

#[test]
fn a_run_started_while_the_server_is_down_is_created_once_it_answers() {
    spool_dir();
    let mut server = Server::start();
    let http = client(&server, "hal", &[("team", Access::Write)]);
    server.stop();
    let store: Arc<dyn Store> = Arc::new(http);
    let master = Arc::new(MasterKey::generate());
    let artifacts = artifacts_of(&store, &master);

    // The run starts: its card waits on disk with a version the server assigns later.
    let (parent, child) = (uid(40), uid(41));
    let card = store
        .create_experiment(&new_offline(&parent, None))
        .unwrap();
    assert_eq!(card.version.to_string(), "0.0.0-pending");
    store
        .create_experiment(&new_offline(&child, Some(&parent)))
        .unwrap();
    assert_eq!(store.get_experiment(&parent).unwrap().unwrap(), card);
    // Artifacts (and the data key they are encrypted with) and metadata wait too.
    let weights = b"weights logged while the server was down".repeat(1000);
    artifacts
        .log_bytes(&parent, "model/weights.bin", &weights)
        .unwrap();
    artifacts.log_bytes(&child, "notes.txt", b"child").unwrap();
    let metadata = opsml_types::ExperimentMetadata {
        git: Some(opsml_types::GitInfo {
            commit: "0123abc".to_owned(),
            branch: Some("main".to_owned()),
            dirty: true,
            remote_url: None,
        }),
        ..Default::default()
    };
    store.set_metadata(&parent, &metadata).unwrap();
    let mut writer = store.open_writer(&parent).unwrap();
    write(writer.as_mut(), &points(0, 30));
    // A child's writer needs its parent created first: it does that too.
    let mut child_writer = store.open_writer(&child).unwrap();
    write(child_writer.as_mut(), &points(0, 5));
    assert_eq!(
        walkdir(&spool_dir().join(&parent).join("objects")).len(),
        1,
        "the encrypted object waits on disk"
    );

    server.restart();
    write(child_writer.as_mut(), &points(5, 10));
    child_writer.finish().unwrap();
    write(writer.as_mut(), &points(30, 60));
    writer.finish().unwrap();
    drop((writer, child_writer));
    store
        .set_status(&parent, Status::Completed, Some(Utc::now()))
        .unwrap();

    let stored = store.get_experiment(&parent).unwrap().unwrap();
    assert_eq!(
        stored.version.to_string(),
        "0.1.0",
        "assigned by the server"
    );
    assert_eq!(stored.username, "hal");
    assert_eq!(stored.status, Status::Completed);
    assert_eq!(stored.metadata, metadata);
    assert_eq!(stored.experimentcard_uids, std::slice::from_ref(&child));
    assert_eq!(
        steps_of(store.as_ref(), &parent),
        (0..60).collect::<Vec<_>>()
    );
    assert_eq!(
        steps_of(store.as_ref(), &child),
        (0..10).collect::<Vec<_>>()
    );
    let out = tempfile::tempdir().unwrap();
    for (uid, path, bytes) in [
        (&parent, "model/weights.bin", &weights[..]),
        (&child, "notes.txt", &b"child"[..]),
    ] {
        // Read back by a process that never saw the run: the key is the server's now.
        let reader: Arc<dyn Store> =
            Arc::new(HttpStore::with_credentials(&server.base, "hal", "hal password").unwrap());
        let reading = artifacts_of(&reader, &master);
        let record = reading.list(uid, None).unwrap().pop().unwrap();
        assert_eq!(record.path, path);
        let key = reading.stored_data_key(uid).unwrap();
        let dest = out.path().join(uid);
        reading.download(&key, &record, &dest).unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), bytes);
    }
    for uid in [&parent, &child] {
        assert!(
            !spool_dir().join(uid).exists(),
            "nothing of {uid} is left on disk"
        );
    }
}

#[test]
fn sync_creates_a_run_that_started_and_ended_while_the_server_was_down() {
    spool_dir();
    let mut server = Server::start();
    let http = client(&server, "ida", &[("team", Access::Write)]);
    server.stop();
    let store: Arc<dyn Store> = Arc::new(http);
    let master = Arc::new(MasterKey::generate());
    let uid = uid(42);
    store.create_experiment(&new_offline(&uid, None)).unwrap();
    artifacts_of(&store, &master)
        .log_bytes(&uid, "config.yaml", b"lr: 0.1")
        .unwrap();
    let mut writer = store.open_writer(&uid).unwrap();
    write(writer.as_mut(), &points(0, 20));
    let unsent = writer.finish().unwrap_err();
    assert!(unsent.to_string().contains("opsml sync"), "{unsent}");
    drop(writer);
    store
        .set_status(&uid, Status::Completed, Some(Utc::now()))
        .unwrap();

    server.restart();
    let report = sync_spool(
        &HttpStore::with_credentials(&server.base, "ida", "ida password").unwrap(),
        &spool_dir(),
    );
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(
        (
            report.experiments_delivered,
            report.batches_sent,
            report.statuses_sent
        ),
        (1, 1, 1)
    );
    let card = store.get_experiment(&uid).unwrap().unwrap();
    assert_eq!(
        (card.version.to_string(), card.status),
        ("0.1.0".to_owned(), Status::Completed)
    );
    assert_eq!(steps_of(store.as_ref(), &uid), (0..20).collect::<Vec<_>>());
    assert_eq!(
        store.list_artifacts(&uid, None).unwrap()[0].path,
        "config.yaml"
    );
    assert!(!spool_dir().join(&uid).exists());
}

#[test]
fn an_artifact_logged_during_an_outage_waits_on_disk_and_follows() {
    spool_dir();
    let mut server = Server::start();
    let http = client(&server, "jo", &[("team", Access::Write)]);
    let uid = new_experiment(&http, 43, "team", "outage-artifact");
    let store: Arc<dyn Store> = Arc::new(http);
    let master = Arc::new(MasterKey::generate());
    let artifacts = artifacts_of(&store, &master);
    artifacts.log_bytes(&uid, "before.txt", b"before").unwrap();
    let mut writer = store.open_writer(&uid).unwrap();
    server.stop();
    // The experiment exists on the server: only the object and its record wait.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("during.bin");
    std::fs::write(&file, b"during the outage".repeat(10_000)).unwrap();
    artifacts.log_file(&uid, &file, None).unwrap();
    write(writer.as_mut(), &points(0, 10));
    server.restart();
    write(writer.as_mut(), &points(10, 20));
    writer.finish().unwrap();
    drop(writer);
    let paths: Vec<String> = store
        .list_artifacts(&uid, None)
        .unwrap()
        .into_iter()
        .map(|r| r.path)
        .collect();
    assert_eq!(paths, ["before.txt", "during.bin"]);
    let record = artifacts
        .list(&uid, Some("during.bin"))
        .unwrap()
        .pop()
        .unwrap();
    let key = artifacts.stored_data_key(&uid).unwrap();
    artifacts
        .download(&key, &record, &dir.path().join("back.bin"))
        .unwrap();
    assert_eq!(
        std::fs::read(dir.path().join("back.bin")).unwrap(),
        std::fs::read(&file).unwrap()
    );
    assert_eq!(steps_of(store.as_ref(), &uid), (0..20).collect::<Vec<_>>());
}

#[test]
fn a_table_of_runs_comes_in_one_request_with_only_the_runs_a_user_may_read() {
    spool_dir();
    let server = Server::start();
    let owner = client(
        &server,
        "gi",
        &[("team", Access::Write), ("secret", Access::Write)],
    );
    let mut uids = Vec::new();
    for (n, space) in [(40, "team"), (41, "secret"), (42, "team")] {
        let uid = new_experiment(&owner, n, space, "row");
        let mut writer = owner.open_writer(&uid).unwrap();
        writer
            .write(&WriteBatch {
                names: &names(),
                points: &points(0, 4),
                parameters: &[Parameter {
                    name: "lr".to_owned(),
                    value: ParameterValue::Int(i64::from(n)),
                }],
                hardware: &[],
            })
            .unwrap();
        writer.finish().unwrap();
        uids.push(uid);
    }
    uids.push(common::uid(99)); // not there
                                // A table longer than one request holds: sent in full requests, answered in order.
    let many: Vec<String> = (1_000..2_500)
        .map(common::uid)
        .chain(uids.clone())
        .collect();
    let long = owner.table_cells(&many).unwrap();
    assert_eq!(
        long.parameters["lr"][1_500..],
        [
            Some(ParameterValue::Int(40)),
            Some(ParameterValue::Int(41)),
            Some(ParameterValue::Int(42)),
            None
        ]
    );
    assert!(long.parameters["lr"][..1_500].iter().all(Option::is_none));
    let cells = owner.table_cells(&uids).unwrap();
    assert_eq!(
        cells.parameters["lr"],
        [
            Some(ParameterValue::Int(40)),
            Some(ParameterValue::Int(41)),
            Some(ParameterValue::Int(42)),
            None
        ]
    );
    assert_eq!(cells.summaries["loss"].iter().flatten().count(), 3);
    // What the embedded store says, through the server.
    let direct = server.store.table_cells(&uids).unwrap();
    assert_eq!(cells.parameters, direct.parameters);
    // As text: a last value of NaN is never equal to itself.
    assert_eq!(
        format!("{:?}", cells.summaries),
        format!("{:?}", direct.summaries)
    );

    // A reader of one space: the other space's run is as absent as one that is not there.
    let reader = client(&server, "hu", &[("team", Access::Read)]);
    let seen = reader.table_cells(&uids).unwrap();
    assert_eq!(
        seen.parameters["lr"],
        [
            Some(ParameterValue::Int(40)),
            None,
            Some(ParameterValue::Int(42)),
            None
        ]
    );
    assert!(seen.summaries["loss"][1].is_none());
}
