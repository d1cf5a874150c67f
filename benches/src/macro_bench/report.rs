//! The frameworks' `key=value` job lines (the issue-7 contract) and the experiments' own lines.
//!
//! A framework may print anything; the lines that matter start with `job=<kind>` and carry
//! space-separated `key=value` pairs. Parsing is strict about the keys an experiment needs (a
//! missing or malformed one means the framework broke its contract) and ignores the rest.

use std::collections::BTreeMap;

/// The `key=value` pairs of one line; words without `=` are ignored.
pub fn parse_pairs(line: &str) -> BTreeMap<&str, &str> {
    line.split_whitespace()
        .filter_map(|word| word.split_once('='))
        .collect()
}

/// One finished word-count job: `job=wordcount name=.. job_index=.. maps=.. reduces=..
/// local_maps=.. local_pct=.. job_s=.. words=.. distinct=..`.
#[derive(Debug, Clone, PartialEq)]
pub struct WordcountJob {
    /// The framework's name.
    pub name: String,
    /// Which of its jobs (0-based).
    pub job_index: usize,
    /// Map tasks run.
    pub maps: usize,
    /// Map tasks that ran where their block is.
    pub local_maps: usize,
    /// Seconds from the job's start to its counts being written.
    pub job_s: f64,
    /// Words counted.
    pub words: u64,
}

/// One finished MPI job: `job=mpi name=.. job_index=.. ranks=.. attempts=.. job_s=.. result_ok=..`.
#[derive(Debug, Clone, PartialEq)]
pub struct MpiJob {
    /// The framework's name.
    pub name: String,
    /// Which of its jobs (0-based).
    pub job_index: usize,
    /// Ranks in the gang.
    pub ranks: usize,
    /// Launch attempts (1 when no rank failed).
    pub attempts: usize,
    /// Seconds from the job's start to its result.
    pub job_s: f64,
    /// Whether the ranks' result matched the serial answer.
    pub result_ok: bool,
}

/// A direct (no cluster) word count: `job=wordcount-direct job_s=.. words=.. distinct=..`.
#[derive(Debug, Clone, PartialEq)]
pub struct DirectRun {
    /// Seconds the count took.
    pub job_s: f64,
    /// Words counted.
    pub words: u64,
}

fn field<T: std::str::FromStr>(pairs: &BTreeMap<&str, &str>, key: &str) -> Option<T> {
    pairs.get(key)?.parse().ok()
}

impl WordcountJob {
    /// Parses a `job=wordcount` line; `None` for any other line or one missing a key.
    pub fn parse(line: &str) -> Option<WordcountJob> {
        let p = parse_pairs(line);
        (p.get("job") == Some(&"wordcount")).then_some(())?;
        Some(WordcountJob {
            name: field(&p, "name")?,
            job_index: field(&p, "job_index")?,
            maps: field(&p, "maps")?,
            local_maps: field(&p, "local_maps")?,
            job_s: field(&p, "job_s")?,
            words: field(&p, "words")?,
        })
    }
}

impl MpiJob {
    /// Parses a `job=mpi` line; `None` for any other line or one missing a key.
    pub fn parse(line: &str) -> Option<MpiJob> {
        let p = parse_pairs(line);
        (p.get("job") == Some(&"mpi")).then_some(())?;
        Some(MpiJob {
            name: field(&p, "name")?,
            job_index: field(&p, "job_index")?,
            ranks: field(&p, "ranks")?,
            attempts: field(&p, "attempts")?,
            job_s: field(&p, "job_s")?,
            result_ok: field(&p, "result_ok")?,
        })
    }
}

impl DirectRun {
    /// Parses a `job=wordcount-direct` line; `None` for any other line or one missing a key.
    pub fn parse(line: &str) -> Option<DirectRun> {
        let p = parse_pairs(line);
        (p.get("job") == Some(&"wordcount-direct")).then_some(())?;
        Some(DirectRun {
            job_s: field(&p, "job_s")?,
            words: field(&p, "words")?,
        })
    }
}

/// Every line of `lines` that `parse` accepts, in order.
pub fn collect<T>(lines: &[String], parse: impl Fn(&str) -> Option<T>) -> Vec<T> {
    lines.iter().filter_map(|l| parse(l)).collect()
}

/// The mean of `values` (0 when empty, so a line can still be printed).
pub fn mean(values: impl IntoIterator<Item = f64>) -> f64 {
    let (sum, n) = values
        .into_iter()
        .fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    if n == 0 {
        0.0
    } else {
        sum / n as f64
    }
}

/// `part` as a percentage of `whole` (0 when `whole` is 0).
pub fn percent(part: f64, whole: f64) -> f64 {
    if whole > 0.0 {
        100.0 * part / whole
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wordcount_line_after_other_output_parses() {
        let line = "job=wordcount name=wc-1 job_index=2 maps=12 reduces=2 local_maps=9 \
                    local_pct=75.0 job_s=3.250 words=1000 distinct=40";
        let job = WordcountJob::parse(line).expect("parses");
        assert_eq!(job.name, "wc-1");
        assert_eq!(job.job_index, 2);
        assert_eq!((job.maps, job.local_maps), (12, 9));
        assert_eq!(job.job_s, 3.25);
        assert_eq!(job.words, 1000);
        assert!(WordcountJob::parse("Registered as f-1 with master m").is_none());
    }

    #[test]
    fn a_line_missing_a_key_is_rejected() {
        assert!(WordcountJob::parse("job=wordcount name=a job_index=0 maps=1").is_none());
        assert!(MpiJob::parse("job=mpi name=a job_index=0 ranks=4 attempts=1 job_s=x").is_none());
    }
}
