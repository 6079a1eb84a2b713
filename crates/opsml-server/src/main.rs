//! `opsml-server`: serves the store of `OPSML_TRACKING_URI` over HTTP.

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Parser;
use opsml_registry::TrackingUri;
use opsml_server::{bootstrap_admin, AppState};

/// The opsml server: a team's experiment registry over HTTP, on the store named by
/// OPSML_TRACKING_URI (a PostgreSQL database for several servers).
#[derive(Debug, Parser)]
#[command(name = "opsml-server", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: std::net::IpAddr,
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8000)]
    port: u16,
}

/// Variables naming the first admin, created on a start with no users yet.
const ADMIN_USERNAME_ENV: &str = "OPSML_ADMIN_USERNAME";
const ADMIN_PASSWORD_ENV: &str = "OPSML_ADMIN_PASSWORD";

/// Opens the store of `OPSML_TRACKING_URI` and its accounts, creating the admin named by
/// `OPSML_ADMIN_USERNAME` / `OPSML_ADMIN_PASSWORD` if it does not exist. A store without
/// users and no admin variables is refused: the server never runs with a default password.
fn open_state() -> Result<AppState, String> {
    let uri = TrackingUri::from_env().map_err(|e| e.to_string())?;
    let store = opsml_registry::open_store(&uri).map_err(|e| e.to_string())?;
    let accounts = opsml_registry::open_account_store(&uri).map_err(|e| e.to_string())?;
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
    Ok(AppState::new(store, accounts))
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = interrupt => {}
        _ = terminate.recv() => {}
    }
    tracing::info!("shutting down");
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("OPSML_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let state = match tokio::task::spawn_blocking(open_state).await {
        Ok(Ok(state)) => state,
        Ok(Err(message)) => {
            eprintln!("opsml-server: {message}");
            return ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!("opsml-server: opening the store failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    let address = SocketAddr::new(args.host, args.port);
    let listener = match tokio::net::TcpListener::bind(address).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("opsml-server: cannot listen on {address}: {e}");
            return ExitCode::FAILURE;
        }
    };
    match listener.local_addr() {
        Ok(bound) => tracing::info!(%bound, "listening"),
        Err(e) => tracing::warn!(error = %e, "listening (address unknown)"),
    }
    match opsml_server::serve(listener, state, shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("opsml-server: {e}");
            ExitCode::FAILURE
        }
    }
}
