//! Batches of segments, encrypted or decrypted in order on a few worker threads.
//!
//! The caller's thread reads the input into batches of [`BATCH_SEGMENTS`] segments and hands
//! them out; workers seal or open every segment of a batch in place (each segment's nonce
//! depends only on its position, so segments are independent); the caller's thread takes the
//! batches back in order and serves their bytes. An input of one batch is processed on the
//! caller's thread alone. Memory stays bounded by the number of batches in flight.

use std::collections::VecDeque;
use std::io::{self, Read};
use std::sync::Arc;

use crate::error::CryptError;
use crate::format::TAG_LEN;
use crate::segment::SegmentCipher;
use crate::workers::{Pending, Workers, WORKER_LOST};

/// Segments per batch (1 MiB of plaintext with the usual segment size).
pub(crate) const BATCH_SEGMENTS: usize = 16;

/// What the pipeline does to each segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Plaintext segments in, sealed segments (ciphertext and tag) out.
    Seal,
    /// Sealed segments in, authenticated plaintext out.
    Open,
}

/// Why a segment could not be processed; kept so that every later read reports it again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    /// Authentication failed.
    Tampered,
    /// The stream ends before its final segment.
    Truncated,
    /// More segments than the 32-bit STREAM counter allows.
    TooLarge,
    /// A worker thread died, taking a batch with it.
    WorkerLost,
}

impl Failure {
    pub(crate) fn to_io(self) -> io::Error {
        match self {
            Failure::Tampered => CryptError::Tampered.into_io(),
            Failure::Truncated => CryptError::Truncated.into_io(),
            Failure::TooLarge => io::Error::new(
                io::ErrorKind::InvalidInput,
                "the artifact is larger than the encrypted format allows (2^32 segments)",
            ),
            Failure::WorkerLost => io::Error::other(WORKER_LOST),
        }
    }
}

/// Everything the workers of one stream share: the keyed cipher and the associated data.
pub(crate) struct Shared {
    pub(crate) cipher: SegmentCipher,
    pub(crate) aad: Vec<u8>,
    pub(crate) direction: Direction,
    /// Plaintext bytes per segment.
    pub(crate) segment_size: usize,
}

impl Shared {
    /// Bytes read from the input for one segment.
    fn input_len(&self) -> usize {
        match self.direction {
            Direction::Seal => self.segment_size,
            Direction::Open => self.segment_size + TAG_LEN,
        }
    }

    /// Room for one segment in a batch buffer.
    fn stride(&self) -> usize {
        self.segment_size + TAG_LEN
    }
}

/// Up to [`BATCH_SEGMENTS`] consecutive segments, each in its own slot of `buf`.
pub(crate) struct Batch {
    buf: Box<[u8]>,
    stride: usize,
    lens: [usize; BATCH_SEGMENTS],
    /// Slots holding a segment.
    count: usize,
    /// The input ended while this batch was being filled.
    eof: bool,
    /// The batch ends the stream: its final segment is the last one.
    closing: bool,
    /// Stream position of the first segment.
    first: u64,
    /// The first segment that failed, and how.
    failure: Option<(usize, Failure)>,
}

impl Batch {
    fn new(stride: usize) -> Self {
        Self {
            buf: vec![0u8; stride * BATCH_SEGMENTS].into_boxed_slice(),
            stride,
            lens: [0; BATCH_SEGMENTS],
            count: 0,
            eof: false,
            closing: false,
            first: 0,
            failure: None,
        }
    }

    fn reset(&mut self) {
        self.lens = [0; BATCH_SEGMENTS];
        self.count = 0;
        self.eof = false;
        self.closing = false;
        self.first = 0;
        self.failure = None;
    }

    /// Reads segments of `want` bytes from `src` until the batch is full or the input ends.
    ///
    /// Bytes read before an error stay, so calling again resumes.
    fn fill<R: Read + ?Sized>(&mut self, src: &mut R, want: usize) -> io::Result<()> {
        while self.count < BATCH_SEGMENTS && !self.eof {
            let index = self.count;
            let start = index * self.stride;
            while self.lens[index] < want {
                let from = start + self.lens[index];
                match src.read(&mut self.buf[from..start + want]) {
                    Ok(0) => {
                        self.eof = true;
                        break;
                    }
                    Ok(n) => self.lens[index] += n,
                    Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                    Err(err) => return Err(err),
                }
            }
            if self.lens[index] > 0 {
                self.count += 1;
            }
        }
        Ok(())
    }

    /// Seals or opens every segment in place, stopping at the first failure.
    fn process(&mut self, shared: &Shared) {
        for index in 0..self.count {
            let position = self.first + index as u64;
            let last = self.closing && index + 1 == self.count;
            let start = index * self.stride;
            let slot = &mut self.buf[start..start + self.stride];
            let outcome = match shared.direction {
                Direction::Seal => seal(shared, position, last, slot, self.lens[index]),
                Direction::Open => open(shared, position, last, &mut slot[..self.lens[index]]),
            };
            if let Ok(len) = outcome {
                self.lens[index] = len;
            }
            if let Err(failure) = outcome {
                self.lens[index] = 0;
                self.failure = Some((index, failure));
                return;
            }
        }
    }

    /// Segments whose bytes may be handed out (those before a failure).
    fn servable(&self) -> usize {
        self.failure.map_or(self.count, |(index, _)| index)
    }
}

/// The 32-bit STREAM counter for `position`, where the position exists.
fn counter(position: u64, last: bool) -> Option<u32> {
    let counter = u32::try_from(position).ok()?;
    // The highest counter value is kept for a last segment, so that one always remains.
    (last || counter != u32::MAX).then_some(counter)
}

/// Seals the `len` plaintext bytes at the start of `slot`; returns the sealed length.
fn seal(
    shared: &Shared,
    position: u64,
    last: bool,
    slot: &mut [u8],
    len: usize,
) -> Result<usize, Failure> {
    let counter = counter(position, last).ok_or(Failure::TooLarge)?;
    shared.cipher.seal(counter, last, &shared.aad, slot, len);
    Ok(len + TAG_LEN)
}

/// Opens the sealed segment `sealed`; returns the plaintext length.
fn open(shared: &Shared, position: u64, last: bool, sealed: &mut [u8]) -> Result<usize, Failure> {
    if sealed.len() < TAG_LEN {
        // Only the last segment can be short; one without room for a tag means the stream was
        // cut right after the header or after a segment.
        return Err(Failure::Truncated);
    }
    let counter = counter(position, last).ok_or(Failure::Tampered)?;
    // A failed attempt leaves the bytes unspecified: keep the last segment's for a second look.
    let kept = last.then(|| sealed.to_vec());
    if let Ok(len) = shared.cipher.open(counter, last, &shared.aad, sealed) {
        return Ok(len);
    }
    // A segment that authenticates as an inner one where the last was expected means the rest
    // of the stream was cut off.
    let cut = kept.is_some_and(|mut kept| {
        shared
            .cipher
            .open(counter, false, &shared.aad, &mut kept)
            .is_ok()
    });
    Err(if cut {
        Failure::Truncated
    } else {
        Failure::Tampered
    })
}

/// Reads an input, seals or opens its segments, and serves the results in order.
pub(crate) struct Pipeline {
    shared: Arc<Shared>,
    workers: Arc<Workers>,
    /// Whether batches go to the worker threads (once the input is longer than one batch).
    parallel: bool,
    /// Batches handed out or processed, oldest first.
    in_flight: VecDeque<Pending<Batch>>,
    /// Most batches in flight.
    depth: usize,
    spare: Vec<Batch>,
    /// The batch being filled (kept across an I/O error).
    filling: Option<Batch>,
    /// A full batch that waits to learn whether any input follows it.
    held: Option<Batch>,
    next_position: u64,
    input_done: bool,
    /// The batch being served, its segment and the offset in it.
    serving: Option<Batch>,
    segment: usize,
    offset: usize,
    failed: Option<Failure>,
}

impl Pipeline {
    pub(crate) fn new(shared: Shared, workers: Arc<Workers>) -> Self {
        Self {
            shared: Arc::new(shared),
            workers,
            parallel: false,
            in_flight: VecDeque::new(),
            depth: 1,
            spare: Vec::new(),
            filling: None,
            held: None,
            next_position: 0,
            input_done: false,
            serving: None,
            segment: 0,
            offset: 0,
            failed: None,
        }
    }

    /// Segments processed or handed to workers so far.
    pub(crate) fn segments_submitted(&self) -> u64 {
        self.next_position
    }

    /// The failure that stopped the stream, if any.
    pub(crate) fn failure(&self) -> Option<Failure> {
        self.failed
    }

    /// The next processed bytes, reading `src` as needed; empty at the end of the stream.
    #[allow(
        clippy::expect_used,
        reason = "a batch is served while segments remain"
    )]
    pub(crate) fn fill_buf<R: Read + ?Sized>(&mut self, src: &mut R) -> io::Result<&[u8]> {
        loop {
            if let Some(failure) = self.failed {
                return Err(failure.to_io());
            }
            if let Some(batch) = &self.serving {
                while self.segment < batch.servable() && self.offset >= batch.lens[self.segment] {
                    self.segment += 1;
                    self.offset = 0;
                }
                if self.segment < batch.servable() {
                    let start = self.segment * batch.stride;
                    let range = start + self.offset..start + batch.lens[self.segment];
                    return Ok(&self.serving.as_ref().expect("serving batch").buf[range]);
                }
                if let Some((_, failure)) = batch.failure {
                    self.failed = Some(failure);
                    continue;
                }
                if batch.closing {
                    return Ok(&[]);
                }
                #[allow(
                    clippy::expect_used,
                    reason = "a batch is served while segments remain"
                )]
                let mut batch = self.serving.take().expect("serving batch");
                batch.reset();
                self.spare.push(batch);
            }
            self.pump(src)?;
            let Some(pending) = self.in_flight.pop_front() else {
                return Ok(&[]);
            };
            let Some(batch) = pending.wait() else {
                // The stream cannot go on without the lost batch.
                self.failed = Some(Failure::WorkerLost);
                continue;
            };
            self.serving = Some(batch);
            self.segment = 0;
            self.offset = 0;
        }
    }

    /// Marks `amount` bytes of the last [`Pipeline::fill_buf`] as used.
    pub(crate) fn consume(&mut self, amount: usize) {
        self.offset += amount;
    }

    /// Reads input and hands out batches until enough are in flight or the input ends.
    fn pump<R: Read + ?Sized>(&mut self, src: &mut R) -> io::Result<()> {
        let want = self.shared.input_len();
        while !self.input_done && self.in_flight.len() < self.depth {
            let mut batch = match self.filling.take() {
                Some(batch) => batch,
                None => self
                    .spare
                    .pop()
                    .unwrap_or_else(|| Batch::new(self.shared.stride())),
            };
            if let Err(err) = batch.fill(src, want) {
                self.filling = Some(batch);
                return Err(err);
            }
            if let Some(held) = self.held.take() {
                if batch.count == 0 {
                    // Nothing follows the held batch: it ends the stream.
                    self.submit(held, true);
                    self.input_done = true;
                    batch.reset();
                    self.spare.push(batch);
                    break;
                }
                self.submit(held, false);
            }
            if batch.eof {
                self.submit(batch, true);
                self.input_done = true;
            } else {
                self.held = Some(batch);
            }
        }
        Ok(())
    }

    /// Hands a batch to the workers, or processes it here.
    fn submit(&mut self, mut batch: Batch, closing: bool) {
        if batch.count == 0 {
            // An empty input still has one (empty) final segment.
            batch.count = 1;
        }
        batch.closing = closing;
        batch.first = self.next_position;
        self.next_position += batch.count as u64;

        if !closing && !self.parallel {
            self.parallel = true;
            self.depth = 2 * self.workers.threads();
        }
        let pending = if self.parallel {
            let shared = Arc::clone(&self.shared);
            self.workers.run(move || {
                batch.process(&shared);
                batch
            })
        } else {
            batch.process(&self.shared);
            Pending::Done(batch)
        };
        self.in_flight.push_back(pending);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_fill_segment_by_segment() {
        let data = [7u8; 4 * 3 + 2];
        let mut src = &data[..];
        let mut batch = Batch::new(6);
        batch.fill(&mut src, 4).unwrap();
        assert!(batch.eof);
        assert_eq!(batch.count, 4);
        assert_eq!(&batch.lens[..5], &[4, 4, 4, 2, 0]);

        let data = [7u8; 4 * BATCH_SEGMENTS + 1];
        let mut src = &data[..];
        let mut batch = Batch::new(6);
        batch.fill(&mut src, 4).unwrap();
        assert!(!batch.eof);
        assert_eq!(batch.count, BATCH_SEGMENTS);
        assert_eq!(src.len(), 1);
    }

    #[test]
    fn counters_stop_before_wrapping() {
        assert_eq!(counter(0, false), Some(0));
        assert_eq!(counter(u64::from(u32::MAX) - 1, false), Some(u32::MAX - 1));
        assert_eq!(counter(u64::from(u32::MAX), false), None);
        assert_eq!(counter(u64::from(u32::MAX), true), Some(u32::MAX));
        assert_eq!(counter(u64::from(u32::MAX) + 1, true), None);
    }
}
