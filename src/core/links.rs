//! Which attribute changes are safe: the attribute names that may be written and the
//! URLs that may go into `href` / `src`.

use crate::core::config::LinkPolicy;

/// Attributes an experience may set. Event handlers, `style`, `srcdoc` and the like
/// are never writable: they would turn config or visitor data into script.
pub fn attribute_is_writable(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    matches!(
        name.as_str(),
        "href" | "src" | "title" | "alt" | "aria-label" | "placeholder"
    ) || (name.starts_with("data-")
        && name.len() > 5
        && name[5..]
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'))
}

/// Whether the attribute holds a URL and must pass [`url_is_allowed`].
pub fn attribute_is_url(name: &str) -> bool {
    matches!(name.to_ascii_lowercase().as_str(), "href" | "src")
}

/// Whether `url` may be written into a link under `policy`.
///
/// Relative URLs (`/book`, `#menu`, `?a=b`) are allowed; absolute ones need an
/// allowed scheme, and http(s) ones an allowed host. Anything with control
/// characters, whitespace or a backslash is refused, since browsers repair such URLs
/// in surprising ways (`java\tscript:`).
pub fn url_is_allowed(url: &str, policy: &LinkPolicy) -> Result<(), String> {
    if url.is_empty() {
        return Err("the URL is empty".into());
    }
    if url
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    {
        return Err("the URL holds whitespace, a control character or a backslash".into());
    }
    if url.starts_with("//") {
        return Err("protocol-relative URLs (`//host`) are not allowed; write the scheme".into());
    }
    let scheme_end = url.find(':');
    let first_delimiter = url.find(['/', '?', '#']);
    let scheme = match (scheme_end, first_delimiter) {
        (Some(colon), Some(delim)) if colon < delim => Some(&url[..colon]),
        (Some(colon), None) => Some(&url[..colon]),
        _ => None,
    };
    let Some(scheme) = scheme else {
        return Ok(()); // relative
    };
    let scheme = scheme.to_ascii_lowercase();
    if !policy
        .schemes
        .iter()
        .any(|s| s.eq_ignore_ascii_case(&scheme))
    {
        return Err(format!(
            "scheme `{scheme}:` is not in links.schemes ({})",
            policy.schemes.join(", ")
        ));
    }
    if scheme == "http" || scheme == "https" {
        let rest = url[scheme.len() + 1..].trim_start_matches('/');
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        if authority.contains('@') {
            return Err("URLs with credentials (`user@host`) are not allowed".into());
        }
        let host = authority
            .rsplit_once(':')
            .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
            .map_or(authority, |(host, _)| host)
            .to_ascii_lowercase();
        if !host_is_allowed(&host, &policy.hosts) {
            return Err(format!("host `{host}` is not in links.hosts"));
        }
    }
    Ok(())
}

fn host_is_allowed(host: &str, allowed: &[String]) -> bool {
    allowed.iter().any(|pattern| {
        let pattern = pattern.to_ascii_lowercase();
        match pattern.strip_prefix("*.") {
            Some(base) => host == base || host.ends_with(&format!(".{base}")),
            None => host == pattern,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> LinkPolicy {
        LinkPolicy {
            hosts: vec!["example.ru".into(), "*.booking.example.ru".into()],
            ..LinkPolicy::default()
        }
    }

    #[test]
    fn urls_on_the_allow_list_pass() {
        for ok in [
            "/book",
            "#menu",
            "?a=b",
            "https://example.ru/x",
            "https://a.booking.example.ru:8443/y",
            "tel:+74950000000",
            "mailto:hi@example.ru",
        ] {
            assert_eq!(url_is_allowed(ok, &policy()), Ok(()), "{ok}");
        }
    }

    #[test]
    fn dangerous_urls_fail() {
        for bad in [
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            "java\tscript:alert(1)",
            "data:text/html,<script>",
            "https://evil.example/",
            "https://example.ru@evil.example/",
            "//evil.example/",
            "https://notbooking.example.ru/",
            "",
        ] {
            assert!(url_is_allowed(bad, &policy()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn only_safe_attributes_are_writable() {
        assert!(attribute_is_writable("href"));
        assert!(attribute_is_writable("data-offer"));
        assert!(!attribute_is_writable("onclick"));
        assert!(!attribute_is_writable("style"));
        assert!(!attribute_is_writable("srcdoc"));
        assert!(!attribute_is_writable("data-"));
        assert!(!attribute_is_writable("data-X\""));
    }
}
