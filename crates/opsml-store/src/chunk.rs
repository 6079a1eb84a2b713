//! Packed columnar blocks of metric points.
//!
//! Layout (little-endian): format byte, point count `n` (u32), then `n` flag
//! bytes (bit 0: step present, bit 1: timestamp present), `n` steps (i64),
//! `n` values (f64 bits, so NaN and infinities survive), `n` timestamps (i64)
//! and `n` creation times (i64, microseconds). Format 2 ends with the CRC-32 of all
//! that, checked on every read: a damaged block is an error, never wrong numbers.
//! Blocks of format 1 (written before checksums) are read as they are.

use opsml_types::{permute, MetricColumns, MetricPoint};

use crate::error::{Result, StoreError};

/// Points per stored block. Large enough that a million points are a few
/// hundred rows, small enough that rewriting the open tail at each flush is cheap.
pub const CHUNK_POINTS: usize = 8192;

const FORMAT_V1: u8 = 1;
const FORMAT_V2: u8 = 2;
const HEADER_LEN: usize = 5;
const CHECKSUM_LEN: usize = 4;
const BYTES_PER_POINT: usize = 1 + 8 * 4;
const STEP_PRESENT: u8 = 1;
const TIMESTAMP_PRESENT: u8 = 2;

/// The points of one block, in columns.
#[derive(Debug, Clone, Default)]
pub(crate) struct ChunkColumns {
    flags: Vec<u8>,
    steps: Vec<i64>,
    values: Vec<f64>,
    timestamps: Vec<i64>,
    created_at: Vec<i64>,
}

impl ChunkColumns {
    pub(crate) fn len(&self) -> usize {
        self.values.len()
    }

    pub(crate) fn push(&mut self, point: &MetricPoint) {
        let mut flags = 0;
        if point.step.is_some() {
            flags |= STEP_PRESENT;
        }
        if point.timestamp.is_some() {
            flags |= TIMESTAMP_PRESENT;
        }
        self.flags.push(flags);
        self.steps.push(point.step.unwrap_or(0));
        self.values.push(point.value);
        self.timestamps.push(point.timestamp.unwrap_or(0));
        self.created_at.push(point.created_at);
    }

    /// The points of an encoded block, to add more to it.
    pub(crate) fn decode(data: &[u8]) -> Result<Self> {
        let mut columns = MetricColumns::default();
        decode_into(data, 0, &mut columns)?;
        let mut chunk = Self::default();
        for index in 0..columns.len() {
            chunk.push(&columns.point(index));
        }
        Ok(chunk)
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        let n = self.len();
        let mut out = Vec::with_capacity(HEADER_LEN + n * BYTES_PER_POINT + CHECKSUM_LEN);
        out.push(FORMAT_V2);
        out.extend_from_slice(&(n as u32).to_le_bytes());
        out.extend_from_slice(&self.flags);
        for v in &self.steps {
            out.extend_from_slice(&v.to_le_bytes());
        }
        for v in &self.values {
            out.extend_from_slice(&v.to_bits().to_le_bytes());
        }
        for v in &self.timestamps {
            out.extend_from_slice(&v.to_le_bytes());
        }
        for v in &self.created_at {
            out.extend_from_slice(&v.to_le_bytes());
        }
        let checksum = crc32fast::hash(&out);
        out.extend_from_slice(&checksum.to_le_bytes());
        out
    }
}

#[allow(clippy::expect_used, reason = "chunks_exact yields 8 bytes")]
fn words(bytes: &[u8]) -> impl Iterator<Item = u64> + '_ {
    bytes
        .chunks_exact(8)
        .map(|w| u64::from_le_bytes(w.try_into().expect("chunks_exact yields 8 bytes")))
}

/// Appends the points of an encoded block, all of metric `name_id`, to `out`.
pub(crate) fn decode_into(data: &[u8], name_id: u32, out: &mut MetricColumns) -> Result<()> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("metric block: {what}"));
    if data.len() < HEADER_LEN {
        return Err(corrupt("shorter than its header"));
    }
    let data = match data[0] {
        FORMAT_V1 => data,
        FORMAT_V2 => {
            let (body, checksum) = data.split_at(data.len().saturating_sub(CHECKSUM_LEN));
            let checksum =
                u32::from_le_bytes(checksum.try_into().map_err(|_| corrupt("cut short"))?);
            if crc32fast::hash(body) != checksum {
                return Err(corrupt("checksum mismatch: the stored block was damaged"));
            }
            body
        }
        other => return Err(corrupt(&format!("unknown format {other}"))),
    };
    if data.len() < HEADER_LEN {
        return Err(corrupt("shorter than its header"));
    }
    #[allow(
        clippy::expect_used,
        reason = "the slice is 4 bytes long, so it converts to [u8; 4]"
    )]
    let n = u32::from_le_bytes(data[1..HEADER_LEN].try_into().expect("4 bytes")) as usize;
    if data.len() != HEADER_LEN + n * BYTES_PER_POINT {
        return Err(corrupt(&format!("{} bytes for {n} points", data.len())));
    }
    let (flags, rest) = data[HEADER_LEN..].split_at(n);
    let (steps, rest) = rest.split_at(n * 8);
    let (values, rest) = rest.split_at(n * 8);
    let (timestamps, created_at) = rest.split_at(n * 8);

    // Absent steps and timestamps are stored as 0, which is also the Arrow layout: the
    // values are copied as they are and the flags only say which are present.
    out.name_ids.extend(std::iter::repeat_n(name_id, n));
    out.steps.extend(
        words(steps).map(|s| s as i64),
        flags.iter().map(|f| f & STEP_PRESENT != 0),
    );
    out.values.extend(words(values).map(f64::from_bits));
    out.timestamps.extend(
        words(timestamps).map(|t| t as i64),
        flags.iter().map(|f| f & TIMESTAMP_PRESENT != 0),
    );
    out.created_at.extend(words(created_at).map(|c| c as i64));
    Ok(())
}

/// Orders one metric's points by step (points without a step first), keeping
/// insertion order among equal steps. Already ordered segments, the common
/// case, are left untouched.
pub(crate) fn sort_by_step(columns: &mut MetricColumns, range: std::ops::Range<usize>) {
    let start = range.start;
    let step = |i| columns.steps.get(i);
    if (start + 1..range.end).all(|i| step(i - 1) <= step(i)) {
        return;
    }
    let steps: Vec<Option<i64>> = range.map(step).collect();
    let mut order: Vec<usize> = (0..steps.len()).collect();
    order.sort_by_key(|&i| steps[i]);
    columns.steps.permute(start, &order);
    permute(&mut columns.values, start, &order);
    columns.timestamps.permute(start, &order);
    permute(&mut columns.created_at, start, &order);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(step: Option<i64>, value: f64, timestamp: Option<i64>) -> MetricPoint {
        MetricPoint {
            step,
            value,
            timestamp,
            created_at: 1_700_000_000_000_000,
        }
    }

    #[test]
    fn round_trips_optional_fields_and_special_floats() {
        let points = [
            point(Some(0), 1.5, None),
            point(None, f64::NAN, Some(7)),
            point(Some(-3), f64::INFINITY, Some(-1)),
            point(Some(i64::MAX), f64::NEG_INFINITY, None),
            point(Some(0), -0.0, None),
        ];
        let mut chunk = ChunkColumns::default();
        for p in &points {
            chunk.push(p);
        }
        let mut out = MetricColumns::default();
        decode_into(&chunk.encode(), 3, &mut out).unwrap();
        assert_eq!(out.len(), points.len());
        for (i, expected) in points.iter().enumerate() {
            let got = out.point(i);
            assert_eq!(got.step, expected.step);
            assert_eq!(got.timestamp, expected.timestamp);
            assert_eq!(got.value.to_bits(), expected.value.to_bits());
            assert_eq!(out.name_ids[i], 3);
        }
    }

    #[test]
    fn rejects_truncated_and_unknown_blocks() {
        let mut chunk = ChunkColumns::default();
        chunk.push(&point(Some(1), 2.0, None));
        let data = chunk.encode();
        let mut out = MetricColumns::default();
        assert!(decode_into(&data[..data.len() - 1], 0, &mut out).is_err());
        let mut other = data.clone();
        other[0] = 9;
        assert!(decode_into(&other, 0, &mut out).is_err());
        assert!(decode_into(&[], 0, &mut out).is_err());
    }

    #[test]
    fn every_single_bit_flip_is_an_error_never_other_numbers() {
        let mut chunk = ChunkColumns::default();
        for step in 0..20 {
            chunk.push(&point(Some(step), step as f64 * 0.5, Some(step * 10)));
        }
        let data = chunk.encode();
        for bit in 0..data.len() * 8 {
            let mut flipped = data.clone();
            flipped[bit / 8] ^= 1 << (bit % 8);
            let mut out = MetricColumns::default();
            assert!(
                decode_into(&flipped, 0, &mut out).is_err(),
                "bit {bit} flipped went unnoticed"
            );
            assert_eq!(
                out.len(),
                0,
                "bit {bit}: points came out of a damaged block"
            );
        }
    }

    #[test]
    fn blocks_written_before_checksums_still_read() {
        let mut chunk = ChunkColumns::default();
        chunk.push(&point(Some(4), 1.25, None));
        let mut old = chunk.encode();
        old.truncate(old.len() - CHECKSUM_LEN);
        old[0] = FORMAT_V1;
        let mut out = MetricColumns::default();
        decode_into(&old, 0, &mut out).unwrap();
        assert_eq!(out.point(0).step, Some(4));
        assert_eq!(out.point(0).value, 1.25);
    }
}
