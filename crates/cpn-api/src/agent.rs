//! The agent's signed registration. An agent proves it holds its ed25519 identity key by
//! signing the registration; the time and a nonce in the signed bytes let the controller
//! refuse a replayed registration.

use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How far an agent's clock may be from the controller's.
pub const REGISTRATION_MAX_SKEW_MS: u64 = 5 * 60 * 1000;

/// What an agent sends to register.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentRegistration {
    /// The agent's name, unique in the controller.
    pub agent: String,
    /// The site it runs at.
    pub site: String,
    /// Its ed25519 public key, 32 bytes in hex.
    pub public_key: String,
    /// Milliseconds since the Unix epoch when it signed.
    pub timestamp_ms: u64,
    /// Random, never reused: hex of at least 16 bytes.
    pub nonce: String,
    /// What it measured of its node (computing power, cores, memory), as the agent reports it.
    #[serde(default)]
    pub capabilities: serde_json::Value,
    /// ed25519 signature of [`registration_bytes`], 64 bytes in hex.
    pub signature: String,
}

/// The bytes an agent signs: a domain tag then every field but the signature, one per line,
/// the capabilities as compact JSON.
pub fn registration_bytes(r: &AgentRegistration) -> Vec<u8> {
    format!(
        "cpn-agent-registration-v1\n{}\n{}\n{}\n{}\n{}\n{}",
        r.agent, r.site, r.public_key, r.timestamp_ms, r.nonce, r.capabilities
    )
    .into_bytes()
}

/// Why a registration's signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureCheck {
    #[error("public_key: expected 32 bytes in hex")]
    BadKey,
    #[error("signature: expected 64 bytes in hex")]
    BadSignatureEncoding,
    #[error("nonce: expected at least 16 bytes in hex")]
    BadNonce,
    #[error("signature does not verify with the given public key")]
    Invalid,
}

impl AgentRegistration {
    /// Checks the signature against the registration's own public key.
    pub fn verify(&self) -> Result<VerifyingKey, SignatureCheck> {
        let key: [u8; 32] = hex::decode(&self.public_key)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or(SignatureCheck::BadKey)?;
        let key = VerifyingKey::from_bytes(&key).map_err(|_| SignatureCheck::BadKey)?;
        let nonce = hex::decode(&self.nonce).map_err(|_| SignatureCheck::BadNonce)?;
        if nonce.len() < 16 {
            return Err(SignatureCheck::BadNonce);
        }
        let signature: [u8; 64] = hex::decode(&self.signature)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or(SignatureCheck::BadSignatureEncoding)?;
        key.verify(
            &registration_bytes(self),
            &Signature::from_bytes(&signature),
        )
        .map_err(|_| SignatureCheck::Invalid)?;
        Ok(key)
    }

    /// Signs a registration with `key` (the agent's side).
    pub fn sign(mut self, key: &ed25519_dalek::SigningKey) -> AgentRegistration {
        use ed25519_dalek::Signer;
        self.public_key = hex::encode(key.verifying_key().as_bytes());
        self.signature = String::new();
        let signature = key.sign(&registration_bytes(&self));
        self.signature = hex::encode(signature.to_bytes());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registration() -> AgentRegistration {
        AgentRegistration {
            agent: "a1".into(),
            site: "beijing-edge".into(),
            public_key: String::new(),
            timestamp_ms: 1_700_000_000_000,
            nonce: "00112233445566778899aabbccddeeff".into(),
            capabilities: serde_json::json!({"cores": 8}),
            signature: String::new(),
        }
        .sign(&ed25519_dalek::SigningKey::from_bytes(&[7; 32]))
    }

    #[test]
    fn a_signed_registration_verifies_and_any_change_breaks_it() {
        let r = registration();
        assert!(r.verify().is_ok());
        let mut changed = r.clone();
        changed.site = "shanghai-edge".into();
        assert_eq!(changed.verify(), Err(SignatureCheck::Invalid));
        let mut changed = r.clone();
        changed.timestamp_ms += 1;
        assert_eq!(changed.verify(), Err(SignatureCheck::Invalid));
        let mut changed = r.clone();
        changed.capabilities = serde_json::json!({"cores": 80});
        assert_eq!(changed.verify(), Err(SignatureCheck::Invalid));
        let mut changed = r;
        changed.public_key = hex::encode(
            ed25519_dalek::SigningKey::from_bytes(&[8; 32])
                .verifying_key()
                .as_bytes(),
        );
        assert_eq!(changed.verify(), Err(SignatureCheck::Invalid));
    }

    #[test]
    fn malformed_fields_are_named() {
        let mut r = registration();
        r.signature = "zz".into();
        assert_eq!(r.verify(), Err(SignatureCheck::BadSignatureEncoding));
        let mut r = registration();
        r.public_key = "00".into();
        assert_eq!(r.verify(), Err(SignatureCheck::BadKey));
        let mut r = registration();
        r.nonce = "00".into();
        assert_eq!(r.verify(), Err(SignatureCheck::BadNonce));
    }
}
