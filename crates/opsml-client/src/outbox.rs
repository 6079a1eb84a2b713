//! What a run keeps on disk for a server it cannot reach, besides its batches: the creation
//! of an experiment started while the server was down, its wrapped data key, encrypted
//! artifact objects and their records, and the captured metadata. The run goes on as if the
//! server had taken them; its writer delivers them in order once the server answers (before
//! any batch, which needs the experiment), and `opsml sync` delivers what a run left.
//!
//! Beside the experiment's write-ahead files in `<spool>/<uid>/`:
//! `create.json`, `key.json`, `objects/<id>` (ciphertext, as the storage would hold it),
//! `artifacts/<n>.json` (one file per call, in the order made) and `metadata.json`. Each goes
//! once the server has it. Files are private to their user, written whole or not at all.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine;
use opsml_types::{pending_version, ArtifactRecord, ExperimentCard, ExperimentMetadata, Status};
use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::client::{is_status, ApiClient};
use crate::storage::HttpStorage;
use opsml_api::wire::{CreateBody, WrappedKeyBody};
use opsml_storage::{ArtifactStorage, StorageError};
use opsml_store::{Result, StoreError};

const CREATE_FILE: &str = "create.json";
const KEY_FILE: &str = "key.json";
const METADATA_FILE: &str = "metadata.json";
const OBJECTS_DIR: &str = "objects";
const RECORDS_DIR: &str = "artifacts";

/// An experiment created while its server could not be reached.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct KeptCreate {
    body: CreateBody,
    /// Shown on the card until the server, which records the authenticated user, answers.
    username: String,
}

fn io_error(path: &Path, source: io::Error) -> StoreError {
    StoreError::LocalIo {
        path: path.to_owned(),
        source,
    }
}

fn corrupt(path: &Path, error: &serde_json::Error) -> StoreError {
    StoreError::Corrupt(format!("{}: {error}", path.display()))
}

/// Creates `dir` (and its parents) private to its user.
pub(crate) fn private_dir(dir: &Path) -> Result<()> {
    crate::spool::private_dir_builder()
        .create(dir)
        .map_err(|e| io_error(dir, e))
}

/// Writes `bytes` as `dir/name`, whole or not at all, private to its user; an existing file
/// is replaced unless `replace` is false, when the existing file is kept and `false` returned.
pub(crate) fn persist_private(dir: &Path, name: &str, bytes: &[u8], replace: bool) -> Result<bool> {
    private_dir(dir)?;
    let path = dir.join(name);
    // tempfile makes its files 0600.
    let mut partial = tempfile::NamedTempFile::new_in(dir).map_err(|e| io_error(dir, e))?;
    partial.write_all(bytes).map_err(|e| io_error(&path, e))?;
    partial
        .as_file()
        .sync_data()
        .map_err(|e| io_error(&path, e))?;
    if replace {
        partial
            .persist(&path)
            .map_err(|e| io_error(&path, e.error))?;
        return Ok(true);
    }
    match partial.persist_noclobber(&path) {
        Ok(_) => Ok(true),
        Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(io_error(&path, e.error)),
    }
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>> {
    match fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| corrupt(path, &e)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error(path, e)),
    }
}

#[allow(
    clippy::expect_used,
    reason = "the kept values are plain data, which serialise to JSON"
)]
fn json<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("kept values serialise")
}

/// The files of a directory in name order; none when it does not exist.
fn files_in(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_error(dir, e)),
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        // Partial writes (`.tmp…`) are not kept files.
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| !n.starts_with('.'))
        })
        .collect();
    files.sort();
    Ok(files)
}

fn remove(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io_error(path, e)),
        _ => Ok(()),
    }
}

/// The kept things of the experiments in one write-ahead directory.
#[derive(Debug, Clone)]
pub(crate) struct Outbox {
    dir: PathBuf,
}

impl Outbox {
    pub(crate) fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    fn experiment(&self, uid: &str) -> PathBuf {
        self.dir.join(uid)
    }

    /// The lock of what is kept for `uid`, held until dropped: a keep changes the folder only
    /// under it, and [`Outbox::deliver`] leaves the folder alone while a keep is under way (it
    /// would otherwise remove the folder of objects that a keep has just made).
    fn hold(&self, uid: &str) -> Result<File> {
        let dir = self.experiment(uid);
        private_dir(&dir)?;
        let lock = folder_lock(&dir).map_err(|e| io_error(&dir, e))?;
        lock.lock().map_err(|e| io_error(&dir, e))?;
        Ok(lock)
    }

    /// Keeps the creation of an experiment the server could not be asked to create, and
    /// returns the card the run shows until then (version `0.0.0-pending`).
    pub(crate) fn keep_create(&self, body: CreateBody, username: String) -> Result<ExperimentCard> {
        let kept = KeptCreate { body, username };
        let _held = self.hold(&kept.body.uid)?;
        persist_private(
            &self.experiment(&kept.body.uid),
            CREATE_FILE,
            &json(&kept),
            true,
        )?;
        Ok(self.provisional_card(kept))
    }

    fn provisional_card(&self, kept: KeptCreate) -> ExperimentCard {
        let uid = kept.body.uid;
        let metadata = read_json(&self.experiment(&uid).join(METADATA_FILE))
            .ok()
            .flatten()
            .unwrap_or_default();
        ExperimentCard {
            space: kept.body.space,
            name: kept.body.name,
            version: pending_version(),
            tags: kept.body.tags,
            status: Status::Running,
            created_at: kept.body.created_at,
            ended_at: None,
            experimentcard_uids: Vec::new(),
            parent_uid: kept.body.parent_uid,
            compute_environment: kept.body.compute_environment,
            opsml_version: kept.body.opsml_version,
            username: kept.username,
            metadata,
            uid,
        }
    }

    /// The card of an experiment created here and not yet on its server.
    pub(crate) fn pending_card(&self, uid: &str) -> Result<Option<ExperimentCard>> {
        let kept: Option<KeptCreate> = read_json(&self.experiment(uid).join(CREATE_FILE))?;
        Ok(kept.map(|kept| self.provisional_card(kept)))
    }

    /// Whether the creation of `uid` waits here.
    pub(crate) fn awaits_create(&self, uid: &str) -> bool {
        self.experiment(uid).join(CREATE_FILE).exists()
    }

    /// Whether anything of `uid` waits here (its batches aside).
    pub(crate) fn holds(&self, uid: &str) -> bool {
        let dir = self.experiment(uid);
        [
            CREATE_FILE,
            KEY_FILE,
            METADATA_FILE,
            OBJECTS_DIR,
            RECORDS_DIR,
        ]
        .iter()
        .any(|name| dir.join(name).exists())
    }

    /// Keeps the wrapped data key of an experiment that is not yet on its server; a key kept
    /// first (by another process of the run) wins and is returned.
    pub(crate) fn keep_key(&self, uid: &str, wrapped: &[u8]) -> Result<Vec<u8>> {
        let body = WrappedKeyBody {
            wrapped: base64::engine::general_purpose::STANDARD.encode(wrapped),
        };
        let dir = self.experiment(uid);
        let _held = self.hold(uid)?;
        if persist_private(&dir, KEY_FILE, &json(&body), false)? {
            return Ok(wrapped.to_vec());
        }
        self.kept_key(uid)?
            .ok_or_else(|| StoreError::Corrupt(format!("the kept key of {uid} vanished")))
    }

    /// The wrapped data key kept for `uid`, if any.
    pub(crate) fn kept_key(&self, uid: &str) -> Result<Option<Vec<u8>>> {
        let path = self.experiment(uid).join(KEY_FILE);
        let Some(body) = read_json::<WrappedKeyBody>(&path)? else {
            return Ok(None);
        };
        base64::engine::general_purpose::STANDARD
            .decode(&body.wrapped)
            .map(Some)
            .map_err(|e| StoreError::Corrupt(format!("{}: {e}", path.display())))
    }

    /// Keeps the bytes of object `id` of `uid` (ciphertext) from `source`; its size.
    pub(crate) fn keep_object(
        &self,
        uid: &str,
        id: &str,
        source: &mut dyn Read,
    ) -> opsml_storage::Result<u64> {
        let _held = self.hold(uid)?;
        let dir = self.experiment(uid).join(OBJECTS_DIR);
        private_dir(&dir)?;
        let path = dir.join(id);
        let mut partial = tempfile::NamedTempFile::new_in(&dir).map_err(|e| io_error(&dir, e))?;
        // Reading and writing apart: a failure of the source (the file being logged) is the
        // caller's, one of the disk here is ours.
        let mut buf = vec![0; 1 << 20];
        let mut size = 0u64;
        loop {
            let read = match source.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(StorageError::UploadSource(e)),
            };
            partial
                .as_file_mut()
                .write_all(&buf[..read])
                .map_err(|e| io_error(&path, e))?;
            size += read as u64;
        }
        partial
            .as_file()
            .sync_data()
            .map_err(|e| io_error(&path, e))?;
        partial
            .persist(&path)
            .map_err(|e| io_error(&path, e.error))?;
        Ok(size)
    }

    /// Keeps artifact records of `uid`, to be recorded after the objects kept before them.
    pub(crate) fn keep_records(&self, uid: &str, records: &[ArtifactRecord]) -> Result<()> {
        let _held = self.hold(uid)?;
        let dir = self.experiment(uid).join(RECORDS_DIR);
        // Named by a time-ordered uid: the server records them in the order they were made.
        let name = format!("{}.json", opsml_types::new_uid());
        persist_private(&dir, &name, &json(records), true).map(drop)
    }

    /// Keeps the metadata of `uid` (replacing metadata kept before).
    pub(crate) fn keep_metadata(&self, uid: &str, metadata: &ExperimentMetadata) -> Result<()> {
        let _held = self.hold(uid)?;
        persist_private(&self.experiment(uid), METADATA_FILE, &json(metadata), true).map(drop)
    }

    /// Delivers what is kept for `uid` to the server of `client`, in order: its creation
    /// (after its parent's), its data key, objects, records, metadata; each file goes once
    /// delivered. `false` when another process is delivering them, or a keep is under way.
    pub(crate) fn deliver(&self, client: &Arc<ApiClient>, uid: &str) -> Result<bool> {
        let dir = self.experiment(uid);
        let lock = match folder_lock(&dir) {
            Ok(lock) => lock,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(true),
            Err(e) => return Err(io_error(&dir, e)),
        };
        if lock.try_lock().is_err() {
            return Ok(false);
        }
        let create = dir.join(CREATE_FILE);
        if let Some(kept) = read_json::<KeptCreate>(&create)? {
            if let Some(parent) = kept.body.parent_uid.as_deref().filter(|p| *p != uid) {
                if self.holds(parent) && !self.deliver(client, parent)? {
                    return Ok(false);
                }
            }
            create_on_server(client, &kept.body)?;
            remove(&create)?;
        }
        let key = dir.join(KEY_FILE);
        if let Some(wrapped) = self.kept_key(uid)? {
            deliver_key(client, uid, &wrapped)?;
            remove(&key)?;
        }
        let objects = dir.join(OBJECTS_DIR);
        let storage = HttpStorage::new(Arc::clone(client), None);
        for path in files_in(&objects)? {
            let id = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            let mut file = File::open(&path).map_err(|e| io_error(&path, e))?;
            storage
                .put(&format!("experiment/{uid}/objects/{id}"), &mut file)
                .map_err(|e| {
                    // The server's own failure (out of reach, refused) as it came.
                    StoreError::from_storage(e)
                        .unwrap_or_else(|other| io_error(&path, io::Error::other(other)))
                })?;
            remove(&path)?;
        }
        let _ = fs::remove_dir(&objects);
        let records = dir.join(RECORDS_DIR);
        for path in files_in(&records)? {
            let kept: Vec<ArtifactRecord> = read_json(&path)?.unwrap_or_default();
            client.call_empty(
                &Method::POST,
                &format!("/experiments/{uid}/artifacts"),
                Some(&kept),
            )?;
            remove(&path)?;
        }
        let _ = fs::remove_dir(&records);
        let metadata = dir.join(METADATA_FILE);
        if let Some(kept) = read_json::<ExperimentMetadata>(&metadata)? {
            client.call_empty(
                &Method::PUT,
                &format!("/experiments/{uid}/metadata"),
                Some(&kept),
            )?;
            remove(&metadata)?;
        }
        Ok(true)
    }
}

/// A handle whose lock stands for the folder `dir`: the folder itself on Unix, a lock file in
/// it elsewhere (Windows opens no folder as a file; the file keeps an emptied folder there).
fn folder_lock(dir: &Path) -> io::Result<File> {
    #[cfg(unix)]
    return File::open(dir);
    #[cfg(not(unix))]
    return File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(".lock"));
}

/// Creates the experiment of `body`; one created by an earlier attempt whose answer was lost
/// counts as created.
fn create_on_server(client: &ApiClient, body: &CreateBody) -> Result<()> {
    let created: Result<ExperimentCard> = client.call(&Method::POST, "/experiments", Some(body));
    match created {
        Ok(_) => Ok(()),
        Err(e) if is_status(&e, 409) => {
            let existing: Result<ExperimentCard> =
                client.get(&format!("/experiments/{}", body.uid), &[]);
            match existing {
                Ok(card) if card.space == body.space && card.name == body.name => Ok(()),
                _ => Err(e),
            }
        }
        Err(e) => Err(e),
    }
}

/// Stores the kept data key of `uid`; the server must end up with this very key, or the
/// objects kept with it could not be read.
fn deliver_key(client: &ApiClient, uid: &str, wrapped: &[u8]) -> Result<()> {
    let engine = base64::engine::general_purpose::STANDARD;
    let body = WrappedKeyBody {
        wrapped: engine.encode(wrapped),
    };
    let stored: WrappedKeyBody = client.call(
        &Method::POST,
        &format!("/experiments/{uid}/key"),
        Some(&body),
    )?;
    if stored != body {
        return Err(StoreError::Corrupt(format!(
            "the server holds another data key for experiment {uid} than the one its kept \
             artifacts were encrypted with"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn body(uid: &str) -> CreateBody {
        CreateBody {
            uid: uid.to_owned(),
            space: "team".to_owned(),
            name: "offline".to_owned(),
            tags: vec!["a".to_owned()],
            parent_uid: None,
            compute_environment: opsml_types::ComputeEnvironment::default(),
            opsml_version: "0".to_owned(),
            created_at: chrono::Utc::now(),
            lease: opsml_store::Lease::current(),
        }
    }

    #[test]
    fn a_kept_creation_shows_a_pending_card_and_private_files() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = Outbox::new(dir.path().to_owned());
        assert!(!outbox.holds("u1"));
        let card = outbox.keep_create(body("u1"), "ann".to_owned()).unwrap();
        assert_eq!(card.version.to_string(), "0.0.0-pending");
        assert_eq!((card.uid.as_str(), card.status), ("u1", Status::Running));
        assert!(outbox.awaits_create("u1") && outbox.holds("u1"));
        let metadata = ExperimentMetadata {
            git: Some(opsml_types::GitInfo {
                commit: "abc".to_owned(),
                branch: None,
                dirty: false,
                remote_url: None,
            }),
            ..ExperimentMetadata::default()
        };
        outbox.keep_metadata("u1", &metadata).unwrap();
        assert_eq!(
            outbox.pending_card("u1").unwrap().unwrap().metadata,
            metadata
        );
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir.path().join("u1")), 0o700);
        assert_eq!(mode(&dir.path().join("u1").join(CREATE_FILE)), 0o600);
        assert_eq!(mode(&dir.path().join("u1").join(METADATA_FILE)), 0o600);
    }

    #[test]
    fn the_first_kept_key_wins_for_every_process_of_the_run() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = Outbox::new(dir.path().to_owned());
        assert_eq!(outbox.kept_key("u").unwrap(), None);
        assert_eq!(outbox.keep_key("u", b"first").unwrap(), b"first");
        assert_eq!(outbox.keep_key("u", b"second").unwrap(), b"first");
        assert_eq!(outbox.kept_key("u").unwrap().unwrap(), b"first");
    }

    #[test]
    fn kept_objects_and_records_wait_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = Outbox::new(dir.path().to_owned());
        let size = outbox
            .keep_object("u", "o1", &mut &b"ciphertext"[..])
            .unwrap();
        assert_eq!(size, 10);
        for path in ["a.txt", "b.txt"] {
            let record = ArtifactRecord {
                path: path.to_owned(),
                size: 1,
                digest: "d".to_owned(),
                media_type: "text/plain".to_owned(),
                created_at: chrono::Utc::now(),
                storage_key: "experiment/u/objects/o1".to_owned(),
            };
            outbox.keep_records("u", &[record]).unwrap();
        }
        assert!(outbox.holds("u"));
        let experiment = dir.path().join("u");
        let objects = files_in(&experiment.join(OBJECTS_DIR)).unwrap();
        assert_eq!(fs::read(&objects[0]).unwrap(), b"ciphertext");
        let records: Vec<String> = files_in(&experiment.join(RECORDS_DIR))
            .unwrap()
            .iter()
            .map(|p| {
                let kept: Vec<ArtifactRecord> = read_json(p).unwrap().unwrap();
                kept[0].path.clone()
            })
            .collect();
        assert_eq!(records, ["a.txt", "b.txt"]);
    }

    /// A client of a port nobody listens on: every request fails at once.
    fn unreachable_client() -> Arc<ApiClient> {
        Arc::new(ApiClient::new("http://127.0.0.1:9", None).unwrap())
    }

    #[test]
    fn a_keep_under_way_makes_a_delivery_wait_for_its_turn() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = Outbox::new(dir.path().to_owned());
        let held = outbox.hold("u").unwrap();
        assert!(!outbox.deliver(&unreachable_client(), "u").unwrap());
        drop(held);
        // Nothing kept: nothing to deliver.
        assert!(outbox.deliver(&unreachable_client(), "u").unwrap());
    }

    #[test]
    fn an_object_kept_while_a_delivery_tidies_up_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = Outbox::new(dir.path().to_owned());
        let objects = dir.path().join("u").join(OBJECTS_DIR);
        let stop = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                let client = unreachable_client();
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    // Nothing waits: each delivery removes the empty folder of objects.
                    let _ = outbox.deliver(&client, "u");
                }
            });
            for n in 0..2_000 {
                let id = format!("o{n}");
                let kept = outbox.keep_object("u", &id, &mut &b"bytes"[..]);
                assert_eq!(kept.unwrap(), 5, "object {n}");
                // As a delivery of it would.
                fs::remove_file(objects.join(&id)).unwrap();
            }
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
        });
    }
}
