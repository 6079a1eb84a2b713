//! Objects as files under a directory: the default storage.

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::PathBuf;

use crate::artifact_storage::ArtifactStorage;
use crate::copy::{copy_large, CopyError};
use crate::error::{Result, StorageError};

/// Objects as files under a root directory.
#[derive(Debug, Clone)]
pub struct LocalStorage {
    root: PathBuf,
}

impl LocalStorage {
    pub fn new(root: PathBuf) -> Self {
        Self { root }
    }

    fn path(&self, key: &str) -> PathBuf {
        self.root.join(key)
    }

    fn error(&self, key: &str, source: io::Error) -> StorageError {
        StorageError::Io {
            location: self.path(key).display().to_string(),
            source,
        }
    }
}

impl ArtifactStorage for LocalStorage {
    fn location(&self) -> String {
        self.root.display().to_string()
    }

    fn put(&self, key: &str, source: &mut dyn Read) -> Result<u64> {
        let path = self.path(key);
        let dir = path.parent().unwrap_or(&self.root);
        fs::create_dir_all(dir).map_err(|e| self.error(key, e))?;
        // Written beside the destination and renamed over it: readers never see
        // half an object, and a failure leaves the previous version in place.
        let mut temp = tempfile::Builder::new()
            .prefix(".upload-")
            .tempfile_in(dir)
            .map_err(|e| self.error(key, e))?;
        let written = copy_large(source, temp.as_file_mut()).map_err(|e| match e {
            CopyError::Read(source) => StorageError::UploadSource(source),
            CopyError::Write(source) => self.error(key, source),
        })?;
        temp.persist(&path).map_err(|e| self.error(key, e.error))?;
        Ok(written)
    }

    fn open(&self, key: &str) -> Result<Box<dyn Read + Send>> {
        let file = File::open(self.path(key)).map_err(|e| self.error(key, e))?;
        Ok(Box::new(file))
    }

    fn delete(&self, key: &str) -> Result<()> {
        match fs::remove_file(self.path(key)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(self.error(key, e)),
        }
    }

    fn delete_prefix(&self, prefix: &str) -> Result<()> {
        match fs::remove_dir_all(self.path(prefix)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(self.error(prefix, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_replaces_whole_objects_and_delete_prefix_removes_them() {
        let dir = tempfile::tempdir().unwrap();
        let storage = LocalStorage::new(dir.path().join("root"));
        storage.put("u1/a/b.bin", &mut &b"first"[..]).unwrap();
        storage.put("u1/a/b.bin", &mut &b"second"[..]).unwrap();
        let mut text = String::new();
        storage
            .open("u1/a/b.bin")
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "second");
        let leftovers: Vec<_> = fs::read_dir(dir.path().join("root/u1/a"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, ["b.bin"]);
        storage.delete_prefix("u1").unwrap();
        assert!(storage.open("u1/a/b.bin").is_err());
        storage.delete_prefix("u1").unwrap();
    }

    #[test]
    fn a_failing_source_leaves_the_previous_object() {
        struct Failing;
        impl Read for Failing {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::other("source broke"))
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let storage = LocalStorage::new(dir.path().to_owned());
        storage.put("k", &mut &b"kept"[..]).unwrap();
        let err = storage.put("k", &mut Failing).unwrap_err();
        assert!(matches!(err, StorageError::UploadSource(_)), "{err}");
        let mut text = String::new();
        storage
            .open("k")
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "kept");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
