//! `opsml experiments delete`: an experiment, its data and its artifact files.

use std::sync::Arc;

use opsml_crypt::MasterKey;
use opsml_registry::{Artifacts, StoreError};

use crate::args::DeleteArgs;
use crate::context::{load_card, Context};
use crate::error::Result;

pub(super) fn run(context: &mut Context<'_, '_>, args: &DeleteArgs) -> Result<()> {
    let store = context.store()?;
    let uid = args.uid.as_str();
    let card = load_card(store.as_ref(), uid)?;
    let what = format!("experiment {} v{} ({uid})", card.name, card.version);
    if !args.yes {
        context.confirm_deletion(&format!("Delete {what} and its artifacts? [y/N] "))?;
    }
    let storage = context.storage(store.as_ref())?;
    // Card first, then files: a failure in between leaves unreferenced files, never a
    // card whose artifacts are gone. Like `CardRegistry::delete_card` (Python's).
    if !store.delete_experiment(uid)? {
        return Err(StoreError::ExperimentNotFound(uid.to_owned()).into());
    }
    // Removing the files needs no key: a throwaway one stands in for the master key,
    // so that deleting never creates a key file.
    Artifacts::new(store, storage, Arc::new(MasterKey::generate())).delete_all(uid)?;
    writeln!(context.out, "deleted {what}")?;
    Ok(())
}
