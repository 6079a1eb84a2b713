//! `opsml.ui()`: the web UI of the local store, served in the background of this process.

use std::net::IpAddr;

use parking_lot::Mutex;
use pyo3::prelude::*;

use crate::error::ConfigurationError;

/// The web UI served by this process: its address (with this launch's token) and `stop()`.
#[pyclass(name = "UiServer", module = "opsml", frozen)]
pub(crate) struct PyUiServer {
    url: String,
    launch: Mutex<Option<opsml_cli::UiLaunch>>,
}

#[pymethods]
impl PyUiServer {
    /// The address to open in a browser.
    #[getter]
    fn url(&self) -> &str {
        &self.url
    }

    /// Stops serving (requests under way finish first).
    fn stop(&self, py: Python<'_>) -> PyResult<()> {
        let launch = self.launch.lock().take();
        match launch {
            Some(launch) => py
                .detach(|| launch.stop())
                .map_err(pyo3::exceptions::PyRuntimeError::new_err),
            None => Ok(()),
        }
    }

    fn __repr__(&self) -> String {
        format!("UiServer(url={:?})", self.url)
    }

    /// A notebook cell shows a link to the UI.
    fn _repr_html_(&self) -> String {
        let url = self
            .url
            .replace('&', "&amp;")
            .replace('"', "&quot;")
            .replace('<', "&lt;");
        format!(
            "<a href=\"{url}\" target=\"_blank\" rel=\"noopener noreferrer\">opsml UI: {url}</a>"
        )
    }
}

/// Serves the web UI of the store of `tracking_uri` (else of `OPSML_TRACKING_URI`) on
/// `host:port` (0: a free port) in the background, until `stop()` or the end of the process.
#[pyfunction]
#[pyo3(signature = (port = 0, host = "127.0.0.1", tracking_uri = None))]
pub(crate) fn ui(
    py: Python<'_>,
    port: u16,
    host: &str,
    tracking_uri: Option<String>,
) -> PyResult<PyUiServer> {
    let host: IpAddr = host.parse().map_err(|e| {
        ConfigurationError::new_err(format!("host {host:?} is not an IP address: {e}"))
    })?;
    let launch = py
        .detach(|| opsml_cli::serve_ui(tracking_uri.as_deref(), host, port))
        .map_err(ConfigurationError::new_err)?;
    Ok(PyUiServer {
        url: launch.url().to_owned(),
        launch: Mutex::new(Some(launch)),
    })
}
