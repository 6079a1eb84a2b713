//! Master keys, data keys and key wrapping.

mod common;

use std::sync::{Arc, Barrier};
use std::thread;

use common::{decrypt, encrypt, noise};
use opsml_crypt::{
    unwrap_data_key, wrap_data_key, CryptError, DataKey, MasterKey, WRAPPED_KEY_LEN,
};

const UID: &[u8] = b"0197a3c1-5b2e-7c44-9a1d-3f6e8b2d4c10";

/// Whether two data keys are the same, judged by decrypting with one what the other encrypted.
fn same_data_key(a: &DataKey, b: &DataKey) -> bool {
    let plaintext = noise(1000, 1);
    decrypt(&encrypt(&plaintext, a, b"p", false), b, b"p").is_ok_and(|back| back == plaintext)
}

#[test]
fn wrap_and_unwrap_round_trip() {
    let master = MasterKey::generate();
    let key = DataKey::generate();
    let wrapped = wrap_data_key(&master, &key, UID);
    assert_eq!(wrapped.len(), WRAPPED_KEY_LEN);
    assert_eq!(WRAPPED_KEY_LEN, 24 + 32 + 16);
    let back = unwrap_data_key(&master, &wrapped, UID).unwrap();
    assert!(same_data_key(&key, &back));
    assert!(!same_data_key(&key, &DataKey::generate()));
    // A fresh nonce each time.
    assert_ne!(wrapped, wrap_data_key(&master, &key, UID));
}

#[test]
fn unwrapping_with_another_master_key_or_context_fails() {
    let master = MasterKey::generate();
    let wrapped = wrap_data_key(&master, &DataKey::generate(), UID);
    assert!(matches!(
        unwrap_data_key(&MasterKey::generate(), &wrapped, UID),
        Err(CryptError::WrongMasterKey)
    ));
    assert!(matches!(
        unwrap_data_key(&master, &wrapped, b"another-experiment-uid"),
        Err(CryptError::WrongMasterKey)
    ));
    assert!(matches!(
        unwrap_data_key(&master, &wrapped, b""),
        Err(CryptError::WrongMasterKey)
    ));
    for byte in 0..wrapped.len() {
        let mut changed = wrapped.clone();
        changed[byte] ^= 0x01;
        assert!(matches!(
            unwrap_data_key(&master, &changed, UID),
            Err(CryptError::WrongMasterKey)
        ));
    }
}

#[test]
fn unwrapping_bytes_of_the_wrong_length_is_malformed() {
    let master = MasterKey::generate();
    let wrapped = wrap_data_key(&master, &DataKey::generate(), UID);
    for len in [0, 1, 24, WRAPPED_KEY_LEN - 1] {
        assert!(matches!(
            unwrap_data_key(&master, &wrapped[..len], UID),
            Err(CryptError::Malformed(_))
        ));
    }
    let mut longer = wrapped.clone();
    longer.push(0);
    let err = unwrap_data_key(&master, &longer, UID).unwrap_err();
    assert!(matches!(err, CryptError::Malformed(_)));
    assert!(err.to_string().contains("73"), "{err}");
}

#[test]
fn master_key_base64_round_trip() {
    let key = MasterKey::generate();
    let text = key.to_base64();
    assert_eq!(text.len(), 44);
    let back = MasterKey::from_base64(&text).unwrap();
    assert_eq!(back.to_base64(), text);
    assert_eq!(back.fingerprint(), key.fingerprint());
    // Surrounding whitespace, as in a key file, is fine.
    let padded = format!("  {text}\n\r\n");
    assert_eq!(MasterKey::from_base64(&padded).unwrap().to_base64(), text);
    // The same master key unwraps after the round trip.
    let data = DataKey::generate();
    let wrapped = wrap_data_key(&key, &data, UID);
    assert!(same_data_key(
        &data,
        &unwrap_data_key(&back, &wrapped, UID).unwrap()
    ));
}

#[test]
fn from_base64_rejects_bad_input_without_echoing_it() {
    let valid = MasterKey::generate().to_base64();
    let too_short = valid[..40].to_owned() + "====";
    let cases = [
        String::new(),
        "z!not*b@se-sixty-four?".to_owned(),
        "%%%%".to_owned(),
        valid[..43].to_owned(),
        too_short,
        // 33 bytes
        "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB".to_owned(),
        // 31 bytes
        "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQQ==".to_owned(),
        format!("{valid}{valid}"),
    ];
    for text in cases {
        let err = MasterKey::from_base64(&text).unwrap_err();
        assert!(
            matches!(err, CryptError::InvalidSecret(_)),
            "{text:?}: {err:?}"
        );
        let message = format!("{err} {err:?}");
        if text.len() >= 4 {
            assert!(
                !message.contains(&text),
                "the error repeats the secret: {message}"
            );
        }
        for window in text.as_bytes().windows(6) {
            let window = std::str::from_utf8(window).unwrap();
            assert!(
                !message.contains(window),
                "the error repeats part of the secret"
            );
        }
    }
    let err = MasterKey::from_base64("QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQQ==").unwrap_err();
    assert!(err.to_string().contains("31"), "{err}");
}

#[test]
fn debug_output_shows_no_key_material() {
    let key = MasterKey::generate();
    let text = key.to_base64();
    let debug = format!("{key:?}");
    assert!(debug.contains(&key.fingerprint()));
    assert!(!debug.contains(&text));
    assert!(!debug.contains(&text[..8]));
    assert_eq!(key.fingerprint().len(), 16);
    assert_ne!(key.fingerprint(), MasterKey::generate().fingerprint());
}

#[test]
fn load_or_create_creates_a_private_file_and_reuses_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested").join("deeper").join("master.key");
    let first = MasterKey::load_or_create(&path).unwrap();
    assert!(path.exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
    }
    let contents = std::fs::read_to_string(&path).unwrap();
    assert_eq!(contents.trim_end(), first.to_base64());
    let second = MasterKey::load_or_create(&path).unwrap();
    assert_eq!(second.to_base64(), first.to_base64());
    // No temporary files are left behind.
    let entries: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
}

#[test]
fn load_or_create_reads_an_existing_key_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("master.key");
    let key = MasterKey::generate();
    std::fs::write(&path, format!("{}\n\n  \t\n", key.to_base64())).unwrap();
    assert_eq!(
        MasterKey::load_or_create(&path).unwrap().to_base64(),
        key.to_base64()
    );
}

#[test]
fn load_or_create_rejects_a_damaged_key_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("master.key");
    let secretish = "c2VjcmV0LWJ1dC10b28tc2hvcnQ=";
    std::fs::write(&path, secretish).unwrap();
    let err = MasterKey::load_or_create(&path).unwrap_err();
    assert!(matches!(err, CryptError::KeyFile { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("master.key"), "{message}");
    assert!(message.contains("32 bytes"), "{message}");
    assert!(!message.contains(secretish), "{message}");
    // The damaged file is left alone.
    assert_eq!(std::fs::read_to_string(&path).unwrap(), secretish);
}

#[test]
fn load_or_create_reports_unusable_paths() {
    let dir = tempfile::tempdir().unwrap();
    // The parent is a file, so no directory can be created there.
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, "x").unwrap();
    let err = MasterKey::load_or_create(&blocker.join("master.key")).unwrap_err();
    assert!(matches!(err, CryptError::KeyFile { .. }), "{err:?}");
}

#[test]
fn concurrent_load_or_create_agrees_on_one_key() {
    for round in 0..10 {
        let dir = tempfile::tempdir().unwrap();
        let path = Arc::new(dir.path().join(format!("keys-{round}")).join("master.key"));
        let threads = 8;
        let barrier = Arc::new(Barrier::new(threads));
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let path = Arc::clone(&path);
                let barrier = Arc::clone(&barrier);
                thread::spawn(move || {
                    barrier.wait();
                    MasterKey::load_or_create(&path).unwrap().to_base64()
                })
            })
            .collect();
        let keys: Vec<String> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert!(
            keys.iter().all(|k| k == &keys[0]),
            "round {round}: keys differ"
        );
        let on_disk = std::fs::read_to_string(path.as_ref()).unwrap();
        assert_eq!(on_disk.trim_end(), keys[0]);
        let entries = std::fs::read_dir(path.parent().unwrap()).unwrap().count();
        assert_eq!(entries, 1, "temporary files left behind");
    }
}
