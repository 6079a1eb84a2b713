//! The Python exception hierarchy and the mapping of core errors onto it.
//! This is the only place where Rust errors become Python exceptions.

use opsml_experiment::CryptError;
use opsml_experiment::ExperimentError;
use opsml_experiment::{RegistryError, StorageError};
use pyo3::exceptions::{
    PyException, PyFileNotFoundError, PyIsADirectoryError, PyNotADirectoryError, PyOSError,
    PyPermissionError, PyValueError,
};
use pyo3::{create_exception, PyErr};

create_exception!(
    opsml,
    OpsmlError,
    PyException,
    "Base class of every opsml error."
);
create_exception!(
    opsml,
    StoreError,
    OpsmlError,
    "The store (database) could not be read or written."
);
create_exception!(
    opsml,
    ConfigurationError,
    OpsmlError,
    "A setting such as OPSML_TRACKING_URI is invalid."
);
create_exception!(
    opsml,
    CardNotFoundError,
    OpsmlError,
    "No card matches the uid, or the space, name and version, asked for."
);
create_exception!(
    opsml,
    ExperimentEndedError,
    OpsmlError,
    "The experiment has ended; nothing more can be logged to it."
);

create_exception!(
    opsml,
    ArtifactNotFoundError,
    OpsmlError,
    "The experiment has no artifact at the path asked for."
);
create_exception!(
    opsml,
    EncryptionError,
    OpsmlError,
    "Encrypting or decrypting artifacts failed."
);
create_exception!(
    opsml,
    WrongMasterKeyError,
    EncryptionError,
    "The master key (OPSML_ENCRYPT_SECRET or the key file) does not open this experiment's data."
);
create_exception!(
    opsml,
    ArtifactTamperedError,
    EncryptionError,
    "A stored artifact was modified, truncated or swapped after it was stored."
);

fn crypt_error(error: &CryptError, message: String) -> PyErr {
    match error {
        CryptError::WrongMasterKey => WrongMasterKeyError::new_err(message),
        CryptError::Tampered
        | CryptError::Truncated
        | CryptError::Malformed(_)
        | CryptError::UnsupportedVersion(_) => ArtifactTamperedError::new_err(message),
        CryptError::InvalidSecret(_) => ConfigurationError::new_err(message),
        CryptError::KeyFile { .. } | CryptError::Io(_) => EncryptionError::new_err(message),
    }
}

pub(crate) fn registry_error(error: RegistryError) -> PyErr {
    let message = error.to_string();
    match error {
        RegistryError::Store(error) => store_error(error),
        RegistryError::Storage(
            StorageError::InvalidUri { .. } | StorageError::UnsupportedBackend { .. },
        )
        | RegistryError::NoMasterKey { .. }
        | RegistryError::KeyFileMissing { .. } => ConfigurationError::new_err(message),
        RegistryError::LocalPathNotFound(_) => PyFileNotFoundError::new_err(message),
        RegistryError::IsADirectory(_) => PyIsADirectoryError::new_err(message),
        RegistryError::NotADirectory(_) => PyNotADirectoryError::new_err(message),
        RegistryError::LocalIo { .. } | RegistryError::Storage(StorageError::UploadSource(_)) => {
            PyOSError::new_err(message)
        }
        RegistryError::ArtifactNotFound { .. } => ArtifactNotFoundError::new_err(message),
        RegistryError::ArtifactAmbiguous { .. } => PyValueError::new_err(message),
        RegistryError::Crypt { source, .. } | RegistryError::MasterKey(source) => {
            crypt_error(&source, message)
        }
        RegistryError::ChecksumMismatch { .. } => ArtifactTamperedError::new_err(message),
        RegistryError::Storage(_) => StoreError::new_err(message),
    }
}

pub(crate) fn store_error(error: opsml_experiment::StoreError) -> PyErr {
    use opsml_experiment::StoreError as Failure;
    let message = error.to_string();
    match error {
        Failure::ExperimentNotFound(_) | Failure::CardNotFound { .. } => {
            CardNotFoundError::new_err(message)
        }
        Failure::InvalidUri { .. } | Failure::UnsupportedBackend { .. } => {
            ConfigurationError::new_err(message)
        }
        // A server's 400 is bad input too.
        Failure::Invalid(_) | Failure::Server { status: 400, .. } => PyValueError::new_err(message),
        Failure::LocalIo { .. } => PyOSError::new_err(message),
        // Other answers of a server, by their status: no permission, nothing there.
        Failure::Server {
            status: 401 | 403, ..
        } => PyPermissionError::new_err(message),
        Failure::Server { status: 404, .. } => CardNotFoundError::new_err(message),
        Failure::Server { .. }
        | Failure::Unreachable { .. }
        | Failure::Unshipped { .. }
        | Failure::Sqlite { .. }
        | Failure::Postgres { .. }
        | Failure::StoreMoved { .. }
        | Failure::Corrupt(_)
        | Failure::VersionContention { .. }
        | Failure::BatchRefused(_)
        | Failure::CreateDir { .. } => StoreError::new_err(message),
    }
}

pub(crate) fn experiment_error(error: ExperimentError) -> PyErr {
    match error {
        ExperimentError::Registry(e) => registry_error(e),
        ExperimentError::Invalid(e) => PyValueError::new_err(e.to_string()),
        e @ (ExperimentError::ResumeMismatch { .. } | ExperimentError::InvalidOption { .. }) => {
            PyValueError::new_err(e.to_string())
        }
        e @ ExperimentError::Ended { .. } => ExperimentEndedError::new_err(e.to_string()),
        e @ ExperimentError::Forked { .. } => OpsmlError::new_err(e.to_string()),
        e @ (ExperimentError::Write { .. }
        | ExperimentError::Kept { .. }
        | ExperimentError::ReadFiles { .. }) => StoreError::new_err(e.to_string()),
        ExperimentError::Plot(e) => plot_error(&e),
        ExperimentError::Output { path, source } => PyOSError::new_err((
            source.raw_os_error().unwrap_or(0),
            format!("writing {}: {source}", path.display()),
        )),
    }
}

fn plot_error(error: &opsml_experiment::PlotError) -> PyErr {
    use opsml_experiment::PlotError;
    let message = error.to_string();
    match error {
        PlotError::UnsupportedFormat { .. } | PlotError::InvalidSize { .. } => {
            PyValueError::new_err(message)
        }
        PlotError::Io { source, .. } => {
            PyOSError::new_err((source.raw_os_error().unwrap_or(0), message))
        }
        _ => OpsmlError::new_err(message),
    }
}
