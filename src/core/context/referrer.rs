//! Where a visit came from: the traffic channel and a canonical source name.
//!
//! The referrer header/`document.referrer` is often stripped (Telegram and other
//! in-app browsers, `noreferrer` links, strict referrer policies), so UTM tags and
//! click ids are used both to override the referrer (paid, email) and to fill in for
//! it when it is missing.

use crate::core::lowercase::to_lowercase;
use std::borrow::Cow;

use super::trim;
use super::url::{scheme_and_host, strip_www, ParsedUrl};
use super::utm::{ClickIdSpec, Tags, Utm};

/// The traffic channel of a visit.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum ReferrerClass {
    /// Organic search results.
    Search,
    /// Social networks, messengers and content platforms.
    Social,
    /// Email: newsletters and links opened from webmail.
    Email,
    /// Paid advertising (by UTM medium or a paid click id).
    Paid,
    /// A page of the same site.
    Internal,
    /// No referrer and no campaign tags: typed URL, bookmark, stripped referrer.
    #[default]
    Direct,
    /// Anything else, e.g. a link on an unknown site.
    Other,
}

/// The classified origin of a visit.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ReferrerInfo {
    /// The channel.
    pub class: ReferrerClass,
    /// Canonical short source name when known: search engines `google`, `yandex`,
    /// `bing`, `duckduckgo`, `mail_ru`, `rambler`, `yahoo`, `baidu`, `ecosia`,
    /// `brave`, `startpage`, `qwant`; social `vk`, `ok`, `telegram`, `max`, `dzen`,
    /// `rutube`, `pikabu`, `my_mail_ru`, `facebook`, `instagram`, `threads`, `x`,
    /// `linkedin`, `youtube`, `pinterest`, `tiktok`, `whatsapp`, `reddit`; webmail
    /// `gmail`, `yandex_mail`, `mail_ru_mail`, `rambler_mail`, `yahoo_mail`,
    /// `outlook`. A `utm_source` that is none of these (after aliases such as
    /// `tg` → `telegram`, `vkontakte` → `vk`, `yandex_direct` → `yandex`) is kept as
    /// given (lowercased), e.g. `"partner_blog"`.
    pub source: Option<String>,
    /// The referrer's host, lowercased, without port and without a leading `www.`;
    /// `None` when there is no usable referrer.
    pub host: Option<String>,
}

/// How a [`Known`] pattern may be prefixed by subdomains.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Sub {
    /// The domain itself and any subdomain (`m.vk.com`, `web.telegram.org`).
    Any,
    /// Only the bare domain, `www.` or `m.`. Used for portals such as `google.*`
    /// and `yandex.*` whose other subdomains (docs, maps, market, music) are not
    /// search results.
    WwwOnly,
}

/// One entry of the host table. `domain` ending in `.*` matches any public-suffix
/// tail: one label (`google.ru`) or a generic second level plus a country
/// (`google.co.uk`, `yandex.com.tr`).
struct Known {
    /// For a `name.*` pattern, `name` (what must come before the tail); otherwise
    /// the whole domain.
    domain: &'static str,
    /// Whether the pattern ends in `.*`.
    wildcard: bool,
    /// Number of labels of `domain`.
    labels: usize,
    sub: Sub,
    class: ReferrerClass,
    source: &'static str,
}

/// A table entry; `.*` patterns and label counts are worked out at compile time.
const fn k(pattern: &'static str, sub: Sub, class: ReferrerClass, source: &'static str) -> Known {
    let bytes = pattern.as_bytes();
    let wildcard =
        bytes.len() > 2 && bytes[bytes.len() - 2] == b'.' && bytes[bytes.len() - 1] == b'*';
    let domain = if wildcard {
        // Cutting the ASCII `.*` off a `str` leaves a valid one.
        match std::str::from_utf8(bytes.split_at(bytes.len() - 2).0) {
            Ok(d) => d,
            Err(_) => pattern,
        }
    } else {
        pattern
    };
    let mut labels = 1;
    let mut i = 0;
    while i < domain.len() {
        if domain.as_bytes()[i] == b'.' {
            labels += 1;
        }
        i += 1;
    }
    Known {
        domain,
        wildcard,
        labels,
        sub,
        class,
        source,
    }
}

use ReferrerClass::{Email, Search, Social};
use Sub::{Any, WwwOnly};

/// Known referrer hosts. When several entries match, the most specific (most labels
/// matched) wins, so `mail.yandex.ru` is webmail and `zen.yandex.ru` is social even
/// though `yandex.*` is search.
const KNOWN_HOSTS: &[Known] = &[
    // Search engines.
    k("google.*", WwwOnly, Search, "google"),
    k("yandex.*", WwwOnly, Search, "yandex"),
    k("ya.ru", Any, Search, "yandex"),
    k("bing.com", Any, Search, "bing"),
    k("duckduckgo.com", Any, Search, "duckduckgo"),
    k("go.mail.ru", Any, Search, "mail_ru"),
    k("rambler.ru", WwwOnly, Search, "rambler"),
    k("nova.rambler.ru", Any, Search, "rambler"),
    k("search.yahoo.com", Any, Search, "yahoo"),
    k("baidu.com", Any, Search, "baidu"),
    k("ecosia.org", Any, Search, "ecosia"),
    k("search.brave.com", Any, Search, "brave"),
    k("startpage.com", Any, Search, "startpage"),
    k("qwant.com", Any, Search, "qwant"),
    // Webmail.
    k("mail.google.com", Any, Email, "gmail"),
    k("mail.yandex.*", Any, Email, "yandex_mail"),
    k("e.mail.ru", Any, Email, "mail_ru_mail"),
    k("touch.mail.ru", Any, Email, "mail_ru_mail"),
    k("mail.rambler.ru", Any, Email, "rambler_mail"),
    k("mail.yahoo.com", Any, Email, "yahoo_mail"),
    k("outlook.live.com", Any, Email, "outlook"),
    k("outlook.office.com", Any, Email, "outlook"),
    k("outlook.office365.com", Any, Email, "outlook"),
    // Social networks, messengers, content platforms.
    k("vk.com", Any, Social, "vk"),
    k("vk.ru", Any, Social, "vk"),
    k("vk.me", Any, Social, "vk"),
    k("vk.cc", Any, Social, "vk"),
    k("ok.ru", Any, Social, "ok"),
    k("t.me", Any, Social, "telegram"),
    k("telegram.me", Any, Social, "telegram"),
    k("telegram.org", Any, Social, "telegram"),
    k("max.ru", Any, Social, "max"),
    k("dzen.ru", Any, Social, "dzen"),
    k("zen.yandex.ru", Any, Social, "dzen"),
    k("rutube.ru", Any, Social, "rutube"),
    k("pikabu.ru", Any, Social, "pikabu"),
    k("my.mail.ru", Any, Social, "my_mail_ru"),
    k("facebook.com", Any, Social, "facebook"),
    k("fb.com", Any, Social, "facebook"),
    k("instagram.com", Any, Social, "instagram"),
    k("threads.net", Any, Social, "threads"),
    k("twitter.com", Any, Social, "x"),
    k("x.com", Any, Social, "x"),
    k("t.co", Any, Social, "x"),
    k("linkedin.com", Any, Social, "linkedin"),
    k("lnkd.in", Any, Social, "linkedin"),
    k("youtube.com", Any, Social, "youtube"),
    k("youtu.be", Any, Social, "youtube"),
    k("pinterest.*", Any, Social, "pinterest"),
    k("pin.it", Any, Social, "pinterest"),
    k("tiktok.com", Any, Social, "tiktok"),
    k("reddit.com", Any, Social, "reddit"),
    k("wa.me", Any, Social, "whatsapp"),
    k("whatsapp.com", Any, Social, "whatsapp"),
];

/// Android apps send `android-app://<package>/` as the referrer of links opened from
/// them; the package is matched exactly.
const KNOWN_APPS: &[(&str, ReferrerClass, &str)] = &[
    ("com.google.android.gm", Email, "gmail"),
    ("ru.yandex.mail", Email, "yandex_mail"),
    ("ru.mail.mailapp", Email, "mail_ru_mail"),
    ("com.microsoft.office.outlook", Email, "outlook"),
    ("com.google.android.googlequicksearchbox", Search, "google"),
    ("ru.yandex.searchplugin", Search, "yandex"),
    ("org.telegram.messenger", Social, "telegram"),
    ("com.vkontakte.android", Social, "vk"),
    ("ru.ok.android", Social, "ok"),
    ("com.whatsapp", Social, "whatsapp"),
    ("com.instagram.android", Social, "instagram"),
    ("com.facebook.katana", Social, "facebook"),
];

/// Second-level labels under which a `name.*` pattern also matches a country code
/// (`google.co.uk`, `google.com.br`). A fixed list, so `google.evil.com` or
/// `google.attacker.ru` do not pass as Google.
const GENERIC_SECOND_LEVELS: &[&str] = &[
    "co", "com", "org", "net", "ac", "gov", "edu", "or", "ne", "go", "gob",
];

/// `utm_source` spellings seen in the wild, mapped to the canonical source. An empty
/// canonical name means "generic": the class is known but the value itself is kept
/// as the source (e.g. `newsletter`).
const SOURCE_ALIASES: &[(&str, ReferrerClass, &str)] = &[
    ("google", Search, "google"),
    ("googleads", Search, "google"),
    ("google_ads", Search, "google"),
    ("adwords", Search, "google"),
    ("yandex", Search, "yandex"),
    ("ya", Search, "yandex"),
    ("yandex_direct", Search, "yandex"),
    ("yandexdirect", Search, "yandex"),
    ("direct", Search, "yandex"),
    ("bing", Search, "bing"),
    ("duckduckgo", Search, "duckduckgo"),
    ("ddg", Search, "duckduckgo"),
    ("mail_ru", Search, "mail_ru"),
    ("rambler", Search, "rambler"),
    ("yahoo", Search, "yahoo"),
    ("baidu", Search, "baidu"),
    ("ecosia", Search, "ecosia"),
    ("brave", Search, "brave"),
    ("vk", Social, "vk"),
    ("vkontakte", Social, "vk"),
    ("vkads", Social, "vk"),
    ("vk_ads", Social, "vk"),
    ("mytarget", Social, "vk"),
    ("ok", Social, "ok"),
    ("odnoklassniki", Social, "ok"),
    ("telegram", Social, "telegram"),
    ("tg", Social, "telegram"),
    ("telegram_ads", Social, "telegram"),
    ("tgads", Social, "telegram"),
    ("max", Social, "max"),
    ("dzen", Social, "dzen"),
    ("zen", Social, "dzen"),
    ("rutube", Social, "rutube"),
    ("pikabu", Social, "pikabu"),
    ("facebook", Social, "facebook"),
    ("fb", Social, "facebook"),
    ("meta", Social, "facebook"),
    ("instagram", Social, "instagram"),
    ("ig", Social, "instagram"),
    ("insta", Social, "instagram"),
    ("threads", Social, "threads"),
    ("twitter", Social, "x"),
    ("x", Social, "x"),
    ("linkedin", Social, "linkedin"),
    ("youtube", Social, "youtube"),
    ("yt", Social, "youtube"),
    ("pinterest", Social, "pinterest"),
    ("tiktok", Social, "tiktok"),
    ("reddit", Social, "reddit"),
    ("whatsapp", Social, "whatsapp"),
    ("wa", Social, "whatsapp"),
    ("email", Email, ""),
    ("e-mail", Email, ""),
    ("newsletter", Email, ""),
    ("mailing", Email, ""),
    ("gmail", Email, "gmail"),
    ("unisender", Email, ""),
    ("sendpulse", Email, ""),
    ("mailchimp", Email, ""),
    ("dashamail", Email, ""),
];

/// Normalized `utm_medium` values (lowercase, `-`/`_`/space/`.` removed) that mean
/// paid traffic; any medium starting with `paid`, `cpc`, `cpm`, `cpa`, `cpv` or
/// `ppc` also counts.
const PAID_MEDIUMS: &[&str] = &[
    "cpc",
    "ppc",
    "paid",
    "paidsearch",
    "cpm",
    "cpa",
    "cpv",
    "display",
    "banner",
    "retargeting",
    "remarketing",
    "paidsocial",
];
const PAID_MEDIUM_PREFIXES: &[&str] = &["paid", "cpc", "cpm", "cpa", "cpv", "ppc"];

/// Normalized `utm_medium` values that mean email.
const EMAIL_MEDIUMS: &[&str] = &["email", "newsletter", "mailing", "mail", "рассылка"];

/// Normalized `utm_medium` values that mean unpaid social traffic (only used when
/// the referrer does not already say where the visit came from).
const SOCIAL_MEDIUMS: &[&str] = &[
    "social",
    "sm",
    "smm",
    "socialnetwork",
    "socialmedia",
    "organicsocial",
    "socialorganic",
];

/// Looks up a host (any case, with or without `www.`) in the known-host table.
///
/// Returns the channel (`Search`, `Social` or `Email` for webmail) and the canonical
/// source name. Matching is on whole labels, so `notvk.com` is not `vk.com`.
pub fn known_host(host: &str) -> Option<(ReferrerClass, &'static str)> {
    let host = lowercase(trim(host).trim_end_matches('.'));
    if host.is_empty() {
        return None;
    }
    // The most specific match wins (most labels); among equally specific ones, the
    // last listed. Plain domains are found through `PLAIN_HOSTS`, one lookup per
    // label-boundary suffix of the host; the few `name.*` patterns are tried
    // directly.
    let mut best: Option<(usize, usize)> = None;
    let mut consider = |labels: usize, index: usize| {
        if best.is_none_or(|b| (labels, index) > b) {
            best = Some((labels, index));
        }
    };
    let bytes = host.as_bytes();
    let mut hash = HASH_START;
    for (i, &b) in bytes.iter().enumerate().rev() {
        hash = hash_step(hash, b);
        let at_boundary = i == 0 || bytes.get(i - 1) == Some(&b'.');
        if !at_boundary {
            continue;
        }
        let suffix = bytes.get(i..).unwrap_or(&[]);
        if let Some(index) = plain_host_index(hash, suffix) {
            if let Some(entry) = KNOWN_HOSTS.get(index) {
                if prefix_ok(&host, entry.domain, entry.sub) {
                    consider(entry.labels, index);
                }
            }
        }
    }
    let heads = wildcard_heads(&host);
    for &index in &WILDCARD_HOSTS {
        if let Some(n) = KNOWN_HOSTS
            .get(index)
            .and_then(|entry| wildcard_match_len(entry, &heads))
        {
            consider(n, index);
        }
    }
    best.and_then(|(_, index)| KNOWN_HOSTS.get(index))
        .map(|entry| (entry.class, entry.source))
}

/// FNV-1a over a domain's bytes from last to first, so [`known_host`] gets the hash
/// of every suffix of a host in one right-to-left pass.
const HASH_START: u32 = 0x811c_9dc5;

const fn hash_step(hash: u32, byte: u8) -> u32 {
    (hash ^ byte as u32).wrapping_mul(0x0100_0193)
}

/// Slots of [`PLAIN_HOSTS`]: a power of two, over twice the plain entries.
const HOST_SLOTS: usize = 128;

/// Open addressing (linear probing) over the hash of each plain (not `.*`)
/// [`KNOWN_HOSTS`] domain: the entry's index, or `u8::MAX` for an empty slot.
static PLAIN_HOSTS: [u8; HOST_SLOTS] = {
    assert!(KNOWN_HOSTS.len() < u8::MAX as usize && 2 * KNOWN_HOSTS.len() < HOST_SLOTS);
    let mut slots = [u8::MAX; HOST_SLOTS];
    let mut i = 0;
    while i < KNOWN_HOSTS.len() {
        let entry = &KNOWN_HOSTS[i];
        if !entry.wildcard {
            let d = entry.domain.as_bytes();
            let mut hash = HASH_START;
            let mut j = d.len();
            while j > 0 {
                j -= 1;
                hash = hash_step(hash, d[j]);
            }
            let mut slot = hash as usize % HOST_SLOTS;
            while slots[slot] != u8::MAX {
                // Every plain domain is listed once.
                let other = KNOWN_HOSTS[slots[slot] as usize].domain.as_bytes();
                let mut same = other.len() == d.len();
                let mut k = 0;
                while same && k < d.len() {
                    same = other[k] == d[k];
                    k += 1;
                }
                assert!(!same, "duplicate domain in KNOWN_HOSTS");
                slot = (slot + 1) % HOST_SLOTS;
            }
            slots[slot] = i as u8;
        }
        i += 1;
    }
    slots
};

/// Indices of the `name.*` entries of [`KNOWN_HOSTS`].
static WILDCARD_HOSTS: [usize; WILDCARD_COUNT] = {
    let mut out = [0; WILDCARD_COUNT];
    let mut n = 0;
    let mut i = 0;
    while i < KNOWN_HOSTS.len() {
        if KNOWN_HOSTS[i].wildcard {
            out[n] = i;
            n += 1;
        }
        i += 1;
    }
    out
};

const WILDCARD_COUNT: usize = {
    let mut n = 0;
    let mut i = 0;
    while i < KNOWN_HOSTS.len() {
        if KNOWN_HOSTS[i].wildcard {
            n += 1;
        }
        i += 1;
    }
    n
};

/// The index of the plain [`KNOWN_HOSTS`] entry whose domain is `suffix` (hashed to
/// `hash`), if any.
fn plain_host_index(hash: u32, suffix: &[u8]) -> Option<usize> {
    let mut slot = hash as usize % HOST_SLOTS;
    for _ in 0..HOST_SLOTS {
        let index = usize::from(*PLAIN_HOSTS.get(slot)?);
        let entry = KNOWN_HOSTS.get(index)?;
        if entry.domain.as_bytes() == suffix {
            return Some(index);
        }
        slot = (slot + 1) % HOST_SLOTS;
    }
    None
}

/// `s.to_lowercase()`, borrowed when `s` is ASCII without uppercase letters.
fn lowercase(s: &str) -> Cow<'_, str> {
    if !s.is_ascii() {
        Cow::Owned(to_lowercase(s))
    } else if s.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(s.to_ascii_lowercase())
    } else {
        Cow::Borrowed(s)
    }
}

/// What a `name.*` pattern must match in front of a public-suffix tail: `host`
/// without a one-label tail (`google` of `google.ru`), and without a generic second
/// level plus a country (`google` of `google.co.uk`); `None` where that tail is not
/// acceptable or the host has too few labels.
fn wildcard_heads(host: &str) -> [Option<&str>; 2] {
    let Some(dot) = host.bytes().rposition(|b| b == b'.') else {
        return [None, None];
    };
    let head = host.get(..dot).unwrap_or("");
    let tld = host.get(dot + 1..).unwrap_or("");
    let one = is_tld_like(tld).then_some(head);
    let two = head.bytes().rposition(|b| b == b'.').and_then(|dot2| {
        let second = head.get(dot2 + 1..).unwrap_or("");
        let tail_ok = GENERIC_SECOND_LEVELS.contains(&second)
            && tld.len() == 2
            && tld.bytes().all(|b| b.is_ascii_alphabetic());
        tail_ok.then(|| head.get(..dot2).unwrap_or(""))
    });
    [one, two]
}

/// Number of labels of the host a `name.*` entry accounts for, if it matches.
/// `heads` is [`wildcard_heads`] of the host.
fn wildcard_match_len(entry: &Known, heads: &[Option<&str>; 2]) -> Option<usize> {
    // Try a one-label tail, then a generic-second-level + country tail.
    for (tail_len, head) in [1usize, 2].into_iter().zip(heads) {
        if head.is_some_and(|head| prefix_ok(head, entry.domain, entry.sub)) {
            return Some(entry.labels + tail_len);
        }
    }
    None
}

/// A top-level domain: letters only (or punycode `xn--`), so `google.1` or
/// `google.com-evil` are not matched.
fn is_tld_like(label: &str) -> bool {
    !label.is_empty() && (label.starts_with("xn--") || label.chars().all(char::is_alphabetic))
}

/// Whether `host` is `domain` or a subdomain of it allowed by `sub`.
fn prefix_ok(host: &str, domain: &str, sub: Sub) -> bool {
    let (h, d) = (host.as_bytes(), domain.as_bytes());
    // Most table entries are longer or already differ in the last byte, or (for a
    // subdomain) lack the dot in front: reject those before comparing.
    let Some(split) = h.len().checked_sub(d.len()) else {
        return false;
    };
    if h.last() != d.last() {
        return false;
    }
    if split == 0 {
        return h == d;
    }
    if split == 1 || h.get(split - 1) != Some(&b'.') || h.get(split..) != Some(d) {
        // (`split == 1` is `.domain`: an empty subdomain.)
        return false;
    }
    let prefix = h.get(..split - 1).unwrap_or(&[]);
    match sub {
        Sub::Any => true,
        Sub::WwwOnly => prefix == b"www" || prefix == b"m",
    }
}

/// Maps a `utm_source` value (or any source name) to a channel and canonical source
/// name: first through the alias table, then, if it looks like a host
/// (`vk.com`, `yandex.ru`), through the host table. `None` when unknown.
///
/// The returned name is `None` for generic email sources (`newsletter`,
/// `unisender`), where the value itself is the most specific name available.
pub fn canonical_source(name: &str) -> Option<(ReferrerClass, Option<&'static str>)> {
    let name = lowercase(trim(name));
    if let Some((_, class, source)) = SOURCE_ALIASES.iter().find(|(a, _, _)| *a == name) {
        let source = if source.is_empty() {
            None
        } else {
            Some(*source)
        };
        return Some((*class, source));
    }
    if name.bytes().any(|b| b == b'.') {
        return known_host(&name).map(|(class, source)| (class, Some(source)));
    }
    None
}

/// The canonical source name for a `utm_source` value: the alias/host match when
/// known, the value itself otherwise.
fn source_name(utm_source: &str) -> String {
    match canonical_source(utm_source) {
        Some((_, Some(name))) => name.to_string(),
        _ => utm_source.to_string(),
    }
}

/// `utm_medium` lowercased with separators removed, so `paid_social`, `Paid-Social`
/// and `paid social` compare equal.
fn normalize_medium(medium: &str) -> Cow<'_, str> {
    let is_sep = |b: u8| matches!(b, b'-' | b'_' | b' ' | b'.');
    if !medium.is_ascii() {
        let joined: String = medium
            .chars()
            .filter(|c| !matches!(c, '-' | '_' | ' ' | '.'))
            .collect();
        return Cow::Owned(to_lowercase(&joined));
    }
    if medium.bytes().any(|b| is_sep(b) || b.is_ascii_uppercase()) {
        Cow::Owned(
            medium
                .bytes()
                .filter(|&b| !is_sep(b))
                .map(|b| char::from(b.to_ascii_lowercase()))
                .collect(),
        )
    } else {
        Cow::Borrowed(medium)
    }
}

fn is_paid_medium(medium: &str) -> bool {
    PAID_MEDIUMS.contains(&medium) || PAID_MEDIUM_PREFIXES.iter().any(|p| medium.starts_with(p))
}

fn is_email_medium(medium: &str) -> bool {
    EMAIL_MEDIUMS.contains(&medium) || medium.starts_with("email")
}

/// Classifies a visit from its referrer, the landing page URL and its campaign tags.
///
/// Rules, first match wins (`ref` = the referrer's host, `www.` and port ignored):
///
/// | # | Condition | Class | `source` |
/// |---|-----------|-------|----------|
/// | 1 | `utm_medium` is paid (`cpc`, `ppc`, `paid`, `paidsearch`, `cpm`, `cpa`, `cpv`, `display`, `banner`, `retargeting`, `remarketing`, `paid_social`, or starts with `paid`/`cpc`/`cpm`/`cpa`/`cpv`/`ppc`; case and `-`/`_`/space ignored) **or** a paid click id is present (`yclid`, `gclid`, `gbraid`, `wbraid`, `dclid`, `msclkid`, `ttclid`, `twclid`, `li_fat_id`; not `fbclid`/`ysclid`, which organic links carry too) | `Paid` | canonical `utm_source`, else the click id's platform (`yclid` → `yandex`, `gclid` → `google`), else `ref`'s known name |
/// | 2 | `utm_medium` is `email`/`e-mail`/`newsletter`/`mailing`/`mail` **or** `ref` is webmail (`mail.google.com`, `mail.yandex.*`, `e.mail.ru`, `mail.rambler.ru`, `outlook.live.com`, `outlook.office.com`, …) or the Gmail/Mail.ru/Yandex Mail/Outlook Android app | `Email` | canonical `utm_source`, else the webmail name |
/// | 3 | `ref` equals the page host | `Internal` | — |
/// | 4 | `ref` is a search engine (`google.*` incl. `google.co.uk`, `yandex.*`, `ya.ru`, `bing.com`, `duckduckgo.com`, `go.mail.ru`, `rambler.ru`, `nova.rambler.ru`, `search.yahoo.com`, `baidu.com`, `ecosia.org`, `search.brave.com`, …) | `Search` | engine name |
/// | 5 | `ref` is a social network or messenger (`vk.com`, `vk.ru`, `ok.ru`, `t.me`, `telegram.org`, `max.ru`, `dzen.ru`, `zen.yandex.ru`, `facebook.com`, `instagram.com`, `twitter.com`, `x.com`, `t.co`, `linkedin.com`, `lnkd.in`, `youtube.com`, `pinterest.*`, `tiktok.com`, `reddit.com`, `wa.me`, `whatsapp.com`, `my.mail.ru`, …) | `Social` | network name |
/// | 6 | otherwise, `utm_source` names a known search engine / social network / email sender (`google`, `yandex`, `vk`, `tg`, `telegram`, `email`, `newsletter`, a known host such as `vk.com`, …) | that class | canonical name |
/// | 7 | otherwise, `utm_medium` is `social`/`smm`/`social_network`/… or `organic` | `Social` / `Search` | `utm_source` as given |
/// | 8 | otherwise, an organic click id is present (`fbclid`, `ysclid`) | `Social` / `Search` | `facebook` / `yandex` |
/// | 9 | otherwise, a referrer or any `utm_*` tag is present | `Other` | `utm_source` as given |
/// | 10 | no (usable) referrer and no tags | `Direct` | — |
///
/// Hosts match on whole labels (`notvk.com` is not VK); `google.*`, `yandex.*` and
/// `rambler.ru` match only the bare domain, `www.` and `m.` (so `docs.google.com` is
/// `Other`), the rest match any subdomain. A referrer that does not parse to a host
/// (empty, garbage, `about:blank`) counts as no referrer. `host` is always the
/// referrer's host when there is one, whatever the class.
///
/// Rules 6–8 run for unknown referrers too, not only missing ones: a campaign link
/// that passes through a redirector or an unknown site still says where it was
/// posted.
pub fn classify_referrer(referrer: Option<&str>, page: &ParsedUrl, utm: &Utm) -> ReferrerInfo {
    let tags = TagsRead {
        source: utm.source.as_deref(),
        medium: utm.medium.as_deref(),
        click: utm.click_id_spec(),
        any_tag: !utm.has_no_tags(),
    };
    classify_referrer_for(referrer, page.host_without_www(), tags)
}

/// What [`classify_referrer`] reads of the campaign tags.
#[derive(Clone, Copy)]
pub(crate) struct TagsRead<'a> {
    /// [`Utm::source`].
    pub(crate) source: Option<&'a str>,
    /// [`Utm::medium`].
    pub(crate) medium: Option<&'a str>,
    /// [`Utm::click_id_spec`].
    pub(crate) click: Option<&'static ClickIdSpec>,
    /// `!`[`Utm::has_no_tags`].
    pub(crate) any_tag: bool,
}

impl<'a> TagsRead<'a> {
    pub(crate) fn of(tags: &'a Tags<'_>) -> TagsRead<'a> {
        TagsRead {
            source: tags.source.as_deref(),
            medium: tags.medium.as_deref(),
            click: tags.click,
            any_tag: !tags.has_no_tags(),
        }
    }
}

/// [`classify_referrer`] given only what it reads of the page and its tags: the
/// page's host without `www.` ([`ParsedUrl::host_without_www`]).
pub(crate) fn classify_referrer_for(
    referrer: Option<&str>,
    page_host: &str,
    utm: TagsRead<'_>,
) -> ReferrerInfo {
    // Only the referrer's scheme and host matter: its path and query are not decoded.
    let ref_url = referrer
        .map(scheme_and_host)
        .filter(|(_, host)| !host.is_empty());
    let known = ref_url.as_ref().and_then(|(scheme, host)| {
        if scheme.eq_ignore_ascii_case("android-app") {
            KNOWN_APPS
                .iter()
                .find(|(pkg, _, _)| *pkg == host)
                .map(|(_, class, source)| (*class, *source))
        } else {
            known_host(host)
        }
    });
    let host = ref_url
        .as_ref()
        .map(|(_, host)| strip_www(host).to_string());
    let (class, source) = classify(known, host.as_deref(), page_host, utm);
    ReferrerInfo {
        class,
        source,
        host,
    }
}

/// The rules of [`classify_referrer`]: class and source from the referrer's known
/// entry and host, the page's host (both without `www.`) and its tags.
fn classify(
    known: Option<(ReferrerClass, &'static str)>,
    host: Option<&str>,
    page_host: &str,
    utm: TagsRead<'_>,
) -> (ReferrerClass, Option<String>) {
    let utm_source = utm.source;
    let medium = utm.medium.map(normalize_medium);
    let medium = medium.as_deref().unwrap_or("");
    let click = utm.click;

    // 1. Paid.
    if is_paid_medium(medium) || click.is_some_and(|c| c.paid) {
        let source = utm_source
            .map(source_name)
            .or_else(|| click.filter(|c| c.paid).map(|c| c.source.to_string()))
            .or_else(|| known.map(|(_, s)| s.to_string()));
        return (ReferrerClass::Paid, source);
    }

    // 2. Email.
    let webmail = known.filter(|(class, _)| *class == Email);
    if is_email_medium(medium) || webmail.is_some() {
        let source = utm_source
            .map(source_name)
            .or_else(|| webmail.map(|(_, s)| s.to_string()));
        return (Email, source);
    }

    // 3. Internal.
    if let Some(h) = host {
        if !page_host.is_empty() && h == page_host {
            return (ReferrerClass::Internal, None);
        }
    }

    // 4–5. Known search engine or social network.
    if let Some((class, source)) = known {
        return (class, Some(source.to_string()));
    }

    // 6. utm_source names a known channel.
    if let Some(src) = utm_source {
        if let Some((class, name)) = canonical_source(src) {
            let source = name.map_or_else(|| src.to_string(), str::to_string);
            return (class, Some(source));
        }
    }

    // 7. utm_medium names the channel.
    if SOCIAL_MEDIUMS.contains(&medium) {
        return (Social, utm_source.map(str::to_string));
    }
    if medium == "organic" {
        return (Search, utm_source.map(str::to_string));
    }

    // 8. An organic click id says which platform the link was on.
    if let Some(c) = click {
        let class = if c.source == "yandex" { Search } else { Social };
        return (class, Some(c.source.to_string()));
    }

    // 9–10.
    if host.is_some() || utm.any_tag {
        (ReferrerClass::Other, utm_source.map(str::to_string))
    } else {
        (ReferrerClass::Direct, None)
    }
}

#[cfg(test)]
mod tests {
    use super::super::url::parse_url;
    use super::*;
    use proptest::strategy::Strategy;
    use ReferrerClass::*;

    fn classify(referrer: Option<&str>, page: &str) -> ReferrerInfo {
        let page = parse_url(page);
        let utm = Utm::from_url(&page);
        classify_referrer(referrer, &page, &utm)
    }

    #[test]
    fn classification_table() {
        const PAGE: &str = "https://shop.example.ru/landing";
        // (referrer, page URL, class, source, host)
        type Case = (
            Option<&'static str>,
            &'static str,
            ReferrerClass,
            Option<&'static str>,
            Option<&'static str>,
        );
        let cases: &[Case] = &[
            // Paid.
            (
                Some("https://yandex.ru/"),
                "https://shop.example.ru/?utm_source=yandex&utm_medium=cpc&yclid=123",
                Paid,
                Some("yandex"),
                Some("yandex.ru"),
            ),
            (None, "/?yclid=1", Paid, Some("yandex"), None),
            (
                Some("https://www.google.com/"),
                "/?gclid=x",
                Paid,
                Some("google"),
                Some("google.com"),
            ),
            (
                Some("https://vk.com/"),
                "/?utm_medium=paid_social",
                Paid,
                Some("vk"),
                Some("vk.com"),
            ),
            (
                None,
                "/?utm_source=vkads&utm_medium=CPC",
                Paid,
                Some("vk"),
                None,
            ),
            (
                None,
                "/?utm_source=adfox&utm_medium=Display",
                Paid,
                Some("adfox"),
                None,
            ),
            (
                Some("https://www.facebook.com/"),
                "/?fbclid=1&utm_medium=paid",
                Paid,
                Some("facebook"),
                Some("facebook.com"),
            ),
            // Paid beats internal: a tagged link clicked again on the site itself.
            (
                Some("https://shop.example.ru/other"),
                "https://shop.example.ru/?utm_medium=cpc",
                Paid,
                None,
                Some("shop.example.ru"),
            ),
            // Search.
            (
                Some("https://www.google.co.uk/"),
                PAGE,
                Search,
                Some("google"),
                Some("google.co.uk"),
            ),
            (
                Some("https://google.com.br/url?q=x"),
                PAGE,
                Search,
                Some("google"),
                Some("google.com.br"),
            ),
            (
                Some("https://yandex.kz/search/?text=x"),
                PAGE,
                Search,
                Some("yandex"),
                Some("yandex.kz"),
            ),
            (
                Some("https://yandex.com.tr/"),
                PAGE,
                Search,
                Some("yandex"),
                Some("yandex.com.tr"),
            ),
            (
                Some("https://ya.ru/"),
                PAGE,
                Search,
                Some("yandex"),
                Some("ya.ru"),
            ),
            (
                Some("https://go.mail.ru/search?q=x"),
                PAGE,
                Search,
                Some("mail_ru"),
                Some("go.mail.ru"),
            ),
            (
                Some("https://nova.rambler.ru/search"),
                PAGE,
                Search,
                Some("rambler"),
                Some("nova.rambler.ru"),
            ),
            (
                Some("https://www.bing.com/"),
                PAGE,
                Search,
                Some("bing"),
                Some("bing.com"),
            ),
            (
                Some("https://duckduckgo.com/"),
                PAGE,
                Search,
                Some("duckduckgo"),
                Some("duckduckgo.com"),
            ),
            (
                Some("https://uk.search.yahoo.com/"),
                PAGE,
                Search,
                Some("yahoo"),
                Some("uk.search.yahoo.com"),
            ),
            (
                Some("https://search.brave.com/search?q=a"),
                PAGE,
                Search,
                Some("brave"),
                Some("search.brave.com"),
            ),
            (
                Some("https://www.ecosia.org/"),
                PAGE,
                Search,
                Some("ecosia"),
                Some("ecosia.org"),
            ),
            (
                Some("https://www.baidu.com/"),
                PAGE,
                Search,
                Some("baidu"),
                Some("baidu.com"),
            ),
            (
                Some("android-app://com.google.android.googlequicksearchbox/"),
                PAGE,
                Search,
                Some("google"),
                Some("com.google.android.googlequicksearchbox"),
            ),
            // ysclid alone: Yandex search with a stripped referrer.
            (None, "/?ysclid=abc", Search, Some("yandex"), None),
            // Social.
            (
                Some("https://vk.com/away.php?to=x"),
                PAGE,
                Social,
                Some("vk"),
                Some("vk.com"),
            ),
            (
                Some("https://m.vk.com/wall-1_2"),
                PAGE,
                Social,
                Some("vk"),
                Some("m.vk.com"),
            ),
            (
                Some("https://t.me/somechannel"),
                PAGE,
                Social,
                Some("telegram"),
                Some("t.me"),
            ),
            (
                Some("https://web.telegram.org/k/"),
                PAGE,
                Social,
                Some("telegram"),
                Some("web.telegram.org"),
            ),
            (
                Some("https://dzen.ru/a/xyz"),
                PAGE,
                Social,
                Some("dzen"),
                Some("dzen.ru"),
            ),
            (
                Some("https://zen.yandex.ru/media/x"),
                PAGE,
                Social,
                Some("dzen"),
                Some("zen.yandex.ru"),
            ),
            (
                Some("https://ok.ru/group/1"),
                PAGE,
                Social,
                Some("ok"),
                Some("ok.ru"),
            ),
            (
                Some("https://my.mail.ru/"),
                PAGE,
                Social,
                Some("my_mail_ru"),
                Some("my.mail.ru"),
            ),
            (
                Some("https://l.facebook.com/l.php"),
                PAGE,
                Social,
                Some("facebook"),
                Some("l.facebook.com"),
            ),
            (
                Some("https://t.co/abc"),
                PAGE,
                Social,
                Some("x"),
                Some("t.co"),
            ),
            (
                Some("https://www.pinterest.co.uk/pin/1"),
                PAGE,
                Social,
                Some("pinterest"),
                Some("pinterest.co.uk"),
            ),
            (
                Some("https://ru.pinterest.com/"),
                PAGE,
                Social,
                Some("pinterest"),
                Some("ru.pinterest.com"),
            ),
            (
                Some("https://wa.me/123"),
                PAGE,
                Social,
                Some("whatsapp"),
                Some("wa.me"),
            ),
            (
                Some("android-app://org.telegram.messenger/"),
                PAGE,
                Social,
                Some("telegram"),
                Some("org.telegram.messenger"),
            ),
            (None, "/?fbclid=1", Social, Some("facebook"), None),
            // Email.
            (
                Some("https://e.mail.ru/inbox"),
                PAGE,
                Email,
                Some("mail_ru_mail"),
                Some("e.mail.ru"),
            ),
            (
                Some("https://mail.yandex.ru/?uid=1"),
                PAGE,
                Email,
                Some("yandex_mail"),
                Some("mail.yandex.ru"),
            ),
            (
                Some("https://mail.yandex.com/"),
                PAGE,
                Email,
                Some("yandex_mail"),
                Some("mail.yandex.com"),
            ),
            (
                Some("https://mail.google.com/mail/u/0/"),
                PAGE,
                Email,
                Some("gmail"),
                Some("mail.google.com"),
            ),
            (
                Some("https://outlook.live.com/mail/"),
                PAGE,
                Email,
                Some("outlook"),
                Some("outlook.live.com"),
            ),
            (
                Some("https://mail.rambler.ru/"),
                PAGE,
                Email,
                Some("rambler_mail"),
                Some("mail.rambler.ru"),
            ),
            (
                Some("android-app://com.google.android.gm/"),
                PAGE,
                Email,
                Some("gmail"),
                Some("com.google.android.gm"),
            ),
            (
                None,
                "/?utm_source=unisender&utm_medium=E-Mail",
                Email,
                Some("unisender"),
                None,
            ),
            (
                None,
                "/?utm_source=newsletter",
                Email,
                Some("newsletter"),
                None,
            ),
            (
                Some("https://e.mail.ru/"),
                "/?utm_source=Sendpulse",
                Email,
                Some("sendpulse"),
                Some("e.mail.ru"),
            ),
            // Internal (ignoring www. and port).
            (
                Some("https://shop.example.ru/cart"),
                PAGE,
                Internal,
                None,
                Some("shop.example.ru"),
            ),
            (
                Some("https://www.example.com:8443/a"),
                "https://example.com/b",
                Internal,
                None,
                Some("example.com"),
            ),
            // A site that is itself in the table still sees its own pages as internal.
            (
                Some("https://vk.com/feed"),
                "https://vk.com/app",
                Internal,
                None,
                Some("vk.com"),
            ),
            // utm_source without referrer.
            (None, "/?utm_source=vk", Social, Some("vk"), None),
            (None, "/?utm_source=VKontakte", Social, Some("vk"), None),
            (
                None,
                "/?utm_source=tg&utm_campaign=launch",
                Social,
                Some("telegram"),
                None,
            ),
            (
                None,
                "/?utm_source=telegram",
                Social,
                Some("telegram"),
                None,
            ),
            (None, "/?utm_source=yandex", Search, Some("yandex"), None),
            (
                None,
                "/?utm_source=google&utm_medium=organic",
                Search,
                Some("google"),
                None,
            ),
            (None, "/?utm_source=vk.com", Social, Some("vk"), None),
            (None, "/?utm_source=email", Email, Some("email"), None),
            (
                None,
                "/?utm_source=partner_blog",
                Other,
                Some("partner_blog"),
                None,
            ),
            (
                None,
                "/?utm_source=club&utm_medium=smm",
                Social,
                Some("club"),
                None,
            ),
            (None, "/?utm_campaign=spring", Other, None, None),
            // utm_source with an unknown referrer.
            (
                Some("https://clck.example.net/r"),
                "/?utm_source=tg",
                Social,
                Some("telegram"),
                Some("clck.example.net"),
            ),
            // Other.
            (
                Some("https://notvk.com/"),
                PAGE,
                Other,
                None,
                Some("notvk.com"),
            ),
            (
                Some("https://vk.com.evil.net/"),
                PAGE,
                Other,
                None,
                Some("vk.com.evil.net"),
            ),
            (
                Some("https://google.evil.com/"),
                PAGE,
                Other,
                None,
                Some("google.evil.com"),
            ),
            (
                Some("https://docs.google.com/document/d/1"),
                PAGE,
                Other,
                None,
                Some("docs.google.com"),
            ),
            (
                Some("https://market.yandex.ru/"),
                PAGE,
                Other,
                None,
                Some("market.yandex.ru"),
            ),
            (
                Some("https://habr.com/ru/articles/1/"),
                PAGE,
                Other,
                None,
                Some("habr.com"),
            ),
            // Direct.
            (None, PAGE, Direct, None, None),
            (Some(""), PAGE, Direct, None, None),
            (Some("   "), PAGE, Direct, None, None),
            (Some("about:blank"), PAGE, Direct, None, None),
            (Some("garbage"), PAGE, Direct, None, None),
            // Path-only page URL: no page host, so nothing is internal.
            (
                Some("https://example.com/"),
                "/landing",
                Other,
                None,
                Some("example.com"),
            ),
        ];
        for (referrer, page, class, source, host) in cases {
            let got = classify(*referrer, page);
            assert_eq!(
                got,
                ReferrerInfo {
                    class: *class,
                    source: source.map(str::to_string),
                    host: host.map(str::to_string),
                },
                "referrer {referrer:?}, page {page:?}"
            );
        }
    }

    #[test]
    fn known_host_lookup() {
        assert_eq!(known_host("WWW.Google.RU."), Some((Search, "google")));
        assert_eq!(known_host("google"), None);
        assert_eq!(known_host("google.1"), None);
        assert_eq!(known_host("google.ab.cd"), None);
        assert_eq!(known_host("mail.yandex.by"), Some((Email, "yandex_mail")));
        assert_eq!(known_host("vk.com"), Some((Social, "vk")));
        assert_eq!(known_host("xvk.com"), None);
        assert_eq!(known_host(""), None);
        assert_eq!(known_host("."), None);
    }

    /// The plain definition of `known_host`: every table entry tried in turn on
    /// whole labels, the most labels winning and, among those, the last listed.
    fn reference_known_host(host: &str) -> Option<(ReferrerClass, &'static str)> {
        let host = host.trim().trim_end_matches('.').to_lowercase();
        if host.is_empty() {
            return None;
        }
        let ok = |host: &str, domain: &str, sub: Sub| {
            if host == domain {
                return true;
            }
            let Some(prefix) = host.strip_suffix(domain).and_then(|p| p.strip_suffix('.')) else {
                return false;
            };
            match sub {
                Sub::Any => !prefix.is_empty(),
                Sub::WwwOnly => prefix == "www" || prefix == "m",
            }
        };
        let labels: Vec<&str> = host.split('.').collect();
        let match_len = |entry: &Known| -> Option<usize> {
            if !entry.wildcard {
                return ok(&host, entry.domain, entry.sub).then_some(entry.labels);
            }
            for tail_len in [1usize, 2] {
                if labels.len() <= tail_len {
                    continue;
                }
                let split = labels.len() - tail_len;
                let tail_ok = match labels.get(split..)? {
                    [tld] => is_tld_like(tld),
                    [second, cc] => {
                        GENERIC_SECOND_LEVELS.contains(second)
                            && cc.len() == 2
                            && cc.bytes().all(|b| b.is_ascii_alphabetic())
                    }
                    _ => false,
                };
                if tail_ok && ok(&labels.get(..split)?.join("."), entry.domain, entry.sub) {
                    return Some(entry.labels + tail_len);
                }
            }
            None
        };
        KNOWN_HOSTS
            .iter()
            .filter_map(|entry| match_len(entry).map(|n| (n, entry)))
            .max_by_key(|(n, _)| *n)
            .map(|(_, entry)| (entry.class, entry.source))
    }

    #[test]
    fn known_host_matches_reference_for_every_entry() {
        for entry in KNOWN_HOSTS {
            let base = entry.domain;
            let mut hosts = vec![base.to_string()];
            for prefix in ["www.", "m.", "x.", "a.b.", ".", "WWW.", "mail."] {
                hosts.push(format!("{prefix}{base}"));
            }
            for host in hosts.clone() {
                for tail in [
                    ".ru",
                    ".co.uk",
                    ".com.tr",
                    ".evil.com",
                    ".1",
                    ".xn--p1ai",
                    ".рф",
                    ".",
                    "",
                ] {
                    hosts.push(format!("{host}{tail}"));
                }
            }
            for host in hosts {
                assert_eq!(known_host(&host), reference_known_host(&host), "{host:?}");
            }
        }
    }

    #[test]
    fn serializes_snake_case() {
        let json = serde_json::to_string(&ReferrerInfo {
            class: Search,
            source: Some("yandex".into()),
            host: None,
        })
        .unwrap_or_default();
        assert_eq!(json, r#"{"class":"search","source":"yandex","host":null}"#);
    }

    proptest::proptest! {
        #[test]
        fn known_host_matches_reference(
            labels in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::sample::select(&[
                        "google", "yandex", "mail", "www", "m", "co", "com", "uk", "ru", "vk",
                        "t", "me", "zen", "pinterest", "e", "Google", "", "1", "xn--p1ai", "рф",
                    ][..]).prop_map(str::to_string),
                    "[a-z]{1,3}",
                ],
                1..6,
            )
        ) {
            let host = labels.join(".");
            proptest::prop_assert_eq!(known_host(&host), reference_known_host(&host));
        }

        #[test]
        fn never_panics(r in "\\PC{0,200}", p in "\\PC{0,200}") {
            let _ = classify(Some(&r), &p);
            let _ = known_host(&r);
            let _ = canonical_source(&p);
        }
    }
}
