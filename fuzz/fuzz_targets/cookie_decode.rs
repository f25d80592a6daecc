//! Any cookie value: decoding never panics, and whatever decodes re-encodes to a
//! value that decodes to the same profile.
#![no_main]
use edge_persona::core::profile::codec::{CookieCodec, SigningKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let value = String::from_utf8_lossy(data);
    let Ok(key) = SigningKey::new("k1", b"a fuzzing secret of 32 bytes or more") else { return };
    let keys = [key];
    for codec in [
        CookieCodec { keys: &[], require_signature: false, max_age_minutes: u32::MAX },
        CookieCodec { keys: &keys, require_signature: true, max_age_minutes: u32::MAX },
    ] {
        if let Ok((profile, _)) = codec.decode(&value, 0) {
            let again = codec.encode(&profile);
            assert!(again.len() <= edge_persona::core::profile::codec::MAX_COOKIE_LEN);
            if let Ok((back, _)) = codec.decode(&again, 0) {
                assert!(back.visitor_id == profile.visitor_id);
            }
        }
    }
});
