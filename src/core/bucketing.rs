//! GrowthBook-compatible deterministic hashing and bucketing.
//!
//! These mirror `hash`, `getEqualWeights`, `getBucketRanges`, `chooseVariation` and
//! `inNamespace` of GrowthBook's SDKs, so a visitor lands in the same bucket here as
//! in any GrowthBook SDK given the same seed and hash attribute.

/// FNV-1a 32-bit offset basis.
const FNV_OFFSET: u32 = 0x811c_9dc5;
/// FNV-1a 32-bit prime.
const FNV_PRIME: u32 = 0x0100_0193;

/// Largest variation count [`equal_weights`] and [`bucket_ranges`] accept; above it
/// they return no ranges rather than attempt a huge allocation.
pub const MAX_VARIATIONS: i64 = 10_000;

#[inline]
fn fnv_units(units: impl Iterator<Item = u16>) -> u32 {
    // XOR-ing whole 16-bit code units (not bytes) is what JS `charCodeAt` gives.
    units.fold(FNV_OFFSET, |h, u| {
        (h ^ u32::from(u)).wrapping_mul(FNV_PRIME)
    })
}

/// FNV-1a 32-bit hash over the UTF-16 code units of `text`, exactly as GrowthBook's
/// `hashFnv32a` computes it in JavaScript.
#[inline]
pub fn fnv1a32(text: &str) -> u32 {
    if text.is_ascii() {
        // For ASCII the code units are the bytes; skip the UTF-16 encoder.
        return fnv1a32_bytes(text.as_bytes());
    }
    fnv_units(text.encode_utf16())
}

/// FNV-1a 32-bit hash over plain bytes (equal to [`fnv1a32`] for ASCII text).
#[inline]
pub fn fnv1a32_bytes(bytes: &[u8]) -> u32 {
    bytes.iter().fold(FNV_OFFSET, |h, &b| {
        (h ^ u32::from(b)).wrapping_mul(FNV_PRIME)
    })
}

/// GrowthBook's `hash(seed, value, version)`: a number in `[0, 1)`.
///
/// Version 1: `(fnv(value + seed) % 1000) / 1000`; version 2:
/// `(fnv(str(fnv(seed + value))) % 10000) / 10000`; any other version: `None`.
pub fn hash(seed: &str, value: &str, version: u32) -> Option<f64> {
    match version {
        1 => {
            let h = fnv_units(value.encode_utf16().chain(seed.encode_utf16()));
            Some(f64::from(h % 1000) / 1000.0)
        }
        2 => {
            let inner = fnv_units(seed.encode_utf16().chain(value.encode_utf16()));
            // Decimal digits of `inner` without allocating (a u32 has at most 10).
            let mut buf = [0u8; 10];
            let mut i = buf.len();
            let mut n = inner;
            loop {
                i -= 1;
                buf[i] = b'0' + (n % 10) as u8;
                n /= 10;
                if n == 0 {
                    break;
                }
            }
            let h = fnv1a32_bytes(&buf[i..]);
            Some(f64::from(h % 10_000) / 10_000.0)
        }
        _ => None,
    }
}

/// GrowthBook's `getEqualWeights(n)`: `n` weights of `1/n`, empty when `n <= 0`
/// (or above [`MAX_VARIATIONS`]).
pub fn equal_weights(n: i64) -> Vec<f64> {
    if n <= 0 || n > MAX_VARIATIONS {
        return Vec::new();
    }
    vec![1.0 / n as f64; n as usize]
}

/// GrowthBook's `getBucketRanges(numVariations, coverage, weights)`.
///
/// Coverage is clamped to `[0, 1]`; weights fall back to equal weights when missing,
/// of the wrong length, or not summing to 1 (within 0.99..=1.01). Each variation `i`
/// gets `[start_i, start_i + coverage * w_i)` where `start_i` is the sum of the
/// earlier weights.
pub fn bucket_ranges(n: i64, coverage: f64, weights: Option<&[f64]>) -> Vec<(f64, f64)> {
    // Like the JS, a NaN coverage stays NaN (every range is then empty).
    let coverage = coverage.clamp(0.0, 1.0);
    let equal = equal_weights(n);
    let mut chosen: &[f64] = match weights {
        Some(w) if i64::try_from(w.len()).ok() == Some(n) => w,
        _ => &equal,
    };
    let total: f64 = chosen.iter().fold(0.0, |sum, w| sum + w);
    // In the JS a NaN sum fails both comparisons and keeps the weights.
    if !(0.99..=1.01).contains(&total) && !total.is_nan() {
        chosen = &equal;
    }
    let mut cumulative = 0.0;
    chosen
        .iter()
        .map(|&w| {
            let start = cumulative;
            cumulative += w;
            (start, start + coverage * w)
        })
        .collect()
}

/// GrowthBook's `chooseVariation(n, ranges)`: the index of the first range with
/// `start <= n < end`, or -1 when `n` is in none.
pub fn choose_variation(n: f64, ranges: &[(f64, f64)]) -> i64 {
    ranges
        .iter()
        .position(|&(start, end)| n >= start && n < end)
        .map_or(-1, |i| i as i64)
}

/// GrowthBook's `inNamespace(hashValue, [id, start, end])`: whether the visitor's
/// version-1 hash with seed `"__" + id` falls in `[start, end)`.
pub fn in_namespace(hash_value: &str, namespace: (&str, f64, f64)) -> bool {
    let (id, start, end) = namespace;
    let h = fnv_units(
        hash_value
            .encode_utf16()
            .chain("__".encode_utf16())
            .chain(id.encode_utf16()),
    );
    let n = f64::from(h % 1000) / 1000.0;
    n >= start && n < end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_matches_reference_values() {
        // Standard FNV-1a 32 test vectors (ASCII, so bytes == UTF-16 units).
        assert_eq!(fnv1a32(""), 0x811c_9dc5);
        assert_eq!(fnv1a32("a"), 0xe40c_292c);
        assert_eq!(fnv1a32("foobar"), 0xbf9c_f968);
        assert_eq!(fnv1a32_bytes(b"foobar"), 0xbf9c_f968);
    }

    #[test]
    fn fnv_uses_utf16_code_units() {
        // "é" is one UTF-16 unit 0x00E9 but two UTF-8 bytes.
        let expected = (FNV_OFFSET ^ 0xE9).wrapping_mul(FNV_PRIME);
        assert_eq!(fnv1a32("é"), expected);
        assert_ne!(fnv1a32("é"), fnv1a32_bytes("é".as_bytes()));
        // A non-BMP character is two surrogate units.
        let units: Vec<u16> = "😀".encode_utf16().collect();
        assert_eq!(units.len(), 2);
        assert_eq!(fnv1a32("😀"), fnv_units(units.into_iter()));
    }

    #[test]
    fn hash_versions() {
        assert_eq!(hash("", "a", 1), Some(0.22));
        assert_eq!(hash("seed", "a", 2), Some(0.0505));
        assert_eq!(hash("abc", "def", 99), None);
        assert_eq!(hash("abc", "def", 0), None);
    }

    #[test]
    fn weights_and_ranges() {
        assert!(equal_weights(0).is_empty());
        assert!(equal_weights(-3).is_empty());
        assert!(equal_weights(MAX_VARIATIONS + 1).is_empty());
        assert_eq!(equal_weights(2), vec![0.5, 0.5]);
        assert_eq!(bucket_ranges(2, 0.5, None), vec![(0.0, 0.25), (0.5, 0.75)]);
        assert_eq!(
            bucket_ranges(2, 1.0, Some(&[0.7, 0.6])),
            vec![(0.0, 0.5), (0.5, 1.0)]
        );
        assert_eq!(bucket_ranges(2, -1.0, None), vec![(0.0, 0.0), (0.5, 0.5)]);
        assert!(bucket_ranges(0, 1.0, None).is_empty());
        assert_eq!(choose_variation(0.5, &[(0.0, 0.5), (0.5, 1.0)]), 1);
        assert_eq!(choose_variation(0.4, &[(0.0, 0.25), (0.5, 0.75)]), -1);
    }

    #[test]
    fn namespaces() {
        assert!(in_namespace("1", ("namespace1", 0.4, 1.0)));
        assert!(!in_namespace("1", ("namespace1", 0.0, 0.4)));
        assert!(in_namespace("3", ("namespace2", 0.0, 0.4)));
    }
}
