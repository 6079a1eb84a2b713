//! `opsml ui` (and `opsml.ui()` in Python): the web UI on the local user's own store, served
//! on a loopback address in a thread of its own, behind a token made for this launch alone
//! (printed in its address, as Jupyter does), so that other users of the machine and pages
//! of other sites open in the browser cannot read the store.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::thread::JoinHandle;

use opsml_registry::{AccountStore, ArtifactStorage, Artifacts, Store};
use tokio::sync::oneshot;

use crate::auth::new_token;
use crate::{AppState, ServeLimits};

/// A running UI: its address (token included) and what stops it.
#[derive(Debug)]
pub struct UiLaunch {
    url: String,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<Result<(), String>>>,
}

/// Where and how a UI serves.
#[derive(Debug, Clone, Copy)]
pub struct UiAddress {
    pub host: IpAddr,
    /// 0 for a free port.
    pub port: u16,
    /// Whether SIGINT and SIGTERM stop it (the command line); a Python process keeps its
    /// own handling of Ctrl-C.
    pub stop_on_signal: bool,
}

impl UiLaunch {
    /// Serves the UI of `store` at `address` until [`UiLaunch::stop`] (or a signal, if asked).
    /// With `artifacts` (the store's master key) it shows and downloads artifacts decrypted.
    /// Fails when the address cannot be listened on.
    pub fn start(
        store: Arc<dyn Store>,
        accounts: Arc<dyn AccountStore>,
        storage: Arc<dyn ArtifactStorage>,
        artifacts: Option<Artifacts>,
        address: UiAddress,
    ) -> Result<Self, String> {
        let (token, _) = new_token().map_err(|e| e.message)?;
        let state = AppState::for_launch(store, accounts, storage, artifacts, &token);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .thread_name("opsml-ui")
            .build()
            .map_err(|e| format!("starting the UI's threads failed: {e}"))?;
        let wanted = SocketAddr::new(address.host, address.port);
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind(wanted))
            .map_err(|e| format!("cannot listen on {wanted}: {e}"))?;
        let bound = listener
            .local_addr()
            .map_err(|e| format!("the UI's address is unknown: {e}"))?;
        let (stop, stopped) = oneshot::channel::<()>();
        let stop_on_signal = address.stop_on_signal;
        let thread = std::thread::Builder::new()
            .name("opsml-ui".to_owned())
            .spawn(move || {
                runtime.block_on(async move {
                    let shutdown = async move {
                        if stop_on_signal {
                            tokio::select! {
                                _ = stopped => {}
                                () = crate::start::shutdown_signal() => {}
                            }
                        } else {
                            let _ = stopped.await;
                        }
                    };
                    serve(listener, state, shutdown).await
                })
            })
            .map_err(|e| format!("starting the UI's thread failed: {e}"))?;
        Ok(Self {
            url: format!("http://{bound}/?token={token}"),
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The address to open, with this launch's token.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Waits until the UI stops (on a signal, when it serves until one); the error says why
    /// it stopped serving.
    pub fn wait(mut self) -> Result<(), String> {
        self.join()
    }

    /// Stops serving, letting the requests under way finish.
    pub fn stop(mut self) -> Result<(), String> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.join()
    }

    fn join(&mut self) -> Result<(), String> {
        match self.thread.take().map(JoinHandle::join) {
            None => Ok(()),
            Some(Ok(result)) => result,
            Some(Err(_)) => Err("the UI's thread panicked".to_owned()),
        }
    }
}

impl Drop for UiLaunch {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    crate::serve_with(listener, state, ServeLimits::default(), shutdown)
        .await
        .map_err(|e| e.to_string())
}
