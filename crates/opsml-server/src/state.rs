//! What every request handler shares: the store and the accounts.

use std::sync::Arc;

use opsml_registry::{AccountStore, ArtifactStorage, Artifacts, Store};

use crate::auth::{LaunchToken, LoginThrottle};
use crate::cache::{Principals, Spaces};
use crate::ApiError;

/// The server's state: the store all requests read and write, its users, the storage of
/// artifact objects, and short-lived copies of lookups (see `cache`).
#[derive(Debug, Clone)]
pub struct AppState {
    store: Arc<dyn Store>,
    accounts: Arc<dyn AccountStore>,
    pub(crate) storage: Arc<dyn ArtifactStorage>,
    pub(crate) principals: Arc<Principals>,
    pub(crate) spaces: Arc<Spaces>,
    /// Password verifications under way at once: at most one per core.
    pub(crate) logins: Arc<tokio::sync::Semaphore>,
    /// Failed logins per username.
    pub(crate) login_failures: Arc<LoginThrottle>,
    /// The token of an `opsml ui` launch, the only credential it takes; `None` on a server.
    pub(crate) launch: Option<LaunchToken>,
    /// What opens the artifacts: only `opsml ui`, which runs as the store's own user, has
    /// the master key; a server never does.
    pub(crate) artifacts: Option<Artifacts>,
}

impl AppState {
    pub fn new(
        store: Arc<dyn Store>,
        accounts: Arc<dyn AccountStore>,
        storage: Arc<dyn ArtifactStorage>,
    ) -> Self {
        Self {
            store,
            accounts,
            storage,
            principals: Arc::default(),
            spaces: Arc::default(),
            logins: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(1, usize::from),
            )),
            login_failures: Arc::default(),
            launch: None,
            artifacts: None,
        }
    }

    /// The state of `opsml ui`: the local user's own store, open to whoever holds
    /// `launch_token` (and to nobody else: the store's server accounts are not used), with
    /// `artifacts` to show them decrypted when the master key could be read.
    pub fn for_launch(
        store: Arc<dyn Store>,
        accounts: Arc<dyn AccountStore>,
        storage: Arc<dyn ArtifactStorage>,
        artifacts: Option<Artifacts>,
        launch_token: &str,
    ) -> Self {
        Self {
            launch: Some(LaunchToken::new(launch_token)),
            artifacts,
            ..Self::new(store, accounts, storage)
        }
    }

    /// Whether this is `opsml ui`'s state rather than a server's.
    pub(crate) fn is_launch(&self) -> bool {
        self.launch.is_some()
    }

    /// Runs blocking store work off the async workers.
    pub(crate) async fn with_store<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Store) -> Result<T, ApiError> + Send + 'static,
    {
        let store = Arc::clone(&self.store);
        blocking(move || work(store.as_ref())).await
    }

    /// Runs blocking account work (password hashing included) off the async workers.
    pub(crate) async fn with_accounts<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn AccountStore) -> Result<T, ApiError> + Send + 'static,
    {
        let accounts = Arc::clone(&self.accounts);
        blocking(move || work(accounts.as_ref())).await
    }
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::internal(format!("a store task failed: {e}")))?
}
