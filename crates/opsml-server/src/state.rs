//! What every request handler shares: the store.

use std::sync::Arc;

use opsml_registry::Store;

use crate::ApiError;

/// The server's state: the store all requests read and write.
#[derive(Debug, Clone)]
pub struct AppState {
    store: Arc<dyn Store>,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// Runs blocking store work off the async workers.
    pub(crate) async fn with_store<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Store) -> Result<T, ApiError> + Send + 'static,
    {
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || work(store.as_ref()))
            .await
            .map_err(|e| ApiError::internal(format!("a store task failed: {e}")))?
    }
}
