//! Starting a server from its configuration: the store of `OPSML_TRACKING_URI`, the
//! artifact storage of `OPSML_STORAGE_URI`, the first admin from
//! `OPSML_ADMIN_USERNAME` / `OPSML_ADMIN_PASSWORD`, and the limits on connections from
//! `OPSML_SERVER_READ_TIMEOUT` / `OPSML_SERVER_MAX_CONNECTIONS` (see [`ServeLimits`]).

use std::net::{IpAddr, SocketAddr};

use opsml_registry::{StorageUri, TrackingUri};

use crate::{bootstrap_admin, AppState, ServeLimits, MIN_PASSWORD_CHARS};

/// Variables naming the first admin, created on a start with no users yet.
pub const ADMIN_USERNAME_ENV: &str = "OPSML_ADMIN_USERNAME";
pub const ADMIN_PASSWORD_ENV: &str = "OPSML_ADMIN_PASSWORD";

/// Opens the configured store, its accounts and the artifact storage, creating the admin
/// named by the admin variables if it does not exist. A store without users and no admin
/// variables is refused: the server never runs with a default password.
pub fn open_state() -> Result<AppState, String> {
    let admin = admin_variables(
        std::env::var(ADMIN_USERNAME_ENV).ok(),
        std::env::var(ADMIN_PASSWORD_ENV).ok(),
    )?;
    let uri = TrackingUri::from_env().map_err(|e| e.to_string())?;
    let store = opsml_registry::open_store(&uri).map_err(|e| e.to_string())?;
    let accounts = opsml_registry::open_account_store(&uri).map_err(|e| e.to_string())?;
    let storage = StorageUri::from_env()
        .and_then(|uri| uri.open())
        .map_err(|e| e.to_string())?;
    match admin {
        Some((admin, password)) => {
            if bootstrap_admin(accounts.as_ref(), &admin, &password).map_err(|e| e.message)? {
                tracing::info!(%admin, "created the first admin");
            }
        }
        None => {
            if accounts.user_count().map_err(|e| e.to_string())? == 0 {
                return Err(format!(
                    "the store has no users yet: set {ADMIN_USERNAME_ENV} and \
                     {ADMIN_PASSWORD_ENV} to create the first admin"
                ));
            }
        }
    }
    Ok(AppState::new(store, accounts, storage.into()))
}

/// The first admin's name and password from the values of [`ADMIN_USERNAME_ENV`] and
/// [`ADMIN_PASSWORD_ENV`] (empty ones count as unset): both or neither, and fit to be used.
/// An error names the variable at fault, never the password.
fn admin_variables(
    username: Option<String>,
    password: Option<String>,
) -> Result<Option<(String, String)>, String> {
    let (username, password) = match (
        username.filter(|v| !v.is_empty()),
        password.filter(|v| !v.is_empty()),
    ) {
        (Some(username), Some(password)) => (username, password),
        (None, None) => return Ok(None),
        _ => {
            return Err(format!(
                "set both {ADMIN_USERNAME_ENV} and {ADMIN_PASSWORD_ENV}, or neither"
            ))
        }
    };
    opsml_types::validate_name("user", &username)
        .map_err(|e| format!("{ADMIN_USERNAME_ENV}: {e}"))?;
    let length = password.chars().count();
    if length < MIN_PASSWORD_CHARS {
        return Err(format!(
            "{ADMIN_PASSWORD_ENV} is too short: it has {length} characters, and passwords \
             need at least {MIN_PASSWORD_CHARS}"
        ));
    }
    if password.contains('\0') {
        return Err(format!("{ADMIN_PASSWORD_ENV} holds a NUL character"));
    }
    Ok(Some((username, password)))
}

pub(crate) async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    tokio::select! {
        _ = interrupt => {}
        () = terminate() => {}
    }
    tracing::info!("shutting down");
}

/// Waits for SIGTERM; never ends where it cannot be received.
#[cfg(unix)]
async fn terminate() {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut terminate) => {
            terminate.recv().await;
        }
        Err(_) => std::future::pending().await,
    }
}

/// Windows has no SIGTERM: a service stop or a closed console arrives as Ctrl+C or
/// Ctrl+Break, so the server stops on Ctrl+C alone.
#[cfg(not(unix))]
async fn terminate() {
    std::future::pending::<()>().await;
}

/// Runs a server on `host:port` until SIGINT or SIGTERM, then lets running requests finish.
/// The error says what stopped it from starting or serving.
pub fn run(host: IpAddr, port: u16) -> Result<(), String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_admin_password_is_refused_naming_its_variable_and_the_minimum() {
        let err = admin_variables(Some("root".to_owned()), Some("short".to_owned())).unwrap_err();
        assert!(err.starts_with(ADMIN_PASSWORD_ENV), "{err}");
        assert!(err.contains(&MIN_PASSWORD_CHARS.to_string()), "{err}");
        assert!(!err.contains("short\""), "the password is not shown: {err}");
        // Characters are counted, not bytes.
        assert!(admin_variables(Some("root".to_owned()), Some("ééééééé".to_owned())).is_err());
        assert_eq!(
            admin_variables(Some("root".to_owned()), Some("long enough".to_owned())).unwrap(),
            Some(("root".to_owned(), "long enough".to_owned()))
        );
    }

    #[test]
    fn admin_variables_come_both_or_neither_and_name_what_is_wrong() {
        assert_eq!(admin_variables(None, None).unwrap(), None);
        assert_eq!(
            admin_variables(Some(String::new()), Some(String::new())).unwrap(),
            None
        );
        let err = admin_variables(Some("root".to_owned()), None).unwrap_err();
        assert!(err.contains(ADMIN_PASSWORD_ENV), "{err}");
        let err =
            admin_variables(Some("ro\tot".to_owned()), Some("long enough".to_owned())).unwrap_err();
        assert!(err.starts_with(ADMIN_USERNAME_ENV), "{err}");
        let err =
            admin_variables(Some("root".to_owned()), Some("long enough\0".to_owned())).unwrap_err();
        assert!(err.starts_with(ADMIN_PASSWORD_ENV), "{err}");
    }
}
