//! What every command works with: the output streams, the console, and the
//! store and artifact storage named by the options or the environment.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use opsml_registry::{
    open_store, ArtifactStorage, StorageUri, Store, StoreError, TrackingUri, MASTER_SECRET_ENV,
};
use opsml_types::ExperimentCard;

use crate::error::{CliError, Result};
use crate::Console;

/// The streams and settings of one run of the command line.
pub(crate) struct Context<'a, 'c> {
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
    pub console: Console<'c>,
    tracking_uri: Option<String>,
    storage_uri: Option<String>,
    /// Turns the escaping of standard output off (see [`Context::data_verbatim`]).
    verbatim: std::rc::Rc<std::cell::Cell<bool>>,
}

fn current_dir() -> Result<PathBuf> {
    std::env::current_dir().map_err(|source| CliError::Io {
        path: PathBuf::from("."),
        source,
    })
}

impl<'a, 'c> Context<'a, 'c> {
    /// Asks `question` on the terminal; anything but `y` or `yes` declines. Without a terminal
    /// to ask on, refuses: deleting must be asked for with `--yes`.
    pub(crate) fn confirm_deletion(&mut self, question: &str) -> Result<()> {
        let Some(input) = self.console.input.as_mut() else {
            return Err(CliError::Usage(
                "standard input is not a terminal, so deletion cannot be confirmed; \
                 pass --yes to delete without asking"
                    .to_owned(),
            ));
        };
        let _ = self.err.write_all(question.as_bytes());
        let _ = self.err.flush();
        let mut answer = String::new();
        input.read_line(&mut answer).map_err(CliError::Input)?;
        match answer.trim().to_ascii_lowercase().as_str() {
            "y" | "yes" => Ok(()),
            _ => Err(CliError::Declined("not deleted".to_owned())),
        }
    }

    pub(crate) fn new(
        out: &'a mut dyn Write,
        err: &'a mut dyn Write,
        console: Console<'c>,
        tracking_uri: Option<String>,
        storage_uri: Option<String>,
    ) -> Self {
        Self {
            out,
            err,
            console,
            tracking_uri,
            storage_uri,
            verbatim: std::rc::Rc::default(),
        }
    }

    /// The switch that [`Context::data_verbatim`] sets on the writer of standard output.
    pub(crate) fn with_verbatim_switch(
        mut self,
        verbatim: std::rc::Rc<std::cell::Cell<bool>>,
    ) -> Self {
        self.verbatim = verbatim;
        self
    }

    /// Data in a machine format (CSV) that goes to a file or a program goes exactly as stored;
    /// on a terminal its control characters stay escaped.
    pub(crate) fn data_verbatim(&self) {
        self.verbatim.set(!self.terminal());
    }

    /// Whether tables are drawn for a person rather than written for a program.
    pub(crate) fn terminal(&self) -> bool {
        self.console.stdout_is_terminal
    }

    /// The store of `--tracking-uri`, else of `OPSML_TRACKING_URI` (as `default_store()`
    /// resolves it). A local store file must exist: reading commands never create one.
    pub(crate) fn store(&self) -> Result<Arc<dyn Store>> {
        let uri = self.tracking_uri()?;
        if let TrackingUri::Sqlite(path) = &uri {
            if !path.is_file() {
                return Err(CliError::NoStore(path.clone()));
            }
        }
        Ok(open_store(&uri)?)
    }

    /// The artifact storage of `--storage-uri`, else the one of `store` (a server's own, or
    /// that of `OPSML_STORAGE_URI`).
    pub(crate) fn storage(&self, store: &dyn Store) -> Result<Arc<dyn ArtifactStorage>> {
        match &self.storage_uri {
            Some(uri) => Ok(StorageUri::parse(uri, &current_dir()?)?.open()?.into()),
            None => Ok(opsml_registry::artifact_storage(store)?),
        }
    }

    /// The tracking URI of `--tracking-uri`, else of `OPSML_TRACKING_URI`.
    pub(crate) fn tracking_uri(&self) -> Result<TrackingUri> {
        Ok(match &self.tracking_uri {
            Some(uri) => TrackingUri::parse(uri, &current_dir()?)?,
            None => TrackingUri::from_env()?,
        })
    }
}

/// The card of experiment `uid`; an unknown uid is an error naming it.
pub(crate) fn load_card(store: &dyn Store, uid: &str) -> Result<ExperimentCard> {
    store
        .get_experiment(uid)?
        .ok_or_else(|| StoreError::ExperimentNotFound(uid.to_owned()).into())
}

/// Whether the master key can be had without creating one: the secret is in the
/// environment, or the key file beside the store exists. A fresh key could not open
/// anything already stored, so a command that reads artifacts refuses instead.
pub(crate) fn check_master_key(store: &dyn Store) -> Result<()> {
    let secret_set = std::env::var(MASTER_SECRET_ENV).is_ok_and(|s| !s.trim().is_empty());
    match store.default_key_file() {
        Some(path) if !secret_set && !Path::new(&path).is_file() => {
            Err(CliError::NoMasterKey(path))
        }
        _ => Ok(()),
    }
}

/// `uids` as given, after checking that none is given twice (a comparison, chart or
/// report of one experiment beside itself would only mislead).
pub(crate) fn distinct_uids(uids: &[String]) -> Result<Vec<&str>> {
    let mut seen = std::collections::HashSet::new();
    for uid in uids {
        if !seen.insert(uid.as_str()) {
            return Err(CliError::Usage(format!(
                "experiment {uid} is given twice; give each uid once"
            )));
        }
    }
    Ok(uids.iter().map(String::as_str).collect())
}

/// The cards of experiments `uids`, in order; the first unknown uid is an error naming it.
pub(crate) fn load_cards(store: &dyn Store, uids: &[&str]) -> Result<Vec<ExperimentCard>> {
    uids.iter().map(|uid| load_card(store, uid)).collect()
}
