//! Errors of the data plane. Each names the namespace, the object and what the kernel (or
//! the tool that spoke to it) said, so that a failure deep in a bring-up can be acted on.

use std::net::Ipv6Addr;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum DataplaneError {
    /// A netlink request the kernel refused or could not be sent.
    #[error("namespace `{ns}`: {object}: {op}: {message}")]
    Netlink {
        ns: String,
        object: String,
        op: &'static str,
        message: String,
    },
    /// A tool (`ip`, `tc`, `nft`, `sysctl`) that failed; `stderr` is what it said.
    #[error("namespace `{ns}`: {object}: `{command}` failed: {stderr}")]
    Command {
        ns: String,
        object: String,
        command: String,
        stderr: String,
    },
    /// A tool that could not be started at all (not installed, not allowed).
    #[error("cannot run `{program}`: {source}")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    /// Delay probes (STAMP) that could not be set up or sent in a namespace.
    #[error("namespace `{ns}`: delay probes: {reason}")]
    Probe { ns: String, reason: String },
    /// The namespace does not exist (or `/run/netns/NAME` cannot be opened).
    #[error("namespace `{ns}`: cannot enter it: {reason}")]
    Namespace { ns: String, reason: String },
    /// A desired state that names an interface the namespace does not have.
    #[error("namespace `{ns}`: {object}: no interface `{dev}`")]
    NoDevice {
        ns: String,
        object: String,
        dev: String,
    },
    /// A desired state that cannot be programmed as it stands.
    #[error("namespace `{ns}`: {object}: {reason}")]
    Invalid {
        ns: String,
        object: String,
        reason: String,
    },
    /// What a tool printed could not be understood.
    #[error("namespace `{ns}`: cannot read the output of `{command}`: {reason}")]
    Output {
        ns: String,
        command: String,
        reason: String,
    },
    /// The emulated network cannot be built from this scenario.
    #[error("emulation `{name}`: {reason}")]
    Emu { name: String, reason: String },
    /// A file of the emulation (its state file) that cannot be read or written.
    #[error("{path}: {reason}")]
    File { path: String, reason: String },
}

impl DataplaneError {
    pub(crate) fn invalid(ns: &str, object: impl ToString, reason: impl ToString) -> Self {
        DataplaneError::Invalid {
            ns: ns.to_string(),
            object: object.to_string(),
            reason: reason.to_string(),
        }
    }
}

/// How a route is named in messages: `fcbb:bb00:3::/48 (table 254)`.
pub(crate) fn route_name(table: u32, dst: Ipv6Addr, len: u8) -> String {
    format!("route {dst}/{len} (table {table})")
}
