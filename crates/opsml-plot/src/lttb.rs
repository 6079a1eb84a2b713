//! Largest-Triangle-Three-Buckets downsampling (Steinarsson, 2013).
//!
//! A metric logged every step can have far more points than a chart has pixels. LTTB keeps the
//! first and last point, splits the rest into `threshold - 2` buckets of (almost) equal size and
//! keeps from each bucket the point that forms the largest triangle with the point kept from the
//! bucket before and the average of the bucket after. Spikes and dips survive; flat stretches
//! thin out.
//!
//! # Non-finite points
//!
//! A point is *usable* when both its step and its value are finite. The rules, in order:
//!
//! - The first and last point are always kept, usable or not (they fix the ends of the range).
//! - A bucket's representative is chosen among its usable points only; a bucket with no usable
//!   point is represented by its first point (the caller draws it as a gap).
//! - The left anchor of a triangle is the last *usable* point kept so far; the right anchor is
//!   the mean of the usable points of the next bucket, or, when that bucket has none (or their
//!   mean overflows), the first usable point after the current bucket.
//! - With only one anchor known, the score is the vertical distance to it; with none, every
//!   usable point scores 0 and the first one is kept.
//! - A score that comes out NaN (only possible when finite inputs overflow, e.g. `f64::MAX`
//!   against `-f64::MAX`) counts as 0, so no comparison ever sees a NaN.
//!
//! Ties keep the earliest point, so the result is deterministic.

/// A point whose step and value are both finite.
type Point = (f64, f64);

/// Indices of the points that LTTB keeps, ascending, always including the first and last.
///
/// - `len <= threshold`: every index.
/// - `threshold < 3` (and `len > threshold`): the first and last index, or `[0]` for a single
///   point.
/// - otherwise exactly `threshold` indices.
///
/// See the module documentation for how NaN and infinite points are treated.
///
/// # Panics
///
/// When `steps` and `values` have different lengths.
pub fn lttb(steps: &[f64], values: &[f64], threshold: usize) -> Vec<usize> {
    assert_eq!(
        steps.len(),
        values.len(),
        "lttb: {} steps but {} values",
        steps.len(),
        values.len()
    );
    let n = values.len();
    if n <= threshold {
        return (0..n).collect();
    }
    if threshold < 3 {
        return if n == 1 { vec![0] } else { vec![0, n - 1] };
    }

    let point = |i: usize| -> Option<Point> {
        let (x, y) = (steps[i], values[i]);
        (x.is_finite() && y.is_finite()).then_some((x, y))
    };

    // n > threshold >= 3, so there are more interior points than buckets: none is empty.
    let interior = n - 2;
    let buckets = threshold - 2;
    let bound = |b: usize| 1 + (b as u128 * interior as u128 / buckets as u128) as usize;

    let mut kept = Vec::with_capacity(threshold);
    kept.push(0);
    let mut anchor = point(0);
    // Cursor for "first usable index at or after p"; queries only move forward.
    let mut next_usable = NextUsable::default();

    for b in 0..buckets {
        let (lo, hi) = (bound(b), bound(b + 1));
        let (next_lo, next_hi) = if b + 1 < buckets {
            (hi, bound(b + 2))
        } else {
            (n - 1, n)
        };
        let right = mean(&point, next_lo, next_hi)
            .or_else(|| next_usable.find(&point, hi, n).and_then(point));

        let mut best: Option<(usize, f64)> = None;
        for i in lo..hi {
            let Some(p) = point(i) else { continue };
            let s = score(anchor, right, p);
            if best.is_none_or(|(_, top)| s > top) {
                best = Some((i, s));
            }
        }
        let chosen = best.map_or(lo, |(i, _)| i);
        if let Some(p) = point(chosen) {
            anchor = Some(p);
        }
        kept.push(chosen);
    }
    kept.push(n - 1);
    kept
}

/// Mean of the usable points in `lo..hi`, or `None` when there are none or the sum overflows.
fn mean(point: &impl Fn(usize) -> Option<Point>, lo: usize, hi: usize) -> Option<Point> {
    let (mut sx, mut sy, mut count) = (0.0, 0.0, 0usize);
    for (x, y) in (lo..hi).filter_map(point) {
        sx += x;
        sy += y;
        count += 1;
    }
    if count == 0 {
        return None;
    }
    let (mx, my) = (sx / count as f64, sy / count as f64);
    (mx.is_finite() && my.is_finite()).then_some((mx, my))
}

/// How strongly `p` deserves to represent its bucket; never NaN.
fn score(left: Option<Point>, right: Option<Point>, p: Point) -> f64 {
    let s = match (left, right) {
        (Some(a), Some(c)) => ((a.0 - c.0) * (p.1 - a.1) - (a.0 - p.0) * (c.1 - a.1)).abs() * 0.5,
        (Some(q), None) | (None, Some(q)) => (p.1 - q.1).abs(),
        (None, None) => 0.0,
    };
    if s.is_nan() {
        0.0
    } else {
        s
    }
}

/// Forward-only search for the next usable index, amortised O(n) over one `lttb` call.
#[derive(Default)]
struct NextUsable {
    /// Every index below `from` that is not `found` is known to be unusable.
    from: usize,
    found: Option<usize>,
}

impl NextUsable {
    fn find(
        &mut self,
        point: &impl Fn(usize) -> Option<Point>,
        start: usize,
        n: usize,
    ) -> Option<usize> {
        if let Some(i) = self.found {
            if i >= start {
                return Some(i);
            }
        }
        let mut i = start.max(self.from);
        while i < n && point(i).is_none() {
            i += 1;
        }
        self.from = i;
        self.found = (i < n).then_some(i);
        self.found
    }
}

#[cfg(test)]
mod tests {
    use super::lttb;
    use proptest::prelude::*;

    /// Deterministic noise in [-1, 1) from a 64-bit LCG.
    fn noise(n: usize, seed: u64) -> Vec<f64> {
        let mut state = seed;
        (0..n)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                (state >> 11) as f64 / (1u64 << 52) as f64 - 1.0
            })
            .collect()
    }

    fn steps(n: usize) -> Vec<f64> {
        (0..n).map(|i| i as f64).collect()
    }

    fn check_invariants(n: usize, threshold: usize, kept: &[usize]) {
        let expected_len = if n <= threshold {
            n
        } else if threshold < 3 {
            n.min(2)
        } else {
            threshold
        };
        assert_eq!(kept.len(), expected_len, "n={n} threshold={threshold}");
        if n > 0 {
            assert_eq!(kept[0], 0);
            assert_eq!(*kept.last().unwrap(), n - 1);
        }
        assert!(
            kept.windows(2).all(|w| w[0] < w[1]),
            "not ascending: {kept:?}"
        );
    }

    #[test]
    fn small_inputs_are_returned_whole() {
        assert!(lttb(&[], &[], 10).is_empty());
        assert!(lttb(&[], &[], 0).is_empty());
        assert_eq!(lttb(&[1.0], &[2.0], 0), vec![0]);
        assert_eq!(lttb(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0], 3), vec![0, 1, 2]);
        assert_eq!(lttb(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0], 100), vec![0, 1, 2]);
    }

    #[test]
    fn threshold_below_three_keeps_endpoints() {
        let n = 50;
        let (x, y) = (steps(n), noise(n, 1));
        assert_eq!(lttb(&x, &y, 0), vec![0, n - 1]);
        assert_eq!(lttb(&x, &y, 1), vec![0, n - 1]);
        assert_eq!(lttb(&x, &y, 2), vec![0, n - 1]);
    }

    #[test]
    fn keeps_endpoints_and_exact_length() {
        let n = 10_000;
        let (x, y) = (steps(n), noise(n, 7));
        for threshold in [3, 4, 100, 999, 9_999] {
            let kept = lttb(&x, &y, threshold);
            check_invariants(n, threshold, &kept);
        }
    }

    #[test]
    fn global_extremes_survive_in_noisy_series() {
        let n = 20_000;
        let x = steps(n);
        let mut y = noise(n, 42);
        y[7_321] = 50.0;
        y[13_007] = -50.0;
        let kept = lttb(&x, &y, 200);
        assert!(kept.contains(&7_321), "spike lost");
        assert!(kept.contains(&13_007), "dip lost");
    }

    #[test]
    fn single_spike_in_flat_series_survives() {
        let n = 1_000;
        let x = steps(n);
        let mut y = vec![1.0; n];
        y[555] = 9.0;
        assert!(lttb(&x, &y, 10).contains(&555));
    }

    #[test]
    fn non_finite_points_are_not_representatives() {
        let n = 1_000;
        let x = steps(n);
        let mut y = noise(n, 3);
        // Huge spikes that are not finite must lose to ordinary finite points.
        for i in (1..n - 1).step_by(3) {
            y[i] = if i % 2 == 0 { f64::NAN } else { f64::INFINITY };
        }
        let kept = lttb(&x, &y, 50);
        check_invariants(n, 50, &kept);
        for &i in &kept[1..kept.len() - 1] {
            assert!(y[i].is_finite(), "index {i} has value {}", y[i]);
        }
    }

    #[test]
    fn all_non_finite_bucket_uses_its_first_point() {
        // 2 interior buckets of 4 points each: indices 1..5 and 5..9.
        let x = steps(10);
        let mut y = vec![0.0; 10];
        for v in &mut y[1..5] {
            *v = f64::NAN;
        }
        y[7] = 5.0;
        assert_eq!(lttb(&x, &y, 4), vec![0, 1, 7, 9]);
    }

    #[test]
    fn non_finite_endpoints_and_steps() {
        let n = 100;
        let mut x = steps(n);
        let mut y = noise(n, 9);
        y[0] = f64::NAN;
        y[n - 1] = f64::NEG_INFINITY;
        x[10] = f64::NAN;
        y[60] = 30.0;
        let kept = lttb(&x, &y, 10);
        check_invariants(n, 10, &kept);
        assert!(!kept.contains(&10));
        assert!(kept.contains(&60));
    }

    #[test]
    fn everything_non_finite_still_has_the_right_shape() {
        let n = 64;
        let kept = lttb(&steps(n), &vec![f64::NAN; n], 8);
        check_invariants(n, 8, &kept);
    }

    #[test]
    fn overflowing_areas_do_not_produce_nan() {
        let n = 200;
        let x: Vec<f64> = (0..n)
            .map(|i| if i % 2 == 0 { f64::MAX } else { -f64::MAX })
            .collect();
        let y: Vec<f64> = (0..n)
            .map(|i| if i % 3 == 0 { f64::MAX } else { -f64::MAX })
            .collect();
        let kept = lttb(&x, &y, 20);
        check_invariants(n, 20, &kept);
    }

    #[test]
    #[should_panic(expected = "3 steps but 2 values")]
    fn mismatched_lengths_panic() {
        let _ = lttb(&[0.0, 1.0, 2.0], &[0.0, 1.0], 2);
    }

    fn value() -> impl Strategy<Value = f64> {
        prop_oneof![
            8 => -1e6..1e6f64,
            1 => Just(f64::NAN),
            1 => prop_oneof![Just(f64::INFINITY), Just(f64::NEG_INFINITY)],
        ]
    }

    proptest! {
        #[test]
        fn invariants_hold(
            values in proptest::collection::vec(value(), 0..600),
            threshold in 0usize..700,
        ) {
            let n = values.len();
            let x = steps(n);
            let kept = lttb(&x, &values, threshold);
            check_invariants(n, threshold, &kept);
            // A bucket represented by a non-finite point had no finite point to offer.
            if n > threshold && threshold >= 3 {
                let buckets = threshold - 2;
                let bound = |b: usize| 1 + b * (n - 2) / buckets;
                for (b, &i) in kept[1..kept.len() - 1].iter().enumerate() {
                    let (lo, hi) = (bound(b), bound(b + 1));
                    prop_assert!((lo..hi).contains(&i));
                    if !values[i].is_finite() {
                        prop_assert!(values[lo..hi].iter().all(|v| !v.is_finite()));
                    }
                }
            }
        }

        #[test]
        fn unsorted_steps_keep_invariants(
            points in proptest::collection::vec((value(), value()), 0..300),
            threshold in 0usize..320,
        ) {
            let (x, y): (Vec<f64>, Vec<f64>) = points.into_iter().unzip();
            check_invariants(x.len(), threshold, &lttb(&x, &y, threshold));
        }
    }
}
