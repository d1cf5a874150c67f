//! The logistic-regression data set: labelled points stored as text blocks on nodes, in the word
//! count's layout (`<input>/<node>/block-<k>.txt`, block `k` stored on the agent whose `node`
//! attribute is `<node>`), a deterministic generator for them, and their parsed in-memory form.
//!
//! One point per line: its label (`1` or `-1`) then its features, space-separated, e.g.
//! `-1 0.1250 -0.9000 0.3333`. Features are written with four decimals and parsed as `f32`, so
//! the in-memory form is half the size of `f64` and every reader (the Spark-like executors, the
//! Hadoop-like maps and the direct computation) gets bit-identical values.

use std::fmt::Write as _;
use std::fs;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::Path;

use crate::wordcount::dataset::SplitMix;

/// Why a block is not a set of points.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct PointsError {
    /// The 1-based line number.
    pub line: usize,
    /// What is wrong with it.
    pub message: String,
}

/// Parsed points, row-major: point `i`'s features are `features[i * dims..(i + 1) * dims]`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Points {
    dims: usize,
    labels: Vec<f32>,
    features: Vec<f32>,
}

impl Points {
    /// Parses a block's text. `dims` is the expected number of features per point (every line
    /// must have it); `None` takes it from the first line.
    ///
    /// # Errors
    /// [`PointsError`] naming the first bad line: a label other than `1`/`-1`, a feature that is
    /// not a number, or the wrong number of features.
    pub fn parse(text: &str, dims: Option<usize>) -> Result<Points, PointsError> {
        let mut points = Points {
            dims: dims.unwrap_or(0),
            ..Points::default()
        };
        // One point per line: sizing the vectors up front saves copying a big block's points
        // while they grow.
        let lines = text.bytes().filter(|&b| b == b'\n').count() + 1;
        points.labels.reserve(lines);
        points.features.reserve(lines * dims.unwrap_or(1));
        let mut known = dims.is_some();
        for (n, line) in text.lines().enumerate() {
            let bad = |message: String| PointsError {
                line: n + 1,
                message,
            };
            let mut fields = line.split_ascii_whitespace();
            let Some(label) = fields.next() else {
                continue;
            };
            let label = match label {
                "1" | "+1" => 1.0,
                "-1" => -1.0,
                other => return Err(bad(format!("label '{other}' is not 1 or -1"))),
            };
            let before = points.features.len();
            for field in fields {
                let value: f32 = field
                    .parse()
                    .map_err(|_| bad(format!("feature '{field}' is not a number")))?;
                points.features.push(value);
            }
            let found = points.features.len() - before;
            if !known {
                if found == 0 {
                    return Err(bad("a point needs at least one feature".to_string()));
                }
                points.dims = found;
                known = true;
            }
            if found != points.dims {
                return Err(bad(format!(
                    "{found} features, expected {} like the data set's first point",
                    points.dims
                )));
            }
            points.labels.push(label);
        }
        Ok(points)
    }

    /// Features per point.
    pub fn dims(&self) -> usize {
        self.dims
    }

    /// How many points.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Every point as `(label, features)`.
    pub fn iter(&self) -> impl Iterator<Item = (f32, &[f32])> {
        self.labels
            .iter()
            .copied()
            .zip(self.features.chunks_exact(self.dims.max(1)))
    }

    /// The bytes the points take in memory.
    pub fn memory_bytes(&self) -> usize {
        (self.labels.len() + self.features.len()) * std::mem::size_of::<f32>()
    }
}

/// The number of features per point of the block at `path` (from its first line).
///
/// # Errors
/// The file cannot be read, or its first line is not a point.
pub fn dims_of(path: &Path) -> io::Result<usize> {
    let mut first = String::new();
    BufReader::new(fs::File::open(path)?).read_line(&mut first)?;
    Points::parse(&first, None)
        .map(|p| p.dims())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))
        .and_then(|dims| match dims {
            0 => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{} holds no point", path.display()),
            )),
            dims => Ok(dims),
        })
}

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PointsSpec {
    /// How many blocks.
    pub blocks: usize,
    /// About how many bytes each.
    pub block_bytes: usize,
    /// Features per point.
    pub dims: usize,
    /// Same seed, same data.
    pub seed: u64,
}

/// Writes a deterministic data set into `dir`: block `k` on `nodes[k % nodes.len()]`. The labels
/// come from a hidden weight vector (drawn from the seed) plus noise, so a good model exists but
/// the data is not separable and the loss settles above zero.
///
/// # Errors
/// `nodes` is empty or `dims` is 0, or a directory or file could not be written.
pub fn generate_points(dir: &Path, nodes: &[String], spec: PointsSpec) -> io::Result<()> {
    if nodes.is_empty() || spec.dims == 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "a data set needs at least one node and one feature",
        ));
    }
    let mut rng = SplitMix(spec.seed);
    let hidden: Vec<f64> = (0..spec.dims).map(|_| 2.0 * rng.unit() - 1.0).collect();
    for node in nodes {
        fs::create_dir_all(dir.join(node))?;
    }
    let mut line = String::new();
    let mut ticks = vec![0i32; spec.dims];
    for k in 0..spec.blocks {
        let path = dir
            .join(&nodes[k % nodes.len()])
            .join(format!("block-{k}.txt"));
        let mut out = BufWriter::new(fs::File::create(path)?);
        let mut written = 0;
        while written < spec.block_bytes {
            // Features are whole ten-thousandths in [-1, 1], written exactly.
            let mut margin = 0.0;
            for (tick, w) in ticks.iter_mut().zip(&hidden) {
                *tick = rng.below(20_001) as i32 - 10_000;
                margin += w * f64::from(*tick) / 10_000.0;
            }
            let noise = rng.unit() - 0.5;
            line.clear();
            line.push_str(if margin + noise >= 0.0 { "1" } else { "-1" });
            for &tick in &ticks {
                let sign = if tick < 0 { "-" } else { "" };
                let abs = tick.unsigned_abs();
                let _ = write!(line, " {sign}{}.{:04}", abs / 10_000, abs % 10_000);
            }
            line.push('\n');
            out.write_all(line.as_bytes())?;
            written += line.len();
        }
        out.flush()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wordcount::dataset::scan_blocks;

    #[test]
    fn lines_parse_into_rows_and_bad_lines_are_named() {
        let points = Points::parse("1 0.5 -0.25\n\n-1 1.0000 0\n", None).expect("parses");
        assert_eq!((points.len(), points.dims()), (2, 2));
        let rows: Vec<(f32, Vec<f32>)> = points.iter().map(|(y, x)| (y, x.to_vec())).collect();
        assert_eq!(rows, [(1.0, vec![0.5, -0.25]), (-1.0, vec![1.0, 0.0])]);
        assert_eq!(points.memory_bytes(), 6 * 4);

        let error = Points::parse("1 0.5\n1 0.5 0.5\n", None).unwrap_err();
        assert_eq!(error.line, 2);
        assert!(error.message.contains("2 features, expected 1"), "{error}");
        let error = Points::parse("1 0.5\n0 0.5\n", None).unwrap_err();
        assert!(error.to_string().contains("line 2: label '0'"), "{error}");
        let error = Points::parse("-1 x\n", None).unwrap_err();
        assert!(error.message.contains("'x' is not a number"), "{error}");
        assert!(Points::parse("1\n", None).is_err());
        assert!(Points::parse("1 0.5\n", Some(3)).is_err());
        assert!(Points::parse("", Some(3)).expect("empty").is_empty());
    }

    #[test]
    fn generated_blocks_are_deterministic_sized_and_parse() {
        let base = std::env::temp_dir().join(format!(
            "logreg-points-{}-{}",
            std::process::id(),
            mesos::Uuid::random()
        ));
        let nodes: Vec<String> = ["n0", "n1"].map(String::from).to_vec();
        let spec = PointsSpec {
            blocks: 3,
            block_bytes: 4000,
            dims: 5,
            seed: 9,
        };
        generate_points(&base.join("a"), &nodes, spec).expect("generate");
        generate_points(&base.join("b"), &nodes, spec).expect("generate");
        let blocks = scan_blocks(&base.join("a")).expect("scan");
        let placed: Vec<(usize, &str)> = blocks.iter().map(|b| (b.index, &*b.node)).collect();
        assert_eq!(placed, [(0, "n0"), (1, "n1"), (2, "n0")]);
        let mut labels = Vec::new();
        for block in &blocks {
            let text = fs::read_to_string(&block.path).expect("read");
            let twin = block.path.to_string_lossy().replace("/a/", "/b/");
            assert_eq!(text, fs::read_to_string(twin).expect("read twin"));
            assert!((4000..4100).contains(&text.len()), "{}", text.len());
            let points = Points::parse(&text, Some(5)).expect("parses");
            assert!(points.len() > 50);
            labels.extend(points.iter().map(|(y, _)| y));
            assert!(points
                .iter()
                .all(|(_, x)| x.iter().all(|v| (-1.0..=1.0).contains(v))));
        }
        assert_eq!(dims_of(&blocks[0].path).expect("dims"), 5);
        // Both classes occur.
        assert!(labels.contains(&1.0) && labels.contains(&-1.0));
        let _ = fs::remove_dir_all(base);
    }
}
