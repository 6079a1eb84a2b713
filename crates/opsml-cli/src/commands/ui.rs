//! `opsml ui`: the web UI of the local store, until SIGINT or SIGTERM; and the same served
//! in the background for Python's `opsml.ui()`.

use crate::args::UiArgs;
use crate::context::Context;
use crate::error::{CliError, Result};

#[cfg(feature = "server")]
pub(super) fn run(context: &mut Context<'_, '_>, args: &UiArgs) -> Result<()> {
    let uri = context.tracking_uri()?;
    let store = local_store(&uri)?;
    let storage = context.storage(store.as_ref())?;
    let address = opsml_server::UiAddress {
        host: args.host,
        port: args.port,
        stop_on_signal: true,
    };
    let location = store.location();
    let (launch, no_key) = start(&uri, store, storage, address)?;
    writeln!(context.out, "opsml ui: serving {location}")?;
    if let Some(why) = no_key {
        writeln!(context.out, "artifacts are listed but not opened: {why}")?;
    }
    writeln!(context.out, "open {}", launch.url())?;
    // Kept until the UI stops: the browser may read it late.
    let _browser_page = match args.open.then(|| open_in_browser(launch.url())) {
        Some(Ok(page)) => Some(page),
        Some(Err(e)) => {
            writeln!(
                context.out,
                "no browser opened ({e}): open the address above"
            )?;
            None
        }
        None => None,
    };
    context.out.flush()?;
    launch.wait().map_err(CliError::Server)
}

/// Opens `url` in a browser through a page that sends it on, in a file only this user can
/// read (as Jupyter does): the address's token then never appears on a command line, where
/// other users of the machine could read it (`ps`).
#[cfg(feature = "server")]
fn open_in_browser(url: &str) -> std::io::Result<tempfile::NamedTempFile> {
    use std::io::Write as _;
    // Made with mode 0600 by `tempfile`.
    let mut page = tempfile::Builder::new()
        .prefix("opsml-ui-")
        .suffix(".html")
        .tempfile()?;
    // The address is ours (digits, letters, `:/?=._-`); escaped all the same.
    let address = url
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    writeln!(
        page,
        "<!DOCTYPE html><meta charset=\"utf-8\"><title>opsml ui</title>\
         <meta http-equiv=\"refresh\" content=\"0;url={address}\">\
         <a href=\"{address}\">Open opsml ui</a>"
    )?;
    page.flush()?;
    let path = page.path().to_str().ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "temporary path is not UTF-8",
        )
    })?;
    webbrowser::open(path)?;
    Ok(page)
}

/// The store of `uri` if it is a local one; a server has a UI of its own. A store not
/// created yet is created: the UI shows it empty, then runs as they start.
#[cfg(feature = "server")]
fn local_store(
    uri: &opsml_registry::TrackingUri,
) -> Result<std::sync::Arc<dyn opsml_registry::Store>> {
    if let opsml_registry::TrackingUri::Http(base) = uri {
        return Err(CliError::Usage(format!(
            "{base} is a server: open its own UI at its address; `opsml ui` serves a local \
             store (sqlite:// or postgres://)"
        )));
    }
    Ok(opsml_registry::open_store(uri)?)
}

/// Starts the UI; with it, why artifacts cannot be opened when the master key could not be
/// read (the UI then lists them and says how to download them).
#[cfg(feature = "server")]
fn start(
    uri: &opsml_registry::TrackingUri,
    store: std::sync::Arc<dyn opsml_registry::Store>,
    storage: std::sync::Arc<dyn opsml_registry::ArtifactStorage>,
    address: opsml_server::UiAddress,
) -> Result<(opsml_server::UiLaunch, Option<String>)> {
    let accounts = opsml_registry::open_account_store(uri)?;
    let (artifacts, no_key) =
        match opsml_registry::master_key(store.as_ref(), opsml_registry::KeyUse::Read) {
            Ok(master) => (
                Some(opsml_registry::Artifacts::new(
                    std::sync::Arc::clone(&store),
                    std::sync::Arc::clone(&storage),
                    master,
                )),
                None,
            ),
            Err(e) => (None, Some(e.to_string())),
        };
    let launch = opsml_server::UiLaunch::start(store, accounts, storage, artifacts, address)
        .map_err(CliError::Server)?;
    Ok((launch, no_key))
}

/// The web UI of the store of `tracking_uri` (else of `OPSML_TRACKING_URI`), served in a
/// thread of its own until the returned launch is stopped or dropped. The error says what
/// is wrong, as the command line would.
#[cfg(feature = "server")]
pub fn serve_ui(
    tracking_uri: Option<&str>,
    host: std::net::IpAddr,
    port: u16,
) -> std::result::Result<opsml_server::UiLaunch, String> {
    let serve = || -> Result<opsml_server::UiLaunch> {
        let uri = match tracking_uri {
            Some(uri) => opsml_registry::TrackingUri::parse(uri, &std::env::current_dir()?)?,
            None => opsml_registry::TrackingUri::from_env()?,
        };
        let store = local_store(&uri)?;
        let storage = opsml_registry::artifact_storage(store.as_ref())?;
        let address = opsml_server::UiAddress {
            host,
            port,
            stop_on_signal: false,
        };
        Ok(start(&uri, store, storage, address)?.0)
    };
    serve().map_err(|e| e.to_string())
}

#[cfg(not(feature = "server"))]
pub(super) fn run(_context: &mut Context<'_, '_>, _args: &UiArgs) -> Result<()> {
    Err(CliError::Usage(
        "this opsml was built without its server and UI (the `server` feature of opsml-cli)"
            .to_owned(),
    ))
}
