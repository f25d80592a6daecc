//! The profile cookie's wire format.
//!
//! ```text
//! 1c<base64url(payload ‖ fnv1a32(payload) as 4 bytes LE)>          checksummed
//! 1s<key id>.<base64url(payload ‖ HMAC-SHA256(key, "1s<key id>." ‖ payload)[..16])>   signed
//! ```
//!
//! - `1` is the format version; `payload` is the [`Profile`] in postcard (varints,
//!   field order as declared). A future version gets a new digit and a migration.
//! - Only cookie-safe characters: `0-9 a-z A-Z - _ .`.
//! - The value is at most [`MAX_COOKIE_LEN`] bytes. When a profile would be longer,
//!   parts are dropped in this order until it fits: interests (lowest score
//!   first), popup histories (the longest unshown first: they hold the caps),
//!   categories bought (oldest first), the latest purchase's details.
//! - Fields appended to the end of [`Profile`] read as zero from a cookie written
//!   before them (`APPENDED_FIELDS`); fields a later release appended are skipped, so
//!   builds a release apart (the edge and a cached page runtime) share profiles.
//! - Decoding never panics. A cookie that is damaged (bad base64, bad checksum,
//!   payload that does not parse), forged (bad or missing signature where one is
//!   required, unknown key), from a future version, over-long or expired gives a
//!   fresh profile and a [`RejectReason`].
//!
//! The browser cannot hold the signing key, so without keys a signed cookie is read
//! unverified (it is the visitor's own data either way); with keys it must verify.

use super::{Minutes, Profile};
use crate::core::bucketing::fnv1a32_bytes;
use crate::core::order::stable_sort_by;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

/// The longest cookie value the engine writes or reads.
pub const MAX_COOKIE_LEN: usize = 1024;
const VERSION: char = '1';
const MAC_LEN: usize = 16;

/// A key for signing profile cookies at the edge.
#[derive(Clone)]
pub struct SigningKey {
    /// Short id written into the cookie so keys can rotate: 1–8 of `a-z0-9`.
    pub id: String,
    /// The secret.
    pub secret: Vec<u8>,
}

impl SigningKey {
    /// A key, checked: the id is 1–8 of `a-z0-9` (it is written into the cookie
    /// before a `.`), the secret at least 32 bytes.
    ///
    /// # Errors
    /// A sentence saying which rule the key breaks.
    pub fn new(id: &str, secret: &[u8]) -> Result<SigningKey, String> {
        let key = SigningKey {
            id: id.to_string(),
            secret: secret.to_vec(),
        };
        key.check().map(|()| key)
    }

    fn check(&self) -> Result<(), String> {
        if self.id.is_empty()
            || self.id.len() > 8
            || !self
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        {
            return Err(format!(
                "signing key id {:?}: expected 1–8 of a-z0-9",
                self.id
            ));
        }
        if self.secret.len() < 32 {
            return Err(format!(
                "signing key {:?}: the secret needs at least 32 bytes",
                self.id
            ));
        }
        Ok(())
    }

    /// Whether the key passes [`SigningKey::new`]'s checks. Keys that do not are
    /// never used, neither to sign nor to verify.
    pub fn is_valid(&self) -> bool {
        self.check().is_ok()
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// Why a cookie was not used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    /// Longer than [`MAX_COOKIE_LEN`].
    TooLong,
    /// A format version this build does not know.
    UnknownVersion,
    /// Not valid base64 or too short to hold a payload.
    Malformed,
    /// The checksum does not match: the value was damaged.
    ChecksumMismatch,
    /// The payload does not parse as a profile.
    Corrupt,
    /// Unsigned, but the site requires a signature.
    Unsigned,
    /// Signed with a key id this edge does not have.
    UnknownKey,
    /// The signature does not verify.
    BadSignature,
    /// Older than the cookie's max age.
    Expired,
}

impl RejectReason {
    /// A sentence for explain output.
    pub fn describe(self) -> &'static str {
        match self {
            RejectReason::TooLong => "the cookie is longer than 1 KB",
            RejectReason::UnknownVersion => {
                "the cookie has a format version this build does not know"
            }
            RejectReason::Malformed => "the cookie is not valid base64 or is too short",
            RejectReason::ChecksumMismatch => "the cookie's checksum does not match (damaged)",
            RejectReason::Corrupt => "the cookie's payload does not parse",
            RejectReason::Unsigned => "the cookie is not signed and the site requires signatures",
            RejectReason::UnknownKey => "the cookie is signed with an unknown key id",
            RejectReason::BadSignature => "the cookie's signature does not verify",
            RejectReason::Expired => "the cookie is older than its max age",
        }
    }
}

/// What decoding a cookie gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "status", content = "reason")]
pub enum CookieStatus {
    /// No cookie.
    Absent,
    /// Read and verified (or checksummed).
    Valid,
    /// Signed, read without verification because no keys were given.
    Unverified,
    /// Ignored; a fresh profile was used.
    Rejected(RejectReason),
    /// The refusal marker ([`crate::core::consent::REFUSED_COOKIE_VALUE`]): the
    /// visitor said no; a fresh profile was used.
    Refused,
}

/// Encodes and decodes profile cookies.
#[derive(Debug, Clone, Copy)]
pub struct CookieCodec<'k> {
    /// Keys to sign with (the first) and to verify with (any). Empty in the browser.
    pub keys: &'k [SigningKey],
    /// Refuse cookies without a valid signature.
    pub require_signature: bool,
    /// Cookies whose `last_seen` is older than this are expired.
    pub max_age_minutes: u32,
}

/// Whether `value` reads as a profile cookie of this format (version, checksum or
/// structure; a signature is not checked, nor an age): for keeping a profile cookie
/// whose name is unknown (the config could not be read) away from the origin.
pub fn looks_like_profile_cookie(value: &str) -> bool {
    let codec = CookieCodec {
        keys: &[],
        require_signature: false,
        max_age_minutes: u32::MAX,
    };
    codec.decode(value, 0).is_ok()
}

impl CookieCodec<'_> {
    /// Decodes a cookie value. `Ok` holds the profile; `Err` why the cookie was not
    /// used (the caller starts a fresh profile).
    ///
    /// # Errors
    /// The [`RejectReason`] for a cookie that cannot be used.
    pub fn decode(
        &self,
        value: &str,
        now: Minutes,
    ) -> Result<(Profile, CookieStatus), RejectReason> {
        if value.len() > MAX_COOKIE_LEN {
            return Err(RejectReason::TooLong);
        }
        // Every cookie we accept fits: at most 1 KB of base64 is 768 bytes.
        let mut buffer = [0u8; MAX_COOKIE_LEN];
        let mut chars = value.chars();
        if chars.next() != Some(VERSION) {
            return Err(RejectReason::UnknownVersion);
        }
        let (profile, status) = match chars.next() {
            Some('c') => {
                if self.require_signature {
                    return Err(RejectReason::Unsigned);
                }
                let bytes = decode_base64(&value[2..], &mut buffer)?;
                let split = bytes.len().checked_sub(4).ok_or(RejectReason::Malformed)?;
                let (payload, sum) = bytes.split_at(split);
                if fnv1a32_bytes(payload).to_le_bytes() != sum {
                    return Err(RejectReason::ChecksumMismatch);
                }
                (parse(payload)?, CookieStatus::Valid)
            }
            Some('s') => {
                let rest = &value[2..];
                let (key_id, body) = rest.split_once('.').ok_or(RejectReason::Malformed)?;
                let bytes = decode_base64(body, &mut buffer)?;
                let split = bytes
                    .len()
                    .checked_sub(MAC_LEN)
                    .ok_or(RejectReason::Malformed)?;
                let (payload, mac) = bytes.split_at(split);
                let status = if self.keys.is_empty() && !self.require_signature {
                    CookieStatus::Unverified
                } else {
                    let key = self
                        .keys
                        .iter()
                        .find(|k| k.id == key_id && k.is_valid())
                        .ok_or(RejectReason::UnknownKey)?;
                    if !verify(key, &value[..2 + key_id.len() + 1], payload, mac) {
                        return Err(RejectReason::BadSignature);
                    }
                    CookieStatus::Valid
                };
                (parse(payload)?, status)
            }
            _ => return Err(RejectReason::UnknownVersion),
        };
        if now.saturating_sub(profile.last_seen) > self.max_age_minutes {
            return Err(RejectReason::Expired);
        }
        Ok((profile, status))
    }

    /// Encodes a profile, dropping parts in the documented order until it fits in
    /// [`MAX_COOKIE_LEN`]. Signs with the first key when there are keys.
    pub fn encode(&self, profile: &Profile) -> String {
        let mut encoded = self.encode_exact(profile);
        if encoded.len() <= MAX_COOKIE_LEN {
            return encoded;
        }
        let mut trimmed = profile.clone();
        stable_sort_by(&mut trimmed.history, |a, b| a.last_shown > b.last_shown);
        while encoded.len() > MAX_COOKIE_LEN {
            // The documented order: interests (the weakest first), then histories
            // (the longest unshown first), then the categories bought, then the latest
            // purchase's details. A history holds a popup's caps (dismissed,
            // converted, shown so often): dropped, the popup would show again.
            let dropped = trimmed.interests.pop().is_some()
                || trimmed.history.pop().is_some()
                || trimmed.purchased_categories.pop().is_some();
            if !dropped {
                match trimmed.funnel.last_purchase.as_mut() {
                    Some(purchase) if purchase.category.is_some() || purchase.item_id.is_some() => {
                        purchase.category = None;
                        purchase.item_id = None;
                    }
                    Some(_) => trimmed.funnel.last_purchase = None,
                    // Nothing variable is left, and a bare profile always fits.
                    None => return self.encode_exact(&trimmed),
                }
            }
            encoded = self.encode_exact(&trimmed);
        }
        encoded
    }

    fn encode_exact(&self, profile: &Profile) -> String {
        // Serialize into a stack buffer (a profile over 2 KB falls back to the heap);
        // serializing plain structs cannot otherwise fail.
        let mut buffer = [0u8; 2048];
        let heap;
        let payload: &[u8] = match postcard::to_slice(profile, &mut buffer) {
            Ok(used) => used,
            Err(_) => {
                heap = postcard::to_allocvec(profile).unwrap_or_default();
                &heap
            }
        };
        let mut out = String::with_capacity(8 + (payload.len() + MAC_LEN) * 4 / 3);
        let mut tail = [0u8; MAC_LEN];
        let tail: &[u8] = match self.keys.first().filter(|k| k.is_valid()) {
            Some(key) => {
                out.push(VERSION);
                out.push('s');
                out.push_str(&key.id);
                out.push('.');
                let mac = sign(key, &out, payload);
                let n = mac.len().min(MAC_LEN);
                tail[..n].copy_from_slice(&mac[..n]);
                &tail[..MAC_LEN]
            }
            None => {
                out.push(VERSION);
                out.push('c');
                tail[..4].copy_from_slice(&fnv1a32_bytes(payload).to_le_bytes());
                &tail[..4]
            }
        };
        // base64 of `payload ‖ tail` without joining them: encode whole 3-byte groups
        // of the payload, then the rest together with the tail.
        let whole = payload.len() / 3 * 3;
        URL_SAFE_NO_PAD.encode_string(&payload[..whole], &mut out);
        let mut rest = [0u8; 2 + MAC_LEN];
        let left = payload.len() - whole;
        rest[..left].copy_from_slice(&payload[whole..]);
        rest[left..left + tail.len()].copy_from_slice(tail);
        URL_SAFE_NO_PAD.encode_string(&rest[..left + tail.len()], &mut out);
        out
    }
}

fn decode_base64<'b>(text: &str, buffer: &'b mut [u8]) -> Result<&'b [u8], RejectReason> {
    match URL_SAFE_NO_PAD.decode_slice(text, buffer) {
        Ok(len) => buffer.get(..len).ok_or(RejectReason::Malformed),
        Err(_) => Err(RejectReason::Malformed),
    }
}

/// The zero encodings of the fields appended to the end of [`Profile`] within format
/// `1` (`purchased_categories` empty, `previous_visit_gap` 0): a cookie written
/// before them reads as if it had them, zero.
const APPENDED_FIELDS: [u8; 2] = [0, 0];

fn parse(payload: &[u8]) -> Result<Profile, RejectReason> {
    // Bytes after the profile are fields a later release appended: left for it (the
    // checksum or signature already vouches for the whole payload).
    if let Ok((profile, _appended_later)) = postcard::take_from_bytes::<Profile>(payload) {
        return Ok(profile);
    }
    let mut older = Vec::with_capacity(payload.len() + APPENDED_FIELDS.len());
    older.extend_from_slice(payload);
    older.extend_from_slice(&APPENDED_FIELDS);
    match postcard::take_from_bytes::<Profile>(&older) {
        Ok((mut profile, [])) => {
            // Its latest purchase is the one category it can tell.
            if let Some((category, at)) = profile
                .funnel
                .last_purchase
                .as_ref()
                .and_then(|p| Some((p.category.clone()?, p.at)))
            {
                super::update::record_category_purchase(&mut profile, category, at);
            }
            Ok(profile)
        }
        _ => Err(RejectReason::Corrupt),
    }
}

#[cfg(feature = "signing")]
fn mac_of(key: &SigningKey, prefix: &str, payload: &[u8]) -> Option<[u8; 32]> {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key.secret).ok()?;
    mac.update(prefix.as_bytes());
    mac.update(payload);
    Some(mac.finalize().into_bytes().into())
}

#[cfg(feature = "signing")]
fn sign(key: &SigningKey, prefix: &str, payload: &[u8]) -> Vec<u8> {
    mac_of(key, prefix, payload)
        .map(|m| m[..MAC_LEN].to_vec())
        .unwrap_or_default()
}

#[cfg(feature = "signing")]
fn verify(key: &SigningKey, prefix: &str, payload: &[u8], mac: &[u8]) -> bool {
    use hmac::{Hmac, Mac};
    let Ok(mut check) = Hmac::<sha2::Sha256>::new_from_slice(&key.secret) else {
        return false;
    };
    check.update(prefix.as_bytes());
    check.update(payload);
    // Constant-time comparison of the truncated tag.
    check.verify_truncated_left(mac).is_ok()
}

// Builds without `signing` (the browser) hold no keys; should one be given anyway,
// nothing verifies and nothing is signed with it.
#[cfg(not(feature = "signing"))]
fn sign(_key: &SigningKey, _prefix: &str, _payload: &[u8]) -> Vec<u8> {
    vec![0; MAC_LEN]
}

#[cfg(not(feature = "signing"))]
fn verify(_key: &SigningKey, _prefix: &str, _payload: &[u8], _mac: &[u8]) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::profile::{Interest, RuleHistory};

    const NOW: Minutes = 29_000_000;

    fn codec(keys: &[SigningKey]) -> CookieCodec<'_> {
        CookieCodec {
            keys,
            require_signature: !keys.is_empty(),
            max_age_minutes: 180 * 24 * 60,
        }
    }

    fn typical() -> Profile {
        let mut p = Profile::new(0x1234_5678_9abc_def0, NOW - 5000);
        p.last_seen = NOW;
        p.visits = 7;
        p.page_views = 31;
        p.prices.count = 9;
        p.prices.typical = 4200.0;
        p.interests = ["sushi", "wine", "steak"]
            .iter()
            .map(|c| Interest {
                category: c.to_string(),
                score: 3.5,
            })
            .collect();
        for id in ["hero-premium", "cart-coupon", "welcome-back"] {
            let h = p.rule_mut(id);
            h.shown = 2;
            h.last_shown = NOW - 100;
        }
        p
    }

    #[test]
    fn round_trips_and_stays_small() {
        let p = typical();
        let value = codec(&[]).encode(&p);
        assert!(
            value.len() <= 300,
            "typical profile is {} bytes",
            value.len()
        );
        assert!(value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)));
        let (back, status) = codec(&[]).decode(&value, NOW).unwrap();
        assert_eq!(back, p);
        assert_eq!(status, CookieStatus::Valid);
    }

    #[test]
    fn a_cookie_from_before_the_appended_fields_reads_with_them_zero() {
        let mut p = typical();
        p.funnel.last_purchase = Some(crate::core::profile::Purchase {
            at: NOW - 60,
            category: Some("phones".into()),
            ..Default::default()
        });
        // What format 1 wrote before the fields were appended: the same payload
        // without their (zero) encodings.
        let mut payload = postcard::to_allocvec(&p).unwrap();
        assert!(payload.ends_with(&APPENDED_FIELDS));
        payload.truncate(payload.len() - APPENDED_FIELDS.len());
        let sum = fnv1a32_bytes(&payload).to_le_bytes();
        payload.extend_from_slice(&sum);
        let older = format!("1c{}", URL_SAFE_NO_PAD.encode(&payload));
        let (back, status) = codec(&[]).decode(&older, NOW).unwrap();
        assert_eq!(status, CookieStatus::Valid);
        assert_eq!(back.previous_visit_gap, 0);
        // Its latest purchase is the category it remembers for suppression.
        assert_eq!(
            back.purchased_categories,
            vec![crate::core::profile::CategoryPurchase {
                category: "phones".into(),
                at: NOW - 60
            }]
        );
        assert_eq!(
            Profile {
                purchased_categories: Vec::new(),
                ..back
            },
            p
        );
    }

    #[test]
    fn a_cookie_from_a_later_release_reads_without_the_fields_it_appended() {
        let p = typical();
        let mut payload = postcard::to_allocvec(&p).unwrap();
        payload.extend_from_slice(&[3, 1, 2, 3]); // a later release's appended field
        let sum = fnv1a32_bytes(&payload).to_le_bytes();
        payload.extend_from_slice(&sum);
        let later = format!("1c{}", URL_SAFE_NO_PAD.encode(&payload));
        let (back, status) = codec(&[]).decode(&later, NOW).unwrap();
        assert_eq!((back, status), (p, CookieStatus::Valid));
    }

    #[test]
    fn damage_is_detected() {
        let value = codec(&[]).encode(&typical());
        let mut bytes = value.into_bytes();
        let last = bytes.len() - 3;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        let damaged = String::from_utf8(bytes).unwrap();
        assert_eq!(
            codec(&[]).decode(&damaged, NOW).unwrap_err(),
            RejectReason::ChecksumMismatch
        );
        assert_eq!(
            codec(&[]).decode("2cAAAA", NOW).unwrap_err(),
            RejectReason::UnknownVersion
        );
        assert_eq!(
            codec(&[]).decode("1c!!", NOW).unwrap_err(),
            RejectReason::Malformed
        );
        assert_eq!(
            codec(&[]).decode(&"1c".repeat(600), NOW).unwrap_err(),
            RejectReason::TooLong
        );
    }

    #[test]
    fn expired_profiles_are_not_used() {
        let value = codec(&[]).encode(&typical());
        let later = NOW + 181 * 24 * 60;
        assert_eq!(
            codec(&[]).decode(&value, later).unwrap_err(),
            RejectReason::Expired
        );
    }

    #[test]
    fn caps_outlast_interests_when_a_profile_is_trimmed() {
        let mut p = typical();
        for i in 0..16 {
            p.interests.push(Interest {
                category: format!("категория номер {i:02} с длинным названием"),
                score: 16.0 - i as f32,
            });
        }
        let h = p.rule_mut("coupon");
        (h.shown, h.dismissed, h.last_shown) = (2, 2, NOW - 60);
        let value = codec(&[]).encode(&p);
        assert!(value.len() <= MAX_COOKIE_LEN);
        let (back, _) = codec(&[]).decode(&value, NOW).unwrap();
        assert_eq!(
            back.history.len(),
            p.history.len(),
            "every popup's caps stay"
        );
        assert!(p.history.iter().all(|h| back.history.contains(h)));
        assert!(back.interests.len() < p.interests.len());
        assert_eq!(
            back.interests[..],
            p.interests[..back.interests.len()],
            "the weakest interests go first"
        );
    }

    #[test]
    fn oversized_profiles_are_trimmed_in_order() {
        let mut p = typical();
        for i in 0..200 {
            let h = p.rule_mut(&format!("rule-{i}"));
            h.shown = 1;
            h.last_shown = NOW - 200 + i;
        }
        let value = codec(&[]).encode(&p);
        assert!(value.len() <= MAX_COOKIE_LEN);
        let (back, _) = codec(&[]).decode(&value, NOW).unwrap();
        assert!(back.interests.is_empty(), "interests go first");
        assert!(back.history.len() < p.history.len());
        let newest: Vec<&RuleHistory> = back.history.iter().collect();
        assert!(
            newest.iter().all(|h| h.last_shown >= NOW - 200),
            "oldest shows dropped first"
        );
    }

    #[cfg(feature = "signing")]
    #[test]
    fn signed_cookies_verify_and_forgeries_do_not() {
        let secret = b"an edge secret of at least 32 bytes";
        let keys = [SigningKey::new("k2", secret).unwrap()];
        let value = codec(&keys).encode(&typical());
        assert!(value.starts_with("1sk2."));
        assert_eq!(
            codec(&keys).decode(&value, NOW).unwrap().1,
            CookieStatus::Valid
        );
        // Unsigned cookie where signatures are required.
        let unsigned = codec(&[]).encode(&typical());
        assert_eq!(
            codec(&keys).decode(&unsigned, NOW).unwrap_err(),
            RejectReason::Unsigned
        );
        // Wrong key id.
        let other = [SigningKey::new("k9", secret).unwrap()];
        assert_eq!(
            codec(&other).decode(&value, NOW).unwrap_err(),
            RejectReason::UnknownKey
        );
        // Wrong secret.
        let wrong = [SigningKey::new("k2", b"a guessed secret, also 32 bytes long").unwrap()];
        assert_eq!(
            codec(&wrong).decode(&value, NOW).unwrap_err(),
            RejectReason::BadSignature
        );
        // Keys that break the rules are refused, and never used.
        assert!(SigningKey::new("k.1", secret).is_err());
        assert!(SigningKey::new("k1", b"short").is_err());
        let weak = [SigningKey {
            id: "k2".into(),
            secret: Vec::new(),
        }];
        assert_eq!(
            codec(&weak).decode(&value, NOW).unwrap_err(),
            RejectReason::UnknownKey
        );
        // Truncated.
        assert!(codec(&keys).decode(&value[..value.len() - 5], NOW).is_err());
        // Without keys (the browser) it is read, unverified.
        let browser = CookieCodec {
            keys: &[],
            require_signature: false,
            max_age_minutes: u32::MAX,
        };
        assert_eq!(
            browser.decode(&value, NOW).unwrap().1,
            CookieStatus::Unverified
        );
    }
}
