//! Round trips and tamper detection of the encrypted artifact format.

mod common;

use std::io::{self, Read};

use common::{
    decrypt, decrypt_checked, encrypt, encrypt_chunked, nibbles, noise, read_in_chunks,
    segment_range, text, C, S,
};
use opsml_crypt::{
    crypt_error, encrypted_len, CryptError, DataKey, DecryptingReader, EncryptOptions,
    EncryptingReader, FLAG_ZSTD, FORMAT_VERSION, HEADER_LEN, MAGIC, TAG_LEN,
};

const PATH: &[u8] = b"opsml_registries/experiments/space/name/v1.0.0/artifacts/model.bin";

fn sizes() -> Vec<usize> {
    vec![
        0,
        1,
        17,
        S - 1,
        S,
        S + 1,
        2 * S,
        3 * S + 17,
        5 * 1024 * 1024 + 3,
    ]
}

fn assert_tampered(result: Result<Vec<u8>, CryptError>, what: &str) {
    match result {
        Err(CryptError::Tampered) => {}
        other => panic!("{what}: expected Tampered, got {other:?}"),
    }
}

fn assert_truncated(result: Result<Vec<u8>, CryptError>, what: &str) {
    match result {
        Err(CryptError::Truncated) => {}
        other => panic!("{what}: expected Truncated, got {other:?}"),
    }
}

#[test]
fn round_trips_all_sizes_with_and_without_compression() {
    let key = DataKey::generate();
    for size in sizes() {
        for (name, plaintext) in [
            ("noise", noise(size, size as u64)),
            ("nibbles", nibbles(size, size as u64)),
            ("text", text(size)),
        ] {
            for compress in [false, true] {
                let ciphertext = encrypt(&plaintext, &key, PATH, compress);
                let back = decrypt(&ciphertext, &key, PATH).unwrap_or_else(|err| {
                    panic!("{name} of {size} bytes, compress={compress}: {err}")
                });
                assert!(
                    back == plaintext,
                    "{name} of {size} bytes, compress={compress}: plaintext differs"
                );
                if !compress {
                    assert_eq!(ciphertext.len() as u64, encrypted_len(size as u64));
                }
            }
        }
    }
}

#[test]
fn round_trips_through_small_and_odd_read_buffers() {
    let key = DataKey::generate();
    for size in [0, 1, S - 1, S, S + 1, 3 * S + 5] {
        let plaintext = noise(size, 7);
        for compress in [false, true] {
            for chunk in [1, 2, 7, 16, 33, 4099, C + 1] {
                // One-byte reads over a few segments are slow unoptimized: keep them small.
                if chunk == 1 && size > S + 1 {
                    continue;
                }
                let ciphertext = encrypt_chunked(&plaintext, &key, PATH, compress, chunk);
                let back = decrypt_checked(&ciphertext, &key, PATH, chunk, None)
                    .unwrap_or_else(|err| panic!("{size} bytes, chunk {chunk}: {err}"));
                assert!(back == plaintext, "{size} bytes, chunk {chunk}: differs");
            }
        }
    }
}

#[test]
fn inner_readers_returning_short_reads_are_handled() {
    /// Yields at most `max` bytes per read, and an `Interrupted` error every third call.
    struct Trickle<'a> {
        data: &'a [u8],
        max: usize,
        calls: usize,
    }
    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.calls += 1;
            if self.calls.is_multiple_of(3) {
                return Err(io::Error::from(io::ErrorKind::Interrupted));
            }
            let n = buf.len().min(self.max).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    let key = DataKey::generate();
    let plaintext = nibbles(2 * S + 100, 3);
    for compress in [false, true] {
        let source = Trickle {
            data: &plaintext,
            max: 1000,
            calls: 0,
        };
        let ciphertext = read_in_chunks(
            EncryptingReader::new(source, &key, PATH, EncryptOptions { compress }),
            5000,
        )
        .unwrap();
        let source = Trickle {
            data: &ciphertext,
            max: 777,
            calls: 1,
        };
        // The header read sees an Interrupted error too, and retries.
        let reader = DecryptingReader::new(source, &key, PATH).unwrap();
        assert_eq!(reader.is_compressed(), compress);
        assert!(read_in_chunks(reader, 3000).unwrap() == plaintext);
    }
}

#[test]
fn io_errors_of_the_inner_reader_pass_through_and_can_be_resumed() {
    /// Fails once, with `WouldBlock`, after `fail_at` bytes.
    struct Flaky<'a> {
        data: &'a [u8],
        fail_at: usize,
        given: usize,
        failed: bool,
    }
    impl Read for Flaky<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if !self.failed && self.given == self.fail_at {
                self.failed = true;
                return Err(io::Error::from(io::ErrorKind::WouldBlock));
            }
            let mut n = buf.len().min(self.data.len());
            if !self.failed {
                n = n.min(self.fail_at - self.given);
            }
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            self.given += n;
            Ok(n)
        }
    }
    fn read_retrying<R: Read>(mut reader: R) -> (Vec<u8>, usize) {
        let mut out = Vec::new();
        let mut buf = vec![0u8; 10_000];
        let mut errors = 0;
        loop {
            match reader.read(&mut buf) {
                Ok(0) => return (out, errors),
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(err) => {
                    assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
                    assert!(crypt_error(&err).is_none());
                    errors += 1;
                }
            }
        }
    }

    let key = DataKey::generate();
    let plaintext = noise(3 * S + 10, 9);
    let source = Flaky {
        data: &plaintext,
        fail_at: S + 100,
        given: 0,
        failed: false,
    };
    let (ciphertext, errors) = read_retrying(EncryptingReader::new(
        source,
        &key,
        PATH,
        EncryptOptions::default(),
    ));
    assert_eq!(errors, 1);
    assert_eq!(decrypt(&ciphertext, &key, PATH).unwrap(), plaintext);

    let source = Flaky {
        data: &ciphertext,
        fail_at: HEADER_LEN + C + 50,
        given: 0,
        failed: false,
    };
    let (back, errors) = read_retrying(DecryptingReader::new(source, &key, PATH).unwrap());
    assert_eq!(errors, 1);
    assert!(back == plaintext);
}

#[test]
fn header_has_the_documented_layout() {
    let key = DataKey::generate();
    for compress in [false, true] {
        let ciphertext = encrypt(&text(10_000), &key, PATH, compress);
        assert_eq!(&ciphertext[..8], MAGIC);
        assert_eq!(ciphertext[8], FORMAT_VERSION);
        assert_eq!(ciphertext[9], if compress { FLAG_ZSTD } else { 0 });
        assert_eq!(
            u32::from_le_bytes(ciphertext[10..14].try_into().unwrap()),
            65536
        );
        assert_eq!(HEADER_LEN, 33);
    }
    // An empty plaintext still has a final authenticated segment (a lone tag).
    assert_eq!(encrypt(b"", &key, PATH, false).len(), HEADER_LEN + TAG_LEN);
    // Two encryptions of the same plaintext differ (random nonce prefix).
    assert_ne!(
        encrypt(b"same", &key, PATH, false),
        encrypt(b"same", &key, PATH, false)
    );
}

#[test]
fn data_that_does_not_compress_is_stored_uncompressed() {
    let key = DataKey::generate();
    for plaintext in [
        noise(3 * S, 61),
        noise(3 << 20, 67),
        b"hello".to_vec(),
        Vec::new(),
    ] {
        let mut reader = EncryptingReader::new(
            &plaintext[..],
            &key,
            PATH,
            EncryptOptions { compress: true },
        );
        assert_eq!(reader.is_compressed(), None);
        let ciphertext = read_in_chunks(&mut reader, 1 << 20).unwrap();
        assert_eq!(reader.is_compressed(), Some(false));
        assert_eq!(ciphertext[9], 0);
        assert_eq!(
            ciphertext.len() as u64,
            encrypted_len(plaintext.len() as u64)
        );
        assert_eq!(decrypt(&ciphertext, &key, PATH).unwrap(), plaintext);
    }
    // Data that compresses is compressed, in frames of 1 MiB when large.
    for plaintext in [nibbles(3 << 20, 71), text(5 << 20)] {
        let mut reader = EncryptingReader::new(
            &plaintext[..],
            &key,
            PATH,
            EncryptOptions { compress: true },
        );
        let ciphertext = read_in_chunks(&mut reader, 1 << 20).unwrap();
        assert_eq!(reader.is_compressed(), Some(true));
        assert_eq!(ciphertext[9], FLAG_ZSTD);
        assert!(ciphertext.len() < plaintext.len() * 9 / 10);
        let reader = DecryptingReader::new(&ciphertext[..], &key, PATH).unwrap();
        assert!(reader.is_compressed());
        assert!(read_in_chunks(reader, 100_000).unwrap() == plaintext);
    }
}

#[test]
fn ciphertext_contains_no_plaintext_run() {
    let key = DataKey::generate();
    let marker = b"OPSML-PLAINTEXT-MARKER-7f3a9c";
    let mut plaintext = Vec::new();
    for i in 0..20_000 {
        plaintext.extend_from_slice(marker);
        plaintext.extend_from_slice(format!(" row {i}\n").as_bytes());
    }
    for compress in [false, true] {
        let ciphertext = encrypt(&plaintext, &key, PATH, compress);
        assert!(
            !ciphertext.windows(marker.len()).any(|w| w == marker),
            "compress={compress}: marker found in the ciphertext"
        );
        assert!(!ciphertext.windows(12).any(|w| w == b"MARKER-7f3a9"));
        if compress {
            assert!(
                ciphertext.len() < plaintext.len() / 4,
                "text should compress"
            );
        }
        assert_eq!(decrypt(&ciphertext, &key, PATH).unwrap(), plaintext);
    }
}

#[test]
fn wrong_key_or_associated_data_is_detected() {
    let key = DataKey::generate();
    let other = DataKey::generate();
    for size in [0, 1, S, 2 * S + 3] {
        for compress in [false, true] {
            let ciphertext = encrypt(&noise(size, 1), &key, PATH, compress);
            assert_tampered(decrypt(&ciphertext, &other, PATH), "wrong key");
            assert_tampered(
                decrypt(&ciphertext, &key, b"another/path/model.bin"),
                "wrong associated data",
            );
            assert_tampered(decrypt(&ciphertext, &key, b""), "empty associated data");
        }
    }
}

#[test]
fn header_changes_are_detected() {
    let key = DataKey::generate();
    let ciphertext = encrypt(&noise(2 * S + 9, 5), &key, PATH, false);
    let with = |offset: usize, value: u8| {
        let mut changed = ciphertext.clone();
        changed[offset] = value;
        decrypt(&changed, &key, PATH)
    };
    assert!(matches!(with(0, b'X'), Err(CryptError::Malformed(_))));
    assert!(matches!(with(8, 2), Err(CryptError::UnsupportedVersion(2))));
    assert!(matches!(with(9, 0x80), Err(CryptError::Malformed(_))));
    // Claiming compression changes the authenticated header.
    assert!(with(9, FLAG_ZSTD).is_err());
    assert!(matches!(with(13, 0xff), Err(CryptError::Malformed(_))));
    assert_tampered(with(10, 1), "segment size");
    for (offset, byte) in ciphertext.iter().enumerate().take(HEADER_LEN).skip(14) {
        assert_tampered(with(offset, byte ^ 1), "nonce prefix");
    }
}

#[test]
fn input_that_is_not_an_artifact_is_malformed() {
    let key = DataKey::generate();
    for input in [&b"plain text that was never encrypted"[..], b"{}", b"X"] {
        assert!(matches!(
            DecryptingReader::new(input, &key, PATH),
            Err(CryptError::Malformed(_))
        ));
    }
}

#[test]
fn flipped_bits_in_segments_are_detected() {
    let key = DataKey::generate();
    let len = 3 * S + 100;
    let plaintext = noise(len, 11);
    let ciphertext = encrypt(&plaintext, &key, PATH, false);
    for index in 0..4 {
        let range = segment_range(len, index);
        for offset in [
            range.start,
            range.start + range.len() / 2,
            range.end - TAG_LEN,
            range.end - 1,
        ] {
            let mut changed = ciphertext.clone();
            changed[offset] ^= 0x10;
            assert_tampered(
                decrypt_checked(&changed, &key, PATH, 4096, Some(&plaintext)),
                &format!("bit flip in segment {index} at {offset}"),
            );
        }
    }
}

#[test]
fn truncation_is_detected() {
    let key = DataKey::generate();
    for compress in [false, true] {
        for len in [0, 5, S, 3 * S + 100] {
            let plaintext = noise(len, 13);
            let ciphertext = encrypt(&plaintext, &key, PATH, compress);
            // Within the header and right after it.
            for cut in [0, 3, 8, 20, HEADER_LEN - 1, HEADER_LEN] {
                assert_truncated(
                    decrypt(&ciphertext[..cut], &key, PATH),
                    &format!("cut at {cut}"),
                );
            }
            // At every segment boundary (which removes the final segment and maybe more).
            let mut boundary = HEADER_LEN + C;
            while boundary < ciphertext.len() {
                assert_truncated(
                    decrypt_checked(&ciphertext[..boundary], &key, PATH, 1000, Some(&plaintext)),
                    &format!("len {len} compress {compress}: cut at boundary {boundary}"),
                );
                boundary += C;
            }
            // Inside a segment: indistinguishable from a damaged final segment.
            if ciphertext.len() > HEADER_LEN + TAG_LEN {
                for cut in [ciphertext.len() - 1, HEADER_LEN + TAG_LEN + 1] {
                    let result =
                        decrypt_checked(&ciphertext[..cut], &key, PATH, 1000, Some(&plaintext));
                    assert!(
                        matches!(result, Err(CryptError::Tampered | CryptError::Truncated)),
                        "cut at {cut}: {result:?}"
                    );
                }
            }
            // Too short to hold a tag.
            if ciphertext.len() > HEADER_LEN + 1 {
                assert_truncated(
                    decrypt(&ciphertext[..=HEADER_LEN], &key, PATH),
                    "cut one byte into the first segment",
                );
            }
        }
    }
}

#[test]
fn removing_the_final_segment_is_detected() {
    let key = DataKey::generate();
    // Plaintext that fills whole segments, so the final segment is a full one.
    let len = 3 * S;
    let ciphertext = encrypt(&noise(len, 17), &key, PATH, false);
    let last = segment_range(len, 2);
    assert_eq!(last.end, ciphertext.len());
    assert_truncated(
        decrypt(&ciphertext[..last.start], &key, PATH),
        "final segment removed",
    );
}

#[test]
fn reordered_duplicated_or_removed_segments_are_detected() {
    let key = DataKey::generate();
    let len = 3 * S + 100;
    let plaintext = noise(len, 19);
    let ciphertext = encrypt(&plaintext, &key, PATH, false);
    let seg = |i: usize| &ciphertext[segment_range(len, i)];
    let header = &ciphertext[..HEADER_LEN];
    let assemble = |order: &[usize]| {
        let mut out = header.to_vec();
        for &i in order {
            out.extend_from_slice(seg(i));
        }
        out
    };
    assert_eq!(
        decrypt(&assemble(&[0, 1, 2, 3]), &key, PATH).unwrap(),
        plaintext
    );
    for order in [
        &[1, 0, 2, 3][..],
        &[0, 2, 1, 3],
        &[0, 1, 3, 2],
        &[0, 0, 1, 2, 3],
        &[0, 1, 1, 2, 3],
        &[0, 1, 2, 2, 3],
        &[0, 1, 2, 3, 3],
        &[0, 2, 3],
        &[1, 2, 3],
        &[0, 1, 3],
        &[3],
    ] {
        assert_tampered(
            decrypt_checked(&assemble(order), &key, PATH, 5000, Some(&plaintext)),
            &format!("segments in order {order:?}"),
        );
    }
}

#[test]
fn appended_bytes_are_detected() {
    let key = DataKey::generate();
    for len in [0, 10, S, 2 * S + 1] {
        let ciphertext = encrypt(&noise(len, 23), &key, PATH, false);
        for extra in [1, TAG_LEN, C] {
            let mut longer = ciphertext.clone();
            longer.extend(std::iter::repeat_n(0u8, extra));
            assert_tampered(
                decrypt(&longer, &key, PATH),
                &format!("{extra} bytes appended"),
            );
        }
        // Appending a copy of its own final segment.
        let mut longer = ciphertext.clone();
        longer.extend_from_slice(&ciphertext[segment_range(len, len.div_ceil(S).max(1) - 1)]);
        assert_tampered(decrypt(&longer, &key, PATH), "final segment repeated");
    }
}

#[test]
fn splicing_segments_from_another_file_is_detected() {
    let key = DataKey::generate();
    let len = 3 * S + 100;
    let a_plain = noise(len, 29);
    let a = encrypt(&a_plain, &key, PATH, false);
    let b = encrypt(&noise(len, 31), &key, PATH, false);
    // Same key, same path, same sizes: only the per-file nonce prefix and header tell them apart.
    for index in 0..4 {
        let range = segment_range(len, index);
        let mut spliced = a.clone();
        spliced[range.clone()].copy_from_slice(&b[range]);
        assert_tampered(
            decrypt_checked(&spliced, &key, PATH, 5000, Some(&a_plain)),
            &format!("segment {index} from another file"),
        );
    }
    // Another file's header with this file's segments.
    let mut spliced = a.clone();
    spliced[..HEADER_LEN].copy_from_slice(&b[..HEADER_LEN]);
    assert_tampered(decrypt(&spliced, &key, PATH), "header from another file");
    // Swapping two stored files is caught by the associated path.
    let other_path = b"opsml_registries/experiments/space/name/v1.0.0/artifacts/other.bin";
    let c = encrypt(&noise(len, 37), &key, other_path, false);
    assert_tampered(decrypt(&c, &key, PATH), "file stored under another path");
}

#[test]
fn compressed_artifacts_detect_tampering_too() {
    let key = DataKey::generate();
    // Compressed to a little over half, the stream spans several segments.
    let len = 8 * S;
    let plaintext = nibbles(len, 41);
    let ciphertext = encrypt(&plaintext, &key, PATH, true);
    assert_eq!(ciphertext[9], FLAG_ZSTD);
    assert!(ciphertext.len() > HEADER_LEN + 3 * C);
    for offset in [HEADER_LEN + 5, HEADER_LEN + C + 5, ciphertext.len() - 1] {
        let mut changed = ciphertext.clone();
        changed[offset] ^= 1;
        assert_tampered(
            decrypt_checked(&changed, &key, PATH, 5000, Some(&plaintext)),
            &format!("compressed, bit flip at {offset}"),
        );
    }
    let mut swapped = ciphertext[..HEADER_LEN].to_vec();
    swapped.extend_from_slice(&ciphertext[HEADER_LEN + C..HEADER_LEN + 2 * C]);
    swapped.extend_from_slice(&ciphertext[HEADER_LEN..HEADER_LEN + C]);
    swapped.extend_from_slice(&ciphertext[HEADER_LEN + 2 * C..]);
    assert_tampered(
        decrypt(&swapped, &key, PATH),
        "compressed, segments swapped",
    );
}

#[test]
fn errors_surface_as_io_errors_carrying_crypt_errors() {
    let key = DataKey::generate();
    let mut ciphertext = encrypt(&noise(S + 10, 43), &key, PATH, false);
    let last = ciphertext.len() - 1;
    ciphertext[last] ^= 1;
    let mut reader = DecryptingReader::new(&ciphertext[..], &key, PATH).unwrap();
    let err = reader.read_to_end(&mut Vec::new()).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    assert!(matches!(crypt_error(&err), Some(CryptError::Tampered)));
    assert!(err.to_string().contains("modified"));

    let ciphertext = encrypt(&noise(2 * S, 43), &key, PATH, false);
    let mut reader = DecryptingReader::new(&ciphertext[..HEADER_LEN + C], &key, PATH).unwrap();
    let err = reader.read_to_end(&mut Vec::new()).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    assert!(matches!(crypt_error(&err), Some(CryptError::Truncated)));

    assert!(crypt_error(&io::Error::other("plain")).is_none());
}

#[test]
fn debug_output_shows_no_key_material() {
    let key = DataKey::generate();
    let encrypting = EncryptingReader::new(&b"x"[..], &key, PATH, EncryptOptions::default());
    let shown = format!("{encrypting:?} {key:?}");
    assert!(shown.contains("EncryptingReader"));
    assert_eq!(format!("{key:?}"), "DataKey(..)");
    let ciphertext = encrypt(&text(1000), &key, PATH, true);
    let decrypting = DecryptingReader::new(&ciphertext[..], &key, PATH).unwrap();
    assert!(format!("{decrypting:?}").contains("compressed: true"));
}

/// Inputs longer than one batch of segments go through the worker threads: tampering there is
/// caught the same way, across batch boundaries too.
#[test]
fn tampering_across_batches_is_detected() {
    let key = DataKey::generate();
    let len = 40 * S + 123;
    let plaintext = noise(len, 47);
    let ciphertext = encrypt(&plaintext, &key, PATH, false);
    assert_eq!(decrypt(&ciphertext, &key, PATH).unwrap(), plaintext);
    let segments = len.div_ceil(S);

    for index in [0, 15, 16, 17, 31, 32, segments - 1] {
        let range = segment_range(len, index);
        let mut changed = ciphertext.clone();
        changed[range.start + range.len() / 2] ^= 0x40;
        assert_tampered(
            decrypt_checked(&changed, &key, PATH, 100_000, Some(&plaintext)),
            &format!("bit flip in segment {index}"),
        );
    }
    for kept in [1, 15, 16, 17, 32, segments - 1] {
        let cut = segment_range(len, kept).start;
        assert_truncated(
            decrypt_checked(&ciphertext[..cut], &key, PATH, 100_000, Some(&plaintext)),
            &format!("cut after {kept} segments"),
        );
    }
    let assemble = |order: &[usize]| {
        let mut out = ciphertext[..HEADER_LEN].to_vec();
        for &i in order {
            out.extend_from_slice(&ciphertext[segment_range(len, i)]);
        }
        out
    };
    let mut swapped: Vec<usize> = (0..segments).collect();
    swapped.swap(15, 16);
    let mut duplicated: Vec<usize> = (0..segments).collect();
    duplicated.insert(16, 16);
    let mut dropped: Vec<usize> = (0..segments).collect();
    dropped.remove(20);
    let batches_swapped: Vec<usize> = (16..32).chain(0..16).chain(32..segments).collect();
    for (what, order) in [
        ("segments 15 and 16 swapped", swapped),
        ("segment 16 duplicated", duplicated),
        ("segment 20 removed", dropped),
        ("first two batches swapped", batches_swapped),
    ] {
        assert_tampered(
            decrypt_checked(&assemble(&order), &key, PATH, 100_000, Some(&plaintext)),
            what,
        );
    }
    let other = encrypt(&noise(len, 53), &key, PATH, false);
    let mut spliced = ciphertext.clone();
    let range = segment_range(len, 20);
    spliced[range.clone()].copy_from_slice(&other[range]);
    assert_tampered(
        decrypt_checked(&spliced, &key, PATH, 100_000, Some(&plaintext)),
        "segment 20 from another file",
    );
}

/// A reader dropped halfway through leaves its worker threads to wind down on their own.
#[test]
fn readers_can_be_dropped_midway() {
    let key = DataKey::generate();
    let plaintext = noise(20 * S, 59);
    for compress in [false, true] {
        let ciphertext = encrypt(&plaintext, &key, PATH, compress);
        let mut reader =
            EncryptingReader::new(&plaintext[..], &key, PATH, EncryptOptions { compress });
        let mut buf = vec![0u8; 3 * S];
        reader.read_exact(&mut buf).unwrap();
        drop(reader);
        let mut reader = DecryptingReader::new(&ciphertext[..], &key, PATH).unwrap();
        reader.read_exact(&mut buf).unwrap();
        assert_eq!(buf, plaintext[..buf.len()]);
        drop(reader);
    }
}

#[test]
fn readers_can_move_between_threads() {
    fn assert_send<T: Send>() {}
    assert_send::<EncryptingReader<std::fs::File>>();
    assert_send::<DecryptingReader<std::fs::File>>();
    assert_send::<opsml_crypt::MasterKey>();
    assert_send::<DataKey>();
}

#[test]
fn readers_accept_borrowed_trait_objects() {
    let key = DataKey::generate();
    let plaintext = nibbles(3 << 20, 73);
    let mut source: &[u8] = &plaintext;
    let source: &mut dyn Read = &mut source;
    let mut ciphertext = Vec::new();
    EncryptingReader::new(source, &key, PATH, EncryptOptions { compress: true })
        .read_to_end(&mut ciphertext)
        .unwrap();
    let mut stored: &[u8] = &ciphertext;
    let stored: &mut dyn Read = &mut stored;
    let mut back = Vec::new();
    DecryptingReader::new(stored, &key, PATH)
        .unwrap()
        .read_to_end(&mut back)
        .unwrap();
    assert!(back == plaintext);
}
