//! Rendering cost of a large chart: 20 metrics × 3 runs × 2,000 steps, as PNG and SVG.
//!
//! `cargo bench -p opsml-plot` — the target is well under a second per chart in release.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark stops at the first thing that is not as it should be"
)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use opsml_plot::{lttb, render_png, render_svg, suggested_size, Panel, Series};

const PANELS: usize = 20;
const SERIES: usize = 3;
const POINTS: usize = 2_000;

fn panels() -> Vec<Panel> {
    (0..PANELS)
        .map(|i| {
            let series = (0..SERIES)
                .map(|j| {
                    let phase = (i * SERIES + j) as f64;
                    let steps: Vec<f64> = (0..POINTS).map(|s| s as f64).collect();
                    let values = steps
                        .iter()
                        .map(|s| 1.0 / (1.0 + s * 0.01) + 0.05 * (s * 0.37 + phase).sin())
                        .collect();
                    Series::new(format!("run-{j}"), steps, values)
                })
                .collect();
            Panel::new(format!("metric-{i}"), "step", series)
        })
        .collect()
}

fn bench_render(c: &mut Criterion) {
    let panels = panels();
    let (width, height) = suggested_size(panels.len());
    let mut group = c.benchmark_group("render_20x3x2000");
    group.sample_size(10);
    group.bench_function("png", |b| {
        b.iter(|| render_png(black_box(&panels), width, height).unwrap());
    });
    group.bench_function("svg", |b| {
        b.iter(|| render_svg(black_box(&panels), width, height).unwrap());
    });
    group.finish();
}

fn bench_lttb(c: &mut Criterion) {
    let steps: Vec<f64> = (0..100_000).map(f64::from).collect();
    let values: Vec<f64> = steps.iter().map(|s| (s * 0.01).sin()).collect();
    c.bench_function("lttb_100k_to_1k", |b| {
        b.iter(|| lttb(black_box(&steps), black_box(&values), 1_000));
    });
}

criterion_group!(benches, bench_render, bench_lttb);
criterion_main!(benches);
