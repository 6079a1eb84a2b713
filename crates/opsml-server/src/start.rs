//! Starting a server from its configuration: the store of `OPSML_TRACKING_URI`, the
//! artifact storage of `OPSML_STORAGE_URI`, the first admin from
//! `OPSML_ADMIN_USERNAME` / `OPSML_ADMIN_PASSWORD`, and the limits on connections from
//! `OPSML_SERVER_READ_TIMEOUT` / `OPSML_SERVER_MAX_CONNECTIONS` (see [`ServeLimits`]).

use std::net::{IpAddr, SocketAddr};

use opsml_registry::{StorageUri, TrackingUri};

use crate::{bootstrap_admin, AppState, ServeLimits};

/// Variables naming the first admin, created on a start with no users yet.
pub const ADMIN_USERNAME_ENV: &str = "OPSML_ADMIN_USERNAME";
pub const ADMIN_PASSWORD_ENV: &str = "OPSML_ADMIN_PASSWORD";

/// Opens the configured store, its accounts and the artifact storage, creating the admin
/// named by the admin variables if it does not exist. A store without users and no admin
/// variables is refused: the server never runs with a default password.
pub fn open_state() -> Result<AppState, String> {
    let uri = TrackingUri::from_env().map_err(|e| e.to_string())?;
    let store = opsml_registry::open_store(&uri).map_err(|e| e.to_string())?;
    let accounts = opsml_registry::open_account_store(&uri).map_err(|e| e.to_string())?;
    let storage = StorageUri::from_env()
        .and_then(|uri| uri.open())
        .map_err(|e| e.to_string())?;
    let admin = std::env::var(ADMIN_USERNAME_ENV)
        .ok()
        .filter(|v| !v.is_empty());
    let password = std::env::var(ADMIN_PASSWORD_ENV)
        .ok()
        .filter(|v| !v.is_empty());
    match (admin, password) {
        (Some(admin), Some(password)) => {
            if bootstrap_admin(accounts.as_ref(), &admin, &password).map_err(|e| e.message)? {
                tracing::info!(%admin, "created the first admin");
            }
        }
        (None, None) => {
            if accounts.user_count().map_err(|e| e.to_string())? == 0 {
                return Err(format!(
                    "the store has no users yet: set {ADMIN_USERNAME_ENV} and \
                     {ADMIN_PASSWORD_ENV} to create the first admin"
                ));
            }
        }
        _ => {
            return Err(format!(
                "set both {ADMIN_USERNAME_ENV} and {ADMIN_PASSWORD_ENV}, or neither"
            ))
        }
    }
    Ok(AppState::new(store, accounts, storage.into()))
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    let Ok(mut terminate) =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
    else {
        let _ = interrupt.await;
        return;
    };
    tokio::select! {
        _ = interrupt => {}
        _ = terminate.recv() => {}
    }
    tracing::info!("shutting down");
}

/// Logs to standard error, filtered by `OPSML_LOG` (default `info`), unless the process
/// already logs somewhere.
fn init_logging() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("OPSML_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .try_init();
}

/// Runs a server on `host:port` until SIGINT or SIGTERM, then lets running requests finish.
/// The error says what stopped it from starting or serving.
pub fn run(host: IpAddr, port: u16) -> Result<(), String> {
    init_logging();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("opsml-server")
        .build()
        .map_err(|e| format!("starting the server's threads failed: {e}"))?;
    let limits = ServeLimits::from_env()?;
    // Opening the store may block (migrations, the first connection): not on a worker.
    let state = open_state()?;
    runtime.block_on(async move {
        let address = SocketAddr::new(host, port);
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .map_err(|e| format!("cannot listen on {address}: {e}"))?;
        match listener.local_addr() {
            Ok(bound) => tracing::info!(%bound, "listening"),
            Err(e) => tracing::warn!(error = %e, "listening (address unknown)"),
        }
        crate::serve_with(listener, state, limits, shutdown_signal())
            .await
            .map_err(|e| e.to_string())
    })
}
