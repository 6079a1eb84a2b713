//! `opsml-server`: serves the store of `OPSML_TRACKING_URI` over HTTP.

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Parser;
use opsml_server::AppState;

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
    let store = match tokio::task::spawn_blocking(opsml_registry::default_store).await {
        Ok(Ok(store)) => store,
        Ok(Err(e)) => {
            eprintln!("opsml-server: {e}");
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
        Ok(bound) => tracing::info!(%bound, store = %store.location(), "listening"),
        Err(e) => tracing::warn!(error = %e, "listening (address unknown)"),
    }
    match opsml_server::serve(listener, AppState::new(store), shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("opsml-server: {e}");
            ExitCode::FAILURE
        }
    }
}
