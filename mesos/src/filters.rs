//! `Filters`: how long a framework refuses resources it declined.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Mesos's default `refuse_seconds`.
pub const DEFAULT_REFUSE_SECONDS: f64 = 5.0;

/// The longest filter Mesos applies: 365 days.
pub const MAX_REFUSE: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// Sent with a decline or with the unused part of an accepted offer: the
/// allocator will not re-offer those resources on that agent to this
/// framework for `refuse_seconds`.
///
/// ```
/// use std::time::Duration;
/// use mesos::Filters;
/// assert_eq!(Filters::default().refuse_duration(), Duration::from_secs(5));
/// assert_eq!(Filters { refuse_seconds: -1.0 }.refuse_duration(), Duration::from_secs(5));
/// assert_eq!(Filters::refuse(Duration::from_millis(1500)).refuse_seconds, 1.5);
/// ```
#[derive(Clone, Copy, PartialEq, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct Filters {
    /// Seconds to refuse the resources (default 5; see
    /// [`refuse_duration`](Filters::refuse_duration) for the clamping).
    #[serde(deserialize_with = "crate::encoding::lenient_f64")]
    pub refuse_seconds: f64,
}

impl Default for Filters {
    fn default() -> Filters {
        Filters {
            refuse_seconds: DEFAULT_REFUSE_SECONDS,
        }
    }
}

impl Filters {
    /// Filters refusing for `d`.
    pub fn refuse(d: Duration) -> Filters {
        Filters {
            refuse_seconds: d.as_secs_f64(),
        }
    }

    /// The filter duration as Mesos's allocator applies it: a negative (or
    /// NaN) value falls back to the 5 s default, anything above 365 days is
    /// cut to 365 days. Zero means "no filter".
    pub fn refuse_duration(&self) -> Duration {
        let secs = self.refuse_seconds;
        if secs.is_nan() || secs < 0.0 {
            Duration::from_secs_f64(DEFAULT_REFUSE_SECONDS)
        } else if secs >= MAX_REFUSE.as_secs_f64() {
            MAX_REFUSE
        } else {
            Duration::from_secs_f64(secs)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamps_like_mesos() {
        let d = |s: f64| Filters { refuse_seconds: s }.refuse_duration();
        assert_eq!(d(0.0), Duration::ZERO);
        assert_eq!(d(-0.5), Duration::from_secs(5));
        assert_eq!(d(f64::NAN), Duration::from_secs(5));
        assert_eq!(d(1e12), MAX_REFUSE);
        assert_eq!(d(f64::INFINITY), MAX_REFUSE);
        assert_eq!(d(0.25), Duration::from_millis(250));
    }

    #[test]
    fn json_defaults() {
        assert_eq!(
            serde_json::from_str::<Filters>("{}").unwrap(),
            Filters::default()
        );
        assert_eq!(
            serde_json::to_string(&Filters::default()).unwrap(),
            r#"{"refuse_seconds":5.0}"#
        );
    }
}
