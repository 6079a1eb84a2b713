//! Requests to an opsml server: JSON in and out, a bearer token got from the user's name and
//! password (and got again when it expires), and errors that say which server and why.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use opsml_process::runtime;
use opsml_store::{Result, StoreError};

/// Variables holding the user's name and password on a server.
pub const USERNAME_ENV: &str = "OPSML_USERNAME";
pub const PASSWORD_ENV: &str = "OPSML_PASSWORD";

/// How long one request may take before the server counts as unreachable.
const REQUEST_TIMEOUT: Duration = Duration::from_mins(1);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest wait for the next bytes of an object's transfer. There is no limit on the whole
/// transfer: large artifacts may rightly take hours.
const TRANSFER_IDLE_TIMEOUT: Duration = Duration::from_mins(2);

/// A server's JSON answer to a failed request.
#[derive(Debug, Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Debug, Deserialize)]
struct ErrorDetail {
    code: String,
    message: String,
}

#[derive(Serialize)]
struct Credentials<'a> {
    username: &'a str,
    password: &'a str,
}

#[derive(Deserialize)]
struct Issued {
    token: String,
}

/// The HTTP side of an opsml server store.
#[derive(Debug)]
pub(crate) struct ApiClient {
    /// `http://host:port`, no trailing slash.
    base: String,
    /// For JSON requests, each limited to [`REQUEST_TIMEOUT`].
    http: reqwest::Client,
    /// For objects' bytes, limited only while idle.
    transfer: reqwest::Client,
    credentials: Option<(String, String)>,
    token: Mutex<Option<String>>,
    /// The URLs the server's storage signs could not be reached from here once: later
    /// transfers go through the server at once instead of waiting on them again.
    storage_out_of_reach: AtomicBool,
}

impl ApiClient {
    pub(crate) fn new(base: &str, credentials: Option<(String, String)>) -> Result<Self> {
        let built = |builder: reqwest::ClientBuilder| {
            builder
                .connect_timeout(CONNECT_TIMEOUT)
                .build()
                .map_err(|e| StoreError::Unreachable {
                    url: base.to_owned(),
                    reason: e.to_string(),
                })
        };
        Ok(Self {
            base: base.trim_end_matches('/').to_owned(),
            http: built(reqwest::Client::builder().timeout(REQUEST_TIMEOUT))?,
            transfer: built(reqwest::Client::builder().read_timeout(TRANSFER_IDLE_TIMEOUT))?,
            credentials,
            token: Mutex::new(None),
            storage_out_of_reach: AtomicBool::new(false),
        })
    }

    /// The name and password of `OPSML_USERNAME` / `OPSML_PASSWORD`, if both are set.
    pub(crate) fn credentials_from_env() -> Option<(String, String)> {
        let username = std::env::var(USERNAME_ENV).ok().filter(|v| !v.is_empty())?;
        let password = std::env::var(PASSWORD_ENV).ok().filter(|v| !v.is_empty())?;
        Some((username, password))
    }

    /// Whether a user is configured to log in with.
    pub(crate) fn has_credentials(&self) -> bool {
        self.credentials.is_some()
    }

    pub(crate) fn base(&self) -> &str {
        &self.base
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    pub(crate) fn unreachable(&self, error: &reqwest::Error) -> StoreError {
        // reqwest's own text stops at "error sending request": the cause says why.
        let mut reason = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            reason = format!("{reason}: {cause}");
            source = cause.source();
        }
        StoreError::Unreachable {
            url: self.base.clone(),
            reason,
        }
    }

    /// Sends one batch of experiment `uid` (its JSON body); the server applies it at most once.
    pub(crate) async fn post_batch(&self, uid: &str, body: bytes::Bytes) -> Result<()> {
        let url = self.url(&format!("/experiments/{uid}/batches"));
        let response = self
            .send(|http| {
                http.post(&url)
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.clone())
            })
            .await?;
        self.check(response).await.map(drop)
    }

    /// The server's refusal of a request made without a user.
    fn needs_a_user(&self) -> StoreError {
        StoreError::Server {
            url: self.base.clone(),
            status: 401,
            code: "unauthorized".to_owned(),
            message: format!("the server needs a user: set {USERNAME_ENV} and {PASSWORD_ENV}"),
        }
    }

    /// A new token for the configured user.
    async fn log_in(&self) -> Result<String> {
        let Some((username, password)) = &self.credentials else {
            return Err(self.needs_a_user());
        };
        let response = self
            .http
            .post(self.url("/auth/token"))
            .json(&Credentials { username, password })
            .send()
            .await
            .map_err(|e| self.unreachable(&e))?;
        let issued: Issued = self.decode(response).await?;
        Ok(issued.token)
    }

    /// The current token, got by logging in when there is none.
    pub(crate) async fn token(&self) -> Result<String> {
        let token = self.token.lock().clone();
        match token {
            Some(token) => Ok(token),
            None => {
                let fresh = self.log_in().await?;
                *self.token.lock() = Some(fresh.clone());
                Ok(fresh)
            }
        }
    }

    pub(crate) fn storage_out_of_reach(&self) -> bool {
        self.storage_out_of_reach.load(Ordering::Relaxed)
    }

    pub(crate) fn mark_storage_out_of_reach(&self) {
        self.storage_out_of_reach.store(true, Ordering::Relaxed);
    }

    /// The client for objects' bytes (see [`ApiClient::send_transfer`]).
    pub(crate) fn transfer(&self) -> &reqwest::Client {
        &self.transfer
    }

    /// Sends the request `build` makes with the current token, logging in first when there is
    /// none and once more when the server says the token is no longer valid.
    pub(crate) async fn send(
        &self,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<Response> {
        self.send_on(&self.http, build).await
    }

    /// Like [`ApiClient::send`] for a request that moves an object's bytes: no limit on the
    /// whole request, only on waiting for the next bytes.
    pub(crate) async fn send_transfer(
        &self,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<Response> {
        self.send_on(&self.transfer, build).await
    }

    async fn send_on(
        &self,
        client: &reqwest::Client,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<Response> {
        if self.credentials.is_none() {
            // Without a user the request goes as it is: a server out of reach is then said
            // to be out of reach, and one that wants a user says so itself.
            let response = build(client)
                .send()
                .await
                .map_err(|e| self.unreachable(&e))?;
            if response.status() == StatusCode::UNAUTHORIZED {
                return Err(self.needs_a_user());
            }
            return Ok(response);
        }
        for attempt in 0..2 {
            let token = self.token().await?;
            let response = build(client)
                .bearer_auth(&token)
                .send()
                .await
                .map_err(|e| self.unreachable(&e))?;
            if response.status() == StatusCode::UNAUTHORIZED && attempt == 0 {
                *self.token.lock() = None;
                continue;
            }
            return Ok(response);
        }
        unreachable!("the loop returns on its second attempt")
    }

    /// The JSON of a successful answer, or the server's error.
    pub(crate) async fn decode<T: DeserializeOwned>(&self, response: Response) -> Result<T> {
        let response = self.check(response).await?;
        response.json().await.map_err(|e| StoreError::Server {
            url: self.base.clone(),
            status: 200,
            code: "bad_response".to_owned(),
            message: format!("the answer could not be read: {e}"),
        })
    }

    /// The answer if it succeeded, else the error the server gave.
    pub(crate) async fn check(&self, response: Response) -> Result<Response> {
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let text = response.text().await.unwrap_or_default();
        let (code, message) = match serde_json::from_str::<ErrorBody>(&text) {
            Ok(body) => (body.error.code, body.error.message),
            Err(_) => (
                "http".to_owned(),
                if text.trim().is_empty() {
                    status.to_string()
                } else {
                    text.trim().to_owned()
                },
            ),
        };
        Err(StoreError::Server {
            url: self.base.clone(),
            status: status.as_u16(),
            code,
            message,
        })
    }

    /// Sends `body` (if any) as JSON with `method` to `path`.
    async fn request<B>(&self, method: &Method, path: &str, body: Option<&B>) -> Result<Response>
    where
        B: Serialize + ?Sized,
    {
        let url = self.url(path);
        self.send(|http| {
            let request = http.request(method.clone(), &url);
            match body {
                Some(body) => request.json(body),
                None => request,
            }
        })
        .await
    }

    /// Sends `body` (if any) as JSON with `method` to `path` and reads the JSON answer.
    pub(crate) fn call<B, T>(&self, method: &Method, path: &str, body: Option<&B>) -> Result<T>
    where
        B: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        runtime().block_on(async {
            let response = self.request(method, path, body).await?;
            self.decode(response).await
        })
    }

    /// Like [`ApiClient::call`] for answers without a body.
    pub(crate) fn call_empty<B>(&self, method: &Method, path: &str, body: Option<&B>) -> Result<()>
    where
        B: Serialize + ?Sized,
    {
        runtime().block_on(async {
            let response = self.request(method, path, body).await?;
            self.check(response).await.map(drop)
        })
    }

    /// `GET path?query` and its JSON answer.
    pub(crate) fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T> {
        let url = self.url(path);
        runtime().block_on(async {
            let response = self.send(|http| http.get(&url).query(query)).await?;
            self.decode(response).await
        })
    }
}

/// Whether an error is the server's answer `status`.
pub(crate) fn is_status(error: &StoreError, status: u16) -> bool {
    matches!(error, StoreError::Server { status: s, .. } if *s == status)
}
