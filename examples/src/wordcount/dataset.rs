//! The input: text blocks stored on nodes (the "NameNode's block map"), a deterministic generator
//! for them, the tokenizer every counter shares, and the reference single-process count.
//!
//! Layout: `<input>/<node>/block-<k>.txt` -- block `k` is stored on the agent whose `node`
//! attribute is `<node>`. Counts are written as `word count` lines sorted by word.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// One input block and where it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The block's number `k` (from `block-<k>.txt`); map task `k` reads it.
    pub index: usize,
    /// The node (agent `node` attribute) holding the block.
    pub node: String,
    /// The block file.
    pub path: PathBuf,
}

/// Word counts, sorted by word.
pub type Counts = BTreeMap<String, u64>;

/// Named real numbers (a gradient map's output), sorted by name.
pub type Reals = BTreeMap<String, f64>;

/// The words of `text`: maximal runs of alphanumeric characters, lower-cased. Every counter (map
/// tasks and [`count_directly`]) uses this, so their results agree.
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// Adds the words of `text` to `counts`.
pub fn count_text(text: &str, counts: &mut Counts) {
    // Hashing is cheaper than the sorted map's string comparisons per word: count here, merge
    // once per distinct word.
    let mut local: HashMap<&str, u64> = HashMap::new();
    let mut lowered: HashMap<String, u64> = HashMap::new();
    for token in text.split(|c: char| !c.is_alphanumeric()) {
        if token.is_empty() {
            continue;
        }
        // Lower-case ASCII is its own lower case; anything else goes through `to_lowercase`.
        if token
            .bytes()
            .all(|b| b.is_ascii() && !b.is_ascii_uppercase())
        {
            *local.entry(token).or_insert(0) += 1;
        } else {
            *lowered.entry(token.to_lowercase()).or_insert(0) += 1;
        }
    }
    for (word, n) in local {
        match counts.get_mut(word) {
            Some(count) => *count += n,
            None => {
                counts.insert(word.to_string(), n);
            }
        }
    }
    for (word, n) in lowered {
        *counts.entry(word).or_insert(0) += n;
    }
}

/// The reducer (partition) a word belongs to: FNV-1a of its bytes, so every process agrees.
pub fn partition_of(word: &str, reducers: usize) -> usize {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in word.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    (hash % reducers.max(1) as u64) as usize
}

/// Every block under `input`, ordered by block number.
///
/// # Errors
/// Reading the directories failed, or a `block-*.txt` name has no number.
pub fn scan_blocks(input: &Path) -> io::Result<Vec<Block>> {
    let mut blocks = Vec::new();
    for node_entry in fs::read_dir(input)? {
        let node_entry = node_entry?;
        if !node_entry.file_type()?.is_dir() {
            continue;
        }
        let node = node_entry.file_name().to_string_lossy().into_owned();
        for entry in fs::read_dir(node_entry.path())? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(number) = name
                .strip_prefix("block-")
                .and_then(|rest| rest.strip_suffix(".txt"))
            else {
                continue;
            };
            let index = number.parse().map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("block file {} has no block number", entry.path().display()),
                )
            })?;
            blocks.push(Block {
                index,
                node: node.clone(),
                path: entry.path(),
            });
        }
    }
    blocks.sort_by_key(|b| b.index);
    Ok(blocks)
}

/// The single-process reference: counts every block under `input` in this process.
///
/// # Errors
/// A directory or block could not be read.
pub fn count_directly(input: &Path) -> io::Result<Counts> {
    let mut counts = Counts::new();
    for block in scan_blocks(input)? {
        let bytes = fs::read(&block.path)?;
        count_text(&String::from_utf8_lossy(&bytes), &mut counts);
    }
    Ok(counts)
}

/// Writes `values` as sorted `name value` lines (a real is written in its shortest form that
/// parses back to the same `f64`).
///
/// # Errors
/// The file could not be written.
pub fn write_named<V: std::fmt::Display>(
    path: &Path,
    values: &BTreeMap<String, V>,
) -> io::Result<()> {
    let mut out = BufWriter::new(fs::File::create(path)?);
    for (name, value) in values {
        writeln!(out, "{name} {value}")?;
    }
    out.flush()
}

/// Parses `name value` lines (what [`write_named`] writes) and adds them to `values`, in line
/// order.
///
/// # Errors
/// A line is not `name value`.
pub fn merge_named_lines<V>(text: &str, values: &mut BTreeMap<String, V>) -> io::Result<()>
where
    V: std::str::FromStr + std::ops::AddAssign + Default,
{
    for line in text.lines().filter(|l| !l.is_empty()) {
        let parsed = line
            .rsplit_once(' ')
            .and_then(|(name, v)| Some((name, v.parse::<V>().ok()?)));
        let Some((name, value)) = parsed else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("bad 'name value' line '{line}'"),
            ));
        };
        *values.entry(name.to_string()).or_default() += value;
    }
    Ok(())
}

/// Writes `counts` as sorted `word count` lines.
///
/// # Errors
/// The file could not be written.
pub fn write_counts(path: &Path, counts: &Counts) -> io::Result<()> {
    write_named(path, counts)
}

/// Parses `word count` lines (what [`write_counts`] writes) and adds them to `counts`.
///
/// # Errors
/// A line is not `word count`.
pub fn merge_count_lines(text: &str, counts: &mut Counts) -> io::Result<()> {
    merge_named_lines(text, counts)
}

/// Total words and distinct words in `counts`.
pub fn totals(counts: &Counts) -> (u64, usize) {
    (counts.values().sum(), counts.len())
}

/// splitmix64: a tiny seeded generator whose output never changes between releases (the data set
/// for a seed must stay the same). Shared by every example's data generator.
pub(crate) struct SplitMix(pub(crate) u64);

impl SplitMix {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Uniform in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

const SYLLABLES: &[&str] = &[
    "ka", "lo", "mi", "ne", "ru", "sa", "te", "vo", "bi", "do", "fe", "gu", "ha", "jo", "pe",
    "qui", "ri", "so", "tu", "za", "an", "el", "in", "or", "um",
];
const VOCABULARY: usize = 5000;

/// Writes `blocks` deterministic text blocks of about `block_bytes` each under `dir`, spread
/// round-robin over `nodes` (block `k` on `nodes[k % nodes.len()]`). Word frequencies are
/// Zipf-like over a fixed vocabulary; sentences start capitalised and end with punctuation, so
/// the tokenizer's lower-casing and splitting are exercised.
///
/// # Errors
/// `nodes` is empty, or a directory or file could not be written.
pub fn generate_dataset(
    dir: &Path,
    nodes: &[String],
    blocks: usize,
    block_bytes: usize,
    seed: u64,
) -> io::Result<()> {
    if nodes.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "a data set needs at least one node",
        ));
    }
    let mut rng = SplitMix(seed);
    let vocabulary: Vec<String> = (0..VOCABULARY)
        .map(|_| {
            let syllables = 1 + rng.below(4);
            (0..syllables)
                .map(|_| SYLLABLES[rng.below(SYLLABLES.len())])
                .collect()
        })
        .collect();
    for node in nodes {
        fs::create_dir_all(dir.join(node))?;
    }
    for k in 0..blocks {
        let node = &nodes[k % nodes.len()];
        let path = dir.join(node).join(format!("block-{k}.txt"));
        let mut out = BufWriter::new(fs::File::create(path)?);
        let mut written = 0;
        while written < block_bytes {
            let line = sentence(&mut rng, &vocabulary);
            out.write_all(line.as_bytes())?;
            written += line.len();
        }
        out.flush()?;
    }
    Ok(())
}

/// One line: 6-15 words, the first capitalised, a comma now and then, a full stop at the end.
fn sentence(rng: &mut SplitMix, vocabulary: &[String]) -> String {
    let n = 6 + rng.below(10);
    let mut line = String::new();
    for i in 0..n {
        // Log-uniform rank: frequency falls off roughly as 1/rank (Zipf with s = 1).
        let rank = ((vocabulary.len() as f64).powf(rng.unit()) as usize).saturating_sub(1);
        let word = &vocabulary[rank.min(vocabulary.len() - 1)];
        if i > 0 {
            line.push(' ');
        }
        if i == 0 {
            let mut chars = word.chars();
            if let Some(first) = chars.next() {
                line.extend(first.to_uppercase());
                line.push_str(chars.as_str());
            }
        } else {
            line.push_str(word);
        }
        if i + 1 < n && rng.below(8) == 0 {
            line.push(',');
        }
    }
    line.push_str(".\n");
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "wordcount-dataset-{name}-{}-{}",
            std::process::id(),
            mesos::Uuid::random()
        ));
        fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    #[test]
    fn words_split_on_punctuation_and_lower_case() {
        let text = "Hello, world.  hello\tWORLD's x2 Ünïcode ünïcode";
        let got: Vec<String> = words(text).collect();
        assert_eq!(
            got,
            [
                "hello",
                "world",
                "hello",
                "world",
                "s",
                "x2",
                "ünïcode",
                "ünïcode"
            ]
        );
        let mut counts = Counts::new();
        count_text(text, &mut counts);
        let mut expected = Counts::new();
        for word in got {
            *expected.entry(word).or_insert(0) += 1;
        }
        assert_eq!(counts, expected);
    }

    #[test]
    fn partition_is_stable_and_in_range() {
        assert_eq!(partition_of("kalo", 3), partition_of("kalo", 3));
        assert!((0..1000).all(|i| partition_of(&format!("w{i}"), 4) < 4));
        // Known value of FNV-1a ("a" = 0xaf63dc4c8601ec8c), so every build partitions alike.
        assert_eq!(partition_of("a", 1 << 16), 0xec8c);
    }

    #[test]
    fn generated_blocks_are_deterministic_round_robin_and_counted() {
        let nodes: Vec<String> = ["agent-0", "agent-1"].map(String::from).to_vec();
        let a = temp_dir("a");
        let b = temp_dir("b");
        generate_dataset(&a, &nodes, 5, 2000, 7).expect("generate");
        generate_dataset(&b, &nodes, 5, 2000, 7).expect("generate");
        let blocks = scan_blocks(&a).expect("scan");
        let placed: Vec<(usize, &str)> = blocks.iter().map(|b| (b.index, &*b.node)).collect();
        assert_eq!(
            placed,
            [
                (0, "agent-0"),
                (1, "agent-1"),
                (2, "agent-0"),
                (3, "agent-1"),
                (4, "agent-0")
            ]
        );
        for block in &blocks {
            let size = fs::metadata(&block.path).expect("meta").len();
            assert!((2000..2200).contains(&size), "{size}");
        }
        let counts = count_directly(&a).expect("count");
        assert_eq!(counts, count_directly(&b).expect("count"));
        let (total, distinct) = totals(&counts);
        assert!(total > 5 * 2000 / 12, "{total}");
        assert!(distinct > 100 && (distinct as u64) < total, "{distinct}");
        let _ = fs::remove_dir_all(a);
        let _ = fs::remove_dir_all(b);
    }

    #[test]
    fn count_lines_round_trip() {
        let dir = temp_dir("lines");
        let mut counts = Counts::new();
        count_text("b a b c", &mut counts);
        let path = dir.join("out.txt");
        write_counts(&path, &counts).expect("write");
        let text = fs::read_to_string(&path).expect("read");
        assert_eq!(text, "a 1\nb 2\nc 1\n");
        let mut merged = Counts::new();
        merge_count_lines(&text, &mut merged).expect("parse");
        merge_count_lines("a 2\n", &mut merged).expect("parse");
        assert_eq!(merged["a"], 3);
        assert!(merge_count_lines("a lot\n", &mut merged).is_err());

        let reals: Reals = [("g0".to_string(), 0.1 + 0.2), ("loss".to_string(), -1e-300)].into();
        let path = dir.join("reals.txt");
        write_named(&path, &reals).expect("write");
        let mut back = Reals::new();
        merge_named_lines(&fs::read_to_string(&path).expect("read"), &mut back).expect("parse");
        assert_eq!(back, reals);
        merge_named_lines("g0 1\n", &mut back).expect("parse");
        assert_eq!(back["g0"], 0.1 + 0.2 + 1.0);
        assert!(merge_named_lines("g0 one\n", &mut back).is_err());
        let _ = fs::remove_dir_all(dir);
    }
}
