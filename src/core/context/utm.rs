//! Campaign tags (`utm_*`) and ad-platform click ids from the landing page URL.

use super::cap_str;
use super::url::ParsedUrl;

/// The longest UTM value kept. Real tags are short; the cap stops a hostile link
/// from carrying kilobytes into every condition and debug dump.
pub const MAX_UTM_CHARS: usize = 200;

/// Campaign tags from the landing page query.
///
/// Parameter names match ignoring ASCII case (`UTM_Source` happens in hand-made
/// links). Values are trimmed, capped at [`MAX_UTM_CHARS`] characters and empty ones
/// become `None`. `source` and `medium` are also lowercased because ad platforms and
/// people spell them inconsistently (`Yandex`, `CPC`) and conditions compare them as
/// categories; `campaign`, `term` and `content` keep their case because they are
/// often identifiers or human-readable text.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Utm {
    /// `utm_source`, lowercased.
    pub source: Option<String>,
    /// `utm_medium`, lowercased.
    pub medium: Option<String>,
    /// `utm_campaign`.
    pub campaign: Option<String>,
    /// `utm_term`.
    pub term: Option<String>,
    /// `utm_content`.
    pub content: Option<String>,
    /// The name of the ad-platform click-id parameter present (`"yclid"`, `"gclid"`,
    /// …), if any; see [`CLICK_IDS`] for the list and precedence. Only the name is
    /// kept: the value identifies one click of one person and the engine has no use
    /// for it, so it never enters the context.
    pub click_id: Option<String>,
}

/// One known click-id parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClickIdSpec {
    /// The query parameter name.
    pub param: &'static str,
    /// The canonical source name of the platform that adds it (see
    /// [`super::referrer::ReferrerInfo::source`]).
    pub source: &'static str,
    /// Whether the parameter is only added to ad clicks. `fbclid` and `ysclid` are
    /// added to ordinary (organic) outbound links too, so they say where the visitor
    /// came from but not that the visit was paid for.
    pub paid: bool,
}

/// Known click-id parameters, in precedence order: when a URL carries several, the
/// first listed wins (paid ids before the organic `fbclid`/`ysclid`).
pub const CLICK_IDS: &[ClickIdSpec] = &[
    ClickIdSpec {
        param: "yclid",
        source: "yandex",
        paid: true,
    },
    ClickIdSpec {
        param: "gclid",
        source: "google",
        paid: true,
    },
    ClickIdSpec {
        param: "gbraid",
        source: "google",
        paid: true,
    },
    ClickIdSpec {
        param: "wbraid",
        source: "google",
        paid: true,
    },
    ClickIdSpec {
        param: "dclid",
        source: "google",
        paid: true,
    },
    ClickIdSpec {
        param: "msclkid",
        source: "bing",
        paid: true,
    },
    ClickIdSpec {
        param: "ttclid",
        source: "tiktok",
        paid: true,
    },
    ClickIdSpec {
        param: "twclid",
        source: "x",
        paid: true,
    },
    ClickIdSpec {
        param: "li_fat_id",
        source: "linkedin",
        paid: true,
    },
    ClickIdSpec {
        param: "fbclid",
        source: "facebook",
        paid: false,
    },
    ClickIdSpec {
        param: "ysclid",
        source: "yandex",
        paid: false,
    },
];

/// The table entry for click-id parameter `param` (exact, lowercase name).
pub fn click_id_spec(param: &str) -> Option<&'static ClickIdSpec> {
    CLICK_IDS.iter().find(|c| c.param == param)
}

/// The `utm_*` parameter names [`Utm::from_url`] reads, after the `utm_` prefix, in
/// field order.
const TAGS: [&str; 5] = ["source", "medium", "campaign", "term", "content"];

impl Utm {
    /// Reads the campaign tags and click id from a parsed landing page URL.
    ///
    /// Each name is looked up like [`ParsedUrl::query_param_ignore_case`]: the first
    /// parameter with that name counts, even when a later one has a better value.
    pub fn from_url(url: &ParsedUrl) -> Utm {
        // One pass over the query: the first value of each tag and click id.
        let mut tags: [Option<&str>; TAGS.len()] = [None; TAGS.len()];
        let mut clicks: [Option<&str>; CLICK_IDS.len()] = [None; CLICK_IDS.len()];
        for (name, value) in &url.query {
            let tag = name
                .get(..4)
                .filter(|p| p.eq_ignore_ascii_case("utm_"))
                .and_then(|_| name.get(4..));
            if let Some(tag) = tag {
                let slot = TAGS
                    .iter()
                    .zip(tags.iter_mut())
                    .find(|(t, _)| t.eq_ignore_ascii_case(tag));
                if let Some((_, slot @ None)) = slot {
                    *slot = Some(value.as_str());
                }
            } else {
                let slot = CLICK_IDS
                    .iter()
                    .zip(clicks.iter_mut())
                    .find(|(c, _)| c.param.eq_ignore_ascii_case(name));
                if let Some((_, slot @ None)) = slot {
                    *slot = Some(value.as_str());
                }
            }
        }
        let click_id = CLICK_IDS
            .iter()
            .zip(clicks)
            .find(|(_, v)| v.is_some_and(|v| !v.trim().is_empty()))
            .map(|(c, _)| c.param.to_string());
        let [source, medium, campaign, term, content] = tags;
        Utm {
            source: source.and_then(|v| clean_value(v, true)),
            medium: medium.and_then(|v| clean_value(v, true)),
            campaign: campaign.and_then(|v| clean_value(v, false)),
            term: term.and_then(|v| clean_value(v, false)),
            content: content.and_then(|v| clean_value(v, false)),
            click_id,
        }
    }

    /// Whether no `utm_*` tag is present (the click id is not considered).
    pub fn has_no_tags(&self) -> bool {
        self.source.is_none()
            && self.medium.is_none()
            && self.campaign.is_none()
            && self.term.is_none()
            && self.content.is_none()
    }

    /// The table entry for the click id present, if any.
    pub fn click_id_spec(&self) -> Option<&'static ClickIdSpec> {
        self.click_id.as_deref().and_then(click_id_spec)
    }
}

/// Trims, caps and (for categories) lowercases one tag value; empty → `None`.
fn clean_value(value: &str, lowercase: bool) -> Option<String> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    let capped = cap_str(value, MAX_UTM_CHARS);
    Some(if lowercase {
        lowercase_str(capped)
    } else {
        capped.to_string()
    })
}

/// `s.to_lowercase()`, with one copy and no per-character work when `s` is ASCII.
pub(crate) fn lowercase_str(s: &str) -> String {
    if s.is_ascii() {
        s.to_ascii_lowercase()
    } else {
        s.to_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::super::url::parse_url;
    use super::*;

    fn utm(url: &str) -> Utm {
        Utm::from_url(&parse_url(url))
    }

    #[test]
    fn reads_tags() {
        let u = utm("/?utm_source=%20Yandex%20&UTM_MEDIUM=CPC&utm_campaign=Black+Friday&utm_term=&utm_content=Banner_1");
        assert_eq!(u.source.as_deref(), Some("yandex"));
        assert_eq!(u.medium.as_deref(), Some("cpc"));
        assert_eq!(u.campaign.as_deref(), Some("Black Friday"));
        assert_eq!(u.term, None);
        assert_eq!(u.content.as_deref(), Some("Banner_1"));
        assert_eq!(u.click_id, None);
        assert!(!u.has_no_tags());
        assert!(utm("https://example.com/").has_no_tags());
    }

    #[test]
    fn russian_values_lowercase() {
        let u = utm("/?utm_source=%D0%AF%D0%BD%D0%B4%D0%B5%D0%BA%D1%81");
        assert_eq!(u.source.as_deref(), Some("яндекс"));
    }

    #[test]
    fn click_ids() {
        let cases = [
            ("/?yclid=123", Some("yclid"), true),
            ("/?gclid=abc&fbclid=x", Some("gclid"), true),
            ("/?fbclid=x&yclid=1", Some("yclid"), true),
            ("/?fbclid=x", Some("fbclid"), false),
            ("/?ysclid=lq1", Some("ysclid"), false),
            ("/?MSCLKID=1", Some("msclkid"), true),
            ("/?gclid=", None, false),
            ("/?gclid=%20", None, false),
            ("/?utm_source=vk", None, false),
        ];
        for (url, name, paid) in cases {
            let u = utm(url);
            assert_eq!(u.click_id.as_deref(), name, "{url}");
            assert_eq!(u.click_id_spec().is_some_and(|c| c.paid), paid, "{url}");
        }
    }

    #[test]
    fn values_are_capped() {
        let long = "ж".repeat(1000);
        let u = utm(&format!("/?utm_campaign={long}&utm_source={long}"));
        assert_eq!(u.campaign.map(|c| c.chars().count()), Some(MAX_UTM_CHARS));
        assert_eq!(u.source.map(|c| c.chars().count()), Some(MAX_UTM_CHARS));
    }
}
