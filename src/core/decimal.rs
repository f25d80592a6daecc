//! Decimal literals (`1999.99`, `.5`, `2e3`) read as numbers, correctly rounded and
//! the same in every build.
//!
//! Natively and at the edge this is Rust's own parser. The browser build leaves that
//! parser out: its code and power-of-five tables were ≈20 KB of the wasm (≈12 KB
//! brotli with the `{}` of floats that fed it, see BENCHMARKS.md), and the page
//! already has one. It asks JavaScript's `parseFloat` instead. Both round correctly
//! (to the nearest `f64`, ties to even) for every literal this module accepts, so a
//! literal reads as the same number natively, at the edge and in the browser.

/// `StrUnsignedDecimalLiteral` without `Infinity`: `digits[.digits][e[+-]digits]`,
/// `.digits[...]` or `digits.[...]`, with at least one mantissa digit.
pub fn is_decimal_literal(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let mut mantissa_digits = i - int_start;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let frac_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        mantissa_digits += i - frac_start;
    }
    if mantissa_digits == 0 {
        return false;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let exp_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == exp_start {
            return false;
        }
    }
    i == b.len()
}

/// The value of an unsigned decimal literal ([`is_decimal_literal`]); `None` for
/// anything else (a sign, white space, `Infinity`, `0x10`, the empty string).
pub fn parse_decimal_literal(text: &str) -> Option<f64> {
    is_decimal_literal(text).then(|| platform_parse(text))
}

#[cfg(not(all(feature = "browser", target_arch = "wasm32")))]
fn platform_parse(literal: &str) -> f64 {
    literal.parse().unwrap_or(f64::NAN)
}

#[cfg(all(feature = "browser", target_arch = "wasm32"))]
fn platform_parse(literal: &str) -> f64 {
    crate::browser::number_from_literal(literal)
}

/// An `f32` (a price kept small in the cookie) as the decimal it was written as: the
/// shortest decimal that reads back as the same `f32`, so that 1999.99 seen on a page
/// is 1999.99 in conditions and price bands, not 1999.98999…. Where two decimals are
/// equally short and equally near (131383.12 and 131383.13 are one `f32`), the one
/// ending in an even digit.
pub fn f32_as_written(value: f32) -> f64 {
    if !value.is_finite() {
        return f64::from(value);
    }
    let mut buffer = zmij::Buffer::new();
    let magnitude =
        parse_decimal_literal(buffer.format_finite(value.abs())).unwrap_or(f64::from(value.abs()));
    if value.is_sign_negative() {
        -magnitude
    } else {
        magnitude
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_read_as_rust_reads_them() {
        for text in [
            "0",
            "1",
            "1999.99",
            ".5",
            "5.",
            "2e3",
            "2E-3",
            "1e400",
            "1e-400",
            "0.1",
            "123456789012345678901234567890",
        ] {
            assert_eq!(parse_decimal_literal(text), text.parse().ok(), "{text:?}");
        }
    }

    #[test]
    fn anything_else_is_not_a_literal() {
        for text in [
            "", " 1", "1 ", "+1", "-1", "inf", "Infinity", "NaN", "0x10", ".", "e3", "1e", "1e+",
            "1.2.3",
        ] {
            assert_eq!(parse_decimal_literal(text), None, "{text:?}");
        }
    }

    #[test]
    fn floats_read_back_as_their_shortest_decimal() {
        assert_eq!(f32_as_written(1999.99), 1999.99);
        assert_eq!(f32_as_written(-0.1), -0.1);
        assert_eq!(f32_as_written(3e20), 3e20);
        assert_eq!(f32_as_written(1.5e-7), 1.5e-7);
        assert_eq!(f32_as_written(0.0), 0.0);
        assert!(f32_as_written(f32::NAN).is_nan());
        assert_eq!(f32_as_written(f32::INFINITY), f64::INFINITY);
        // A tie (the f32 exactly halfway between two shortest decimals) goes to the
        // even digit: both typed prices read as the same f32, so neither is "right".
        assert_eq!(f32_as_written(131383.13), 131383.12);
        // Every f32 reads as a decimal that is as short as Rust's `{}` and reads back
        // as that f32.
        let mantissa_digits = |e: String| e.split('e').next().unwrap_or("").len();
        for bits in (0u32..u32::MAX).step_by(99_991) {
            let value = f32::from_bits(bits);
            if value.is_finite() {
                let written = f32_as_written(value);
                assert_eq!(written as f32, value, "{value}");
                assert_eq!(
                    mantissa_digits(format!("{:e}", written.abs())),
                    mantissa_digits(format!("{:e}", value.abs())),
                    "{value}"
                );
            }
        }
    }
}
