//! Campaign tags (`utm_*`) and ad-platform click ids from the landing page URL.

use super::url::{for_each_query_pair, ParsedUrl};
use crate::core::lowercase::to_lowercase;
use std::borrow::Cow;

use super::{cap_str, trim};

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
/// field order, and whether the value is lowercased (categories) or kept as given.
const TAGS: [(&str, bool); 5] = [
    ("source", true),
    ("medium", true),
    ("campaign", false),
    ("term", false),
    ("content", false),
];

impl Utm {
    /// Reads the campaign tags and click id from a parsed landing page URL.
    ///
    /// Each name is looked up like [`ParsedUrl::query_param_ignore_case`]: the first
    /// parameter with that name counts, even when a later one has a better value.
    pub fn from_url(url: &ParsedUrl) -> Utm {
        Tags::from_url(url).into_utm()
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

/// What [`Utm`] holds, borrowed from the query where nothing had to change, so the
/// referrer classifier can read the tags without copying them.
#[derive(Debug, Default)]
pub(crate) struct Tags<'a> {
    pub(crate) source: Option<Cow<'a, str>>,
    pub(crate) medium: Option<Cow<'a, str>>,
    pub(crate) campaign: Option<Cow<'a, str>>,
    pub(crate) term: Option<Cow<'a, str>>,
    pub(crate) content: Option<Cow<'a, str>>,
    /// The click id present (see [`Utm::click_id`]).
    pub(crate) click: Option<&'static ClickIdSpec>,
}

impl<'a> Tags<'a> {
    /// The tags of a parsed URL (see [`Utm::from_url`]).
    pub(crate) fn from_url(url: &'a ParsedUrl) -> Tags<'a> {
        let mut reader = TagReader::default();
        for (name, value) in &url.query {
            reader.add(name, Cow::Borrowed(value));
        }
        reader.finish()
    }

    /// The tags of a URL whose raw query (without `?`) is `query`, without building
    /// the [`ParsedUrl`].
    pub(crate) fn from_query(query: &'a str) -> Tags<'a> {
        let mut reader = TagReader::default();
        for_each_query_pair(query, |name, value| reader.add(&name, value));
        reader.finish()
    }

    /// Whether no `utm_*` tag is present (see [`Utm::has_no_tags`]).
    pub(crate) fn has_no_tags(&self) -> bool {
        self.source.is_none()
            && self.medium.is_none()
            && self.campaign.is_none()
            && self.term.is_none()
            && self.content.is_none()
    }

    pub(crate) fn into_utm(self) -> Utm {
        Utm {
            source: self.source.map(Cow::into_owned),
            medium: self.medium.map(Cow::into_owned),
            campaign: self.campaign.map(Cow::into_owned),
            term: self.term.map(Cow::into_owned),
            content: self.content.map(Cow::into_owned),
            click_id: self.click.map(|c| c.param.to_string()),
        }
    }
}

/// Reads [`Tags`] from decoded query pairs, in order: the first value of each tag
/// (cleaned) and whether the first value of each click id is non-blank.
#[derive(Default)]
struct TagReader<'a> {
    tags: [Option<Option<Cow<'a, str>>>; TAGS.len()],
    clicks: [Option<bool>; CLICK_IDS.len()],
}

impl<'a> TagReader<'a> {
    fn add(&mut self, name: &str, value: Cow<'a, str>) {
        let tag = name
            .get(..4)
            .filter(|p| p.eq_ignore_ascii_case("utm_"))
            .and_then(|_| name.get(4..));
        if let Some(tag) = tag {
            let slot = TAGS
                .iter()
                .zip(self.tags.iter_mut())
                .find(|((t, _), _)| t.eq_ignore_ascii_case(tag));
            if let Some(((_, lowercase), slot @ None)) = slot {
                *slot = Some(clean_value(value, *lowercase));
            }
        } else {
            let slot = CLICK_IDS
                .iter()
                .zip(self.clicks.iter_mut())
                .find(|(c, _)| c.param.eq_ignore_ascii_case(name));
            if let Some((_, slot @ None)) = slot {
                *slot = Some(!trim(&value).is_empty());
            }
        }
    }

    fn finish(self) -> Tags<'a> {
        let click = CLICK_IDS
            .iter()
            .zip(self.clicks)
            .find(|(_, present)| *present == Some(true))
            .map(|(c, _)| c);
        let [source, medium, campaign, term, content] = self.tags.map(Option::flatten);
        Tags {
            source,
            medium,
            campaign,
            term,
            content,
            click,
        }
    }
}

/// Trims, caps and (for categories) lowercases one tag value; empty → `None`.
/// Borrows what needs no change.
fn clean_value(value: Cow<'_, str>, lowercase: bool) -> Option<Cow<'_, str>> {
    match value {
        Cow::Borrowed(v) => clean_str(v, lowercase),
        Cow::Owned(v) => clean_str(&v, lowercase).map(|c| Cow::Owned(c.into_owned())),
    }
}

/// [`clean_value`] of a borrowed value.
fn clean_str(value: &str, lowercase: bool) -> Option<Cow<'_, str>> {
    let value = trim(value);
    if value.is_empty() {
        return None;
    }
    let capped = cap_str(value, MAX_UTM_CHARS);
    // ASCII without uppercase letters is its own lowercase.
    let unchanged =
        !lowercase || (capped.is_ascii() && !capped.bytes().any(|b| b.is_ascii_uppercase()));
    Some(if unchanged {
        Cow::Borrowed(capped)
    } else {
        Cow::Owned(lowercase_str(capped))
    })
}

/// `s.to_lowercase()`, with one copy and no per-character work when `s` is ASCII.
pub(crate) fn lowercase_str(s: &str) -> String {
    if s.is_ascii() {
        s.to_ascii_lowercase()
    } else {
        to_lowercase(s)
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
    fn from_query_matches_from_url() {
        for url in [
            "/?utm_source=%20Yandex%20&UTM_MEDIUM=CPC&utm_campaign=Black+Friday&utm_term=&utm_content=Banner_1",
            "/?utm_source=&utm_source=vk&gclid=&gclid=x&fbclid=1",
            "/?fbclid=x&yclid=1&MSCLKID=2",
            "/?utm_source=%D0%AF%D0%BD%D0%B4%D0%B5%D0%BA%D1%81&utm_%6Dedium=cpc",
        ] {
            let query = url.split_once('?').map_or("", |(_, q)| q);
            assert_eq!(Tags::from_query(query).into_utm(), utm(url), "{url}");
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
