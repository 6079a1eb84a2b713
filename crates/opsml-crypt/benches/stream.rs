//! Throughput of encrypting and decrypting a 64 MiB artifact, with and without zstd.
//!
//! `cargo bench -p opsml-crypt --bench stream` (add `-- --quick` for a short run).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark stops at the first thing that is not as it should be"
)]

use std::hint::black_box;
use std::io::Read;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use opsml_crypt::{DataKey, DecryptingReader, EncryptOptions, EncryptingReader};

const SIZE: usize = 64 * 1024 * 1024;
const PATH: &[u8] = b"opsml_registries/experiments/space/name/v1.0.0/artifacts/model.bin";

/// Incompressible bytes (xorshift64*), like model weights or media.
fn random_bytes(len: usize) -> Vec<u8> {
    let mut state: u64 = 0x0123_4567_89ab_cdef;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        out.extend_from_slice(&state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Bytes of four random bits each, which zstd compresses to a little over half.
fn nibble_bytes(len: usize) -> Vec<u8> {
    random_bytes(len)
        .into_iter()
        .map(|b| b'a' + (b & 0x0f))
        .collect()
}

/// Compressible text, like logged metrics or CSV files.
fn text_bytes(len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 64);
    let mut i: u64 = 0;
    while out.len() < len {
        let loss = 1.0 / (1.0 + i as f64 / 1000.0);
        out.extend_from_slice(format!("{i},{loss:.6},{:.4},train\n", 1.0 - loss).as_bytes());
        i += 1;
    }
    out.truncate(len);
    out
}

/// Reads `reader` to the end through a 1 MiB buffer, as an upload would; returns the byte count.
fn drain<R: Read>(mut reader: R, buf: &mut [u8]) -> usize {
    let mut total = 0;
    loop {
        let n = reader.read(buf).expect("read");
        if n == 0 {
            return total;
        }
        black_box(&buf[..n]);
        total += n;
    }
}

fn encrypt(plaintext: &[u8], key: &DataKey, compress: bool) -> Vec<u8> {
    let mut out = Vec::new();
    EncryptingReader::new(plaintext, key, PATH, EncryptOptions { compress })
        .read_to_end(&mut out)
        .expect("encrypt");
    out
}

fn bench_stream(c: &mut Criterion) {
    let key = DataKey::generate();
    let random = random_bytes(SIZE);
    let text = text_bytes(SIZE);
    let nibbles = nibble_bytes(SIZE);
    let mut buf = vec![0u8; 1 << 20];

    let mut group = c.benchmark_group("stream_64MiB");
    group.throughput(Throughput::Bytes(SIZE as u64));
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(4));

    group.bench_function("copy_baseline", |b| {
        b.iter(|| drain(&random[..], &mut buf));
    });

    for (name, data, compress) in [
        ("plain_random", &random, false),
        ("zstd_text", &text, true),
        ("zstd_nibbles", &nibbles, true),
        // Compression asked for, but the sample shows it does not pay: stored uncompressed.
        ("zstd_random", &random, true),
    ] {
        let options = EncryptOptions { compress };
        group.bench_function(format!("encrypt_{name}"), |b| {
            b.iter(|| {
                drain(
                    EncryptingReader::new(&data[..], &key, PATH, options),
                    &mut buf,
                )
            });
        });
        let ciphertext = encrypt(data, &key, compress);
        group.bench_function(format!("decrypt_{name}"), |b| {
            b.iter(|| {
                let reader = DecryptingReader::new(&ciphertext[..], &key, PATH).expect("header");
                let n = drain(reader, &mut buf);
                assert_eq!(n, SIZE);
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench_stream);
criterion_main!(benches);
