//! One module per command; [`run`] dispatches to them.

mod accounts;
mod columns;
mod compare;
mod delete;
mod diff;
mod download;
mod export;
mod list;
mod metrics;
mod params;
mod plot;
mod report;
mod search;
mod show;
mod sync;
mod ui;

#[cfg(feature = "server")]
pub use ui::serve_ui;

use crate::args::{Command, ExperimentsCommand, ServerCommand};
use crate::context::Context;
use crate::error::Result;

/// Runs a parsed command.
pub(crate) fn run(context: &mut Context<'_, '_>, command: Command) -> Result<()> {
    match command {
        Command::Experiments(command) => match command {
            ExperimentsCommand::List(args) => list::run(context, &args),
            ExperimentsCommand::Search(args) => search::run(context, &args),
            ExperimentsCommand::Show(args) => show::run(context, &args.uid),
            ExperimentsCommand::Compare(args) => compare::run(context, &args),
            ExperimentsCommand::Diff(args) => diff::run(context, &args),
            ExperimentsCommand::Metrics(args) => metrics::run(context, &args),
            ExperimentsCommand::Params(args) => params::run(context, &args),
            ExperimentsCommand::Export(args) => export::run(context, &args),
            ExperimentsCommand::Plot(args) => plot::run(context, &args),
            ExperimentsCommand::Report(args) => report::run(context, &args),
            ExperimentsCommand::Download(args) => download::run(context, &args),
            ExperimentsCommand::Delete(args) => delete::run(context, &args),
        },
        Command::Server(ServerCommand::Start(args)) => start_server(&args),
        Command::Server(ServerCommand::Users(command)) => accounts::users(context, command),
        Command::Server(ServerCommand::Grants(command)) => accounts::grants(context, command),
        Command::Sync => sync::run(context),
        Command::Ui(args) => ui::run(context, &args),
    }
}

#[cfg(feature = "server")]
fn start_server(args: &crate::args::ServerStartArgs) -> Result<()> {
    opsml_server::run(args.host, args.port).map_err(crate::error::CliError::Server)
}

#[cfg(not(feature = "server"))]
fn start_server(_args: &crate::args::ServerStartArgs) -> Result<()> {
    Err(crate::error::CliError::Usage(
        "this opsml was built without its server (the `server` feature of opsml-cli)".to_owned(),
    ))
}
