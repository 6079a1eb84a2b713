//! Property tests: arbitrary plaintexts round-trip, and any single flipped bit is caught.

mod common;

use common::{decrypt_checked, encrypt_chunked};
use opsml_crypt::{CryptError, DataKey};
use proptest::prelude::*;

const PATH: &[u8] = b"artifacts/data.bin";

fn plaintexts(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        // Arbitrary bytes.
        proptest::collection::vec(any::<u8>(), 0..max),
        // Long runs of few distinct bytes, which zstd compresses hard.
        (0..max, any::<u8>(), 1..64usize).prop_map(|(len, byte, period)| {
            (0..len)
                .map(|i| byte.wrapping_add((i % period) as u8))
                .collect()
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn arbitrary_bytes_round_trip(
        plaintext in plaintexts(300 * 1024),
        compress in any::<bool>(),
        chunk in 1usize..70_000,
    ) {
        let key = DataKey::generate();
        let chunk = chunk.max(plaintext.len() / 1000 + 1);
        let ciphertext = encrypt_chunked(&plaintext, &key, PATH, compress, chunk);
        let back = decrypt_checked(&ciphertext, &key, PATH, chunk, None)
            .map_err(|err| TestCaseError::fail(err.to_string()))?;
        prop_assert!(back == plaintext);
    }

    #[test]
    fn any_single_bit_flip_fails_decryption(
        plaintext in plaintexts(300 * 1024),
        compress in any::<bool>(),
        position in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        let key = DataKey::generate();
        let mut ciphertext = encrypt_chunked(&plaintext, &key, PATH, compress, 1 << 20);
        let at = position.index(ciphertext.len());
        ciphertext[at] ^= 1 << bit;
        let result = decrypt_checked(&ciphertext, &key, PATH, 8192, Some(&plaintext));
        prop_assert!(
            matches!(
                result,
                Err(CryptError::Tampered
                    | CryptError::Truncated
                    | CryptError::Malformed(_)
                    | CryptError::UnsupportedVersion(_))
            ),
            "flipping bit {} of byte {} of {}: {:?}",
            bit,
            at,
            ciphertext.len(),
            result.map(|p| p.len())
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6))]

    /// Inputs of several batches, so that the worker threads take part.
    #[test]
    fn any_single_bit_flip_fails_decryption_of_large_inputs(
        len in (1usize << 20)..(3usize << 20),
        seed in any::<u64>(),
        compress in any::<bool>(),
        position in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        let key = DataKey::generate();
        // Four-bit noise compresses, so with compression on the compressed path is taken.
        let plaintext = common::nibbles(len, seed);
        let mut ciphertext = encrypt_chunked(&plaintext, &key, PATH, compress, 1 << 20);
        let back = decrypt_checked(&ciphertext, &key, PATH, 1 << 16, None)
            .map_err(|err| TestCaseError::fail(err.to_string()))?;
        prop_assert!(back == plaintext);
        let at = position.index(ciphertext.len());
        ciphertext[at] ^= 1 << bit;
        let result = decrypt_checked(&ciphertext, &key, PATH, 1 << 16, Some(&plaintext));
        prop_assert!(result.is_err(), "flipping bit {} of byte {}", bit, at);
    }
}
