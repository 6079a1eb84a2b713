#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test stops at the first thing that is not as it should be"
)]
mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::{artifacts, start, temp_store};
use opsml_crypt::{CryptError, MasterKey};
use opsml_experiment::{
    download_artifact, download_artifacts, Artifacts, ExperimentError, StartOptions, Status,
};
use opsml_registry::{LocalStorage, RegistryError};

fn options(name: &str) -> StartOptions {
    StartOptions {
        space: Some("artifacts".into()),
        name: Some(name.into()),
        ..StartOptions::default()
    }
}

/// Deterministic pseudo-random bytes that do not compress.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

fn all_files(root: &Path) -> Vec<PathBuf> {
    walk(root)
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn files_of_every_size_round_trip_byte_for_byte() {
    let (dir, store) = temp_store();
    let exp = start(&dir, store, options("sizes")).unwrap();
    let src = dir.path().join("src");
    fs::create_dir(&src).unwrap();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty.bin", Vec::new()),
        ("one.txt", b"x".to_vec()),
        ("segment.bin", noise(64 * 1024, 1)),
        ("segment-plus-one.bin", noise(64 * 1024 + 1, 2)),
        ("multi.bin", noise(3 * 1024 * 1024 + 7, 3)),
        ("text.csv", "a,b\n1,2\n".repeat(50_000).into_bytes()),
        ("no_extension", b"plain".to_vec()),
        ("ünïcode name with spaces.json", b"{\"k\": 1}".to_vec()),
    ];
    for (name, data) in &cases {
        let local = src.join(name);
        fs::write(&local, data).unwrap();
        let record = exp.log_artifact(&local, None).unwrap();
        assert_eq!(record.path, *name);
        assert_eq!(record.size, data.len() as u64);
    }
    let out = dir.path().join("out");
    let written = download_artifacts(exp.artifacts(), exp.uid(), None, &out).unwrap();
    assert_eq!(written.len(), cases.len());
    for (name, data) in &cases {
        assert_eq!(&fs::read(out.join(name)).unwrap(), data, "{name}");
    }
    let listed: Vec<String> = exp
        .artifacts()
        .list(exp.uid(), None)
        .unwrap()
        .into_iter()
        .map(|r| r.path)
        .collect();
    assert_eq!(listed.len(), cases.len());
    let csv = exp.artifacts().list(exp.uid(), Some("text.csv")).unwrap();
    assert_eq!(csv[0].media_type, "text/csv");
    assert_eq!(csv[0].digest.len(), "blake3-keyed:".len() + 64);
}

#[test]
fn directories_keep_relative_paths_and_same_stem_files_stay_apart() {
    let (dir, store) = temp_store();
    let exp = start(&dir, store, options("tree")).unwrap();
    let tree = dir.path().join("tree");
    fs::create_dir_all(tree.join("nested/deeper")).unwrap();
    fs::write(tree.join("model.json"), b"{\"layers\": 3}").unwrap();
    fs::write(tree.join("model.pkl"), noise(5000, 9)).unwrap();
    fs::write(tree.join("nested/deeper/weights.bin"), noise(100, 4)).unwrap();
    for i in 0..200 {
        fs::write(
            tree.join(format!("nested/f{i:03}.txt")),
            format!("file {i}"),
        )
        .unwrap();
    }
    let records = exp.log_artifacts(&tree, Some("run")).unwrap();
    assert_eq!(records.len(), 203);

    let out = dir.path().join("out");
    download_artifacts(exp.artifacts(), exp.uid(), Some("run/nested"), &out).unwrap();
    assert_eq!(
        fs::read_to_string(out.join("run/nested/f042.txt")).unwrap(),
        "file 42"
    );
    assert!(
        !out.join("run/model.json").exists(),
        "prefix download took too much"
    );
    download_artifacts(exp.artifacts(), exp.uid(), Some("run"), &out).unwrap();
    assert_eq!(
        fs::read(out.join("run/model.json")).unwrap(),
        b"{\"layers\": 3}"
    );
    assert_eq!(fs::read(out.join("run/model.pkl")).unwrap(), noise(5000, 9));

    // A prefix is a directory, never a substring of a name.
    let err = download_artifacts(exp.artifacts(), exp.uid(), Some("run/mod"), &out).unwrap_err();
    assert!(err.to_string().contains("run/mod"), "{err}");
    let single = download_artifact(
        exp.artifacts(),
        exp.uid(),
        "run/model.pkl",
        Some(&dir.path().join("single/")),
    )
    .unwrap();
    assert_eq!(single, dir.path().join("single/model.pkl"));
}

#[test]
fn nothing_under_the_storage_is_plaintext() {
    let (dir, store) = temp_store();
    let exp = start(&dir, store, options("secret")).unwrap();
    let marker = "CONFIDENTIAL-MARKER-7f3a";
    for name in ["notes.txt", "image.png"] {
        let local = dir.path().join(name);
        fs::write(&local, format!("{marker} {}", marker.repeat(100))).unwrap();
        exp.log_artifact(&local, Some(&format!("docs/{name}")))
            .unwrap();
    }
    exp.log_bytes("inline/report.html", marker.as_bytes())
        .unwrap();
    for file in all_files(&dir.path().join("artifacts")) {
        let bytes = fs::read(&file).unwrap();
        assert!(
            !bytes.windows(marker.len()).any(|w| w == marker.as_bytes()),
            "plaintext found in {}",
            file.display()
        );
    }
}

#[test]
fn tampering_truncation_and_swapped_files_are_detected() {
    let (dir, store) = temp_store();
    let exp = start(&dir, store, options("tamper")).unwrap();
    let data = noise(200_000, 5);
    for name in ["a.bin", "b.bin", "c.bin", "d.bin"] {
        let local = dir.path().join(name);
        fs::write(&local, &data).unwrap();
        exp.log_artifact(&local, None).unwrap();
    }
    let stored = |name: &str| {
        let record = exp
            .artifacts()
            .list(exp.uid(), Some(name))
            .unwrap()
            .remove(0);
        dir.path().join("artifacts").join(record.storage_key)
    };
    let mut flipped = fs::read(stored("a.bin")).unwrap();
    flipped[100_000] ^= 0x01;
    fs::write(stored("a.bin"), flipped).unwrap();
    let full = fs::read(stored("b.bin")).unwrap();
    fs::write(stored("b.bin"), &full[..full.len() - 10]).unwrap();
    // Same size, same key, different remote path: still refused.
    fs::copy(stored("d.bin"), stored("c.bin")).unwrap();

    let out = dir.path().join("out");
    for name in ["a.bin", "b.bin", "c.bin"] {
        let err =
            download_artifact(exp.artifacts(), exp.uid(), name, Some(&out.join(name))).unwrap_err();
        assert!(
            matches!(err, ExperimentError::Registry(RegistryError::Crypt { ref artifact, .. }) if artifact == name),
            "{name}: {err}"
        );
        assert!(!out.join(name).exists(), "{name} written despite failing");
    }
    download_artifact(
        exp.artifacts(),
        exp.uid(),
        "d.bin",
        Some(&out.join("d.bin")),
    )
    .unwrap();
    assert_eq!(fs::read(out.join("d.bin")).unwrap(), data);
}

#[test]
fn the_wrong_master_key_is_reported_as_such() {
    let (dir, store) = temp_store();
    let exp = start(&dir, Arc::clone(&store), options("keys")).unwrap();
    let local = dir.path().join("x.txt");
    fs::write(&local, b"x").unwrap();
    exp.log_artifact(&local, None).unwrap();
    let other = Artifacts::new(
        store,
        Arc::new(LocalStorage::new(dir.path().join("artifacts"))),
        Arc::new(MasterKey::generate()),
    );
    let err =
        download_artifact(&other, exp.uid(), "x.txt", Some(&dir.path().join("o.txt"))).unwrap_err();
    assert!(
        matches!(
            err,
            ExperimentError::Registry(RegistryError::MasterKey(CryptError::WrongMasterKey))
        ),
        "{err}"
    );
}

#[test]
fn bad_paths_and_wrong_kinds_are_refused_by_name() {
    let (dir, store) = temp_store();
    let exp = start(&dir, store, options("paths")).unwrap();
    let local = dir.path().join("f.txt");
    fs::write(&local, b"f").unwrap();
    for bad in ["../escape.txt", "/etc/passwd", "a/../../b", "", "nul\0byte"] {
        let err = exp.log_artifact(&local, Some(bad)).unwrap_err();
        assert!(matches!(err, ExperimentError::Invalid(_)), "{bad:?}: {err}");
        assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
    }
    let missing = dir.path().join("missing.txt");
    let err = exp.log_artifact(&missing, None).unwrap_err();
    assert!(
        matches!(err, ExperimentError::Registry(RegistryError::LocalPathNotFound(ref p)) if *p == missing),
        "{err}"
    );
    let err = exp.log_artifact(dir.path(), Some("d")).unwrap_err();
    assert!(matches!(
        err,
        ExperimentError::Registry(RegistryError::IsADirectory(_))
    ));
    let err = exp.log_artifacts(&local, None).unwrap_err();
    assert!(matches!(
        err,
        ExperimentError::Registry(RegistryError::NotADirectory(_))
    ));
    assert!(exp.artifacts().list(exp.uid(), None).unwrap().is_empty());
}

#[test]
fn user_files_are_never_modified_and_relogging_replaces() {
    let (dir, store) = temp_store();
    let exp = start(&dir, store, options("untouched")).unwrap();
    let local = dir.path().join("model.pt");
    fs::write(&local, b"version one").unwrap();
    let before = fs::metadata(&local).unwrap().modified().unwrap();
    exp.log_artifact(&local, Some("ckpt/model.pt")).unwrap();
    assert_eq!(fs::read(&local).unwrap(), b"version one");
    assert_eq!(fs::metadata(&local).unwrap().modified().unwrap(), before);
    fs::write(&local, b"version two").unwrap();
    exp.log_artifact(&local, Some("ckpt/model.pt")).unwrap();
    let out = download_artifact(
        exp.artifacts(),
        exp.uid(),
        "ckpt/model.pt",
        Some(&dir.path().join("o/")),
    )
    .unwrap();
    assert_eq!(fs::read(out).unwrap(), b"version two");
    assert_eq!(exp.artifacts().list(exp.uid(), None).unwrap().len(), 1);
}

#[cfg(unix)]
#[test]
fn symlinked_files_are_stored_as_content_and_symlinked_directories_are_not_followed() {
    let (dir, store) = temp_store();
    let exp = start(&dir, store, options("links")).unwrap();
    let outside = dir.path().join("outside");
    fs::create_dir(&outside).unwrap();
    fs::write(outside.join("secret.txt"), b"not part of the tree").unwrap();
    let tree = dir.path().join("tree");
    fs::create_dir(&tree).unwrap();
    fs::write(tree.join("real.txt"), b"real").unwrap();
    std::os::unix::fs::symlink(tree.join("real.txt"), tree.join("link.txt")).unwrap();
    std::os::unix::fs::symlink(&outside, tree.join("linked_dir")).unwrap();
    let mut paths: Vec<String> = exp
        .log_artifacts(&tree, None)
        .unwrap()
        .into_iter()
        .map(|r| r.path)
        .collect();
    paths.sort();
    assert_eq!(paths, ["link.txt", "real.txt"]);
}

#[test]
fn artifacts_cannot_be_logged_after_the_end() {
    let (dir, store) = temp_store();
    let exp = start(&dir, store, options("ended")).unwrap();
    exp.end(Status::Completed).unwrap();
    assert!(matches!(
        exp.log_bytes("x.txt", b"x").unwrap_err(),
        ExperimentError::Ended { .. }
    ));
}

#[test]
fn code_directories_are_captured_under_code() {
    let (dir, store) = temp_store();
    let code = dir.path().join("project");
    fs::create_dir_all(code.join("pkg")).unwrap();
    fs::write(code.join(".gitignore"), "*.ckpt\n").unwrap();
    fs::write(code.join("train.py"), b"print('train')").unwrap();
    fs::write(code.join("pkg/model.py"), b"class Model: ...").unwrap();
    fs::write(code.join("weights.ckpt"), b"ignored").unwrap();
    let exp = start(
        &dir,
        Arc::clone(&store),
        StartOptions {
            code_dir: Some(code.clone()),
            ..options("code")
        },
    )
    .unwrap();
    exp.end(Status::Completed).unwrap();
    let paths: Vec<String> = exp
        .artifacts()
        .list(exp.uid(), Some("code"))
        .unwrap()
        .into_iter()
        .map(|r| r.path)
        .collect();
    assert_eq!(
        paths,
        ["code/.gitignore", "code/pkg/model.py", "code/train.py"]
    );
    let card = store.get_experiment(exp.uid()).unwrap().unwrap();
    let capture = card.metadata.code.expect("code capture recorded");
    assert_eq!(capture.files, 3);
    assert_eq!(capture.root, code.display().to_string());
}

#[test]
fn git_state_is_recorded_without_credentials() {
    let (dir, store) = temp_store();
    let repo = dir.path().join("repo");
    fs::create_dir(&repo).unwrap();
    let git = |args: &[&str]| {
        let status = std::process::Command::new("git")
            .arg("-C")
            .arg(&repo)
            .args(args)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .output()
            .unwrap();
        assert!(status.status.success(), "git {args:?}: {status:?}");
        String::from_utf8(status.stdout).unwrap().trim().to_owned()
    };
    git(&["init", "-q", "-b", "main"]);
    fs::write(repo.join("train.py"), b"v1").unwrap();
    git(&["add", "train.py"]);
    git(&["commit", "-q", "-m", "first"]);
    git(&[
        "remote",
        "add",
        "origin",
        "https://user:hunter2@example.com/org/repo.git",
    ]);
    fs::write(repo.join("train.py"), b"v2").unwrap();
    let commit = git(&["rev-parse", "HEAD"]);

    let exp = start(
        &dir,
        Arc::clone(&store),
        StartOptions {
            code_dir: Some(repo.clone()),
            ..options("git")
        },
    )
    .unwrap();
    exp.end(Status::Completed).unwrap();
    let git_info = store
        .get_experiment(exp.uid())
        .unwrap()
        .unwrap()
        .metadata
        .git
        .expect("git state recorded");
    assert_eq!(git_info.commit, commit);
    assert_eq!(git_info.branch.as_deref(), Some("main"));
    assert!(git_info.dirty);
    assert_eq!(
        git_info.remote_url.as_deref(),
        Some("https://example.com/org/repo.git")
    );
}

#[test]
fn installed_packages_are_stored_as_requirements() {
    let (dir, store) = temp_store();
    let site = dir.path().join("site-packages");
    fs::create_dir_all(site.join("numpy-2.4.6.dist-info")).unwrap();
    fs::create_dir_all(site.join("torch-2.9.0.dist-info")).unwrap();
    let script = dir.path().join("train.py");
    fs::write(&script, b"print('hi')").unwrap();
    let exp = start(
        &dir,
        store,
        StartOptions {
            python_paths: vec![site],
            script: Some(script),
            ..options("env")
        },
    )
    .unwrap();
    exp.end(Status::Completed).unwrap();
    let out = dir.path().join("out");
    download_artifacts(exp.artifacts(), exp.uid(), None, &out).unwrap();
    assert_eq!(
        fs::read_to_string(out.join("environment/requirements.txt")).unwrap(),
        "numpy==2.4.6\ntorch==2.9.0\n"
    );
    assert_eq!(fs::read(out.join("code/train.py")).unwrap(), b"print('hi')");
}

#[test]
fn artifacts_of_a_shared_test_helper_use_one_key_per_experiment() {
    let (dir, store) = temp_store();
    let exp = start(&dir, Arc::clone(&store), options("one-key")).unwrap();
    let first = artifacts(&dir, Arc::clone(&store))
        .data_key(exp.uid())
        .unwrap();
    let second = artifacts(&dir, store).data_key(exp.uid()).unwrap();
    assert_eq!(format!("{first:?}"), format!("{second:?}"));
}

#[cfg(unix)]
#[test]
fn a_failed_directory_upload_keeps_earlier_versions_and_leaves_no_objects() {
    let (dir, store) = temp_store();
    let exp = start(&dir, store, options("all-or-nothing")).unwrap();
    let tree = dir.path().join("tree");
    fs::create_dir(&tree).unwrap();
    fs::write(tree.join("a.bin"), b"first version").unwrap();
    exp.log_artifacts(&tree, None).unwrap();
    let objects_before = all_files(&dir.path().join("artifacts")).len();

    fs::write(tree.join("a.bin"), b"second version").unwrap();
    // A file that exists but cannot be read to the end: reading /proc/self/mem fails.
    std::os::unix::fs::symlink("/proc/self/mem", tree.join("unreadable.bin")).unwrap();
    let err = exp.log_artifacts(&tree, None).unwrap_err();
    assert!(err.to_string().contains("unreadable.bin"), "{err}");

    assert_eq!(
        all_files(&dir.path().join("artifacts")).len(),
        objects_before
    );
    let out = download_artifact(
        exp.artifacts(),
        exp.uid(),
        "a.bin",
        Some(&dir.path().join("o.bin")),
    )
    .unwrap();
    assert_eq!(fs::read(out).unwrap(), b"first version");
}

#[test]
fn relogging_a_path_removes_the_object_it_replaced() {
    let (dir, store) = temp_store();
    let exp = start(&dir, store, options("replace")).unwrap();
    let local = dir.path().join("m.bin");
    fs::write(&local, b"one").unwrap();
    exp.log_artifact(&local, Some("models/")).unwrap();
    let count = all_files(&dir.path().join("artifacts")).len();
    fs::write(&local, b"two").unwrap();
    let record = exp.log_artifact(&local, Some("models/")).unwrap();
    assert_eq!(record.path, "models/m.bin");
    assert_eq!(all_files(&dir.path().join("artifacts")).len(), count);
}
