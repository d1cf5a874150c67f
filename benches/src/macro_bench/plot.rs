//! The utilization picture, as the paper's figure draws it: CPU (top) and memory (bottom)
//! allocated over time, one line per mode (shared vs static).
//!
//! Drawn with `plotters`' SVG backend, which writes its text as SVG `<text>` elements, so no font
//! library is needed on the machine.

use std::path::Path;

use plotters::prelude::*;

use super::sampler::{Resource, Sample};
use super::MacroBenchError;

/// `(seconds, percent)` points of `resource` utilization.
pub fn percent_series(samples: &[Sample], resource: Resource) -> Vec<(f64, f64)> {
    samples
        .iter()
        .map(|s| {
            let fraction = match resource {
                Resource::Cpus => s.cpu_fraction(),
                Resource::Mem => s.mem_fraction(),
            };
            (s.at_s, 100.0 * fraction)
        })
        .collect()
}

const COLOURS: [RGBColor; 4] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
];

/// Draws `runs` (a label and its samples each) into an SVG at `path`, creating its directory.
///
/// # Errors
/// [`MacroBenchError::Plot`] if the file cannot be written.
pub fn draw_utilization(path: &Path, runs: &[(&str, &[Sample])]) -> Result<(), MacroBenchError> {
    let plot_error = |message: String| MacroBenchError::Plot {
        path: path.to_path_buf(),
        message,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| plot_error(e.to_string()))?;
    }
    let x_max = runs
        .iter()
        .flat_map(|(_, samples)| samples.iter().map(|s| s.at_s))
        .fold(1.0_f64, f64::max);
    let root = SVGBackend::new(path, (960, 640)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| plot_error(e.to_string()))?;
    let panels = root.split_evenly((2, 1));
    for (panel, (title, resource)) in panels.iter().zip([
        ("CPU allocated (% of cluster)", Resource::Cpus),
        ("Memory allocated (% of cluster)", Resource::Mem),
    ]) {
        let mut chart = ChartBuilder::on(panel)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(48)
            .build_cartesian_2d(0.0..x_max, 0.0..100.0)
            .map_err(|e| plot_error(e.to_string()))?;
        chart
            .configure_mesh()
            .x_desc("time (s)")
            .y_desc("%")
            .draw()
            .map_err(|e| plot_error(e.to_string()))?;
        for (i, (label, samples)) in runs.iter().enumerate() {
            let colour = COLOURS[i % COLOURS.len()];
            chart
                .draw_series(LineSeries::new(
                    percent_series(samples, resource),
                    colour.stroke_width(2),
                ))
                .map_err(|e| plot_error(e.to_string()))?
                .label(*label)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .border_style(BLACK)
            .background_style(WHITE.mix(0.8))
            .draw()
            .map_err(|e| plot_error(e.to_string()))?;
    }
    root.present().map_err(|e| plot_error(e.to_string()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_svg_has_both_panels_and_both_modes() {
        let dir = std::env::temp_dir().join(format!("macro-bench-plot-{}", std::process::id()));
        let path = dir.join("u.svg");
        let shared = [
            Sample {
                at_s: 0.0,
                cpus_used: 2.0,
                cpus_total: 4.0,
                mem_used: 1.0,
                mem_total: 4.0,
            },
            Sample {
                at_s: 1.0,
                cpus_used: 4.0,
                cpus_total: 4.0,
                mem_used: 2.0,
                mem_total: 4.0,
            },
        ];
        let static_ = [Sample {
            at_s: 0.5,
            ..shared[0]
        }];
        draw_utilization(&path, &[("shared", &shared), ("static", &static_)]).expect("drawn");
        let svg = std::fs::read_to_string(&path).expect("written");
        let _ = std::fs::remove_dir_all(&dir);
        assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(80)]);
        assert!(svg.contains("CPU allocated") && svg.contains("Memory allocated"));
        assert!(svg.contains("shared") && svg.contains("static"));
        // Each mode: a line in each panel plus its two legend marks.
        assert_eq!(svg.matches("stroke=\"#1F77B4\"").count(), 4, "shared");
        assert_eq!(svg.matches("stroke=\"#D62728\"").count(), 4, "static");
        assert_eq!(percent_series(&shared, Resource::Mem)[1], (1.0, 50.0));
    }
}
