//! Tick labels: as short as possible, with just enough digits to tell neighbouring ticks apart.
//!
//! plotters' default label for an `f64` tick prints steps as `500.0` and can print long
//! rounding tails. Here the digits come from the tick spacing instead: an axis from 0 to 2,000
//! reads `0, 500, 1000`, one from 0.1 to 0.3 reads `0.1, 0.15, 0.2`. Magnitudes of a million
//! and more, or below 0.001, switch to scientific notation (`2.5e6`, `1e-4`).

use std::ops::Range;

/// How to label the ticks of one axis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct TickFormat {
    /// Decimal exponent of the smallest tick spacing plotters may pick for this axis.
    step_exponent: i32,
    scientific: bool,
}

impl TickFormat {
    /// The format for an axis over `range` with at most `ticks` labels.
    pub(crate) fn for_axis(range: &Range<f64>, ticks: usize) -> Self {
        let span = range.end - range.start;
        let step = span / ticks.max(2) as f64;
        let magnitude = range.start.abs().max(range.end.abs());
        let step_exponent = if step > 0.0 && step.is_finite() {
            step.log10().floor() as i32
        } else {
            0
        };
        Self {
            step_exponent,
            scientific: magnitude >= 1e6 || (magnitude > 0.0 && magnitude < 1e-3),
        }
    }

    /// The label for the tick at `value`.
    pub(crate) fn label(self, value: f64) -> String {
        if value == 0.0 || !value.is_finite() {
            return if value == 0.0 {
                "0".to_owned()
            } else {
                value.to_string()
            };
        }
        if self.scientific {
            let exponent = value.abs().log10().floor() as i32;
            let decimals = (exponent - self.step_exponent).clamp(0, 9) as usize;
            let text = format!("{value:.decimals$e}");
            match text.split_once('e') {
                Some((mantissa, exp)) => format!("{}e{exp}", trim_zeros(mantissa)),
                None => text,
            }
        } else {
            let decimals = (-self.step_exponent).clamp(0, 9) as usize;
            trim_zeros(&format!("{value:.decimals$}")).to_owned()
        }
    }
}

/// `"1.500"` → `"1.5"`, `"2.000"` → `"2"`, `"-0.0"` → `"0"`; integers are left alone.
fn trim_zeros(text: &str) -> &str {
    let trimmed = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        text
    };
    if trimmed == "-0" {
        "0"
    } else {
        trimmed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(range: Range<f64>, values: &[f64]) -> Vec<String> {
        let format = TickFormat::for_axis(&range, 6);
        values.iter().map(|&v| format.label(v)).collect()
    }

    #[test]
    fn steps_read_as_integers() {
        assert_eq!(
            labels(0.0..2_000.0, &[0.0, 500.0, 1_000.0, 1_500.0]),
            ["0", "500", "1000", "1500"]
        );
    }

    #[test]
    fn fractions_get_just_enough_digits() {
        assert_eq!(
            labels(0.1..0.3, &[0.1, 0.15, 0.2, 0.1 + 0.2]),
            ["0.1", "0.15", "0.2", "0.3"]
        );
        assert_eq!(
            labels(0.9999..1.0, &[0.99992, 0.99994, 1.0]),
            ["0.99992", "0.99994", "1"]
        );
        assert_eq!(labels(-1.0..1.0, &[-1.0, -0.5, 0.0]), ["-1", "-0.5", "0"]);
    }

    #[test]
    fn extreme_magnitudes_are_scientific() {
        assert_eq!(
            labels(0.0..5e6, &[1e6, 2.5e6, 5e6]),
            ["1e6", "2.5e6", "5e6"]
        );
        assert_eq!(labels(0.0..5e-4, &[1e-4, 2.5e-4]), ["1e-4", "2.5e-4"]);
        assert_eq!(labels(-f64::MAX..f64::MAX, &[1e308]), ["1e308"]);
    }

    #[test]
    fn odd_values_do_not_panic() {
        let format = TickFormat::for_axis(&(0.0..0.0), 6);
        assert_eq!(format.label(-0.0), "0");
        assert_eq!(format.label(f64::NAN), "NaN");
        assert_eq!(format.label(f64::MIN_POSITIVE), "0");
    }
}
