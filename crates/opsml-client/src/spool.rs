//! The write-ahead file of a remote writer: every batch is appended here before it is sent,
//! and the file is emptied once the server has every batch in it. What a crash or a server
//! outage leaves behind is sent by `opsml sync` (the server applies each batch once, so a
//! batch sent twice changes nothing).
//!
//! A file starts with the 8 bytes [`MAGIC`], then holds a sequence of records, each a
//! little-endian `u32` length, the CRC-32 (`u32`) of the body and that many bytes of a batch's
//! JSON body. A record whose body does not match its checksum, and one the file ends inside
//! (a crash while it was written, or a damaged length), is an error: the file is kept and
//! named, never a batch sent as it reads nor the batches after it dropped.
//! Files written before checksums (no magic: records of a length and a body) are still read.
//! Files and their folders are private to their user.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use opsml_store::{Result, StoreError};

/// The first bytes of a file whose records carry checksums.
pub(crate) const MAGIC: &[u8; 8] = b"OPSMLSP2";

/// Bytes before a record's body: its length and its checksum.
const RECORD_HEADER_LEN: u64 = 8;

/// Extension of a writer's file of batches.
pub(crate) const BATCHES_EXTENSION: &str = "batches";

fn io_error(path: &Path, source: io::Error) -> StoreError {
    StoreError::LocalIo {
        path: path.to_owned(),
        source,
    }
}

/// Where a record's bytes are in the file, and their checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Record {
    pub(crate) offset: u64,
    pub(crate) len: u32,
    checksum: u32,
}

fn damaged(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("{what} does not match its checksum: the file was damaged or edited"),
    )
}

/// A builder of folders (and their parents) private to their user.
pub(crate) fn private_dir_builder() -> fs::DirBuilder {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    // Elsewhere there are no mode bits: a new folder takes the access rules of its parent,
    // which under the user's own profile are the user's.
    builder
}

/// Creates `path`, a new file private to its user, open to read and write.
fn create_private_file(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.create_new(true).read(true).write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    // Elsewhere there are no mode bits: a new file takes the access rules of its folder.
    options.open(path)
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
            let created = private_dir_builder().create(&dir).and_then(|()| {
                let mut file = create_private_file(&new)?;
                file.try_lock()?;
                file.write_all(MAGIC)?;
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
            len: MAGIC.len() as u64,
            synced: false,
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
            let checksum = crc32fast::hash(record);
            bytes.extend_from_slice(&len.to_le_bytes());
            bytes.extend_from_slice(&checksum.to_le_bytes());
            placed.push(Record {
                offset: self.len + bytes.len() as u64,
                len,
                checksum,
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

    /// Appends one record and makes it durable; on failure the file is as it was, so that a
    /// record never stays behind that its writer takes for not written.
    pub(crate) fn append_durably(&mut self, record: Vec<u8>) -> Result<()> {
        let before = self.len;
        self.append(&[record])?;
        if let Err(e) = self.sync() {
            let _ = self.file.set_len(before);
            self.len = before;
            return Err(e);
        }
        Ok(())
    }

    /// The bytes of a record appended since the file was last emptied, checked against the
    /// checksum they were written with.
    pub(crate) fn read(&mut self, record: Record) -> Result<Vec<u8>> {
        let mut bytes = vec![0; record.len as usize];
        self.file
            .seek(SeekFrom::Start(record.offset))
            .and_then(|_| self.file.read_exact(&mut bytes))
            .map_err(|e| io_error(&self.path, e))?;
        if crc32fast::hash(&bytes) != record.checksum {
            return Err(io_error(&self.path, damaged("a batch read back")));
        }
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

    /// Whether the file holds no record.
    fn is_empty(&self) -> bool {
        self.len <= MAGIC.len() as u64
    }

    /// Empties the file: the server has every batch in it.
    pub(crate) fn clear(&mut self) -> Result<()> {
        if !self.is_empty() {
            let header = MAGIC.len() as u64;
            self.file
                .set_len(header)
                .map_err(|e| io_error(&self.path, e))?;
            self.len = header;
            self.synced = true;
        }
        Ok(())
    }

    /// Removes the file, which must be empty (the server has everything).
    pub(crate) fn remove(self) {
        if self.is_empty() {
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

/// Reads the records of a write-ahead file in order.
pub(crate) struct RecordReader<R> {
    reader: R,
    /// Whether records carry checksums (files with the magic).
    checked: bool,
    /// Records read so far, for messages.
    count: usize,
}

impl<R: Read + Seek> RecordReader<R> {
    /// Reads the file's header, if it has one.
    pub(crate) fn new(mut reader: R) -> io::Result<Self> {
        let mut head = Vec::with_capacity(MAGIC.len());
        (&mut reader)
            .take(MAGIC.len() as u64)
            .read_to_end(&mut head)?;
        let checked = head == MAGIC;
        if !checked {
            reader.seek(SeekFrom::Start(0))?;
        }
        Ok(Self {
            reader,
            checked,
            count: 0,
        })
    }

    /// The next record, or `None` at the end of the file.
    pub(crate) fn next_record(&mut self) -> io::Result<Option<Vec<u8>>> {
        let header_len = if self.checked { RECORD_HEADER_LEN } else { 4 };
        let mut header = Vec::with_capacity(8);
        (&mut self.reader)
            .take(header_len)
            .read_to_end(&mut header)?;
        if header.is_empty() {
            return Ok(None);
        }
        let cut_short = || {
            io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "batch {} is cut short: the file ends inside it (a crash while it was \
                     written, or a damaged length); the batches before it were read",
                    self.count + 1
                ),
            )
        };
        if header.len() < header_len as usize {
            return Err(cut_short());
        }
        #[allow(
            clippy::expect_used,
            reason = "the slice is 4 bytes long, so it converts to [u8; 4]"
        )]
        let len = u32::from_le_bytes(header[..4].try_into().expect("4 bytes"));
        // Read as far as the file goes: a damaged length allocates no more than is there.
        let mut record = Vec::new();
        (&mut self.reader)
            .take(u64::from(len))
            .read_to_end(&mut record)?;
        if record.len() != len as usize {
            return Err(cut_short());
        }
        self.count += 1;
        if self.checked {
            #[allow(
                clippy::expect_used,
                reason = "the slice is 4 bytes long, so it converts to [u8; 4]"
            )]
            let checksum = u32::from_le_bytes(header[4..8].try_into().expect("4 bytes"));
            if crc32fast::hash(&record) != checksum {
                return Err(damaged(&format!("batch {}", self.count)));
            }
        }
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(path: &Path) -> io::Result<Vec<Vec<u8>>> {
        let mut reader = RecordReader::new(io::BufReader::new(File::open(path)?))?;
        let mut records = Vec::new();
        while let Some(record) = reader.next_record()? {
            records.push(record);
        }
        Ok(records)
    }

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
        assert_eq!(
            read_all(&path).unwrap(),
            [b"first".to_vec(), Vec::new(), b"third".to_vec()]
        );
        // A crash in the middle of the next record (or a damaged length) leaves part of it:
        // the records before it come back, then an error says so.
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(&[9, 0, 0, 0, 1, 2, 3, 4, b'x']).unwrap();
        let mut reader = RecordReader::new(io::BufReader::new(File::open(&path).unwrap())).unwrap();
        for expected in [&b"first"[..], b"", b"third"] {
            assert_eq!(reader.next_record().unwrap().unwrap(), expected);
        }
        let error = reader.next_record().unwrap_err();
        assert!(
            error.to_string().contains("batch 4 is cut short"),
            "{error}"
        );
    }

    #[test]
    fn one_changed_digit_in_a_kept_batch_is_an_error_not_a_value() {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::create(dir.path(), "u", "w").unwrap();
        let placed = spool
            .append(&[
                br#"{"values":[0.25]}"#.to_vec(),
                br#"{"values":[7]}"#.to_vec(),
            ])
            .unwrap();
        spool.sync().unwrap();
        let path = spool.path().to_owned();
        let mut bytes = fs::read(&path).unwrap();
        let at = bytes.windows(4).position(|w| w == b"0.25").unwrap();
        bytes[at + 3] = b'6';
        fs::write(&path, &bytes).unwrap();
        let error = read_all(&path).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
        assert!(
            error
                .to_string()
                .contains("batch 1 does not match its checksum"),
            "{error}"
        );
        let error = spool.read(placed[0]).unwrap_err().to_string();
        assert!(error.contains("does not match its checksum"), "{error}");
        assert_eq!(spool.read(placed[1]).unwrap(), br#"{"values":[7]}"#);
    }

    #[test]
    fn files_written_before_checksums_are_still_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.batches");
        let mut bytes = Vec::new();
        for body in [&b"{\"seq\":1}"[..], &b"{\"seq\":2}"[..]] {
            bytes.extend_from_slice(&(body.len() as u32).to_le_bytes());
            bytes.extend_from_slice(body);
        }
        fs::write(&path, bytes).unwrap();
        assert_eq!(
            read_all(&path).unwrap(),
            [b"{\"seq\":1}".to_vec(), b"{\"seq\":2}".to_vec()]
        );
    }

    #[test]
    fn a_live_writers_file_is_private_locked_and_an_emptied_one_is_removed() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::create(dir.path(), "u", "w").unwrap();
        spool.append(&[b"batch".to_vec()]).unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(spool.path()), 0o600);
        assert_eq!(mode(&dir.path().join("u")), 0o700);
        let other = File::open(spool.path()).unwrap();
        assert!(
            other.try_lock().is_err(),
            "sync must skip a live writer's file"
        );
        spool.clear().unwrap();
        assert!(read_all(spool.path()).unwrap().is_empty());
        let path = spool.path().to_owned();
        spool.remove();
        assert!(!path.exists());
        assert!(!dir.path().join("u").exists());
    }
}
