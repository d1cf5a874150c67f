//! `allocator-bench` reports the allocator's bookkeeping per agent for every cell, the later ones
//! too (an RSS delta read 0 B there, reusing memory earlier cells freed): the real binary, two tiny
//! cells.

use std::process::Command;
use std::time::Duration;

use process::testing::BoundedCommand;

#[test]
fn every_cell_reports_a_positive_bookkeeping_figure() {
    let out = Command::new(env!("CARGO_BIN_EXE_allocator-bench"))
        .args(["--agents", "2000,1000", "--frameworks", "10"])
        .args(["--runs", "1", "--decline_cycles", "1"])
        .output_within("allocator-bench", Duration::from_secs(120));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let figures: Vec<u64> = stderr
        .lines()
        .filter_map(|line| line.strip_suffix(" B/agent of allocator bookkeeping"))
        .map(|line| {
            let number = line.rsplit(' ').next().unwrap_or_default();
            number
                .parse()
                .unwrap_or_else(|_| panic!("no figure in {line:?}"))
        })
        .collect();
    assert_eq!(figures.len(), 2, "one figure per cell: {stderr}");
    for figure in &figures {
        // Two resource copies, a sorter entry and filters per agent cost hundreds of bytes; a
        // figure below 100 B or above 1 MB is a broken measurement.
        assert!((100..1_000_000).contains(figure), "{figures:?}: {stderr}");
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
}
