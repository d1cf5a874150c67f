//! Flag parsing shared by the binaries: Mesos's conventions (`--flag=value` / `--flag value`, env
//! `MESOS_<FLAG>`), bad flags exit 1 with a message naming the flag, `--help` exits 0.

use clap::error::ErrorKind;
use clap::Parser;

/// Parses the process's arguments as `T`, or exits: 0 after printing `--help`/`--version`, 1 with
/// clap's message (which names the bad flag and the accepted form) for anything else.
pub fn parse_or_exit<T: Parser>() -> T {
    parse_from_or_exit(std::env::args_os())
}

/// As [`parse_or_exit`], from the given arguments (the first is the program name).
pub fn parse_from_or_exit<T: Parser, I, A>(args: I) -> T
where
    I: IntoIterator<Item = A>,
    A: Into<std::ffi::OsString> + Clone,
{
    match T::try_parse_from(args) {
        Ok(flags) => flags,
        Err(error) => {
            let code = match error.kind() {
                ErrorKind::DisplayHelp
                | ErrorKind::DisplayVersion
                | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => 0,
                _ => 1,
            };
            let _ = error.print();
            std::process::exit(code);
        }
    }
}

/// Parses Mesos's duration form (`10secs`, `500ms`, `2mins`) for clap.
///
/// # Errors
/// The accepted form, for clap to print next to the flag name.
pub fn duration(text: &str) -> Result<std::time::Duration, String> {
    mesos::duration::parse_duration(text)
        .map_err(|e| format!("{e} (expected a duration like 500ms, 10secs, 2mins)"))
}

/// Parses a resources string (`cpus:0.1;mem:32`) for clap.
///
/// # Errors
/// What is wrong and the accepted form.
pub fn resources(text: &str) -> Result<mesos::Resources, String> {
    text.parse::<mesos::Resources>()
        .map_err(|e| format!("{e} (expected resources like 'cpus:0.1;mem:32')"))
}

/// Installs a `tracing` subscriber reading `RUST_LOG` (default: warnings), writing to stderr.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
