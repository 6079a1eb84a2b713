use std::sync::Arc;

use opsml_types::{CardRecord, ExperimentCard, RegistryType, Version};

use crate::artifacts::experiment_prefix;
use opsml_store::{CardQuery, Store, StoreError};

use crate::error::Result;
use crate::stores::{artifact_storage, default_store};

/// The cards of one type in one store.
#[derive(Debug, Clone)]
pub struct CardRegistry {
    registry_type: RegistryType,
    store: Arc<dyn Store>,
}

impl CardRegistry {
    /// The registry of `registry_type` in the store of `OPSML_TRACKING_URI`.
    pub fn new(registry_type: RegistryType) -> Result<Self> {
        Ok(Self::with_store(registry_type, default_store()?))
    }

    /// The registry of `registry_type` in `store`.
    pub fn with_store(registry_type: RegistryType, store: Arc<dyn Store>) -> Self {
        Self {
            registry_type,
            store,
        }
    }

    pub fn registry_type(&self) -> RegistryType {
        self.registry_type
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Card records matching `query`.
    pub fn list_cards(&self, query: &CardQuery) -> Result<Vec<CardRecord>> {
        Ok(self.store.list_experiments(query)?)
    }

    /// The card with this uid.
    pub fn load_by_uid(&self, uid: &str) -> Result<ExperimentCard> {
        self.store
            .get_experiment(uid)?
            .ok_or_else(|| StoreError::ExperimentNotFound(uid.to_owned()).into())
    }

    /// The card of this space and name with this version, or the newest one.
    pub fn load_by_name(
        &self,
        space: &str,
        name: &str,
        version: Option<&Version>,
    ) -> Result<ExperimentCard> {
        self.store
            .find_experiment(space, name, version)?
            .ok_or_else(|| {
                StoreError::CardNotFound {
                    space: space.to_owned(),
                    name: name.to_owned(),
                    version: version.map(ToString::to_string),
                }
                .into()
            })
    }

    /// Saves the card's tags, status, end time, description and evaluation metrics.
    pub fn update_card(&self, card: &ExperimentCard) -> Result<()> {
        card.metadata.validate().map_err(StoreError::Invalid)?;
        self.store.update_experiment(card)?;
        // Only the user's fields: what the run's process recorded since the card was loaded
        // (git, code, hardware) stays as stored.
        let Some(stored) = self.store.get_experiment(&card.uid)? else {
            return Err(StoreError::ExperimentNotFound(card.uid.clone()).into());
        };
        let mut metadata = stored.metadata;
        metadata.description.clone_from(&card.metadata.description);
        metadata
            .eval_metrics
            .clone_from(&card.metadata.eval_metrics);
        Ok(self.store.set_metadata(&card.uid, &metadata)?)
    }

    /// Deletes the card with its metrics, parameters and artifacts (from the
    /// storage of `OPSML_STORAGE_URI`).
    pub fn delete_card(&self, uid: &str) -> Result<()> {
        if !self.store.delete_experiment(uid)? {
            return Err(StoreError::ExperimentNotFound(uid.to_owned()).into());
        }
        Ok(artifact_storage(self.store.as_ref())?.delete_prefix(&experiment_prefix(uid))?)
    }
}

/// Every registry of a store.
#[derive(Debug, Clone)]
pub struct CardRegistries {
    pub experiment: CardRegistry,
}

impl CardRegistries {
    /// The registries of the store of `OPSML_TRACKING_URI`.
    pub fn new() -> Result<Self> {
        Ok(Self::with_store(default_store()?))
    }

    /// The registries of `store`.
    pub fn with_store(store: Arc<dyn Store>) -> Self {
        Self {
            experiment: CardRegistry::with_store(RegistryType::Experiment, store),
        }
    }
}
