//! Streaming copies that tell a failing source from a failing destination.

use std::io::{self, Read, Write};

/// Bytes copied per read while streaming into storage.
const COPY_BUFFER_BYTES: usize = 1 << 20;

/// Which side of a copy failed.
#[derive(Debug)]
pub enum CopyError {
    Read(io::Error),
    Write(io::Error),
}

/// `io::copy` with a large buffer that tells read failures (the source, where
/// decryption errors travel) from write failures (the destination).
pub fn copy_large(
    source: &mut dyn Read,
    sink: &mut dyn Write,
) -> std::result::Result<u64, CopyError> {
    let mut buffer = vec![0u8; COPY_BUFFER_BYTES];
    let mut total = 0u64;
    loop {
        let n = match source.read(&mut buffer) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CopyError::Read(e)),
        };
        sink.write_all(&buffer[..n]).map_err(CopyError::Write)?;
        total += n as u64;
    }
}

/// Reads up to `limit` bytes, fewer only at the end of `source`.
pub fn read_part(source: &mut dyn Read, limit: usize) -> io::Result<Vec<u8>> {
    let mut part = Vec::with_capacity(limit);
    source.take(limit as u64).read_to_end(&mut part)?;
    Ok(part)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_full_until_the_end_of_the_source() {
        let data = [7u8; 25];
        let mut source = &data[..];
        assert_eq!(read_part(&mut source, 10).unwrap().len(), 10);
        assert_eq!(read_part(&mut source, 10).unwrap().len(), 10);
        assert_eq!(read_part(&mut source, 10).unwrap().len(), 5);
        assert!(read_part(&mut source, 10).unwrap().is_empty());
    }
}
