//! `CommandInfo`: what to run, as a shell command or an argv.

use serde::{Deserialize, Serialize};

/// One environment variable.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct EnvironmentVariable {
    /// The name.
    pub name: String,
    /// The value.
    pub value: String,
}

/// Environment variables for a command (Mesos's `Environment`).
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Environment {
    /// The variables, in order.
    pub variables: Vec<EnvironmentVariable>,
}

impl Environment {
    /// The value of `name`, if set.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.variables
            .iter()
            .find(|v| v.name == name)
            .map(|v| v.value.as_str())
    }
}

/// A file to fetch into the sandbox before the command runs (Mesos's `CommandInfo.URI`).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct CommandUri {
    /// The URI or path.
    pub value: String,
    /// Make the fetched file executable.
    pub executable: bool,
    /// Extract archives (default true).
    pub extract: bool,
    /// Use the agent's fetcher cache.
    pub cache: bool,
    /// Rename the fetched file.
    pub output_file: Option<String>,
}

impl Default for CommandUri {
    fn default() -> CommandUri {
        CommandUri {
            value: String::new(),
            executable: false,
            extract: true,
            cache: false,
            output_file: None,
        }
    }
}

/// What to run (Mesos's `CommandInfo`).
///
/// With `shell` (the default) `value` runs as `sh -c value`. Without it,
/// `value` is the program and `arguments` the full argv, *including*
/// `argv[0]`, as in Mesos.
///
/// ```
/// use mesos::CommandInfo;
/// let sh = CommandInfo::shell("echo hello && sleep 1");
/// assert_eq!(sh.argv_to_exec(), vec!["sh", "-c", "echo hello && sleep 1"]);
/// let ls = CommandInfo::argv("/bin/ls", ["ls", "-l"]);
/// assert_eq!(ls.argv_to_exec(), vec!["ls", "-l"]);
/// ```
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct CommandInfo {
    /// Run `value` with `sh -c` (default true).
    pub shell: bool,
    /// The shell command, or the program when `shell` is false.
    pub value: Option<String>,
    /// The argv when `shell` is false (including argv\[0\]).
    pub arguments: Vec<String>,
    /// Extra environment variables.
    pub environment: Environment,
    /// The Unix user to run as (overrides the framework's user).
    pub user: Option<String>,
    /// Files to fetch first.
    pub uris: Vec<CommandUri>,
}

impl Default for CommandInfo {
    fn default() -> CommandInfo {
        CommandInfo {
            shell: true,
            value: None,
            arguments: Vec::new(),
            environment: Environment::default(),
            user: None,
            uris: Vec::new(),
        }
    }
}

impl CommandInfo {
    /// A shell command, run as `sh -c command`.
    pub fn shell(command: impl Into<String>) -> CommandInfo {
        CommandInfo {
            value: Some(command.into()),
            ..CommandInfo::default()
        }
    }

    /// A program run directly with the full `argv` (including argv\[0\]).
    pub fn argv<I, S>(program: impl Into<String>, argv: I) -> CommandInfo
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        CommandInfo {
            shell: false,
            value: Some(program.into()),
            arguments: argv.into_iter().map(Into::into).collect(),
            ..CommandInfo::default()
        }
    }

    /// Adds an environment variable.
    pub fn with_env(mut self, name: impl Into<String>, value: impl Into<String>) -> CommandInfo {
        self.environment.variables.push(EnvironmentVariable {
            name: name.into(),
            value: value.into(),
        });
        self
    }

    /// The argv to execute: `["sh", "-c", value]` for a shell command, else
    /// `arguments` (or just the program when `arguments` is empty).
    pub fn argv_to_exec(&self) -> Vec<String> {
        let value = self.value.clone().unwrap_or_default();
        if self.shell {
            vec!["sh".to_string(), "-c".to_string(), value]
        } else if self.arguments.is_empty() {
            vec![value]
        } else {
            self.arguments.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_json() {
        let c: CommandInfo = serde_json::from_str(r#"{"value":"true"}"#).unwrap();
        assert!(c.shell);
        assert_eq!(c, CommandInfo::shell("true"));
        let c: CommandInfo = serde_json::from_str(
            r#"{"shell":false,"value":"/bin/echo","arguments":["echo","hi"],
               "environment":{"variables":[{"name":"A","value":"1"}]},"uris":[{"value":"http://x/y.tgz"}]}"#,
        )
        .unwrap();
        assert_eq!(c.argv_to_exec(), vec!["echo", "hi"]);
        assert_eq!(c.environment.get("A"), Some("1"));
        assert!(c.uris[0].extract);
        assert_eq!(
            CommandInfo::argv("/bin/true", Vec::<String>::new()).argv_to_exec(),
            vec!["/bin/true"]
        );
        let env = CommandInfo::shell("x").with_env("B", "2");
        assert_eq!(env.environment.get("B"), Some("2"));
    }
}
