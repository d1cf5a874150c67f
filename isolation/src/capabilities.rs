//! Checks, at agent start, that the agent holds the capabilities an isolator needs (the dropping
//! itself happens in the launched child: [`crate::launch::ChildSetup::enter`]).

use caps::{CapSet, Capability};

use crate::IsolatorError;

/// Fails unless every capability in `needed` is effective in the agent, naming `isolator` and the
/// missing capability.
///
/// # Errors
/// [`IsolatorError::Unsupported`].
pub fn require(isolator: &str, needed: &[Capability]) -> Result<(), IsolatorError> {
    for &cap in needed {
        let held = caps::has_cap(None, CapSet::Effective, cap).map_err(|e| {
            IsolatorError::Unsupported {
                isolator: isolator.to_string(),
                reason: format!("cannot read the agent's capabilities: {e}"),
            }
        })?;
        if !held {
            return Err(IsolatorError::Unsupported {
                isolator: isolator.to_string(),
                reason: format!("the agent lacks {cap} (run it as root)"),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_capabilities_are_named() {
        let root = nix::unistd::Uid::effective().is_root();
        let result = require("namespaces/pid", &[Capability::CAP_SYS_ADMIN]);
        if root {
            assert!(result.is_ok());
        } else {
            let err = result.unwrap_err().to_string();
            assert!(
                err.contains("namespaces/pid") && err.contains("CAP_SYS_ADMIN"),
                "{err}"
            );
        }
    }
}
