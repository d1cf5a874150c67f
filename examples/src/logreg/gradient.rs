//! The job both frameworks run: logistic regression by batch gradient descent.
//!
//! Each iteration computes, over every point `(y, x)` with `y` in {-1, 1}, the logistic loss
//! `ln(1 + e^(-y w.x))` and its gradient `-y x / (1 + e^(y w.x))` at the current weights `w`,
//! summed per partition ([`Gradient::of`]) and then over partitions in partition order
//! ([`Gradient::add`]); the weights move by `-step_size * gradient / points` ([`step`]).
//!
//! Summing in the same order everywhere makes the Spark-like framework, the Hadoop-like one and
//! [`run_directly`] agree to the last bit: a partition's sum is computed by one thread in point
//! order, and partition sums are added in partition order starting from zero, whether by the
//! driver, by a reducer over map outputs, or here.

use std::collections::BTreeMap;
use std::io;

use crate::wordcount::dataset::Block;

use super::points::Points;

/// The loss and gradient sums over some points at one weight vector.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Gradient {
    /// The gradient of the summed loss, per weight.
    pub sum: Vec<f64>,
    /// The summed loss.
    pub loss: f64,
    /// How many points.
    pub count: u64,
}

/// The map-output key of the loss sum (the gradient's are `g<i>`, the count's `count`).
const LOSS_KEY: &str = "loss";
const COUNT_KEY: &str = "count";

impl Gradient {
    /// Nothing summed yet, for `dims` weights.
    pub fn zero(dims: usize) -> Gradient {
        Gradient {
            sum: vec![0.0; dims],
            loss: 0.0,
            count: 0,
        }
    }

    /// The sums over `points` at `weights` (one thread, point order).
    ///
    /// # Panics
    /// If `weights` and the points' dimensions differ (callers check them first).
    pub fn of(points: &Points, weights: &[f64]) -> Gradient {
        assert_eq!(points.dims(), weights.len(), "dimensions differ");
        let mut total = Gradient::zero(weights.len());
        for (label, features) in points.iter() {
            let y = f64::from(label);
            let dot: f64 = features
                .iter()
                .zip(weights)
                .map(|(x, w)| f64::from(*x) * w)
                .sum();
            let margin = y * dot;
            // Both forms from one exp of a non-positive number: no overflow either way.
            let e = (-margin.abs()).exp();
            let (loss, sigmoid_neg) = if margin > 0.0 {
                (e.ln_1p(), e / (1.0 + e))
            } else {
                (e.ln_1p() - margin, 1.0 / (1.0 + e))
            };
            total.loss += loss;
            let coefficient = -y * sigmoid_neg;
            for (g, x) in total.sum.iter_mut().zip(features) {
                *g += coefficient * f64::from(*x);
            }
        }
        total.count = points.len() as u64;
        total
    }

    /// Adds `other`'s sums to these.
    pub fn add(&mut self, other: &Gradient) {
        for (a, b) in self.sum.iter_mut().zip(&other.sum) {
            *a += b;
        }
        self.loss += other.loss;
        self.count += other.count;
    }

    /// The mean loss (0 for no points).
    pub fn mean_loss(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.loss / self.count as f64
        }
    }

    /// The sums as named values, as a MapReduce map emits them: `g<i>`, `loss`, `count`.
    pub fn to_named(&self) -> Vec<(String, f64)> {
        let mut named: Vec<(String, f64)> = self
            .sum
            .iter()
            .enumerate()
            .map(|(i, g)| (format!("g{i}"), *g))
            .collect();
        named.push((LOSS_KEY.to_string(), self.loss));
        named.push((COUNT_KEY.to_string(), self.count as f64));
        named
    }

    /// The sums back from named values (what the reducers produced), for `dims` weights.
    ///
    /// # Errors
    /// A value is missing, or a name is not one of [`to_named`](Self::to_named)'s.
    pub fn from_named(named: &BTreeMap<String, f64>, dims: usize) -> Result<Gradient, String> {
        let get = |key: &str| {
            named
                .get(key)
                .copied()
                .ok_or_else(|| format!("no '{key}' in the reduce output"))
        };
        let mut gradient = Gradient::zero(dims);
        for (i, g) in gradient.sum.iter_mut().enumerate() {
            *g = get(&format!("g{i}"))?;
        }
        gradient.loss = get(LOSS_KEY)?;
        let count = get(COUNT_KEY)?;
        if count < 0.0 || count.fract() != 0.0 {
            return Err(format!("count {count} is not a whole number"));
        }
        gradient.count = count as u64;
        if named.len() != dims + 2 {
            return Err(format!(
                "{} values in the reduce output, expected {}",
                named.len(),
                dims + 2
            ));
        }
        Ok(gradient)
    }
}

/// The next weights: `weights - step_size * total.sum / total.count`.
pub fn step(weights: &[f64], total: &Gradient, step_size: f64) -> Vec<f64> {
    let n = total.count.max(1) as f64;
    weights
        .iter()
        .zip(&total.sum)
        .map(|(w, g)| w - step_size * g / n)
        .collect()
}

/// The result of a whole run.
#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    /// The mean loss at the start of each iteration.
    pub losses: Vec<f64>,
    /// The weights after the last iteration.
    pub weights: Vec<f64>,
}

/// Runs `iterations` steps over `partitions` (in partition order) from zero weights.
pub fn fit(partitions: &[Points], dims: usize, iterations: usize, step_size: f64) -> Fit {
    let mut weights = vec![0.0; dims];
    let mut losses = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let mut total = Gradient::zero(dims);
        for points in partitions {
            total.add(&Gradient::of(points, &weights));
        }
        losses.push(total.mean_loss());
        weights = step(&weights, &total, step_size);
    }
    Fit { losses, weights }
}

/// The reference: reads every block (in block order) into memory in this process and fits.
///
/// # Errors
/// A block cannot be read or is not a set of `dims`-feature points.
pub fn run_directly(
    blocks: &[Block],
    dims: usize,
    iterations: usize,
    step_size: f64,
) -> io::Result<Fit> {
    let mut partitions = Vec::with_capacity(blocks.len());
    for block in blocks {
        let bytes = std::fs::read(&block.path)?;
        let points = Points::parse(&String::from_utf8_lossy(&bytes), Some(dims)).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("block {}: {e}", block.path.display()),
            )
        })?;
        partitions.push(points);
    }
    Ok(fit(&partitions, dims, iterations, step_size))
}

/// Whether two weight vectors agree within `tolerance`, relative to the larger magnitude (at
/// least 1).
pub fn weights_agree(a: &[f64], b: &[f64], tolerance: f64) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| (x - y).abs() <= tolerance * x.abs().max(y.abs()).max(1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points(text: &str) -> Points {
        Points::parse(text, None).expect("points")
    }

    #[test]
    fn at_zero_weights_the_loss_is_ln2_and_the_gradient_pulls_towards_the_labels() {
        let p = points("1 1 0\n-1 0 1\n");
        let g = Gradient::of(&p, &[0.0, 0.0]);
        assert_eq!(g.count, 2);
        assert!((g.mean_loss() - std::f64::consts::LN_2).abs() < 1e-12);
        // -y x sigmoid(0) summed: -(1,0)/2 + (0,1)/2.
        assert_eq!(g.sum, vec![-0.5, 0.5]);
        let w = step(&[0.0, 0.0], &g, 1.0);
        assert_eq!(w, vec![0.25, -0.25]);
        let after = Gradient::of(&p, &w);
        assert!(after.mean_loss() < g.mean_loss());
    }

    #[test]
    fn huge_margins_neither_overflow_nor_lose_the_loss() {
        let p = points("1 1\n-1 1\n");
        let g = Gradient::of(&p, &[1000.0]);
        // The right point costs ~0, the wrong one ~1000.
        assert!((g.loss - 1000.0).abs() < 1e-9, "{}", g.loss);
        assert!(g.sum.iter().all(|v| v.is_finite()));
        assert!((g.sum[0] - 1.0).abs() < 1e-9);
    }

    #[test]
    fn partition_sums_added_in_order_equal_the_fit_and_descend() {
        let a = points("1 0.5 0.1\n-1 -0.3 0.2\n1 0.9 -0.4\n");
        let b = points("-1 -0.8 0.0\n1 0.2 0.7\n");
        let fit = fit(&[a.clone(), b.clone()], 2, 20, 1.0);
        assert_eq!(fit.losses.len(), 20);
        assert!(
            fit.losses.windows(2).all(|w| w[1] <= w[0]),
            "{:?}",
            fit.losses
        );
        // By hand: the same steps through add().
        let mut w = vec![0.0; 2];
        for _ in 0..20 {
            let mut total = Gradient::zero(2);
            total.add(&Gradient::of(&a, &w));
            total.add(&Gradient::of(&b, &w));
            w = step(&w, &total, 1.0);
        }
        assert_eq!(w, fit.weights);
    }

    #[test]
    fn named_values_round_trip_and_bad_ones_are_refused() {
        let g = Gradient {
            sum: vec![0.1, -2.5e-17],
            loss: 3.25,
            count: 7,
        };
        let named: BTreeMap<String, f64> = g.to_named().into_iter().collect();
        assert_eq!(Gradient::from_named(&named, 2), Ok(g));
        let mut missing = named.clone();
        missing.remove("g1");
        assert!(Gradient::from_named(&missing, 2)
            .unwrap_err()
            .contains("'g1'"));
        let mut extra = named.clone();
        extra.insert("g2".into(), 1.0);
        assert!(Gradient::from_named(&extra, 2).is_err());
        let mut fractional = named;
        fractional.insert("count".into(), 1.5);
        assert!(Gradient::from_named(&fractional, 2).is_err());
    }

    #[test]
    fn agreement_is_relative() {
        assert!(weights_agree(&[1e6, 0.0], &[1e6 + 1e-4, 1e-12], 1e-9));
        assert!(!weights_agree(&[1.0], &[1.001], 1e-9));
        assert!(!weights_agree(&[1.0], &[1.0, 2.0], 1e-9));
    }
}
