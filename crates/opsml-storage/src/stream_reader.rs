//! A blocking [`Read`] over a byte stream (an object being downloaded, a request body being
//! uploaded): each read that finds its buffer empty waits on the runtime for the next
//! chunk, so an object of any size streams through a few chunks of memory.

use std::fmt;
use std::io::{self, Read};

use bytes::{Buf, Bytes};
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use tokio::runtime::Handle;

/// Reads the chunks of `stream`, one at a time. Reads must happen off the runtime's async
/// workers (a plain thread or its blocking pool).
pub struct StreamReader {
    runtime: Handle,
    stream: BoxStream<'static, io::Result<Bytes>>,
    chunk: Bytes,
    /// Where the bytes come from (`s3://bucket/key`, a URL), for messages.
    location: String,
    state: State,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Streaming,
    Done,
    /// A read failed: every later read fails too, rather than look like the end.
    Failed(io::ErrorKind),
}

impl StreamReader {
    pub fn new(
        runtime: Handle,
        stream: BoxStream<'static, io::Result<Bytes>>,
        location: String,
    ) -> Self {
        Self {
            runtime,
            stream,
            chunk: Bytes::new(),
            location,
            state: State::Streaming,
        }
    }
}

impl fmt::Debug for StreamReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamReader")
            .field("location", &self.location)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

/// A failed download, naming the object.
#[derive(Debug)]
struct ReadError {
    location: String,
    source: io::Error,
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "reading {}: {}", self.location, self.source)
    }
}

impl std::error::Error for ReadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

impl Read for StreamReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        while self.chunk.is_empty() {
            match self.state {
                State::Streaming => {}
                State::Done => return Ok(0),
                State::Failed(kind) => {
                    return Err(io::Error::new(
                        kind,
                        format!("reading {}: an earlier read failed", self.location),
                    ))
                }
            }
            match self.runtime.block_on(self.stream.next()) {
                Some(Ok(chunk)) => self.chunk = chunk,
                None => self.state = State::Done,
                Some(Err(source)) => {
                    let kind = source.kind();
                    self.state = State::Failed(kind);
                    let location = self.location.clone();
                    return Err(io::Error::new(kind, ReadError { location, source }));
                }
            }
        }
        let n = buf.len().min(self.chunk.len());
        buf[..n].copy_from_slice(&self.chunk[..n]);
        self.chunk.advance(n);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(chunks: Vec<object_store::Result<Bytes>>) -> StreamReader {
        let stream = futures_util::stream::iter(chunks)
            .map(|chunk| chunk.map_err(crate::s3::io_error))
            .boxed();
        StreamReader::new(
            opsml_process::runtime().handle().clone(),
            stream,
            "s3://b/k".to_owned(),
        )
    }

    #[test]
    fn chunks_are_read_in_order_across_small_reads() {
        let mut r = reader(vec![
            Ok(Bytes::from_static(b"hello ")),
            Ok(Bytes::new()),
            Ok(Bytes::from_static(b"world")),
        ]);
        let mut first = [0u8; 4];
        assert_eq!(r.read(&mut first).unwrap(), 4);
        let mut rest = Vec::new();
        r.read_to_end(&mut rest).unwrap();
        assert_eq!([&first[..], &rest[..]].concat(), b"hello world");
        assert_eq!(r.read(&mut first).unwrap(), 0);
    }

    #[test]
    fn a_failed_chunk_fails_every_later_read() {
        let mut r = reader(vec![
            Ok(Bytes::from_static(b"partial")),
            Err(object_store::Error::NotFound {
                path: "k".to_owned(),
                source: "gone".into(),
            }),
            Ok(Bytes::from_static(b"never")),
        ]);
        let mut out = Vec::new();
        let err = r.read_to_end(&mut out).unwrap_err();
        assert_eq!(out, b"partial");
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(err.to_string().contains("s3://b/k"), "{err}");
        let again = r.read(&mut [0u8; 8]).unwrap_err();
        assert_eq!(again.kind(), io::ErrorKind::NotFound);
    }
}
