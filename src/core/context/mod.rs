//! What one page view or request knows: the raw [`RequestFacts`] the browser or edge
//! layer (or a test journey) provides, and the [`Context`] derived from them that
//! conditions read.
//!
//! Everything here is a pure function over plain data that never panics: facts come
//! from headers, URLs and page scripts that anyone can forge, so every value is
//! parsed leniently, capped in length, and non-finite numbers are dropped.

pub mod calendar;
pub mod device;
pub mod language;
pub mod referrer;
pub mod url;
pub mod utm;

use crate::core::order::map_of;
use std::collections::BTreeMap;

pub use calendar::{days_between, local_time, Hemisphere, LocalTime, PartOfDay, Season, Weekday};
pub use device::{
    classify_device, detect_browser, detect_os, parse_user_agent, DeviceClass, UserAgentInfo,
};
pub use language::{languages, primary_language};
pub use referrer::{canonical_source, classify_referrer, known_host, ReferrerClass, ReferrerInfo};
pub use url::{parse_url, ParsedUrl};
pub use utm::{ClickIdSpec, Utm, CLICK_IDS};

/// The longest decoded URL path or query name/value kept, in characters.
pub const MAX_URL_PART_CHARS: usize = 2048;

/// The longest page annotation, event, geo or cookie string kept, in characters.
pub const MAX_ANNOTATION_CHARS: usize = 256;

/// The most page events of one request that [`RequestFacts::sanitized_events`]
/// keeps, so a misbehaving page cannot flood the profile.
pub const MAX_EVENTS: usize = 64;

/// The most cookies of one request that [`RequestFacts::sanitized_cookies`] keeps.
pub const MAX_COOKIES: usize = 32;

/// The first `max` characters of `s` (cut on a char boundary, never panics).
pub(crate) fn cap_chars(s: &str, max: usize) -> String {
    cap_str(s, max).to_string()
}

/// The first `max` characters of `s`, borrowed (cut on a char boundary, never
/// panics).
pub(crate) fn cap_str(s: &str, max: usize) -> &str {
    // A string of at most `max` bytes has at most `max` characters: no need to count.
    if s.len() <= max {
        return s;
    }
    match s.char_indices().nth(max) {
        Some((end, _)) => s.get(..end).unwrap_or(""),
        None => s,
    }
}

/// `s.trim()`, answered from the first and last byte when both are printable
/// ASCII (no whitespace to trim): the usual case, and the same result.
pub(crate) fn trim(s: &str) -> &str {
    let printable = |b: Option<&u8>| b.is_some_and(|&b| b > b' ' && b < 0x80);
    let bytes = s.as_bytes();
    if printable(bytes.first()) && printable(bytes.last()) {
        s
    } else {
        s.trim()
    }
}

/// `s.split(sep as char)` for an ASCII `sep`, with a plain byte loop: for the
/// short pieces of headers and query strings that beats the general searcher.
pub(crate) fn split_byte(s: &str, sep: u8) -> SplitByte<'_> {
    SplitByte { rest: Some(s), sep }
}

/// The iterator of [`split_byte`].
pub(crate) struct SplitByte<'a> {
    rest: Option<&'a str>,
    sep: u8,
}

impl<'a> Iterator for SplitByte<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let rest = self.rest?;
        match rest.bytes().position(|b| b == self.sep) {
            Some(i) => {
                // `sep` is ASCII, so both sides of it are char boundaries.
                self.rest = rest.get(i + 1..);
                rest.get(..i)
            }
            None => {
                self.rest = None;
                Some(rest)
            }
        }
    }
}

/// `s.split_once(sep as char)` for an ASCII `sep`, with a plain byte loop.
pub(crate) fn split_once_byte(s: &str, sep: u8) -> Option<(&str, &str)> {
    let i = s.bytes().position(|b| b == sep)?;
    Some((s.get(..i)?, s.get(i + 1..)?))
}

/// [`cap_str`] in place, reusing the string's buffer.
pub(crate) fn cap_string(mut s: String, max: usize) -> String {
    if s.len() > max {
        let end = cap_str(&s, max).len();
        s.truncate(end);
    }
    s
}

/// Trims and caps an optional string; blank → `None`.
fn clean_opt(s: Option<&str>, max: usize) -> Option<String> {
    s.map(trim)
        .filter(|s| !s.is_empty())
        .map(|s| cap_chars(s, max))
}

/// Trims, caps and uppercases an optional code (`"rub"` → `"RUB"`); blank → `None`.
/// Codes are ISO 3166 / ISO 4217, so ASCII case is enough (and the browser build
/// then carries no Unicode uppercase table); other letters stay as written.
fn clean_upper(s: Option<&str>, max: usize) -> Option<String> {
    s.map(trim)
        .filter(|s| !s.is_empty())
        .map(|s| cap_str(s, max).to_ascii_uppercase())
}

/// A finite number or `None`: NaN and infinities would poison sums and comparisons.
fn finite(x: Option<f64>) -> Option<f64> {
    x.filter(|x| x.is_finite())
}

/// Raw facts one page view or request provides (filled by the browser or edge layer,
/// or a test journey).
///
/// Every field has a default, so a JSON journey step can give only what it cares
/// about: `{"url": "https://example.ru/?utm_source=vk", "referrer": "https://vk.com/"}`.
/// Field names are camelCase in JSON (`userAgent`, `nowMs`, `utcOffsetMinutes`,
/// `globalPrivacyControl`).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RequestFacts {
    /// The page URL: absolute (`https://host/path?query`) or path-only (`/path?query`).
    pub url: String,
    /// `document.referrer` or the `Referer` header; `None`/empty when there is none.
    pub referrer: Option<String>,
    /// `navigator.userAgent` or the `User-Agent` header.
    pub user_agent: Option<String>,
    /// `navigator.languages` joined with commas, `navigator.language`, or the
    /// `Accept-Language` header.
    pub language: Option<String>,
    /// Current time, Unix milliseconds (UTC).
    pub now_ms: i64,
    /// The visitor's UTC offset in minutes *east* of UTC (Moscow `180`), i.e.
    /// `-new Date().getTimezoneOffset()` in the browser.
    pub utc_offset_minutes: i32,
    /// Coarse location from the edge's IP lookup; the browser never sets it.
    pub geo: Option<Geo>,
    /// Facts the page declares about itself (price, category, …).
    pub page: PageAnnotations,
    /// Events that happened on this page view.
    pub events: Vec<PageEvent>,
    /// Site cookies the config names (e.g. `"name"`), already read by the host layer.
    pub cookies: BTreeMap<String, String>,
    /// `navigator.globalPrivacyControl` or `Sec-GPC: 1`: the visitor asked not to be
    /// tracked, which the engine must honour.
    pub global_privacy_control: bool,
    /// The page's consent platform withholds personalization storage until the
    /// visitor answers (Google Consent Mode's `default` of `denied`, or a TCF CMP on
    /// the page that has not answered yet): nothing is stored, in any consent mode,
    /// and nothing is deleted either. Browser only.
    pub consent_withheld: bool,
}

impl RequestFacts {
    /// The events, sanitized (see [`PageEvent::sanitized`]) and capped at
    /// [`MAX_EVENTS`].
    pub fn sanitized_events(&self) -> Vec<PageEvent> {
        self.events
            .iter()
            .take(MAX_EVENTS)
            .map(PageEvent::sanitized)
            .collect()
    }

    /// The cookies with names and values trimmed and capped at
    /// [`MAX_ANNOTATION_CHARS`], blank names dropped, at most [`MAX_COOKIES`] kept.
    pub fn sanitized_cookies(&self) -> BTreeMap<String, String> {
        map_of(
            self.cookies
                .iter()
                .filter_map(|(k, v)| {
                    let k = clean_opt(Some(k), MAX_ANNOTATION_CHARS)?;
                    Some((k, cap_chars(v.trim(), MAX_ANNOTATION_CHARS)))
                })
                .take(MAX_COOKIES),
        )
    }

    /// Just the named cookies, cleaned like [`RequestFacts::sanitized_cookies`].
    /// Picking them before the [`MAX_COOKIES`] cap means a request with many other
    /// cookies can never push a named one out.
    pub fn named_cookies(&self, names: &[String]) -> BTreeMap<String, String> {
        map_of(names.iter().filter_map(|name| {
            let value = self.cookies.get(name)?;
            Some((name.clone(), cap_chars(value.trim(), MAX_ANNOTATION_CHARS)))
        }))
    }
}

/// Coarse location from the edge (e.g. Cloudflare's `cf.country`/`region`/`city`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Geo {
    /// ISO 3166-1 alpha-2 country code (`"RU"`); uppercased by [`Geo::sanitized`].
    pub country: Option<String>,
    /// ISO 3166-2 subdivision code without the country (`"MOW"`, `"NY"`), as
    /// Fastly's `region` and Cloudflare's `cf.regionCode` give it; uppercased.
    pub region: Option<String>,
    /// City name in English as the edge reports it (`"Moscow"`; the Fastly
    /// program capitalises Fastly's lowercase names word by word).
    pub city: Option<String>,
}

impl Geo {
    /// Trimmed and capped copy; blank parts (and Fastly's `"?"` for unknown) become
    /// `None`, and the country and region codes are uppercased, so every platform's
    /// spelling compares equal.
    pub fn sanitized(&self) -> Geo {
        fn known(part: Option<&str>) -> Option<&str> {
            part.filter(|part| part.trim() != "?")
        }
        Geo {
            country: clean_upper(known(self.country.as_deref()), MAX_ANNOTATION_CHARS),
            region: clean_upper(known(self.region.as_deref()), MAX_ANNOTATION_CHARS),
            city: clean_opt(known(self.city.as_deref()), MAX_ANNOTATION_CHARS),
        }
    }
}

/// Facts the page declares about itself (e.g. via `data-` attributes or the
/// script's init call), for price- and category-based rules.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PageAnnotations {
    /// Price of the item shown.
    pub price: Option<f64>,
    /// ISO 4217 currency code of `price` (`"RUB"`).
    pub currency: Option<String>,
    /// Product or content category.
    pub category: Option<String>,
    /// Product/item identifier.
    pub item_id: Option<String>,
    /// Funnel step name (`"landing"`, `"checkout"`, …).
    pub funnel_step: Option<String>,
}

impl PageAnnotations {
    /// Copy with non-finite `price` dropped, strings trimmed and capped at
    /// [`MAX_ANNOTATION_CHARS`] (blank → `None`), and the currency uppercased.
    pub fn sanitized(&self) -> PageAnnotations {
        PageAnnotations {
            price: finite(self.price),
            currency: clean_upper(self.currency.as_deref(), MAX_ANNOTATION_CHARS),
            category: clean_opt(self.category.as_deref(), MAX_ANNOTATION_CHARS),
            item_id: clean_opt(self.item_id.as_deref(), MAX_ANNOTATION_CHARS),
            funnel_step: clean_opt(self.funnel_step.as_deref(), MAX_ANNOTATION_CHARS),
        }
    }
}

/// The kind of a page event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PageEventKind {
    /// The page was viewed.
    PageView,
    /// An item was added to the cart.
    AddToCart,
    /// Checkout started.
    Checkout,
    /// A purchase completed.
    Purchase,
    /// A lead form was submitted.
    Lead,
    /// The visitor read the page: it stayed in view or was scrolled deep enough
    /// (`classify.engagement`).
    Engaged,
    /// A site-defined event; its name is in [`PageEvent::name`].
    Custom,
}

/// One event reported by the page.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageEvent {
    /// What happened. Required in JSON: an event without a kind means nothing.
    pub kind: PageEventKind,
    /// The event name, for [`PageEventKind::Custom`].
    #[serde(default)]
    pub name: Option<String>,
    /// Monetary or numeric value (order total, lead score).
    #[serde(default)]
    pub value: Option<f64>,
    /// Category of the item involved.
    #[serde(default)]
    pub category: Option<String>,
    /// Identifier of the item involved.
    #[serde(default)]
    pub item_id: Option<String>,
}

impl PageEvent {
    /// Copy with a non-finite `value` dropped and strings trimmed and capped at
    /// [`MAX_ANNOTATION_CHARS`] (blank → `None`).
    pub fn sanitized(&self) -> PageEvent {
        PageEvent {
            kind: self.kind,
            name: clean_opt(self.name.as_deref(), MAX_ANNOTATION_CHARS),
            value: finite(self.value),
            category: clean_opt(self.category.as_deref(), MAX_ANNOTATION_CHARS),
            item_id: clean_opt(self.item_id.as_deref(), MAX_ANNOTATION_CHARS),
        }
    }
}

/// Everything derived from [`RequestFacts`] that conditions can read.
///
/// Events, cookies and the Global Privacy Control flag stay in the facts: they feed
/// the profile and consent logic rather than page-view conditions.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Context {
    /// The parsed page URL.
    pub url: ParsedUrl,
    /// Campaign tags and click id from the page URL.
    pub utm: Utm,
    /// Where the visit came from.
    pub referrer: ReferrerInfo,
    /// Phone, tablet, desktop, bot or unknown.
    pub device: DeviceClass,
    /// Coarse OS (see [`detect_os`]).
    pub os: String,
    /// Coarse browser (see [`detect_browser`]).
    pub browser: String,
    /// The most preferred primary language subtag (`"ru"`).
    pub language: Option<String>,
    /// All preferred primary language subtags, most preferred first.
    pub languages: Vec<String>,
    /// The visitor's local time.
    pub time: LocalTime,
    /// Sanitized location from the edge.
    pub geo: Option<Geo>,
    /// Sanitized page annotations.
    pub page: PageAnnotations,
}

impl Default for Context {
    /// The context of an empty request: Direct, unknown device, the Unix epoch.
    fn default() -> Self {
        Context::from_facts(&RequestFacts::default(), Hemisphere::North)
    }
}

/// Which parts of the context to compute, so a page view whose conditions read only
/// a few of them does not pay for the rest.
///
/// [`ContextNeeds::ALL`] computes everything (what [`Context::from_facts`] does);
/// the [`Default`] computes nothing but the always-present sanitized `page` and
/// `geo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ContextNeeds {
    /// [`Context::url`]: the parsed page URL.
    pub url: bool,
    /// [`Context::utm`]: campaign tags and click id.
    pub utm: bool,
    /// [`Context::referrer`] (computes the URL and UTM tags internally even when
    /// they are not requested, since the classification reads them).
    pub referrer: bool,
    /// [`Context::device`], [`Context::os`] and [`Context::browser`].
    pub user_agent: bool,
    /// [`Context::language`] and [`Context::languages`].
    pub language: bool,
    /// [`Context::time`].
    pub time: bool,
}

impl ContextNeeds {
    /// Every part.
    pub const ALL: ContextNeeds = ContextNeeds {
        url: true,
        utm: true,
        referrer: true,
        user_agent: true,
        language: true,
        time: true,
    };
}

impl Context {
    /// Derives the context of one request. `hemisphere` flips the seasons; the edge
    /// can pass [`Hemisphere::for_country`] of the geo country.
    ///
    /// Same as [`Context::from_facts_with`] with [`ContextNeeds::ALL`].
    pub fn from_facts(facts: &RequestFacts, hemisphere: Hemisphere) -> Context {
        Context::from_facts_with(facts, hemisphere, ContextNeeds::ALL)
    }

    /// Derives only the parts of the context that `needs` asks for; the others are
    /// left at their types' defaults: [`ParsedUrl::default`] (path `/`), no tags,
    /// `Direct`, [`DeviceClass::Unknown`] with empty OS and browser strings (where
    /// [`Context::default`] says `other`), no languages, and [`LocalTime::default`]
    /// (the Unix epoch). `page` and `geo` are always sanitized: they are cheap.
    ///
    /// Every part that is computed equals the same part of
    /// [`Context::from_facts`].
    pub fn from_facts_with(
        facts: &RequestFacts,
        hemisphere: Hemisphere,
        needs: ContextNeeds,
    ) -> Context {
        let need_utm = needs.utm || needs.referrer;
        let (url, utm, referrer) = if needs.url {
            let url = parse_url(&facts.url);
            let (utm, referrer) = if need_utm {
                tags_and_referrer(
                    utm::Tags::from_url(&url),
                    url.host_without_www(),
                    facts,
                    needs,
                )
            } else {
                (Utm::default(), ReferrerInfo::default())
            };
            (url, utm, referrer)
        } else if need_utm {
            // The tags and the referrer read only the page's host and query: skip
            // decoding and copying the rest of the URL, and copy the tags only when
            // they are wanted themselves.
            let (host, query) = url::host_and_query(&facts.url);
            let (utm, referrer) = tags_and_referrer(
                utm::Tags::from_query(query),
                url::strip_www(&host),
                facts,
                needs,
            );
            (ParsedUrl::default(), utm, referrer)
        } else {
            (
                ParsedUrl::default(),
                Utm::default(),
                ReferrerInfo::default(),
            )
        };
        let ua = if needs.user_agent {
            parse_user_agent(facts.user_agent.as_deref())
        } else {
            UserAgentInfo::default()
        };
        let languages = if needs.language {
            languages(facts.language.as_deref())
        } else {
            Vec::new()
        };
        let time = if needs.time {
            local_time(facts.now_ms, facts.utc_offset_minutes, hemisphere)
        } else {
            LocalTime::default()
        };
        Context {
            referrer,
            utm,
            url,
            device: ua.device,
            os: ua.os,
            browser: ua.browser,
            language: languages.first().cloned(),
            languages,
            time,
            geo: facts.geo.as_ref().map(Geo::sanitized),
            page: facts.page.sanitized(),
        }
    }
}

/// The UTM tags (when needed) and the referrer class (when needed) from tags read
/// off the page URL, whichever way the URL was read.
fn tags_and_referrer(
    tags: utm::Tags<'_>,
    page_host: &str,
    facts: &RequestFacts,
    needs: ContextNeeds,
) -> (Utm, ReferrerInfo) {
    let referrer = if needs.referrer {
        referrer::classify_referrer_for(
            facts.referrer.as_deref(),
            page_host,
            referrer::TagsRead::of(&tags),
        )
    } else {
        ReferrerInfo::default()
    };
    let utm = if needs.utm {
        tags.into_utm()
    } else {
        Utm::default()
    };
    (utm, referrer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cap_chars_cuts_on_char_boundaries() {
        assert_eq!(cap_chars("привет", 3), "при");
        assert_eq!(cap_chars("abc", 3), "abc");
        assert_eq!(cap_chars("abc", 0), "");
        assert_eq!(cap_chars("🙂🙂", 1), "🙂");
    }

    #[test]
    fn journey_step_with_few_fields() {
        let facts: RequestFacts = serde_json::from_str(
            r#"{"url": "https://shop.example.ru/?utm_source=yandex&utm_medium=cpc&yclid=1",
                "referrer": "https://yandex.ru/"}"#,
        )
        .unwrap_or_default();
        assert_eq!(facts.referrer.as_deref(), Some("https://yandex.ru/"));
        let ctx = Context::from_facts(&facts, Hemisphere::North);
        assert_eq!(ctx.referrer.class, ReferrerClass::Paid);
        assert_eq!(ctx.referrer.source.as_deref(), Some("yandex"));
        assert_eq!(ctx.utm.click_id.as_deref(), Some("yclid"));
        assert_eq!(ctx.url.host, "shop.example.ru");
        assert_eq!(ctx.device, DeviceClass::Unknown);
        assert_eq!(ctx.time.year, 1970);
        assert_eq!(ctx.language, None);
    }

    #[test]
    fn every_platforms_geo_spelling_compares_equal() {
        let fastly = Geo {
            country: Some("us".into()),
            region: Some("ny".into()),
            city: Some("New York".into()),
        };
        let cloudflare = Geo {
            country: Some("US".into()),
            region: Some("NY".into()),
            city: Some("New York".into()),
        };
        assert_eq!(fastly.sanitized(), cloudflare.sanitized());
        let unknown = Geo {
            country: Some("RU".into()),
            region: Some("?".into()),
            city: Some(" ? ".into()),
        };
        assert_eq!(
            unknown.sanitized(),
            Geo {
                country: Some("RU".into()),
                ..Geo::default()
            }
        );
    }

    #[test]
    fn full_facts_from_json() {
        let facts: Result<RequestFacts, _> = serde_json::from_str(
            r#"{
                "url": "https://example.ru/p",
                "userAgent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
                "language": "ru-RU,ru;q=0.9,en;q=0.8",
                "nowMs": 1795791600000,
                "utcOffsetMinutes": 180,
                "geo": {"country": "ru", "region": "mow", "city": " Москва "},
                "page": {"price": 1990.0, "currency": "rub", "category": "  shoes "},
                "events": [{"kind": "add_to_cart", "value": 1990}, {"kind": "custom", "name": "quiz_done"}],
                "cookies": {"name": "Аня"},
                "globalPrivacyControl": true
            }"#,
        );
        let facts = facts.unwrap_or_default();
        assert!(facts.global_privacy_control);
        assert_eq!(facts.events.len(), 2);
        assert_eq!(
            facts.events.first().map(|e| e.kind),
            Some(PageEventKind::AddToCart)
        );
        let ctx = Context::from_facts(&facts, Hemisphere::North);
        assert_eq!(ctx.device, DeviceClass::Mobile);
        assert_eq!((ctx.os.as_str(), ctx.browser.as_str()), ("ios", "safari"));
        assert_eq!(ctx.language.as_deref(), Some("ru"));
        assert_eq!(ctx.languages, vec!["ru", "en"]);
        assert_eq!((ctx.time.hour, ctx.time.weekday), (18, Weekday::Friday));
        assert_eq!(ctx.time.season, Season::Autumn);
        assert_eq!(
            ctx.geo,
            Some(Geo {
                country: Some("RU".into()),
                region: Some("MOW".into()),
                city: Some("Москва".into())
            })
        );
        assert_eq!(ctx.page.currency.as_deref(), Some("RUB"));
        assert_eq!(ctx.page.category.as_deref(), Some("shoes"));
        assert_eq!(ctx.referrer.class, ReferrerClass::Direct);

        // The context serializes to JSON with camelCase fields and snake_case enums.
        let json = serde_json::to_value(&ctx).unwrap_or_default();
        assert_eq!(json["device"], "mobile");
        assert_eq!(json["referrer"]["class"], "direct");
        assert_eq!(json["time"]["partOfDay"], "evening");
        assert_eq!(json["url"]["host"], "example.ru");
        let back: Result<Context, _> = serde_json::from_value(json);
        assert_eq!(back.ok(), Some(ctx));
    }

    #[test]
    fn event_without_kind_is_rejected() {
        let ev: Result<PageEvent, _> = serde_json::from_str(r#"{"value": 1}"#);
        assert!(ev.is_err());
    }

    #[test]
    fn non_finite_numbers_are_dropped() {
        let facts = RequestFacts {
            page: PageAnnotations {
                price: Some(f64::NAN),
                ..Default::default()
            },
            events: vec![
                PageEvent {
                    kind: PageEventKind::Purchase,
                    name: Some("   ".into()),
                    value: Some(f64::INFINITY),
                    category: None,
                    item_id: Some("x".repeat(4096)),
                };
                100
            ],
            ..Default::default()
        };
        let ctx = Context::from_facts(&facts, Hemisphere::North);
        assert_eq!(ctx.page.price, None);
        let events = facts.sanitized_events();
        assert_eq!(events.len(), MAX_EVENTS);
        assert!(events.iter().all(|e| e.value.is_none() && e.name.is_none()));
        assert!(events
            .iter()
            .all(|e| e.item_id.as_ref().map(|s| s.chars().count()) == Some(MAX_ANNOTATION_CHARS)));

        let mut with_price = facts.page.clone();
        with_price.price = Some(-0.5);
        assert_eq!(with_price.sanitized().price, Some(-0.5));
    }

    #[test]
    fn cookies_are_sanitized() {
        let mut cookies = BTreeMap::new();
        cookies.insert(" name ".to_string(), format!(" {} ", "я".repeat(1000)));
        cookies.insert("  ".to_string(), "blank name".to_string());
        for i in 0..100 {
            cookies.insert(format!("c{i}"), "v".to_string());
        }
        let facts = RequestFacts {
            cookies,
            ..Default::default()
        };
        let clean = facts.sanitized_cookies();
        assert_eq!(clean.len(), MAX_COOKIES);
        assert_eq!(
            clean.get("name").map(|v| v.chars().count()),
            Some(MAX_ANNOTATION_CHARS)
        );
        assert!(!clean.contains_key(""));
    }

    #[test]
    fn hostile_facts_do_not_panic() {
        let big = "%zz\u{0}ж🙂[:@/?#&=".repeat(400);
        assert!(big.len() > 4096);
        let facts = RequestFacts {
            url: big.clone(),
            referrer: Some(big.clone()),
            user_agent: Some(big.clone()),
            language: Some(big.clone()),
            now_ms: i64::MIN,
            utc_offset_minutes: i32::MAX,
            geo: Some(Geo {
                country: Some(big.clone()),
                region: Some(big.clone()),
                city: Some(big.clone()),
            }),
            page: PageAnnotations {
                price: Some(f64::NEG_INFINITY),
                currency: Some(big.clone()),
                category: Some(big.clone()),
                item_id: Some(big.clone()),
                funnel_step: Some(big),
            },
            ..Default::default()
        };
        let ctx = Context::from_facts(&facts, Hemisphere::South);
        let geo = ctx.geo.unwrap_or_default();
        for s in [
            geo.country,
            geo.region,
            geo.city,
            ctx.page.currency,
            ctx.page.category,
            ctx.page.item_id,
            ctx.page.funnel_step,
        ] {
            assert!(s.is_some_and(|s| s.chars().count() <= MAX_ANNOTATION_CHARS));
        }
    }

    #[test]
    fn default_context_is_direct_epoch() {
        let ctx = Context::default();
        assert_eq!(ctx.referrer.class, ReferrerClass::Direct);
        assert_eq!(ctx.url.path, "/");
        assert_eq!(ctx.time.weekday, Weekday::Thursday);
    }

    /// Every subset of [`ContextNeeds`].
    fn all_needs() -> impl Iterator<Item = ContextNeeds> {
        (0u8..64).map(|m| ContextNeeds {
            url: m & 1 != 0,
            utm: m & 2 != 0,
            referrer: m & 4 != 0,
            user_agent: m & 8 != 0,
            language: m & 16 != 0,
            time: m & 32 != 0,
        })
    }

    /// `from_facts_with` gives the needed parts of `from_facts` and the parts of
    /// `Context::default()` elsewhere.
    fn check_needs(facts: &RequestFacts) {
        let full = Context::from_facts(facts, Hemisphere::South);
        assert_eq!(
            Context::from_facts_with(facts, Hemisphere::South, ContextNeeds::ALL),
            full
        );
        let empty = Context::default();
        for needs in all_needs() {
            let lazy = Context::from_facts_with(facts, Hemisphere::South, needs);
            let pick = |needed: bool| if needed { &full } else { &empty };
            assert_eq!(lazy.url, pick(needs.url).url, "{needs:?}");
            assert_eq!(lazy.utm, pick(needs.utm).utm, "{needs:?}");
            assert_eq!(lazy.referrer, pick(needs.referrer).referrer, "{needs:?}");
            let ua = if needs.user_agent {
                UserAgentInfo {
                    device: full.device,
                    os: full.os.clone(),
                    browser: full.browser.clone(),
                }
            } else {
                UserAgentInfo::default()
            };
            assert_eq!(
                (lazy.device, &lazy.os, &lazy.browser),
                (ua.device, &ua.os, &ua.browser),
                "{needs:?}"
            );
            let lang = pick(needs.language);
            assert_eq!(
                (&lazy.language, &lazy.languages),
                (&lang.language, &lang.languages),
                "{needs:?}"
            );
            assert_eq!(lazy.time, pick(needs.time).time, "{needs:?}");
            assert_eq!((&lazy.geo, &lazy.page), (&full.geo, &full.page));
        }
    }

    #[test]
    fn from_facts_with_computes_only_what_is_needed() {
        let typical = RequestFacts {
            url: "https://www.demo.example.ru/r/sixty?utm_source=yandex&utm_medium=cpc&utm_campaign=autumn&yclid=1".into(),
            referrer: Some("https://yandex.ru/".into()),
            user_agent: Some("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148".into()),
            language: Some("ru-RU,ru;q=0.9,en;q=0.8".into()),
            now_ms: 1_795_791_600_000,
            utc_offset_minutes: 180,
            geo: Some(Geo {
                country: Some("br".into()),
                ..Default::default()
            }),
            page: PageAnnotations {
                price: Some(6500.0),
                category: Some(" modern ".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        check_needs(&typical);
        // Internal: the page host (without `www.`) is read without parsing the URL.
        check_needs(&RequestFacts {
            referrer: Some("https://demo.example.ru/cart".into()),
            ..typical.clone()
        });
        check_needs(&RequestFacts {
            url: "/?utm_source=vk".into(),
            referrer: None,
            ..typical.clone()
        });
        check_needs(&RequestFacts::default());
        let big = "%zz\u{0}ж🙂[:@/?#&=".repeat(400);
        check_needs(&RequestFacts {
            url: big.clone(),
            referrer: Some(big.clone()),
            user_agent: Some(big.clone()),
            language: Some(big),
            ..Default::default()
        });
    }

    #[test]
    fn string_helpers_match_std() {
        for s in [
            "", " ", "a", " a ", "\u{a0}a", "a\u{a0}", "\u{3000}", "\t x\n", "ж", " ж ", "\u{7f}",
        ] {
            assert_eq!(trim(s), s.trim(), "{s:?}");
        }
        for s in ["", ",", "a,b", ",a,,b,", "ж,ж"] {
            assert_eq!(
                split_byte(s, b',').collect::<Vec<_>>(),
                s.split(',').collect::<Vec<_>>()
            );
            assert_eq!(split_once_byte(s, b','), s.split_once(','));
        }
        assert_eq!(cap_str("привет", 3), "при");
        assert_eq!(cap_string("привет".to_string(), 3), "при");
        assert_eq!(cap_string("abc".to_string(), 5), "abc");
    }

    proptest::proptest! {
        #[test]
        fn string_helpers_match_std_on_any_input(s in "\\PC{0,40}", max in 0usize..50) {
            proptest::prop_assert_eq!(trim(&s), s.trim());
            proptest::prop_assert_eq!(
                split_byte(&s, b';').collect::<Vec<_>>(),
                s.split(';').collect::<Vec<_>>()
            );
            proptest::prop_assert_eq!(split_once_byte(&s, b'='), s.split_once('='));
            let reference: String = s.chars().take(max).collect();
            proptest::prop_assert_eq!(cap_str(&s, max), reference.as_str());
            proptest::prop_assert_eq!(cap_string(s.clone(), max), reference);
        }

        #[test]
        fn from_facts_with_never_panics(
            url in "\\PC{0,80}",
            referrer in proptest::option::of("\\PC{0,80}"),
            needs in 0u8..64,
        ) {
            let facts = RequestFacts { url, referrer, ..Default::default() };
            let needs = all_needs().nth(usize::from(needs)).unwrap_or(ContextNeeds::ALL);
            let _ = Context::from_facts_with(&facts, Hemisphere::North, needs);
        }

        #[test]
        fn from_facts_never_panics(
            url in "\\PC{0,120}",
            referrer in proptest::option::of("\\PC{0,120}"),
            ua in proptest::option::of("\\PC{0,120}"),
            lang in proptest::option::of("\\PC{0,60}"),
            now_ms in proptest::num::i64::ANY,
            off in proptest::num::i32::ANY,
        ) {
            let facts = RequestFacts {
                url,
                referrer,
                user_agent: ua,
                language: lang,
                now_ms,
                utc_offset_minutes: off,
                ..Default::default()
            };
            let _ = Context::from_facts(&facts, Hemisphere::North);
        }
    }
}
