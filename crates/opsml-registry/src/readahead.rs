//! Reading and hashing a large file on a second thread while the caller
//! compresses and encrypts what was read before: the two halves of an upload
//! overlap instead of taking turns.

use std::io::{self, Read};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

use sha2::{Digest, Sha256};

/// Bytes per block handed between the threads.
const BLOCK_BYTES: usize = 1 << 20;
/// Blocks in flight: bounds memory to a few MiB whatever the file size.
const BLOCKS_IN_FLIGHT: usize = 4;

/// What the reading thread found: the plaintext's SHA-256 and size.
pub(crate) struct Digested {
    pub sha256: [u8; 32],
    pub size: u64,
}

/// A `Read` fed by a thread that reads and hashes `source` ahead of the caller.
pub(crate) struct ReadAhead {
    blocks: Receiver<io::Result<Vec<u8>>>,
    spare: SyncSender<Vec<u8>>,
    current: Vec<u8>,
    offset: usize,
    reader: Option<JoinHandle<Digested>>,
}

impl ReadAhead {
    pub(crate) fn new(mut source: impl Read + Send + 'static) -> io::Result<Self> {
        let (block_sender, blocks) = sync_channel::<io::Result<Vec<u8>>>(BLOCKS_IN_FLIGHT);
        let (spare, spares) = sync_channel::<Vec<u8>>(BLOCKS_IN_FLIGHT + 1);
        let reader = std::thread::Builder::new()
            .name("opsml-read-ahead".to_owned())
            .spawn(move || {
                let mut hasher = Sha256::new();
                let mut size = 0u64;
                loop {
                    let mut block = spares.try_recv().unwrap_or_default();
                    block.resize(BLOCK_BYTES, 0);
                    let filled = match fill(&mut source, &mut block) {
                        Ok(n) => n,
                        Err(e) => {
                            let _ = block_sender.send(Err(e));
                            break;
                        }
                    };
                    block.truncate(filled);
                    hasher.update(&block);
                    size += filled as u64;
                    let done = filled == 0;
                    if block_sender.send(Ok(block)).is_err() || done {
                        break;
                    }
                }
                Digested {
                    sha256: hasher.finalize().into(),
                    size,
                }
            })?;
        Ok(Self {
            blocks,
            spare,
            current: Vec::new(),
            offset: 0,
            reader: Some(reader),
        })
    }

    /// The digest of everything read; call after reading to the end.
    pub(crate) fn finish(mut self) -> io::Result<Digested> {
        let reader = self.reader.take().expect("finish is called once");
        reader
            .join()
            .map_err(|_| io::Error::other("the read-ahead thread panicked"))
    }
}

/// Reads until `block` is full or the source ends.
fn fill(source: &mut impl Read, block: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < block.len() {
        match source.read(&mut block[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

impl Read for ReadAhead {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.offset == self.current.len() {
            let next = match self.blocks.recv() {
                Ok(block) => block?,
                // The reader is gone after the empty end block.
                Err(_) => return Ok(0),
            };
            if next.is_empty() {
                return Ok(0);
            }
            let used = std::mem::replace(&mut self.current, next);
            let _ = self.spare.try_send(used);
            self.offset = 0;
        }
        let n = buf.len().min(self.current.len() - self.offset);
        buf[..n].copy_from_slice(&self.current[self.offset..self.offset + n]);
        self.offset += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_every_byte_through_and_hashes_it() {
        let data: Vec<u8> = (0..(3 * BLOCK_BYTES + 12_345))
            .map(|i| (i * 7) as u8)
            .collect();
        let mut ahead = ReadAhead::new(io::Cursor::new(data.clone())).unwrap();
        let mut out = Vec::new();
        let mut small = [0u8; 1000];
        loop {
            let n = ahead.read(&mut small).unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&small[..n]);
        }
        assert_eq!(out, data);
        let digest = ahead.finish().unwrap();
        assert_eq!(digest.size, data.len() as u64);
        assert_eq!(digest.sha256, <[u8; 32]>::from(Sha256::digest(&data)));
    }

    #[test]
    fn source_errors_reach_the_reader() {
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::other("disk gone"))
            }
        }
        let mut ahead = ReadAhead::new(Broken).unwrap();
        let err = ahead.read(&mut [0u8; 10]).unwrap_err();
        assert_eq!(err.to_string(), "disk gone");
    }
}
