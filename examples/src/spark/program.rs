//! The driver program, pure: a run of `jobs` logistic-regression jobs over the cached data set,
//! each `iterations` gradient stages from zero weights, with an optional pause between jobs (an
//! interactive user thinking: the executors keep their cache while their cores go back).

use std::time::{Duration, Instant};

use super::protocol::{Op, OpResult};
use crate::logreg::{step, Gradient, IterationLine, JobLine, JobProgress};

/// What the program runs.
#[derive(Debug, Clone)]
pub struct ProgramSettings {
    /// The framework's name (in the job lines).
    pub name: String,
    /// Partitions of the data set.
    pub partitions: usize,
    /// Features per point.
    pub dims: usize,
    /// Iterations per job.
    pub iterations: usize,
    /// The step size.
    pub step_size: f64,
    /// Jobs, one after another.
    pub jobs: usize,
    /// The pause between jobs.
    pub pause: Duration,
}

/// What to do after a stage.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Run this stage next.
    Stage(Op),
    /// The job ended; the next starts at this time (call [`DriverProgram::start_job`] then).
    Pause(Instant),
    /// Every job ended.
    Finished,
}

/// What a stage produced for the log, and what comes next.
#[derive(Debug, Clone, PartialEq)]
pub struct StageReport {
    /// The iteration's line.
    pub iteration: IterationLine,
    /// The job's line, if the stage ended it.
    pub job: Option<JobLine>,
    /// What next.
    pub next: Step,
}

/// The run (see the module docs).
#[derive(Debug)]
pub struct DriverProgram {
    settings: ProgramSettings,
    job_index: usize,
    weights: Vec<f64>,
    progress: JobProgress,
    job_started: Instant,
    stage_started: Instant,
    finished_jobs: Vec<JobLine>,
}

impl DriverProgram {
    /// A run of `settings`, not started.
    pub fn new(settings: ProgramSettings, now: Instant) -> DriverProgram {
        DriverProgram {
            weights: vec![0.0; settings.dims],
            progress: JobProgress::new("spark", 0),
            job_index: 0,
            job_started: now,
            stage_started: now,
            finished_jobs: Vec::new(),
            settings,
        }
    }

    /// Starts the next job at `now`; returns its first stage.
    pub fn start_job(&mut self, now: Instant) -> Op {
        self.job_index = self.finished_jobs.len();
        self.weights = vec![0.0; self.settings.dims];
        self.progress = JobProgress::new("spark", self.job_index);
        self.job_started = now;
        self.stage_started = now;
        self.op()
    }

    fn op(&self) -> Op {
        Op::Gradient {
            weights: self.weights.clone(),
        }
    }

    /// The jobs finished so far.
    pub fn finished_jobs(&self) -> &[JobLine] {
        &self.finished_jobs
    }

    /// Takes a finished stage's results (in partition order) and the partitions it loaded.
    ///
    /// # Errors
    /// A result does not fit the job (another op's, or of other dimensions).
    pub fn on_stage_done(
        &mut self,
        now: Instant,
        results: &[OpResult],
        loads: usize,
    ) -> Result<StageReport, String> {
        let mut total = Gradient::zero(self.settings.dims);
        for result in results {
            let OpResult::Gradient(partial) = result;
            if partial.sum.len() != self.settings.dims {
                return Err(format!(
                    "a partition answered {} sums for {} weights",
                    partial.sum.len(),
                    self.settings.dims
                ));
            }
            total.add(partial);
        }
        let took = now.saturating_duration_since(self.stage_started);
        let iteration = self.progress.iteration(total.mean_loss(), took, loads);
        self.weights = step(&self.weights, &total, self.settings.step_size);
        self.stage_started = now;
        if self.progress.iterations() < self.settings.iterations {
            return Ok(StageReport {
                iteration,
                job: None,
                next: Step::Stage(self.op()),
            });
        }
        let job = self.progress.finish(
            &self.settings.name,
            self.settings.partitions,
            now.saturating_duration_since(self.job_started),
            self.weights.clone(),
        );
        self.finished_jobs.push(job.clone());
        let next = if self.finished_jobs.len() < self.settings.jobs {
            Step::Pause(now + self.settings.pause)
        } else {
            Step::Finished
        };
        Ok(StageReport {
            iteration,
            job: Some(job),
            next,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logreg::{fit, Points};

    #[test]
    fn stages_follow_the_fit_and_jobs_restart_from_zero() {
        let partitions = [
            Points::parse("1 0.5 0.1\n-1 -0.3 0.2\n", None).expect("points"),
            Points::parse("1 0.9 -0.4\n-1 -0.8 0.0\n", None).expect("points"),
        ];
        let settings = ProgramSettings {
            name: "sp".into(),
            partitions: 2,
            dims: 2,
            iterations: 3,
            step_size: 0.5,
            jobs: 2,
            pause: Duration::from_secs(4),
        };
        let t0 = Instant::now();
        let mut program = DriverProgram::new(settings, t0);
        let expected = fit(&partitions, 2, 3, 0.5);
        let mut now = t0;
        for job in 0..2 {
            let mut op = program.start_job(now);
            for i in 0..3 {
                let Op::Gradient { weights } = &op;
                let results: Vec<OpResult> = partitions
                    .iter()
                    .map(|p| OpResult::Gradient(Gradient::of(p, weights)))
                    .collect();
                now += Duration::from_millis(100);
                let report = program
                    .on_stage_done(now, &results, if i == 0 { 2 } else { 0 })
                    .expect("fits");
                assert_eq!(report.iteration.iteration, i);
                assert_eq!(report.iteration.job_index, job);
                assert_eq!(report.iteration.loss, expected.losses[i]);
                assert!((report.iteration.iter_s - 0.1).abs() < 1e-9);
                match report.next {
                    Step::Stage(next) => op = next,
                    Step::Pause(at) => {
                        assert_eq!((job, i, at), (0, 2, now + Duration::from_secs(4)));
                        let line = report.job.expect("job line");
                        assert_eq!(line.weights, expected.weights);
                        assert_eq!((line.iterations, line.loads), (3, 2));
                    }
                    Step::Finished => {
                        assert_eq!((job, i), (1, 2));
                        assert_eq!(report.job.expect("job line").weights, expected.weights);
                    }
                }
            }
        }
        assert_eq!(program.finished_jobs().len(), 2);
    }

    #[test]
    fn a_result_of_other_dimensions_is_an_error() {
        let settings = ProgramSettings {
            name: "sp".into(),
            partitions: 1,
            dims: 2,
            iterations: 1,
            step_size: 1.0,
            jobs: 1,
            pause: Duration::ZERO,
        };
        let mut program = DriverProgram::new(settings, Instant::now());
        program.start_job(Instant::now());
        let wrong = [OpResult::Gradient(Gradient::zero(3))];
        assert!(program
            .on_stage_done(Instant::now(), &wrong, 0)
            .unwrap_err()
            .contains("3 sums for 2 weights"));
    }
}
