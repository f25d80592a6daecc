//! Coarse device, OS and browser detection from the User-Agent string.
//!
//! Deliberately coarse: the engine personalizes by "phone vs desktop" and "iOS vs
//! Android", not by model, and a short list of substring checks stays small in wasm
//! and predictable in tests. User-Agent Client Hints are not used because the edge
//! does not get them on the first request.

use super::{cap_str, trim};
use crate::core::lowercase::to_lowercase;

/// The most UA characters examined; real UAs are a few hundred characters long.
const MAX_UA_CHARS: usize = 1024;

/// The kind of device a visit comes from.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum DeviceClass {
    /// Phones.
    Mobile,
    /// Tablets and e-readers.
    Tablet,
    /// Everything with a desktop OS, including headless Chrome.
    Desktop,
    /// Crawlers, link-preview fetchers, monitoring and HTTP libraries.
    Bot,
    /// No or unrecognizable User-Agent.
    #[default]
    Unknown,
}

/// Device class, OS and browser read from one User-Agent string.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct UserAgentInfo {
    /// See [`classify_device`].
    pub device: DeviceClass,
    /// See [`detect_os`].
    pub os: String,
    /// See [`detect_browser`].
    pub browser: String,
}

/// Parses all three facts from a User-Agent (scanning it only once).
pub fn parse_user_agent(user_agent: Option<&str>) -> UserAgentInfo {
    let ua = scan_user_agent(user_agent);
    UserAgentInfo {
        device: device_of(&ua),
        os: os_of(&ua).to_string(),
        browser: browser_of(&ua).to_string(),
    }
}

/// Substrings (in the lowercased UA) that mark automated clients. `bot` covers
/// Googlebot, YandexBot, bingbot, TelegramBot, AhrefsBot, GPTBot and most others;
/// `headlesschrome` is Puppeteer's and Playwright's Chromium as it comes (scrapers,
/// prerendering services).
const BOT_MARKERS: &[&str] = &[
    "bot",
    "headlesschrome",
    "crawler",
    "spider",
    "slurp",
    "crawl",
    "(compatible; yandex",
    "mediapartners-google",
    "google-inspectiontool",
    "googleother",
    "feedfetcher",
    "facebookexternalhit",
    "facebookcatalog",
    "vkshare",
    "whatsapp/",
    "skypeuripreview",
    "embedly",
    "pingdom",
    "lighthouse",
    "pagespeed",
    "chatgpt-user",
    "perplexity",
    "python-requests",
    "python-urllib",
    "aiohttp",
    "go-http-client",
    "okhttp",
    "java/",
    "libwww",
    "curl/",
    "wget/",
    "httpclient",
    "axios/",
    "node-fetch",
    "phantomjs",
];

/// Phone brands whose name contains a bot marker (`CUBOT`), removed before the bot
/// check so their owners are not treated as crawlers.
const BOT_FALSE_POSITIVES: &[&str] = &["cubot"];

/// Every substring the checks below look for (lowercase): the bot markers, their
/// false positives, and the device, OS and browser tokens. One pass over the UA
/// finds which of them occur ([`scan`]), instead of one substring search per token.
/// A token missing here is a compile error where it is used ([`bits`]).
const TOKENS: [&str; 78] = [
    // BOT_MARKERS.
    "bot",
    "headlesschrome",
    "crawler",
    "spider",
    "slurp",
    "crawl",
    "(compatible; yandex",
    "mediapartners-google",
    "google-inspectiontool",
    "googleother",
    "feedfetcher",
    "facebookexternalhit",
    "facebookcatalog",
    "vkshare",
    "whatsapp/",
    "skypeuripreview",
    "embedly",
    "pingdom",
    "lighthouse",
    "pagespeed",
    "chatgpt-user",
    "perplexity",
    "python-requests",
    "python-urllib",
    "aiohttp",
    "go-http-client",
    "okhttp",
    "java/",
    "libwww",
    "curl/",
    "wget/",
    "httpclient",
    "axios/",
    "node-fetch",
    "phantomjs",
    // BOT_FALSE_POSITIVES.
    "cubot",
    // Device and OS.
    "ipad",
    "tablet",
    "tablet pc",
    "kindle",
    "silk",
    "playbook",
    "mobi",
    "iphone",
    "ipod",
    "windows phone",
    "opera mini",
    "iemobile",
    "blackberry",
    "android",
    "windows",
    "macintosh",
    "mac os x",
    "x11",
    "linux",
    "cros",
    "mozilla/",
    // Browser.
    "yabrowser/",
    "yaapp",
    "yasearchbrowser",
    "samsungbrowser/",
    "opr/",
    "opt/",
    "opios/",
    "opera",
    "edg/",
    "edge/",
    "edga/",
    "edgios/",
    "ucbrowser",
    "miuibrowser",
    "trident/",
    "firefox/",
    "fxios/",
    "chrome/",
    "crios/",
    "chromium/",
    "safari/",
];

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The set of [`TOKENS`] named: bit `i` stands for `TOKENS[i]`. Only evaluated at
/// compile time, where an unknown name stops the build.
const fn bits(names: &[&str]) -> u128 {
    let mut set = 0u128;
    let mut n = 0;
    while n < names.len() {
        let mut i = 0;
        while !str_eq(TOKENS[i], names[n]) {
            i += 1;
            assert!(i < TOKENS.len(), "not in TOKENS");
        }
        set |= 1 << i;
        n += 1;
    }
    set
}

/// Whether the scanned UA contains any of the tokens named.
macro_rules! has {
    ($ua:expr, $($token:literal),+ $(,)?) => {
        ($ua.tokens & const { bits(&[$($token),+]) }) != 0
    };
}

const BOTS: u128 = bits(BOT_MARKERS);
const FALSE_BOTS: u128 = bits(BOT_FALSE_POSITIVES);

/// Bytes from rarest to most common in real User-Agents (case ignored). Each token
/// is looked for only where its rarest byte occurs, which in a typical UA is a
/// handful of places, so the scan does almost nothing for most bytes.
const RARITY: &[u8] = b"qjzyvfgubdxhcsprtnmwkloaei1()-; /";

/// The rank of `b` in [`RARITY`]; bytes not listed count as most common.
const fn rarity(b: u8) -> usize {
    let mut i = 0;
    while i < RARITY.len() {
        if RARITY[i] == b {
            return i;
        }
        i += 1;
    }
    RARITY.len()
}

/// Where [`scan`] looks for one token: at each occurrence of its anchor byte (the
/// rarest of its bytes but the last), when the next byte matches too.
#[derive(Clone, Copy)]
struct Anchor {
    /// Index into [`TOKENS`].
    token: u8,
    /// Offset of the anchor byte in the token.
    offset: u8,
    /// The token's byte after the anchor.
    next: u8,
}

/// The tokens by anchor byte: those anchored on byte `b` (in either case) are
/// `anchors[range[b].0..range[b].1]`.
struct AnchorIndex {
    anchors: [Anchor; TOKENS.len()],
    range: [(u8, u8); 256],
    /// A bit per [`pair_key`] of every anchor byte and the byte after it: a clear
    /// bit means no token is anchored at a position with that pair. Filters out
    /// nearly every position of a real UA with one bit test.
    pairs: [u64; 64],
}

/// A 12-bit key of two adjacent bytes that ignores ASCII case: an uppercase letter
/// and its lowercase get the same key (`| 0x20`), other bytes may share keys too.
const fn pair_key(a: u8, b: u8) -> usize {
    (((a | 0x20) as usize) << 5 ^ (b | 0x20) as usize) & 4095
}

static INDEX: AnchorIndex = {
    assert!(TOKENS.len() <= 128, "a token set is a u128");
    let empty = Anchor {
        token: 0,
        offset: 0,
        next: 0,
    };
    let mut anchor_of = [empty; TOKENS.len()];
    let mut count = [0usize; 256];
    let mut i = 0;
    while i < TOKENS.len() {
        let t = TOKENS[i].as_bytes();
        assert!(t.len() >= 2 && t.len() < 256, "token length");
        let mut k = 0;
        while k < i {
            assert!(!str_eq(TOKENS[k], TOKENS[i]), "duplicate token");
            k += 1;
        }
        let mut j = 0;
        while j < t.len() {
            assert!(!t[j].is_ascii_uppercase(), "tokens are lowercase");
            j += 1;
        }
        let mut best = 0;
        let mut j = 1;
        while j + 1 < t.len() {
            if rarity(t[j]) < rarity(t[best]) {
                best = j;
            }
            j += 1;
        }
        anchor_of[i] = Anchor {
            token: i as u8,
            offset: best as u8,
            next: t[best + 1],
        };
        count[t[best] as usize] += 1;
        i += 1;
    }
    let mut range = [(0u8, 0u8); 256];
    let mut start = 0u8;
    let mut b = 0;
    while b < 256 {
        range[b] = (start, start);
        start += count[b] as u8;
        b += 1;
    }
    let mut anchors = [empty; TOKENS.len()];
    let mut pairs = [0u64; 64];
    let mut i = 0;
    while i < TOKENS.len() {
        let a = TOKENS[i].as_bytes()[anchor_of[i].offset as usize];
        anchors[range[a as usize].1 as usize] = anchor_of[i];
        range[a as usize].1 += 1;
        let key = pair_key(a, anchor_of[i].next);
        pairs[key / 64] |= 1 << (key % 64);
        i += 1;
    }
    // Uppercase bytes share their lowercase letter's tokens.
    let mut b = b'a';
    while b <= b'z' {
        range[b.to_ascii_uppercase() as usize] = range[b as usize];
        b += 1;
    }
    AnchorIndex {
        anchors,
        range,
        pairs,
    }
};

/// [`TOKENS`] at run time: a `static` is one table in memory, where each use of a
/// `const` array may copy it.
static TOKEN_LIST: [&str; TOKENS.len()] = TOKENS;

/// The set of [`TOKENS`] that occur in `hay`, matched ignoring ASCII case (the
/// tokens are lowercase).
fn scan(hay: &[u8]) -> u128 {
    let mut found = 0u128;
    let Some((&first, rest)) = hay.split_first() else {
        return 0;
    };
    // A token's anchor is never its last byte, so each position is checked with the
    // byte after it: `byte` is at `pos`, `next` at `pos + 1`.
    let mut byte = first;
    for (pos, &next) in rest.iter().enumerate() {
        let key = pair_key(byte, next);
        let anchored = INDEX.pairs[key / 64] & (1 << (key % 64)) != 0;
        if anchored {
            found |= scan_at(hay, pos, byte, next);
        }
        byte = next;
    }
    found
}

/// The tokens that occur at `pos` of `hay`, anchored on `byte` (at `pos`) followed
/// by `next`.
#[cold]
#[inline(never)]
fn scan_at(hay: &[u8], pos: usize, byte: u8, next: u8) -> u128 {
    let mut found = 0u128;
    let (from, to) = INDEX.range[usize::from(byte)];
    let next = next.to_ascii_lowercase();
    let candidates = INDEX
        .anchors
        .get(usize::from(from)..usize::from(to))
        .unwrap_or(&[]);
    for a in candidates {
        if a.next != next {
            continue;
        }
        let Some(token) = TOKEN_LIST.get(usize::from(a.token)) else {
            continue;
        };
        let matched = pos
            .checked_sub(usize::from(a.offset))
            .and_then(|at| hay.get(at..at + token.len()))
            .is_some_and(|h| {
                h.iter()
                    .zip(token.bytes())
                    .all(|(h, t)| h.to_ascii_lowercase() == t)
            });
        if matched {
            found |= 1 << a.token;
        }
    }
    found
}

/// What the checks read from one User-Agent.
struct ScannedUa {
    /// Missing or blank.
    empty: bool,
    /// The [`TOKENS`] that occur in the (lowercased, capped) UA, except that the bot
    /// markers are looked for after removing [`BOT_FALSE_POSITIVES`].
    tokens: u128,
}

/// Scans a User-Agent once: trimmed, capped at [`MAX_UA_CHARS`] characters and
/// compared in lowercase.
fn scan_user_agent(user_agent: Option<&str>) -> ScannedUa {
    let ua = cap_str(trim(user_agent.unwrap_or("")), MAX_UA_CHARS);
    if ua.is_empty() {
        return ScannedUa {
            empty: true,
            tokens: 0,
        };
    }
    // ASCII (every real UA): `scan` ignores ASCII case, which is exactly
    // `to_lowercase` here. Otherwise lowercase the Unicode way first, since a few
    // non-ASCII letters lowercase to ASCII ones (the Kelvin sign to `k`).
    let lowered;
    let hay = if ua.is_ascii() {
        ua
    } else {
        lowered = to_lowercase(ua);
        lowered.as_str()
    };
    let mut tokens = scan(hay.as_bytes());
    if tokens & FALSE_BOTS != 0 {
        // Rare: look for bot markers again with the false positives removed (which
        // may join the text around them into a new marker).
        // (`hay` is either ASCII or already lowercased.)
        let mut cleaned = hay.to_ascii_lowercase();
        for fp in BOT_FALSE_POSITIVES {
            if cleaned.contains(fp) {
                cleaned = cleaned.replace(fp, "");
            }
        }
        tokens = (tokens & !BOTS) | (scan(cleaned.as_bytes()) & BOTS);
    }
    ScannedUa {
        empty: false,
        tokens,
    }
}

/// Classifies the device from the User-Agent. Checks, first match wins:
///
/// 1. missing/blank → `Unknown`;
/// 2. bot markers (`bot`, `crawler`, `spider`, `slurp`, YandexBot, Googlebot, bingbot,
///    link-preview fetchers, HTTP libraries; not HeadlessChrome) → `Bot`;
/// 3. `iPad`, `Tablet` (but not Windows' `Tablet PC`), `Kindle`, `Silk`, `PlayBook` →
///    `Tablet`;
/// 4. `Mobi` (Mobile), `iPhone`, `iPod`, `Windows Phone`, `Opera Mini`, `IEMobile`,
///    `BlackBerry` → `Mobile`;
/// 5. `Android` without `Mobile` → `Tablet` (Google's convention for Android UAs);
/// 6. a desktop OS or `Mozilla/` → `Desktop`; anything else → `Unknown`.
///
/// iPadOS Safari reports itself as a Mac by default and is therefore `Desktop`; only
/// client-side touch checks could tell, and the edge cannot run those.
pub fn classify_device(user_agent: Option<&str>) -> DeviceClass {
    device_of(&scan_user_agent(user_agent))
}

fn device_of(ua: &ScannedUa) -> DeviceClass {
    if ua.empty {
        return DeviceClass::Unknown;
    }
    if ua.tokens & BOTS != 0 {
        return DeviceClass::Bot;
    }
    if has!(ua, "ipad", "kindle", "silk", "playbook")
        || (has!(ua, "tablet") && !has!(ua, "tablet pc"))
    {
        return DeviceClass::Tablet;
    }
    if has!(
        ua,
        "mobi",
        "iphone",
        "ipod",
        "windows phone",
        "opera mini",
        "iemobile",
        "blackberry",
    ) {
        return DeviceClass::Mobile;
    }
    if has!(ua, "android") {
        return DeviceClass::Tablet;
    }
    if has!(
        ua,
        "windows",
        "macintosh",
        "mac os x",
        "x11",
        "linux",
        "cros",
        "mozilla/",
    ) {
        return DeviceClass::Desktop;
    }
    DeviceClass::Unknown
}

/// Coarse operating system: `ios`, `android`, `windows`, `macos`, `linux` or `other`.
///
/// iOS is checked before macOS because iOS UAs say "like Mac OS X", and Android
/// before Linux because Android UAs say "Linux; Android". ChromeOS counts as `linux`.
pub fn detect_os(user_agent: Option<&str>) -> &'static str {
    os_of(&scan_user_agent(user_agent))
}

fn os_of(ua: &ScannedUa) -> &'static str {
    if has!(ua, "windows phone") {
        // Checked first: Windows Phone UAs also claim "like iPhone OS" and "Android".
        "windows"
    } else if has!(ua, "iphone", "ipad", "ipod") {
        "ios"
    } else if has!(ua, "android") {
        "android"
    } else if has!(ua, "windows") {
        "windows"
    } else if has!(ua, "macintosh", "mac os x") {
        "macos"
    } else if has!(ua, "linux", "x11", "cros") {
        "linux"
    } else {
        "other"
    }
}

/// Coarse browser: `yandex`, `samsung`, `opera`, `edge`, `firefox`, `chrome`,
/// `safari` or `other`.
///
/// Chromium-based browsers all say `Chrome/` and Chrome says `Safari/`, so the
/// specific ones are checked first: Yandex Browser (`YaBrowser`, and the Yandex app's
/// `YaApp`/`YaSearchBrowser`), Samsung Internet, Opera (`OPR/`, `OPT/`, `OPiOS`),
/// Edge (`Edg/`, `EdgA/`, `EdgiOS/`), then Firefox (`Firefox/`, `FxiOS/`), Chrome
/// (`Chrome/`, `CriOS/`, `HeadlessChrome/`), and Safari last. UC and MIUI browsers are
/// `other` despite their `Chrome/` token because they behave differently enough, and
/// so are Internet Explorer and IE Mobile, whose UAs mention Safari or iPhone.
pub fn detect_browser(user_agent: Option<&str>) -> &'static str {
    browser_of(&scan_user_agent(user_agent))
}

fn browser_of(ua: &ScannedUa) -> &'static str {
    if has!(ua, "yabrowser/", "yaapp", "yasearchbrowser") {
        "yandex"
    } else if has!(ua, "samsungbrowser/") {
        "samsung"
    } else if has!(ua, "opr/", "opt/", "opios/", "opera") {
        "opera"
    } else if has!(ua, "edg/", "edge/", "edga/", "edgios/") {
        "edge"
    } else if has!(ua, "ucbrowser", "miuibrowser", "iemobile", "trident/") {
        "other"
    } else if has!(ua, "firefox/", "fxios/") {
        "firefox"
    } else if has!(ua, "chrome/", "crios/", "chromium/") {
        "chrome"
    } else if has!(ua, "safari/") {
        "safari"
    } else {
        "other"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::Strategy;
    use DeviceClass::*;

    const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";
    const IPAD: &str = "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1";
    const ANDROID_PHONE: &str = "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36";
    const ANDROID_TABLET: &str = "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
    const WINDOWS_CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
    const YABROWSER: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 YaBrowser/24.4.0.0 Safari/537.36";
    const YABROWSER_ANDROID: &str = "Mozilla/5.0 (Linux; arm_64; Android 12; SM-A525F) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 YaBrowser/24.1.5.83.00 SA/3 Mobile Safari/537.36";
    const GOOGLEBOT: &str =
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
    const GOOGLEBOT_SMARTPHONE: &str = "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
    const YANDEXBOT: &str = "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)";
    const YANDEX_METRIKA: &str =
        "Mozilla/5.0 (compatible; YandexMetrika/2.0; +http://yandex.com/bots)";
    const HEADLESS: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.0.0 Safari/537.36";
    const MAC_SAFARI: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15";
    const FIREFOX_LINUX: &str =
        "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0";
    const EDGE: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0";
    const OPERA: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 OPR/110.0.0.0";
    const SAMSUNG: &str = "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36";
    const CHROME_IOS: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1";
    const CUBOT: &str = "Mozilla/5.0 (Linux; Android 10; CUBOT X30) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36";
    const KINDLE: &str = "Mozilla/5.0 (Linux; Android 9; KFTRWI) AppleWebKit/537.36 (KHTML, like Gecko) Silk/124.3.1 like Chrome/124.0.6367.219 Safari/537.36";
    const WINDOWS_PHONE: &str = "Mozilla/5.0 (Mobile; Windows Phone 8.1; Android 4.0; ARM; Trident/7.0; Touch; rv:11.0; IEMobile/11.0; NOKIA; Lumia 635) like iPhone OS 7_0_3 Mac OS X AppleWebKit/537 (KHTML, like Gecko) Mobile Safari/537";
    const TELEGRAM_BOT: &str = "TelegramBot (like TwitterBot)";
    const CURL: &str = "curl/8.5.0";

    #[test]
    fn user_agents() {
        // (UA, device, os, browser)
        let cases: &[(Option<&str>, DeviceClass, &str, &str)] = &[
            (Some(IPHONE), Mobile, "ios", "safari"),
            (Some(IPAD), Tablet, "ios", "safari"),
            (Some(ANDROID_PHONE), Mobile, "android", "chrome"),
            (Some(ANDROID_TABLET), Tablet, "android", "chrome"),
            (Some(WINDOWS_CHROME), Desktop, "windows", "chrome"),
            (Some(YABROWSER), Desktop, "windows", "yandex"),
            (Some(YABROWSER_ANDROID), Mobile, "android", "yandex"),
            (Some(GOOGLEBOT), Bot, "other", "other"),
            (Some(GOOGLEBOT_SMARTPHONE), Bot, "android", "chrome"),
            (Some(YANDEXBOT), Bot, "other", "other"),
            (Some(YANDEX_METRIKA), Bot, "other", "other"),
            (Some(HEADLESS), Bot, "linux", "chrome"),
            (Some(MAC_SAFARI), Desktop, "macos", "safari"),
            (Some(FIREFOX_LINUX), Desktop, "linux", "firefox"),
            (Some(EDGE), Desktop, "windows", "edge"),
            (Some(OPERA), Desktop, "windows", "opera"),
            (Some(SAMSUNG), Mobile, "android", "samsung"),
            (Some(CHROME_IOS), Mobile, "ios", "chrome"),
            (Some(CUBOT), Mobile, "android", "chrome"),
            (Some(KINDLE), Tablet, "android", "chrome"),
            (Some(WINDOWS_PHONE), Mobile, "windows", "other"),
            (Some(TELEGRAM_BOT), Bot, "other", "other"),
            (Some(CURL), Bot, "other", "other"),
            (None, Unknown, "other", "other"),
            (Some(""), Unknown, "other", "other"),
            (Some("   "), Unknown, "other", "other"),
            (Some("qwerty"), Unknown, "other", "other"),
        ];
        for (ua, device, os, browser) in cases {
            assert_eq!(classify_device(*ua), *device, "device of {ua:?}");
            assert_eq!(detect_os(*ua), *os, "os of {ua:?}");
            assert_eq!(detect_browser(*ua), *browser, "browser of {ua:?}");
            assert_eq!(
                parse_user_agent(*ua),
                UserAgentInfo {
                    device: *device,
                    os: os.to_string(),
                    browser: browser.to_string()
                }
            );
        }
    }

    #[test]
    fn windows_tablet_pc_is_desktop() {
        let ua =
            "Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; Tablet PC 2.0; rv:11.0) like Gecko";
        assert_eq!(classify_device(Some(ua)), Desktop);
    }

    /// The plain definition of what `scan_user_agent` computes: one substring
    /// search per token in the lowercased UA, bot markers after removing the false
    /// positives.
    fn reference_tokens(ua: &str) -> u128 {
        let ua = cap_str(ua.trim(), MAX_UA_CHARS).to_lowercase();
        let mut cleaned = ua.clone();
        for fp in BOT_FALSE_POSITIVES {
            cleaned = cleaned.replace(fp, "");
        }
        TOKENS.iter().enumerate().fold(0, |set, (i, t)| {
            let hay = if BOT_MARKERS.contains(t) {
                &cleaned
            } else {
                &ua
            };
            if hay.contains(t) {
                set | 1 << i
            } else {
                set
            }
        })
    }

    #[test]
    fn scan_finds_exactly_the_tokens_present() {
        let uas = [
            IPHONE,
            WINDOWS_PHONE,
            GOOGLEBOT_SMARTPHONE,
            CUBOT,
            "cucubotbot",
            "crCUBOTawl",
            "\u{212A}indle",
            "İPad",
        ];
        for ua in uas {
            assert_eq!(
                scan_user_agent(Some(ua)).tokens,
                reference_tokens(ua),
                "{ua:?}"
            );
        }
        // Each token alone, in any case, at the start, middle and end.
        for t in TOKENS {
            for ua in [
                t.to_string(),
                t.to_uppercase(),
                format!("x{}y", t.to_uppercase()),
            ] {
                assert_eq!(
                    scan_user_agent(Some(&ua)).tokens,
                    reference_tokens(&ua),
                    "{ua:?}"
                );
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn scan_matches_reference(
            parts in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::sample::select(&TOKENS[..]).prop_map(str::to_string),
                    proptest::sample::select(&TOKENS[..]).prop_map(|t| t.to_uppercase()),
                    "\\PC{0,4}",
                ],
                0..8,
            )
        ) {
            let ua = parts.concat();
            proptest::prop_assert_eq!(scan_user_agent(Some(&ua)).tokens, reference_tokens(&ua));
        }
    }

    #[test]
    fn hostile_ua() {
        let ua = "ж🙂".repeat(4000);
        assert_eq!(classify_device(Some(&ua)), Unknown);
        let ua = format!("{}Googlebot", "x".repeat(5000));
        // Past the cap: not looked at, which is fine for a garbage UA.
        assert_eq!(classify_device(Some(&ua)), Unknown);
    }
}
