//! Running `ip`, `tc`, `nft` and `sysctl`: the parts of the data plane the netlink crates do
//! not type (HTB, u32 filters, nftables, namespace and veth creation). Every failure names the
//! namespace, the object and what the tool printed.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::error::DataplaneError;

/// Runs `program args` for `object` in namespace `ns` (the namespace is only named in errors:
/// callers pass `-n NS` or `ip netns exec` themselves) with `input` on its standard input,
/// and returns what it printed.
pub(crate) fn run(
    ns: &str,
    object: &str,
    program: &str,
    args: &[&str],
    input: Option<&str>,
) -> Result<String, DataplaneError> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| DataplaneError::Spawn {
            program: program.to_string(),
            source,
        })?;
    if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
        // A tool that stops reading early reports why on stderr; the write error adds nothing.
        let _ = stdin.write_all(text.as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|source| DataplaneError::Spawn {
            program: program.to_string(),
            source,
        })?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        let mut command = format!("{program} {}", args.join(" "));
        if let Some(text) = input {
            let first = text.lines().next().unwrap_or_default();
            command.push_str(&format!(
                " < ({} line(s), first: {first})",
                text.lines().count()
            ));
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        Err(DataplaneError::Command {
            ns: ns.to_string(),
            object: object.to_string(),
            command,
            stderr: format!("{} {}", stderr.trim(), stdout.trim())
                .trim()
                .to_string(),
        })
    }
}
