//! Chronos's schedules: ISO 8601 repeating intervals `R[n]/<start>/<period>`, e.g.
//! `R/2026-12-03T10:00:00Z/PT1M` (every minute from then on) or `R5/2026-12-03T10:00:00Z/P1D`
//! (five days). Periods are `P[nY][nM][nW][nD][T[nH][nM][nS]]`; years and months are calendar
//! months; the start may carry an offset (`+01:00`) or none (UTC).

use crate::marathon::time::{civil_from_days, days_from_civil};

/// A period (`P1DT2H`): calendar months plus a fixed number of seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Period {
    /// Years × 12 + months.
    pub months: i64,
    /// Weeks, days, hours, minutes and seconds, in seconds.
    pub seconds: f64,
}

/// A parsed schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// How many runs (None: forever).
    pub repetitions: Option<u64>,
    /// The first run, seconds since the epoch (UTC).
    pub start: f64,
    /// Between runs.
    pub period: Period,
}

/// Parses an ISO 8601 duration (`PT1M`, `P1DT12H`, `PT0.5S`).
///
/// # Errors
/// A message naming the bad part.
pub fn parse_period(text: &str) -> Result<Period, String> {
    let body = text
        .strip_prefix('P')
        .ok_or_else(|| format!("period '{text}' must start with P"))?;
    let (date, time) = body.split_once('T').unwrap_or((body, ""));
    let mut period = Period {
        months: 0,
        seconds: 0.0,
    };
    let mut any = false;
    let mut number = String::new();
    for (part, in_time) in [(date, false), (time, true)] {
        for c in part.chars() {
            if c.is_ascii_digit() || c == '.' {
                number.push(c);
                continue;
            }
            let value: f64 = number
                .parse()
                .map_err(|_| format!("period '{text}': a number must come before '{c}'"))?;
            number.clear();
            any = true;
            match (c, in_time) {
                ('Y', false) => period.months += (value as i64) * 12,
                ('M', false) => period.months += value as i64,
                ('W', false) => period.seconds += value * 7.0 * 86_400.0,
                ('D', false) => period.seconds += value * 86_400.0,
                ('H', true) => period.seconds += value * 3600.0,
                ('M', true) => period.seconds += value * 60.0,
                ('S', true) => period.seconds += value,
                _ => return Err(format!("period '{text}': unexpected '{c}'")),
            }
        }
        if !number.is_empty() {
            return Err(format!("period '{text}': '{number}' has no unit"));
        }
    }
    if !any || (period.months == 0 && period.seconds <= 0.0) {
        return Err(format!("period '{text}' must be longer than zero"));
    }
    Ok(period)
}

/// Parses an ISO 8601 date-time (`2026-12-03T10:00:00Z`, `...00.000Z`, `...00+01:00`; no zone
/// means UTC) into seconds since the epoch.
///
/// # Errors
/// A message naming the bad part.
pub fn parse_datetime(text: &str) -> Result<f64, String> {
    let bad = || format!("'{text}' is not an ISO 8601 date-time like 2026-12-03T10:00:00Z");
    let (date, time) = text.split_once('T').ok_or_else(bad)?;
    let mut d = date.split('-');
    let year: i64 = d.next().and_then(|v| v.parse().ok()).ok_or_else(bad)?;
    let month: u32 = d.next().and_then(|v| v.parse().ok()).ok_or_else(bad)?;
    let day: u32 = d.next().and_then(|v| v.parse().ok()).ok_or_else(bad)?;
    if d.next().is_some() || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return Err(bad());
    }
    let (clock, offset) = if let Some(clock) = time.strip_suffix('Z') {
        (clock, 0.0)
    } else if let Some(pos) = time.rfind(['+', '-']) {
        let (clock, zone) = time.split_at(pos);
        let sign = if zone.starts_with('-') { -1.0 } else { 1.0 };
        let zone = &zone[1..];
        let (h, m) = zone
            .split_once(':')
            .unwrap_or((zone.get(..2).unwrap_or(""), zone.get(2..).unwrap_or("0")));
        let h: f64 = h.parse().map_err(|_| bad())?;
        let m: f64 = if m.is_empty() {
            0.0
        } else {
            m.parse().map_err(|_| bad())?
        };
        (clock, sign * (h * 3600.0 + m * 60.0))
    } else {
        (time, 0.0)
    };
    let mut c = clock.split(':');
    let hour: f64 = c.next().and_then(|v| v.parse().ok()).ok_or_else(bad)?;
    let minute: f64 = c.next().and_then(|v| v.parse().ok()).ok_or_else(bad)?;
    let second: f64 = c
        .next()
        .map_or(Some(0.0), |v| v.parse().ok())
        .ok_or_else(bad)?;
    if hour >= 24.0 || minute >= 60.0 || second >= 61.0 {
        return Err(bad());
    }
    let days = days_from_civil(year, month, day) as f64;
    Ok(days * 86_400.0 + hour * 3600.0 + minute * 60.0 + second - offset)
}

/// `at` plus `period` (months by the calendar, the day clamped to the month's end).
pub fn add_period(at: f64, period: Period) -> f64 {
    let mut result = at;
    if period.months != 0 {
        let days = (at / 86_400.0).floor() as i64;
        let within = at - days as f64 * 86_400.0;
        let (year, month, day) = civil_from_days(days);
        let total = year * 12 + i64::from(month) - 1 + period.months;
        let (y, m) = (total.div_euclid(12), (total.rem_euclid(12) + 1) as u32);
        let mut d = day;
        while d > 28 && civil_from_days(days_from_civil(y, m, d)).1 != m {
            d -= 1;
        }
        result = days_from_civil(y, m, d) as f64 * 86_400.0 + within;
    }
    result + period.seconds
}

impl Schedule {
    /// Parses `R[n]/<start>/<period>`.
    ///
    /// # Errors
    /// A message naming the bad part.
    pub fn parse(text: &str) -> Result<Schedule, String> {
        let mut parts = text.split('/');
        let (Some(r), Some(start), Some(period), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(format!("schedule '{text}' must be R[n]/<start>/<period>"));
        };
        let repetitions = match r.strip_prefix('R') {
            Some("") => None,
            Some(n) => Some(
                n.parse::<u64>()
                    .map_err(|_| format!("schedule '{text}': bad repetition count '{n}'"))?,
            ),
            None => return Err(format!("schedule '{text}' must start with R")),
        };
        Ok(Schedule {
            repetitions,
            start: parse_datetime(start)?,
            period: parse_period(period)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods() {
        assert_eq!(parse_period("PT1M").unwrap().seconds, 60.0);
        assert_eq!(parse_period("P1DT2H").unwrap().seconds, 93_600.0);
        assert_eq!(parse_period("PT0.5S").unwrap().seconds, 0.5);
        assert_eq!(parse_period("P1Y2M").unwrap().months, 14);
        assert_eq!(parse_period("P2W").unwrap().seconds, 14.0 * 86_400.0);
        for bad in ["T1M", "P", "PT", "P1H", "PT1D", "PT0S", "P1"] {
            assert!(parse_period(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn datetimes_and_schedules() {
        let t = parse_datetime("2026-12-03T10:00:00Z").unwrap();
        assert_eq!(
            crate::marathon::time::iso8601(t),
            "2026-12-03T10:00:00.000Z"
        );
        assert_eq!(parse_datetime("2026-12-03T11:00:00+01:00").unwrap(), t);
        assert_eq!(parse_datetime("2026-12-03T10:00:00.000Z").unwrap(), t);
        assert!(parse_datetime("2026-13-03T10:00:00Z").is_err());
        let s = Schedule::parse("R5/2026-12-03T10:00:00Z/PT1M").unwrap();
        assert_eq!(s.repetitions, Some(5));
        assert_eq!(s.period.seconds, 60.0);
        assert_eq!(
            Schedule::parse("R/2026-12-03T10:00:00Z/P1D")
                .unwrap()
                .repetitions,
            None
        );
        assert!(Schedule::parse("2026-12-03T10:00:00Z/PT1M").is_err());
        assert!(Schedule::parse("Rx/2026-12-03T10:00:00Z/PT1M").is_err());
        // Months by the calendar: Jan 31 + 1 month is Feb 28.
        let jan31 = parse_datetime("2026-01-31T08:00:00Z").unwrap();
        let months = Period {
            months: 1,
            seconds: 0.0,
        };
        assert_eq!(
            crate::marathon::time::iso8601(add_period(jan31, months)),
            "2026-02-28T08:00:00.000Z"
        );
    }
}
