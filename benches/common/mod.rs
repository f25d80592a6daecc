//! Timing shared by the benchmarks: medians over batches, so one noisy batch (the
//! machine is shared with builds) does not move a figure.

use std::time::Instant;

pub const BATCHES: usize = 15;

/// Median ns per call of `f` over [`BATCHES`] batches of `iterations` calls each.
pub fn median_ns(mut f: impl FnMut(), iterations: u32) -> f64 {
    for _ in 0..iterations / 10 {
        f();
    }
    let mut batches: Vec<f64> = (0..BATCHES)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..iterations {
                f();
            }
            start.elapsed().as_nanos() as f64 / f64::from(iterations)
        })
        .collect();
    batches.sort_by(f64::total_cmp);
    batches[batches.len() / 2]
}
