//! Mesos's duration text form, as its flags take it: `10secs`, `500ms`, `2mins`, `1.5hrs`.

use std::fmt;
use std::time::Duration;

/// Why a duration string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration '{input}': expected a number and a unit (ns, us, ms, secs, mins, hrs, days, weeks), e.g. 10secs or 500ms")]
pub struct DurationParseError {
    /// The rejected text.
    pub input: String,
}

const UNITS: &[(&str, f64)] = &[
    ("ns", 1e-9),
    ("us", 1e-6),
    ("ms", 1e-3),
    ("secs", 1.0),
    ("mins", 60.0),
    ("hrs", 3600.0),
    ("days", 86400.0),
    ("weeks", 604800.0),
];

/// Parses Mesos's duration form: a non-negative number followed by one of `ns`, `us`, `ms`, `secs`,
/// `mins`, `hrs`, `days`, `weeks`.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(mesos::duration::parse_duration("500ms").unwrap(), Duration::from_millis(500));
/// assert_eq!(mesos::duration::parse_duration("1.5mins").unwrap(), Duration::from_secs(90));
/// assert!(mesos::duration::parse_duration("10").is_err());
/// ```
///
/// # Errors
/// [`DurationParseError`] naming the input when the number or unit is missing or invalid.
pub fn parse_duration(text: &str) -> Result<Duration, DurationParseError> {
    let err = || DurationParseError {
        input: text.to_string(),
    };
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| c.is_ascii_alphabetic())
        .ok_or_else(err)?;
    let (number, unit) = trimmed.split_at(split);
    let value: f64 = number.trim().parse().map_err(|_| err())?;
    if !value.is_finite() || value < 0.0 {
        return Err(err());
    }
    let scale = UNITS
        .iter()
        .find(|(name, _)| *name == unit)
        .map(|(_, scale)| *scale)
        .ok_or_else(err)?;
    Duration::try_from_secs_f64(value * scale).map_err(|_| err())
}

/// Displays a duration in Mesos's form with the largest unit that keeps it readable (`15secs`, `500ms`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MesosDuration(pub Duration);

impl fmt::Display for MesosDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.as_secs_f64();
        for (name, scale) in UNITS.iter().rev() {
            if secs >= *scale || *name == "ns" {
                let value = secs / scale;
                return write!(f, "{}{}", trim_float(value), name);
            }
        }
        write!(f, "0ns")
    }
}

fn trim_float(value: f64) -> String {
    let text = format!("{value:.6}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    text.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_unit() {
        assert_eq!(parse_duration("3ns").unwrap(), Duration::from_nanos(3));
        assert_eq!(parse_duration("7us").unwrap(), Duration::from_micros(7));
        assert_eq!(parse_duration("10secs").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_duration("2mins").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("1hrs").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse_duration("1days").unwrap(), Duration::from_secs(86400));
        assert_eq!(
            parse_duration("1weeks").unwrap(),
            Duration::from_secs(604800)
        );
        assert_eq!(
            parse_duration("0.5secs").unwrap(),
            Duration::from_millis(500)
        );
    }

    #[test]
    fn rejects_bad_input_naming_it() {
        for bad in [
            "",
            "10",
            "secs",
            "-1secs",
            "10seconds",
            "1..2secs",
            "NaNsecs",
        ] {
            let err = parse_duration(bad).unwrap_err();
            assert_eq!(err.input, bad);
            assert!(err.to_string().contains("e.g. 10secs"));
        }
    }

    #[test]
    fn displays_in_mesos_form() {
        assert_eq!(MesosDuration(Duration::from_secs(15)).to_string(), "15secs");
        assert_eq!(
            MesosDuration(Duration::from_millis(500)).to_string(),
            "500ms"
        );
        assert_eq!(
            MesosDuration(Duration::from_secs(600)).to_string(),
            "10mins"
        );
        for d in ["15secs", "500ms", "10mins", "1.5hrs"] {
            let parsed = parse_duration(d).unwrap();
            assert_eq!(MesosDuration(parsed).to_string(), d);
        }
    }
}
