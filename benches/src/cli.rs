//! One way for every bench binary to read its flags: clap, with Mesos-style `--snake_case` names, a
//! working `--help`, and exit code 1 with a message naming the flag when one is bad.

use clap::error::ErrorKind;

/// Parses the command line into `F`; prints help (exit 0) or the error (exit 1) and exits.
pub fn parse<F: clap::Parser>() -> F {
    match F::try_parse() {
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

/// A positive integer (`--runs 5`, one element of `--agents 1000,10000`).
pub fn positive(value: &str) -> Result<usize, String> {
    match value.trim().parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("'{value}' is not a positive integer")),
    }
}

/// A duration in Mesos's notation (`--session 2secs`, `500ms`).
pub fn duration(value: &str) -> Result<std::time::Duration, String> {
    mesos::duration::parse_duration(value).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::{duration, positive};
    use std::time::Duration;

    #[test]
    fn durations_in_mesos_notation() {
        assert_eq!(duration("2secs"), Ok(Duration::from_secs(2)));
        assert_eq!(duration("500ms"), Ok(Duration::from_millis(500)));
        assert!(duration("soon").unwrap_err().contains("soon"));
    }

    #[test]
    fn positive_integers_only() {
        assert_eq!(positive("5"), Ok(5));
        assert_eq!(positive(" 10000"), Ok(10_000));
        assert!(positive("0").is_err());
        assert!(positive("-3").is_err());
        assert!(positive("ten").unwrap_err().contains("'ten'"));
    }
}
