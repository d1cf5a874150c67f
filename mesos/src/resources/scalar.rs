//! Fixed-point scalar quantities (cpus, mem, disk, gpus, ...).
//!
//! Mesos keeps three decimal digits of every scalar resource and does its
//! arithmetic in fixed point, so that adding and subtracting fractional cpus
//! thousands of times never drifts. We store thousandths in an `i64`.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Sub, SubAssign};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A scalar resource quantity in thousandths (three decimal digits, as Mesos).
///
/// Arithmetic is exact: `0.1 + 0.2 == 0.3`. Addition and subtraction saturate
/// at the `i64` limits instead of panicking, so hostile input cannot crash a node.
///
/// ```
/// use mesos::resources::Scalar;
/// assert_eq!(Scalar::from_f64(0.1) + Scalar::from_f64(0.2), Scalar::from_f64(0.3));
/// assert_eq!(Scalar::from_f64(1.5).to_string(), "1.5");
/// assert_eq!(Scalar::from_f64(0.0004), Scalar::ZERO); // rounded to 3 decimals
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Scalar(i64);

impl Scalar {
    /// Zero.
    pub const ZERO: Scalar = Scalar(0);

    /// Rounds `v` to three decimals, as Mesos does. NaN becomes zero; values
    /// beyond the representable range saturate.
    pub fn from_f64(v: f64) -> Scalar {
        // `as` saturates on overflow and maps NaN to 0.
        Scalar((v * 1000.0).round() as i64)
    }

    /// The value as a float (exact up to 2^53 thousandths).
    pub fn as_f64(self) -> f64 {
        self.0 as f64 / 1000.0
    }

    /// Builds a scalar from thousandths.
    pub const fn from_millis(m: i64) -> Scalar {
        Scalar(m)
    }

    /// The value in thousandths.
    pub const fn millis(self) -> i64 {
        self.0
    }

    /// Whether the value is exactly zero.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// Whether the value is strictly positive (a usable quantity).
    pub const fn is_positive(self) -> bool {
        self.0 > 0
    }

    /// `self - other`, but never below zero.
    pub fn saturating_sub_to_zero(self, other: Scalar) -> Scalar {
        Scalar(self.0.saturating_sub(other.0).max(0))
    }
}

impl Add for Scalar {
    type Output = Scalar;
    fn add(self, rhs: Scalar) -> Scalar {
        Scalar(self.0.saturating_add(rhs.0))
    }
}

impl Sub for Scalar {
    type Output = Scalar;
    fn sub(self, rhs: Scalar) -> Scalar {
        Scalar(self.0.saturating_sub(rhs.0))
    }
}

impl AddAssign for Scalar {
    fn add_assign(&mut self, rhs: Scalar) {
        *self = *self + rhs;
    }
}

impl SubAssign for Scalar {
    fn sub_assign(&mut self, rhs: Scalar) {
        *self = *self - rhs;
    }
}

impl Sum for Scalar {
    fn sum<I: Iterator<Item = Scalar>>(iter: I) -> Scalar {
        iter.fold(Scalar::ZERO, Add::add)
    }
}

impl From<f64> for Scalar {
    fn from(v: f64) -> Scalar {
        Scalar::from_f64(v)
    }
}

impl fmt::Display for Scalar {
    /// Shortest exact decimal form: `4`, `0.3`, `1.125`, `-2.5`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let (whole, frac) = (abs / 1000, abs % 1000);
        if frac == 0 {
            write!(f, "{sign}{whole}")
        } else if frac % 100 == 0 {
            write!(f, "{sign}{whole}.{}", frac / 100)
        } else if frac % 10 == 0 {
            write!(f, "{sign}{whole}.{:02}", frac / 10)
        } else {
            write!(f, "{sign}{whole}.{frac:03}")
        }
    }
}

impl Serialize for Scalar {
    /// A JSON number in human-readable formats (as Mesos), thousandths otherwise.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            if self.0 % 1000 == 0 {
                // Whole numbers print as `4`, like Mesos's JSON, not `4.0`.
                s.serialize_i64(self.0 / 1000)
            } else {
                s.serialize_f64(self.as_f64())
            }
        } else {
            s.serialize_i64(self.0)
        }
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Scalar, D::Error> {
        if d.is_human_readable() {
            let v = crate::encoding::lenient_f64(d)?;
            if !v.is_finite() {
                return Err(serde::de::Error::custom("scalar is not a finite number"));
            }
            Ok(Scalar::from_f64(v))
        } else {
            i64::deserialize(d).map(Scalar)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_float_drift() {
        let tenth = Scalar::from_f64(0.1);
        let mut sum = Scalar::ZERO;
        for _ in 0..10_000 {
            sum += tenth;
        }
        assert_eq!(sum, Scalar::from_f64(1000.0));
        assert_eq!(
            Scalar::from_f64(0.1) + Scalar::from_f64(0.2),
            Scalar::from_f64(0.3)
        );
    }

    #[test]
    fn rounds_to_three_decimals() {
        assert_eq!(Scalar::from_f64(0.0015).millis(), 2);
        assert_eq!(Scalar::from_f64(0.0014).millis(), 1);
        assert_eq!(Scalar::from_f64(f64::NAN), Scalar::ZERO);
        assert_eq!(Scalar::from_f64(f64::INFINITY).millis(), i64::MAX);
    }

    #[test]
    fn display_is_shortest_exact() {
        let cases = [
            (4000, "4"),
            (300, "0.3"),
            (1125, "1.125"),
            (50, "0.05"),
            (-2500, "-2.5"),
            (0, "0"),
        ];
        for (millis, text) in cases {
            assert_eq!(Scalar::from_millis(millis).to_string(), text);
        }
    }

    #[test]
    fn arithmetic_saturates() {
        let max = Scalar::from_millis(i64::MAX);
        assert_eq!(max + Scalar::from_millis(1), max);
        assert_eq!(
            Scalar::from_millis(1).saturating_sub_to_zero(Scalar::from_millis(5)),
            Scalar::ZERO
        );
    }

    #[test]
    fn json_is_a_number() {
        assert_eq!(
            serde_json::to_string(&Scalar::from_f64(0.3)).unwrap(),
            "0.3"
        );
        assert_eq!(serde_json::to_string(&Scalar::from_f64(4.0)).unwrap(), "4");
        let back: Scalar = serde_json::from_str("1024").unwrap();
        assert_eq!(back, Scalar::from_f64(1024.0));
    }
}
