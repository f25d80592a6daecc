//! Which attribute changes are safe: the attribute names that may be written and the
//! URLs that may go into `href` / `src`.

use crate::core::config::LinkPolicy;

/// `data-*` attributes that page libraries run as script or as bindings (prefixes):
/// htmx's `data-hx-on*` handlers and the ones it evaluates `js:` or a `[filter]` in
/// (`data-hx-vals`, `data-hx-vars`, `data-hx-headers`, `data-hx-trigger`,
/// `data-hx-request`), Knockout's `data-bind`, AngularJS's `data-ng-*`,
/// _hyperscript's `data-script`.
pub const SCRIPT_DATA_PREFIXES: [&str; 9] = [
    "data-hx-on",
    "data-hx-vals",
    "data-hx-vars",
    "data-hx-headers",
    "data-hx-trigger",
    "data-hx-request",
    "data-bind",
    "data-ng-",
    "data-script",
];

/// `data-*` names (without `data-`) that page libraries read as one URL: lazy
/// loaders copy `data-src`, `data-original` or `data-bg` into `src` or a
/// background, htmx requests `data-hx-get`, … Names ending in `-src`, `-href` or
/// `-url` are URLs too (`data-lazy-src`, `data-video-url`). Not `data-srcset`: a
/// list of candidates, for images, which run no script.
const URL_DATA_NAMES: [&str; 16] = [
    "src",
    "href",
    "url",
    "link",
    "original",
    "bg",
    "background",
    "background-image",
    "poster",
    "lazy",
    "action",
    "hx-get",
    "hx-post",
    "hx-put",
    "hx-patch",
    "hx-delete",
];

/// Attributes an experience may set. Event handlers, `style`, `srcdoc` and the like
/// are never writable: they would turn config or visitor data into script. Nor are
/// `data-ep-*`, the markers edge-persona itself writes and reads (what a slot shows,
/// the page's own values the edge kept), nor the `data-*` attributes libraries run
/// as script ([`SCRIPT_DATA_PREFIXES`]).
pub fn attribute_is_writable(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    matches!(
        name.as_str(),
        "href" | "src" | "title" | "alt" | "aria-label" | "placeholder"
    ) || (name.starts_with("data-")
        && !name.starts_with("data-ep-")
        && !SCRIPT_DATA_PREFIXES.iter().any(|p| name.starts_with(p))
        && name.len() > 5
        && name[5..]
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'))
}

/// Whether the attribute holds a URL and must pass [`url_is_allowed`] (its
/// placeholders' values percent-encoded): `href`, `src`, and the `data-*` names
/// libraries read as a URL ([`URL_DATA_NAMES`], or ending in `-src`, `-href`,
/// `-url`).
pub fn attribute_is_url(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    if matches!(name.as_str(), "href" | "src") {
        return true;
    }
    name.strip_prefix("data-").is_some_and(|data| {
        URL_DATA_NAMES.contains(&data)
            || ["-src", "-href", "-url"]
                .iter()
                .any(|end| data.ends_with(end))
    })
}

/// Whether `url` may be written into a link under `policy`.
///
/// Relative URLs (`/book`, `#menu`, `?a=b`) are allowed; absolute ones need an
/// allowed scheme, and http(s) ones an allowed host. Anything with control
/// characters, whitespace or a backslash is refused, since browsers repair such URLs
/// in surprising ways (`java\tscript:`).
pub fn url_is_allowed(url: &str, policy: &LinkPolicy) -> Result<(), String> {
    let Some(scheme) = plain_url_scheme(url)? else {
        return Ok(()); // relative
    };
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

/// Whether a page's own URL, which the edge kept beside the one it wrote, may be put
/// back into `href` / `src` by the browser layer: a relative URL or one of the
/// default link schemes (`https`, `http`, `mailto`, `tel`), never `javascript:` or
/// `data:`. Any host: it is the page's, not the config's. The value comes from page
/// markup, which the runtime must not let turn into script.
pub fn page_url_may_be_restored(url: &str) -> bool {
    match plain_url_scheme(url) {
        Ok(None) => true,
        Ok(Some(scheme)) => LinkPolicy::default()
            .schemes
            .iter()
            .any(|s| s.eq_ignore_ascii_case(&scheme)),
        Err(_) => false,
    }
}

/// The URL's scheme, lowercased (`None` for a relative URL), after the checks every
/// written URL passes: not empty, no whitespace, control character or backslash
/// (browsers repair such URLs in surprising ways: `java\tscript:`), not
/// protocol-relative.
fn plain_url_scheme(url: &str) -> Result<Option<String>, String> {
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
    Ok(scheme.map(str::to_ascii_lowercase))
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
    fn data_attributes_libraries_read_as_urls_or_run_are_guarded() {
        for url in [
            "data-src",
            "data-lazy-src",
            "data-original",
            "data-bg",
            "data-background-image",
            "data-hx-get",
            "data-hx-delete",
            "data-href",
            "data-video-url",
        ] {
            assert!(attribute_is_url(url), "{url}");
            assert!(attribute_is_writable(url), "{url}");
        }
        for text in [
            "data-name",
            "data-plan",
            "data-track-label",
            "data-original-title",
            "data-link-text",
            "data-track-action",
            "data-bg-color",
            "data-srcset",
            "title",
            "alt",
        ] {
            assert!(!attribute_is_url(text), "{text}");
        }
        for script in [
            "data-hx-on--click",
            "data-hx-on-click",
            "data-hx-vals",
            "data-hx-headers",
            "data-hx-trigger",
            "data-bind",
            "data-ng-click",
            "data-hx-request",
            "data-script",
        ] {
            assert!(!attribute_is_writable(script), "{script}");
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
        // edge-persona's own markers: a config must not forge what the page kept.
        for own in [
            "data-ep-applied",
            "data-ep-was",
            "data-ep-was-href",
            "DATA-EP-PENDING",
        ] {
            assert!(!attribute_is_writable(own), "{own}");
        }
    }

    #[test]
    fn a_pages_own_url_is_put_back_unless_it_could_run_script() {
        for ok in [
            "/book",
            "#menu",
            "book.html",
            "https://partner.example.com/x",
            "http://a.b",
            "mailto:a@b.ru",
            "tel:+7",
        ] {
            assert!(page_url_may_be_restored(ok), "{ok}");
        }
        for refused in [
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "java\tscript:alert(1)",
            " javascript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "vbscript:x",
            "//evil.example/",
            "",
        ] {
            assert!(!page_url_may_be_restored(refused), "{refused:?}");
        }
    }
}
