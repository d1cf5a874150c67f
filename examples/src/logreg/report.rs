//! The lines every logistic-regression run prints (Spark-like, Hadoop-like and direct alike), so
//! experiments and tests read them the same way:
//!
//! ```text
//! iteration=0 framework=spark job_index=0 loss=0.693147 iter_s=1.204 loads=8
//! job=logreg framework=spark name=spark job_index=0 partitions=8 iterations=10 first_iter_s=1.204 later_iter_s=0.031 total_s=1.483 loads=8 final_loss=0.412345 weights=0.5,-1.25
//! ```
//!
//! `loads` counts partitions built from their block files (read and parsed): the Spark-like
//! framework loads each once and then works from memory, the Hadoop-like one re-reads every block
//! in every iteration. `later_iter_s` is the median of the iterations after the first. Weights
//! are printed in Rust's shortest round-trip form, so they parse back to the same bits.

use std::collections::BTreeMap;
use std::time::Duration;

/// `key=value` pairs of a line (words without `=` ignored).
pub fn pairs(line: &str) -> BTreeMap<&str, &str> {
    line.split_whitespace()
        .filter_map(|w| w.split_once('='))
        .collect()
}

fn field<T: std::str::FromStr>(p: &BTreeMap<&str, &str>, key: &str) -> Option<T> {
    p.get(key)?.parse().ok()
}

/// One finished iteration.
#[derive(Debug, Clone, PartialEq)]
pub struct IterationLine {
    /// `spark`, `hadoop` or `direct`.
    pub framework: String,
    /// Which job of the run.
    pub job_index: usize,
    /// Which iteration (0-based).
    pub iteration: usize,
    /// The mean loss at the iteration's starting weights.
    pub loss: f64,
    /// Seconds the iteration took.
    pub iter_s: f64,
    /// Partitions loaded from block files during it.
    pub loads: usize,
}

impl std::fmt::Display for IterationLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "iteration={} framework={} job_index={} loss={:.6} iter_s={:.3} loads={}",
            self.iteration, self.framework, self.job_index, self.loss, self.iter_s, self.loads
        )
    }
}

impl IterationLine {
    /// Parses an `iteration=` line; `None` for any other line.
    pub fn parse(line: &str) -> Option<IterationLine> {
        let p = pairs(line);
        Some(IterationLine {
            iteration: field(&p, "iteration")?,
            framework: field(&p, "framework")?,
            job_index: field(&p, "job_index")?,
            loss: field(&p, "loss")?,
            iter_s: field(&p, "iter_s")?,
            loads: field(&p, "loads")?,
        })
    }
}

/// One finished job.
#[derive(Debug, Clone, PartialEq)]
pub struct JobLine {
    /// `spark`, `hadoop` or `direct`.
    pub framework: String,
    /// The framework's name.
    pub name: String,
    /// Which job of the run.
    pub job_index: usize,
    /// Partitions (blocks) of the data set.
    pub partitions: usize,
    /// Iterations run.
    pub iterations: usize,
    /// Seconds of the first iteration.
    pub first_iter_s: f64,
    /// Median seconds of the later ones (0 with a single iteration).
    pub later_iter_s: f64,
    /// Seconds from the job's start to its final weights.
    pub total_s: f64,
    /// Partitions loaded from block files over the job.
    pub loads: usize,
    /// The mean loss at the start of the last iteration.
    pub final_loss: f64,
    /// The final weights.
    pub weights: Vec<f64>,
}

impl std::fmt::Display for JobLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let weights: Vec<String> = self.weights.iter().map(f64::to_string).collect();
        write!(
            f,
            "job=logreg framework={} name={} job_index={} partitions={} iterations={} \
             first_iter_s={:.3} later_iter_s={:.3} total_s={:.3} loads={} final_loss={:.6} weights={}",
            self.framework,
            self.name,
            self.job_index,
            self.partitions,
            self.iterations,
            self.first_iter_s,
            self.later_iter_s,
            self.total_s,
            self.loads,
            self.final_loss,
            weights.join(",")
        )
    }
}

impl JobLine {
    /// Parses a `job=logreg` line; `None` for any other line or one missing a key.
    pub fn parse(line: &str) -> Option<JobLine> {
        let p = pairs(line);
        (p.get("job") == Some(&"logreg")).then_some(())?;
        let weights = p
            .get("weights")?
            .split(',')
            .map(str::parse)
            .collect::<Result<Vec<f64>, _>>()
            .ok()?;
        Some(JobLine {
            framework: field(&p, "framework")?,
            name: field(&p, "name")?,
            job_index: field(&p, "job_index")?,
            partitions: field(&p, "partitions")?,
            iterations: field(&p, "iterations")?,
            first_iter_s: field(&p, "first_iter_s")?,
            later_iter_s: field(&p, "later_iter_s")?,
            total_s: field(&p, "total_s")?,
            loads: field(&p, "loads")?,
            final_loss: field(&p, "final_loss")?,
            weights,
        })
    }
}

/// The median of `values` (0 when empty).
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// A job's iterations as they finish: prints each line and builds the job line at the end.
#[derive(Debug, Clone)]
pub struct JobProgress {
    framework: String,
    job_index: usize,
    losses: Vec<f64>,
    times: Vec<f64>,
    loads: usize,
}

impl JobProgress {
    /// Job `job_index` of `framework`, no iteration done yet.
    pub fn new(framework: &str, job_index: usize) -> JobProgress {
        JobProgress {
            framework: framework.to_string(),
            job_index,
            losses: Vec::new(),
            times: Vec::new(),
            loads: 0,
        }
    }

    /// Records an iteration and returns its line.
    pub fn iteration(&mut self, loss: f64, took: Duration, loads: usize) -> IterationLine {
        let line = IterationLine {
            framework: self.framework.clone(),
            job_index: self.job_index,
            iteration: self.times.len(),
            loss,
            iter_s: took.as_secs_f64(),
            loads,
        };
        self.losses.push(loss);
        self.times.push(took.as_secs_f64());
        self.loads += loads;
        line
    }

    /// Iterations recorded.
    pub fn iterations(&self) -> usize {
        self.times.len()
    }

    /// The job line, once every iteration is recorded.
    pub fn finish(
        &self,
        name: &str,
        partitions: usize,
        total: Duration,
        weights: Vec<f64>,
    ) -> JobLine {
        JobLine {
            framework: self.framework.clone(),
            name: name.to_string(),
            job_index: self.job_index,
            partitions,
            iterations: self.times.len(),
            first_iter_s: self.times.first().copied().unwrap_or(0.0),
            later_iter_s: median(self.times.get(1..).unwrap_or_default()),
            total_s: total.as_secs_f64(),
            loads: self.loads,
            final_loss: self.losses.last().copied().unwrap_or(0.0),
            weights,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip_with_exact_weights() {
        let mut progress = JobProgress::new("spark", 1);
        let first = progress.iteration(0.693125, Duration::from_millis(1500), 4);
        assert_eq!(
            first.to_string(),
            "iteration=0 framework=spark job_index=1 loss=0.693125 iter_s=1.500 loads=4"
        );
        assert_eq!(IterationLine::parse(&first.to_string()), Some(first));
        progress.iteration(0.5, Duration::from_millis(30), 0);
        progress.iteration(0.4, Duration::from_millis(10), 0);
        progress.iteration(0.3, Duration::from_millis(20), 1);
        let weights = vec![0.1 + 0.2, -1.0 / 3.0, 1e-300];
        let job = progress.finish("sp", 4, Duration::from_millis(1600), weights.clone());
        assert_eq!((job.iterations, job.loads), (4, 5));
        assert_eq!((job.first_iter_s, job.later_iter_s), (1.5, 0.02));
        assert_eq!(job.final_loss, 0.3);
        let text = job.to_string();
        assert!(text.starts_with(
            "job=logreg framework=spark name=sp job_index=1 partitions=4 iterations=4 \
             first_iter_s=1.500 later_iter_s=0.020 total_s=1.600 loads=5 final_loss=0.300000 weights="
        ));
        let back = JobLine::parse(&text).expect("parses");
        assert_eq!(back.weights, weights);
        assert!(JobLine::parse("job=logreg framework=spark").is_none());
        assert!(IterationLine::parse("job=logreg").is_none());
    }

    #[test]
    fn the_median_of_even_and_odd_counts() {
        assert_eq!(median(&[]), 0.0);
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}
