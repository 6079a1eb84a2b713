//! The write-ahead file of a remote writer: every batch is appended here before it is sent,
//! and the file is emptied once the server has every batch in it. What a crash or a server
//! outage leaves behind is sent by `opsml sync` (the server applies each batch once, so a
//! batch sent twice changes nothing).
//!
//! A file is a sequence of records, each a little-endian `u32` length and that many bytes of
//! a batch's JSON body. A record cut short by a crash ends the file.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::{RegistryError, Result};

/// Environment variable naming the directory of write-ahead files.
pub const SPOOL_DIR_ENV: &str = "OPSML_SPOOL_DIR";

/// Extension of a writer's file of batches.
pub(crate) const BATCHES_EXTENSION: &str = "batches";

/// The directory of write-ahead files: `OPSML_SPOOL_DIR`, else `$XDG_CACHE_HOME/opsml/spool`,
/// else `~/.cache/opsml/spool`.
pub fn spool_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(SPOOL_DIR_ENV).filter(|v| !v.is_empty()) {
        return PathBuf::from(dir);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    cache.join("opsml").join("spool")
}

fn io_error(path: &Path, source: io::Error) -> RegistryError {
    RegistryError::LocalIo {
        path: path.to_owned(),
        source,
    }
}

/// Where a record's bytes are in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Record {
    pub(crate) offset: u64,
    pub(crate) len: u32,
}

/// One writer's open write-ahead file, locked against `opsml sync` while the writer lives.
#[derive(Debug)]
pub(crate) struct Spool {
    path: PathBuf,
    file: File,
    len: u64,
    /// Whether everything appended is on disk.
    synced: bool,
}

impl Spool {
    /// Creates the file of `writer_id` of experiment `uid` in `dir`. It is created under
    /// another name, locked, then renamed: `opsml sync` never sees it unlocked.
    pub(crate) fn create(dir: &Path, uid: &str, writer_id: &str) -> Result<Self> {
        let dir = dir.join(uid);
        let path = dir.join(format!("{writer_id}.{BATCHES_EXTENSION}"));
        let new = dir.join(format!("{writer_id}.new"));
        let mut attempts = 0;
        let file = loop {
            attempts += 1;
            let created = fs::create_dir_all(&dir).and_then(|()| {
                let file = OpenOptions::new()
                    .create_new(true)
                    .read(true)
                    .write(true)
                    .open(&new)?;
                file.try_lock()?;
                fs::rename(&new, &path)?;
                Ok(file)
            });
            match created {
                Ok(file) => break file,
                // A sync removed the emptied directory in between: once more.
                Err(e) if e.kind() == io::ErrorKind::NotFound && attempts < 3 => {}
                Err(e) => return Err(io_error(&path, e)),
            }
        };
        Ok(Self {
            path,
            file,
            len: 0,
            synced: true,
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Appends records; on failure the file is as it was. Where each record is, to read it
    /// back with [`Spool::read`].
    pub(crate) fn append(&mut self, records: &[Vec<u8>]) -> Result<Vec<Record>> {
        let mut placed = Vec::with_capacity(records.len());
        let mut bytes = Vec::with_capacity(records.iter().map(|r| 4 + r.len()).sum());
        for record in records {
            let len = u32::try_from(record.len()).map_err(|_| {
                io_error(
                    &self.path,
                    io::Error::new(io::ErrorKind::InvalidInput, "a batch over 4 GiB"),
                )
            })?;
            bytes.extend_from_slice(&len.to_le_bytes());
            placed.push(Record {
                offset: self.len + bytes.len() as u64,
                len,
            });
            bytes.extend_from_slice(record);
        }
        let written = self
            .file
            .seek(SeekFrom::Start(self.len))
            .and_then(|_| self.file.write_all(&bytes));
        if let Err(e) = written {
            let _ = self.file.set_len(self.len);
            return Err(io_error(&self.path, e));
        }
        self.len += bytes.len() as u64;
        self.synced = false;
        Ok(placed)
    }

    /// The bytes of a record appended since the file was last emptied.
    pub(crate) fn read(&mut self, record: Record) -> Result<Vec<u8>> {
        let mut bytes = vec![0; record.len as usize];
        self.file
            .seek(SeekFrom::Start(record.offset))
            .and_then(|_| self.file.read_exact(&mut bytes))
            .map_err(|e| io_error(&self.path, e))?;
        Ok(bytes)
    }

    /// Makes what was appended survive a crash of the machine, not only of the process.
    pub(crate) fn sync(&mut self) -> Result<()> {
        if !self.synced {
            self.file.sync_data().map_err(|e| io_error(&self.path, e))?;
            self.synced = true;
        }
        Ok(())
    }

    /// Empties the file: the server has every batch in it.
    pub(crate) fn clear(&mut self) -> Result<()> {
        if self.len > 0 {
            self.file.set_len(0).map_err(|e| io_error(&self.path, e))?;
            self.len = 0;
            self.synced = true;
        }
        Ok(())
    }

    /// Removes the file, which must be empty (the server has everything).
    pub(crate) fn remove(self) {
        if self.len == 0 {
            if let Err(e) = fs::remove_file(&self.path) {
                tracing::debug!(path = %self.path.display(), error = %e, "removing a spool file");
            }
            if let Some(dir) = self.path.parent() {
                // Only succeeds once the experiment's last file is gone.
                let _ = fs::remove_dir(dir);
            }
        }
    }
}

/// The next record of a write-ahead file, or `None` at its end or at a record cut short.
pub(crate) fn next_record(reader: &mut impl Read) -> io::Result<Option<Vec<u8>>> {
    let mut len = [0u8; 4];
    match reader.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u32::from_le_bytes(len);
    // Read as far as the file goes: a damaged length allocates no more than is there.
    let mut record = Vec::new();
    reader.take(u64::from(len)).read_to_end(&mut record)?;
    Ok((record.len() == len as usize).then_some(record))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_come_back_in_order_and_a_cut_record_ends_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::create(dir.path(), "u", "w").unwrap();
        spool.append(&[b"first".to_vec(), Vec::new()]).unwrap();
        let third = spool.append(&[b"third".to_vec()]).unwrap();
        spool.sync().unwrap();
        assert_eq!(spool.read(third[0]).unwrap(), b"third");
        let path = spool.path().to_owned();
        assert_eq!(path, dir.path().join("u").join("w.batches"));
        // A crash in the middle of the next record leaves part of it.
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(&[9, 0, 0, 0, b'x']).unwrap();
        let mut file = io::BufReader::new(File::open(&path).unwrap());
        let mut records = Vec::new();
        while let Some(record) = next_record(&mut file).unwrap() {
            records.push(record);
        }
        assert_eq!(records, [b"first".to_vec(), Vec::new(), b"third".to_vec()]);
    }

    #[test]
    fn a_live_writers_file_is_locked_and_an_emptied_one_is_removed() {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::create(dir.path(), "u", "w").unwrap();
        spool.append(&[b"batch".to_vec()]).unwrap();
        let other = File::open(spool.path()).unwrap();
        assert!(
            other.try_lock().is_err(),
            "sync must skip a live writer's file"
        );
        spool.clear().unwrap();
        assert_eq!(fs::metadata(spool.path()).unwrap().len(), 0);
        let path = spool.path().to_owned();
        spool.remove();
        assert!(!path.exists());
        assert!(!dir.path().join("u").exists());
    }
}
