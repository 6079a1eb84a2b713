//! Values written for people, the same way by the CLI and the Python front.

/// A float as text that parses back to the same value, as Python prints it: the shortest
/// round-tripping form (`0.001`, `1e300`, `-0.0`), and `nan`, `inf`, `-inf`.
pub fn float_text(value: f64) -> String {
    if value.is_nan() {
        "nan".to_owned()
    } else if value.is_infinite() {
        if value > 0.0 { "inf" } else { "-inf" }.to_owned()
    } else {
        format!("{value:?}")
    }
}

/// A byte count with a binary unit: `512 B`, `1.50 MiB`. Written here (a few lines) so that
/// plain data needs no terminal library for it.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.2} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_read_back_as_the_same_value() {
        for value in [0.001, 1e300, -0.0, 0.1 + 0.2, f64::MIN_POSITIVE] {
            assert_eq!(
                float_text(value).parse::<f64>().unwrap().to_bits(),
                value.to_bits()
            );
        }
        assert_eq!(
            [f64::NAN, f64::INFINITY, f64::NEG_INFINITY].map(float_text),
            ["nan", "inf", "-inf"]
        );
    }

    #[test]
    fn sizes_take_the_largest_binary_unit_below_them() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1024), "1.00 KiB");
        assert_eq!(human_bytes(1536 * 1024), "1.50 MiB");
        assert_eq!(human_bytes(u64::MAX), "16.00 EiB");
    }
}
