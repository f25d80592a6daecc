//! Unicode lowercasing (`String.prototype.toLowerCase`), the same in every build.
//!
//! Natively and at the edge this is Rust's `str::to_lowercase`. The browser build
//! leaves Rust's case tables out (≈15 KB of the wasm) and asks the page's JavaScript,
//! whose `toLowerCase` applies the same Unicode default case conversion, final sigma
//! included (`"ΣΑΣ"` → `"σας"`). The two can differ only on characters one side's
//! Unicode version does not know yet.

/// `text` lowercased, as JavaScript's `toLowerCase` would.
pub fn to_lowercase(text: &str) -> String {
    if text.is_ascii() {
        return text.to_ascii_lowercase();
    }
    platform_lowercase(text)
}

#[cfg(not(all(feature = "browser", target_arch = "wasm32")))]
fn platform_lowercase(text: &str) -> String {
    text.to_lowercase()
}

#[cfg(all(feature = "browser", target_arch = "wasm32"))]
fn platform_lowercase(text: &str) -> String {
    crate::browser::lowercase(text)
}

#[cfg(test)]
mod tests {
    use super::to_lowercase;

    #[test]
    fn lowercases_as_javascript_does() {
        assert_eq!(to_lowercase("Yandex CPC"), "yandex cpc");
        assert_eq!(to_lowercase("ВЕСНА-2026"), "весна-2026");
        assert_eq!(to_lowercase("ΣΑΣ"), "σας");
        assert_eq!(to_lowercase("İ"), "i\u{307}");
    }
}
