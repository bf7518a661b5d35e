//! The agent's ed25519 identity: a 32-byte seed kept in a file readable by its owner only,
//! created on first start.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use ed25519_dalek::SigningKey;

/// Why the identity could not be read or made.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("key file `{path}`: {message}")]
    File { path: String, message: String },
}

fn err(path: &Path, message: impl Into<String>) -> IdentityError {
    IdentityError::File {
        path: path.display().to_string(),
        message: message.into(),
    }
}

/// Loads the key in `path`, or creates one there (mode 0600) when there is none.
pub fn load_or_create(path: &Path) -> Result<SigningKey, IdentityError> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let seed: [u8; 32] = hex::decode(text.trim())
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| err(path, "expected 64 hex digits (an ed25519 seed)"))?;
            Ok(SigningKey::from_bytes(&seed))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut seed = [0u8; 32];
            getrandom::fill(&mut seed).map_err(|e| err(path, format!("randomness: {e}")))?;
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| err(path, e.to_string()))?;
            }
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .map_err(|e| err(path, e.to_string()))?;
            writeln!(file, "{}", hex::encode(seed)).map_err(|e| err(path, e.to_string()))?;
            Ok(SigningKey::from_bytes(&seed))
        }
        Err(e) => Err(err(path, e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_created_once_then_loaded() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("keys/agent.key");
        let first = load_or_create(&path).expect("created");
        let again = load_or_create(&path).expect("loaded");
        assert_eq!(first.to_bytes(), again.to_bytes());
        let mode = std::fs::metadata(&path).expect("meta");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(mode.permissions().mode() & 0o777, 0o600);
    }

    #[test]
    fn a_broken_key_file_is_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("agent.key");
        std::fs::write(&path, "not hex").expect("write");
        let e = load_or_create(&path).expect_err("broken");
        assert!(e.to_string().contains("agent.key"), "{e}");
        assert!(e.to_string().contains("64 hex digits"), "{e}");
    }
}
