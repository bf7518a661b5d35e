//! The CLI as a client of a running controller (`--server URL --token T`): blocking HTTP with
//! rustls, errors from the controller shown with their code and message.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Failure;

/// How to reach a controller.
#[derive(Debug, Clone, Args)]
pub(crate) struct Remote {
    /// A running controller's URL, such as http://127.0.0.1:7878: ask it instead of deciding
    /// on a scenario file.
    #[arg(long, env = "CPN_SERVER")]
    pub(crate) server: Option<String>,
    /// The API token (the controller keeps only its hash).
    #[arg(long, env = "CPN_TOKEN", hide_env_values = true)]
    pub(crate) token: Option<String>,
    /// A PEM certificate to trust for an https controller (its own, or its CA).
    #[arg(long, env = "CPN_CA_CERT")]
    pub(crate) ca_cert: Option<PathBuf>,
}

#[derive(Debug)]
pub(crate) struct Client {
    base: String,
    token: String,
    http: reqwest::blocking::Client,
}

impl Remote {
    /// A client, for commands that only work against a controller.
    pub(crate) fn require(&self) -> Result<Client, Failure> {
        self.client()?.ok_or_else(|| {
            Failure::bad("give --server URL (or CPN_SERVER) and --token (or CPN_TOKEN)")
        })
    }

    /// A client when `--server` was given.
    pub(crate) fn client(&self) -> Result<Option<Client>, Failure> {
        let Some(server) = &self.server else {
            return Ok(None);
        };
        let token = self
            .token
            .clone()
            .ok_or_else(|| Failure::bad("--server needs --token (or CPN_TOKEN)"))?;
        let mut builder = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(60))
            .no_proxy();
        if let Some(path) = &self.ca_cert {
            let pem = std::fs::read(path)
                .map_err(|e| Failure::bad(format!("--ca-cert `{}`: {e}", path.display())))?;
            let cert = reqwest::Certificate::from_pem(&pem)
                .map_err(|e| Failure::bad(format!("--ca-cert `{}`: {e}", path.display())))?;
            builder = builder.add_root_certificate(cert);
        }
        let http = builder
            .build()
            .map_err(|e| Failure::Internal(anyhow::anyhow!("http client: {e}")))?;
        Ok(Some(Client {
            base: server.trim_end_matches('/').to_string(),
            token,
            http,
        }))
    }
}

impl Client {
    fn send<T: DeserializeOwned>(
        &self,
        request: reqwest::blocking::RequestBuilder,
        what: &str,
    ) -> Result<T, Failure> {
        let response = request
            .bearer_auth(&self.token)
            .send()
            .map_err(|e| Failure::bad(format!("{what}: cannot reach {}: {e}", self.base)))?;
        let status = response.status();
        let text = response
            .text()
            .map_err(|e| Failure::bad(format!("{what}: reading the reply: {e}")))?;
        if !status.is_success() {
            let message = serde_json::from_str::<cpn_api::ErrorBody>(&text)
                .map(|e| format!("{} ({})", e.message, e.code))
                .unwrap_or(text);
            return Err(Failure::bad(format!(
                "{what}: the controller answered {status}: {message}"
            )));
        }
        serde_json::from_str(&text)
            .map_err(|e| Failure::bad(format!("{what}: unexpected reply: {e}")))
    }

    pub(crate) fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, Failure> {
        self.send(
            self.http.get(format!("{}{path}", self.base)),
            &format!("GET {path}"),
        )
    }

    /// A GET whose reply is bytes, not JSON (the ledger file).
    pub(crate) fn get_bytes(&self, path: &str) -> Result<Vec<u8>, Failure> {
        let what = format!("GET {path}");
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .map_err(|e| Failure::bad(format!("{what}: cannot reach {}: {e}", self.base)))?;
        let status = response.status();
        if !status.is_success() {
            let text = response.text().unwrap_or_default();
            let message = serde_json::from_str::<cpn_api::ErrorBody>(&text)
                .map(|e| format!("{} ({})", e.message, e.code))
                .unwrap_or(text);
            return Err(Failure::bad(format!(
                "{what}: the controller answered {status}: {message}"
            )));
        }
        response
            .bytes()
            .map(|b| b.to_vec())
            .map_err(|e| Failure::bad(format!("{what}: reading the reply: {e}")))
    }

    pub(crate) fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, Failure> {
        self.send(
            self.http.post(format!("{}{path}", self.base)).json(body),
            &format!("POST {path}"),
        )
    }

    pub(crate) fn delete<T: DeserializeOwned>(&self, path: &str) -> Result<T, Failure> {
        self.send(
            self.http.delete(format!("{}{path}", self.base)),
            &format!("DELETE {path}"),
        )
    }
}

/// Prints a value as pretty JSON.
pub(crate) fn print_json<T: Serialize>(value: &T) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Failure::Internal(e.into()))?;
    println!("{text}");
    Ok(())
}
