//! zstd compression of the plaintext before encryption, in independent frames compressed on the
//! worker threads.
//!
//! The compressed stream is the concatenation of one zstd frame per [`CHUNK`] of plaintext,
//! which any zstd decoder reads as one stream.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{self, Read};
use std::sync::Arc;

use crate::workers::{Pending, Workers, WORKER_LOST};

/// Plaintext bytes per zstd frame.
pub(crate) const CHUNK: usize = 1024 * 1024;
/// zstd compression level.
const LEVEL: i32 = 3;

thread_local! {
    /// Each thread's compression context, kept for the next frame.
    static COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> =
        const { RefCell::new(None) };
}

/// Compresses `chunk` into one zstd frame.
pub(crate) fn compress_chunk(chunk: &[u8]) -> io::Result<Vec<u8>> {
    COMPRESSOR.with(|cell| {
        let mut cell = cell.borrow_mut();
        let compressor = match &mut *cell {
            Some(compressor) => compressor,
            empty => empty.insert(zstd::bulk::Compressor::new(LEVEL)?),
        };
        compressor.compress(chunk)
    })
}

/// Whether a frame saves enough over its plaintext (a tenth) to be worth decompressing later.
pub(crate) fn worth_it(plaintext_len: usize, frame_len: usize) -> bool {
    frame_len.saturating_mul(10) <= plaintext_len.saturating_mul(9)
}

/// Reads up to `CHUNK - buf.len()` more bytes into `buf`; bytes read before an error stay.
///
/// Returns whether the input ended.
pub(crate) fn fill_chunk<R: Read + ?Sized>(reader: &mut R, buf: &mut Vec<u8>) -> io::Result<bool> {
    let missing = CHUNK - buf.len();
    reader.take(missing as u64).read_to_end(buf)?;
    Ok(buf.len() < CHUNK)
}

/// The zstd-compressed form of a plaintext reader, as a reader.
pub(crate) struct Compressing<R> {
    reader: R,
    workers: Arc<Workers>,
    /// The chunk being read (kept across an I/O error).
    filling: Vec<u8>,
    eof: bool,
    /// Frames being compressed, oldest first.
    in_flight: VecDeque<Pending<io::Result<Vec<u8>>>>,
    depth: usize,
    parallel: bool,
    /// The frame being served.
    frame: Vec<u8>,
    served: usize,
    /// A frame could not be compressed: going on would leave a gap in the stream.
    failed: bool,
}

impl<R: Read> Compressing<R> {
    /// Continues after `first_frame`, the compressed first chunk; `eof` when that was all.
    pub(crate) fn new(reader: R, first_frame: Vec<u8>, eof: bool, workers: Arc<Workers>) -> Self {
        Self {
            reader,
            workers,
            filling: Vec::new(),
            eof,
            in_flight: VecDeque::new(),
            depth: 1,
            parallel: false,
            frame: first_frame,
            served: 0,
            failed: false,
        }
    }

    /// Reads chunks and hands them out for compression until enough are in flight.
    fn pump(&mut self) -> io::Result<()> {
        while !self.eof && self.in_flight.len() < self.depth {
            if self.filling.capacity() == 0 {
                self.filling.reserve_exact(CHUNK);
            }
            self.eof = fill_chunk(&mut self.reader, &mut self.filling)?;
            if self.filling.is_empty() {
                break;
            }
            let chunk = std::mem::take(&mut self.filling);
            if !self.parallel && !self.eof {
                self.parallel = true;
                self.depth = 2 * self.workers.threads();
            }
            let pending = if self.parallel {
                self.workers.run(move || compress_chunk(&chunk))
            } else {
                Pending::Done(compress_chunk(&chunk))
            };
            self.in_flight.push_back(pending);
        }
        Ok(())
    }
}

impl<R: Read> Read for Compressing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.failed {
                return Err(io::Error::other(
                    "compression failed earlier; the stream cannot go on",
                ));
            }
            if self.served < self.frame.len() {
                let available = &self.frame[self.served..];
                let n = available.len().min(buf.len());
                buf[..n].copy_from_slice(&available[..n]);
                self.served += n;
                return Ok(n);
            }
            self.pump()?;
            let Some(pending) = self.in_flight.pop_front() else {
                return Ok(0);
            };
            match pending.wait() {
                Some(Ok(frame)) => self.frame = frame,
                Some(Err(err)) => {
                    self.failed = true;
                    return Err(err);
                }
                None => {
                    self.failed = true;
                    return Err(io::Error::other(WORKER_LOST));
                }
            }
            self.served = 0;
        }
    }
}
