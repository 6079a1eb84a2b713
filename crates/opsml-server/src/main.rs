//! `opsml-server`: serves the store of `OPSML_TRACKING_URI` over HTTP (the same as
//! `opsml server start`).

use std::process::ExitCode;

use clap::Parser;

/// The opsml server: a team's experiment registry over HTTP, on the store named by
/// OPSML_TRACKING_URI (a PostgreSQL database for several servers) and the artifact storage
/// named by OPSML_STORAGE_URI.
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

fn main() -> ExitCode {
    let args = Args::parse();
    opsml_log::init("info");
    match opsml_server::run(args.host, args.port) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            #[allow(clippy::print_stderr)] // the binary's one line on why it stopped
            {
                eprintln!("opsml-server: {message}");
            }
            ExitCode::FAILURE
        }
    }
}
