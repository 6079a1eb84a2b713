//! SHA-256 and size of the bytes that pass through a reader or writer.
//!
//! SHA-256 cannot be split over cores, and for a large upload it costs as much CPU as the
//! encryption. [`HashingReader`] therefore hashes the first few MiB on the reading thread and,
//! when the input turns out to be larger, hands copies of it to one helper thread, so that
//! hashing overlaps reading, encrypting and writing instead of adding to them.

use std::io::{self, Read, Write};
use std::mem;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::{self, JoinHandle};

use sha2::{Digest, Sha256};

/// Bytes hashed on the reading thread before hashing moves to a helper thread.
const INLINE_BYTES: u64 = 8 << 20;
/// Bytes handed to the helper thread at a time.
const CHUNK_BYTES: usize = 1 << 20;
/// Chunks waiting for the helper thread before the reader waits for it (bounds memory).
const QUEUED_CHUNKS: usize = 4;

const HASHER_LOST: &str = "the SHA-256 thread of an artifact upload stopped unexpectedly";

/// The SHA-256 (32 bytes) and the size of what was read.
pub(crate) struct Digested {
    pub(crate) sha256: Vec<u8>,
    pub(crate) size: u64,
}

/// Counts and hashes everything read from `inner`.
pub(crate) struct HashingReader<R> {
    inner: R,
    size: u64,
    state: State,
}

enum State {
    Inline(Sha256),
    Background(Background),
    /// The helper thread died; reported by [`HashingReader::finish`] and every later read.
    Lost,
}

struct Background {
    current: Vec<u8>,
    chunks: SyncSender<Vec<u8>>,
    /// Chunks the helper thread is done with, for reuse.
    spare: Receiver<Vec<u8>>,
    thread: JoinHandle<Sha256>,
}

impl<R: Read> HashingReader<R> {
    pub(crate) fn new(inner: R) -> Self {
        Self {
            inner,
            size: 0,
            state: State::Inline(Sha256::new()),
        }
    }

    /// The digest of everything read so far.
    pub(crate) fn finish(self) -> io::Result<Digested> {
        let hasher = match self.state {
            State::Inline(hasher) => hasher,
            State::Background(background) => background.finish()?,
            State::Lost => return Err(io::Error::other(HASHER_LOST)),
        };
        Ok(Digested {
            sha256: hasher.finalize().to_vec(),
            size: self.size,
        })
    }

    fn absorb(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.size += bytes.len() as u64;
        match &mut self.state {
            State::Inline(hasher) => {
                hasher.update(bytes);
                if self.size >= INLINE_BYTES {
                    self.move_to_background();
                }
                Ok(())
            }
            State::Background(background) => {
                if background.push(bytes) {
                    Ok(())
                } else {
                    self.state = State::Lost;
                    Err(io::Error::other(HASHER_LOST))
                }
            }
            State::Lost => Err(io::Error::other(HASHER_LOST)),
        }
    }

    /// Continues hashing on a helper thread; stays inline where no thread can be started.
    fn move_to_background(&mut self) {
        let State::Inline(hasher) = mem::replace(&mut self.state, State::Lost) else {
            unreachable!("only inline hashing moves to a helper thread");
        };
        let (chunks, queued) = mpsc::sync_channel::<Vec<u8>>(QUEUED_CHUNKS);
        let (give_back, spare) = mpsc::channel();
        // The thread continues from a copy of the state, so the original is kept if the thread
        // fails to start.
        let mut continued = hasher.clone();
        let spawned = thread::Builder::new()
            .name("opsml-sha256".to_owned())
            .spawn(move || {
                for chunk in queued {
                    continued.update(&chunk);
                    // The reader may have finished already; then the chunk is simply freed.
                    let _ = give_back.send(chunk);
                }
                continued
            });
        self.state = match spawned {
            Ok(thread) => State::Background(Background {
                current: Vec::with_capacity(CHUNK_BYTES),
                chunks,
                spare,
                thread,
            }),
            Err(error) => {
                tracing::debug!(%error, "hashing an upload on its own thread failed to start");
                State::Inline(hasher)
            }
        };
    }
}

impl Background {
    /// Queues `bytes` for hashing; false when the helper thread is gone.
    fn push(&mut self, mut bytes: &[u8]) -> bool {
        while !bytes.is_empty() {
            let room = CHUNK_BYTES - self.current.len();
            let (now, later) = bytes.split_at(room.min(bytes.len()));
            self.current.extend_from_slice(now);
            bytes = later;
            if self.current.len() == CHUNK_BYTES && !self.send() {
                return false;
            }
        }
        true
    }

    fn send(&mut self) -> bool {
        let fresh = self
            .spare
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(CHUNK_BYTES));
        let full = mem::replace(&mut self.current, fresh);
        self.current.clear();
        self.chunks.send(full).is_ok()
    }

    fn finish(mut self) -> io::Result<Sha256> {
        if !self.current.is_empty() && !self.send() {
            return Err(io::Error::other(HASHER_LOST));
        }
        drop(self.chunks);
        self.thread
            .join()
            .map_err(|_| io::Error::other(HASHER_LOST))
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.absorb(&buf[..n])?;
        Ok(n)
    }
}

/// Counts and hashes everything written to `inner`.
pub(crate) struct HashingWriter<'a, W> {
    pub(crate) inner: W,
    pub(crate) hasher: &'a mut Sha256,
    pub(crate) size: &'a mut u64,
}

impl<W: Write> Write for HashingWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        *self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest_of(data: &[u8], read_size: usize) -> Digested {
        let mut reader = HashingReader::new(data);
        let mut buf = vec![0u8; read_size];
        let mut out = Vec::new();
        loop {
            let n = reader.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        assert_eq!(out, data, "the reader passes bytes through unchanged");
        reader.finish().unwrap()
    }

    #[test]
    fn small_and_large_inputs_hash_like_sha256_of_the_whole() {
        let sizes = [
            0,
            1,
            CHUNK_BYTES,
            INLINE_BYTES as usize - 1,
            INLINE_BYTES as usize,
            INLINE_BYTES as usize + 3 * CHUNK_BYTES + 12_345,
        ];
        for size in sizes {
            let data: Vec<u8> = (0..size).map(|i| (i * 7 + i / 4096) as u8).collect();
            for read_size in [4096, 1 << 20, 3 << 20] {
                let digested = digest_of(&data, read_size);
                assert_eq!(digested.size, size as u64);
                assert_eq!(
                    digested.sha256,
                    Sha256::digest(&data).to_vec(),
                    "size {size}, reads of {read_size}"
                );
            }
        }
    }
}
