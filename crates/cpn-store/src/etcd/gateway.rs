//! etcd's JSON gRPC-gateway over plain HTTP: one blocking client that fails over between the
//! endpoints of a cluster, and the few response shapes the store reads.
//!
//! The gateway speaks protobuf's JSON mapping: bytes are base64, 64-bit integers are strings,
//! and fields at their zero value are left out (`"succeeded": false` never appears), so every
//! field here has a default.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::StoreError;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// How long one call may take, failovers included, unless the caller says otherwise.
pub(super) const REQUEST_TIMEOUT: Duration = Duration::from_secs(3);
/// How long a read or a commit may take, failovers included: long enough to ride out an etcd
/// leader election on a loaded machine (a commit that fails makes the controller reload).
pub(super) const DATA_TIMEOUT: Duration = Duration::from_secs(10);
/// The most one attempt at one member may take, so that a member that hangs (a partitioned
/// or electing one) does not spend the whole budget before the others are tried.
const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(1_500);
/// The pause after every endpoint failed once, long enough for an etcd election to finish.
const ROUND_PAUSE: Duration = Duration::from_millis(100);

/// gRPC codes worth trying again elsewhere: DeadlineExceeded, and Unavailable, which etcd
/// answers when a member has no leader, the leader changed or a proposal timed out.
const RETRY_CODES: [i64; 2] = [4, 14];

/// A blocking HTTP client for a list of etcd members.
#[derive(Debug)]
pub(super) struct Gateway {
    http: reqwest::blocking::Client,
    urls: Vec<String>,
    /// The member that answered last; calls start there.
    current: AtomicUsize,
}

enum Failure {
    /// The request may not have reached a working member: try the next one.
    Retry(String),
    /// The cluster answered and refused: trying elsewhere would get the same answer.
    Fatal(String),
}

impl Gateway {
    pub(super) fn new(endpoints: &[String]) -> Result<Gateway, StoreError> {
        if endpoints.is_empty() {
            return Err(StoreError::Backend("etcd: no endpoints given".into()));
        }
        let urls = endpoints
            .iter()
            .map(|e| {
                let e = e.trim().trim_end_matches('/');
                if e.starts_with("http://") || e.starts_with("https://") {
                    e.to_string()
                } else {
                    format!("http://{e}")
                }
            })
            .collect();
        // etcd runs on the controllers' own network: an HTTP proxy from the environment would
        // only be in the way.
        let http = reqwest::blocking::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .no_proxy()
            .build()
            .map_err(|e| StoreError::Backend(format!("etcd: http client: {e}")))?;
        Ok(Gateway {
            http,
            urls,
            current: AtomicUsize::new(0),
        })
    }

    /// POSTs `body` to `path`, trying the members in turn on connection errors, timeouts and
    /// "no leader" answers until `budget` is spent.
    ///
    /// Callers only send requests that are safe to repeat: a txn that timed out may have been
    /// applied, and applying it again writes the same values behind the same fence.
    pub(super) fn call<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &Value,
        budget: Duration,
    ) -> Result<T, StoreError> {
        let start = Instant::now();
        let n = self.urls.len();
        let mut last: Vec<Option<String>> = vec![None; n];
        let mut attempt = 0;
        loop {
            let i = (self.current.load(Ordering::Relaxed) + attempt) % n;
            let url = &self.urls[i];
            let timeout = budget
                .saturating_sub(start.elapsed())
                .min(ATTEMPT_TIMEOUT)
                .max(Duration::from_millis(100));
            match self.once(url, path, body, timeout) {
                Ok(value) => {
                    self.current.store(i, Ordering::Relaxed);
                    return serde_json::from_value(value).map_err(|e| {
                        StoreError::Backend(format!("etcd {url}{path}: unexpected response: {e}"))
                    });
                }
                Err(Failure::Fatal(m)) => {
                    return Err(StoreError::Backend(format!("etcd {url}{path}: {m}")));
                }
                Err(Failure::Retry(m)) => last[i] = Some(m),
            }
            attempt += 1;
            if start.elapsed() >= budget {
                let tried: Vec<String> = self
                    .urls
                    .iter()
                    .zip(&last)
                    .filter_map(|(u, m)| m.as_ref().map(|m| format!("{u}: {m}")))
                    .collect();
                return Err(StoreError::Backend(format!(
                    "etcd {path}: no member answered within {budget:?} ({})",
                    tried.join("; ")
                )));
            }
            if attempt % n == 0 {
                std::thread::sleep(ROUND_PAUSE);
            }
        }
    }

    fn once(
        &self,
        url: &str,
        path: &str,
        body: &Value,
        timeout: Duration,
    ) -> Result<Value, Failure> {
        let resp = self
            .http
            .post(format!("{url}{path}"))
            .timeout(timeout)
            .json(body)
            .send()
            .map_err(|e| Failure::Retry(error_chain(&e)))?;
        let status = resp.status();
        let text = resp.text().map_err(|e| Failure::Retry(error_chain(&e)))?;
        let unavailable = status.is_server_error() && status.as_u16() != 500;
        // Streaming calls (the lease keepalive) answer with one JSON object per line.
        let value = serde_json::Deserializer::from_str(&text)
            .into_iter::<Value>()
            .next();
        let value = match value {
            Some(Ok(v)) => v,
            _ if unavailable => return Err(Failure::Retry(format!("HTTP {status}"))),
            _ => {
                return Err(Failure::Fatal(format!(
                    "unreadable response (HTTP {status}): {}",
                    text.chars().take(200).collect::<String>()
                )));
            }
        };
        if let Some((code, message)) = grpc_error(&value) {
            return Err(if RETRY_CODES.contains(&code) || unavailable {
                Failure::Retry(message)
            } else {
                Failure::Fatal(message)
            });
        }
        if unavailable {
            return Err(Failure::Retry(format!("HTTP {status}")));
        }
        if !status.is_success() {
            return Err(Failure::Fatal(format!("HTTP {status}")));
        }
        Ok(value)
    }
}

/// The error of a gateway answer: `{"error": "...", "code": 3}` for unary calls,
/// `{"error": {"grpc_code": 5, "message": "..."}}` for streams.
fn grpc_error(value: &Value) -> Option<(i64, String)> {
    let error = value.get("error")?;
    if let Some(inner) = error.as_object() {
        let code = inner.get("grpc_code").and_then(Value::as_i64).unwrap_or(2);
        let message = inner.get("message").and_then(Value::as_str).unwrap_or("");
        return Some((code, message.to_string()));
    }
    let code = value.get("code").and_then(Value::as_i64).unwrap_or(2);
    let message = error
        .as_str()
        .map_or_else(|| error.to_string(), str::to_string);
    Some((code, message))
}

/// reqwest's top-level message ("error sending request") hides the cause.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

pub(super) fn b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

fn unb64(s: &str) -> Result<Vec<u8>, StoreError> {
    STANDARD
        .decode(s)
        .map_err(|e| StoreError::Backend(format!("etcd: bad base64 in a response: {e}")))
}

/// A 64-bit integer, which the gateway sends as a string.
fn int<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Int {
        Text(String),
        Number(i64),
    }
    match Int::deserialize(d)? {
        Int::Text(s) => s.parse().map_err(D::Error::custom),
        Int::Number(n) => Ok(n),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Header {
    #[serde(deserialize_with = "int")]
    pub(super) revision: i64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Kv {
    key: String,
    value: String,
    #[serde(deserialize_with = "int")]
    pub(super) lease: i64,
}

impl Kv {
    pub(super) fn key(&self) -> Result<Vec<u8>, StoreError> {
        unb64(&self.key)
    }

    pub(super) fn value(&self) -> Result<Vec<u8>, StoreError> {
        unb64(&self.value)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct RangeResponse {
    pub(super) header: Header,
    pub(super) kvs: Vec<Kv>,
    pub(super) more: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct TxnResponse {
    pub(super) succeeded: bool,
    pub(super) responses: Vec<ResponseOp>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ResponseOp {
    pub(super) response_range: Option<RangeResponse>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Lease {
    #[serde(rename = "ID", deserialize_with = "int")]
    pub(super) id: i64,
    #[serde(rename = "TTL", deserialize_with = "int")]
    pub(super) ttl: i64,
}

/// The first message of the keepalive stream.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct KeepAlive {
    pub(super) result: Option<Lease>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn omitted_fields_and_string_integers() {
        let r: TxnResponse = serde_json::from_str(
            r#"{"header":{"revision":"2"},"responses":[{"response_range":{"kvs":
            [{"key":"L2Nwbi9sZWFkZXI=","value":"bWU=","lease":"2324035578234791432"}],"count":"1"}}]}"#,
        )
        .expect("parse");
        assert!(!r.succeeded);
        let range = r.responses[0].response_range.as_ref().expect("range");
        assert_eq!(range.kvs[0].lease, 2_324_035_578_234_791_432);
        assert_eq!(range.kvs[0].value().expect("value"), b"me");
        let k: KeepAlive = serde_json::from_str(r#"{"result":{"ID":"7"}}"#).expect("expired lease");
        assert_eq!(k.result.map(|l| (l.id, l.ttl)), Some((7, 0)));
    }

    #[test]
    fn errors_of_unary_and_streaming_calls() {
        let unary: Value = serde_json::from_str(
            r#"{"error":"etcdserver: too many operations in txn request","code":3}"#,
        )
        .expect("json");
        assert_eq!(
            grpc_error(&unary),
            Some((3, "etcdserver: too many operations in txn request".into()))
        );
        let stream: Value =
            serde_json::from_str(r#"{"error":{"grpc_code":14,"message":"no leader"}}"#)
                .expect("json");
        assert_eq!(grpc_error(&stream), Some((14, "no leader".into())));
        assert_eq!(grpc_error(&serde_json::json!({"kvs": []})), None);
    }
}
