//! The client's geolocation from Fastly's geo hostcall, read here rather than
//! through `fastly::geo::geo_lookup`: the `fastly` crate (0.13) turns every negative
//! `utc_offset` (all of the Americas) into `None`, which would put those visitors'
//! local time (`time.hour`, `time.weekday`, …) at UTC. The hostcall's JSON is the
//! same the crate parses; only the fields the engine reads are taken from it.

use edge_persona::core::context::Geo;
use edge_persona::edge::EdgeRequest;
use fastly_shared::FastlyStatus;
use serde::Deserialize;
use std::net::IpAddr;

/// What the engine reads of the geolocation: coarse place and local time offset.
pub struct ClientGeo {
    pub place: Geo,
    /// Minutes east of UTC; `None` when Fastly does not know it.
    pub utc_offset_minutes: Option<i32>,
}

/// The hostcall's JSON, only the fields used (`utc_offset` is ±HHMM, 9999 unknown).
#[derive(Deserialize)]
struct RawGeo {
    #[serde(default)]
    country_code: Option<String>,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    city: Option<String>,
    #[serde(default)]
    utc_offset: Option<i32>,
}

/// The geolocation of `ip`, or `None` when Fastly has none (private addresses).
pub fn lookup(ip: IpAddr) -> Option<ClientGeo> {
    let raw: RawGeo = serde_json::from_slice(&lookup_json(ip)?).ok()?;
    Some(ClientGeo {
        // Trimmed, capped and blank fields dropped by the engine (`Geo::sanitized`).
        place: Geo {
            country: raw.country_code,
            region: raw.region,
            city: raw.city.as_deref().map(capitalised),
        },
        utc_offset_minutes: raw.utc_offset.and_then(EdgeRequest::utc_offset_from_hhmm),
    })
}

/// Fastly's lowercase city name (`"new york"`) as Cloudflare spells it (`"New
/// York"`), so that one condition or template serves both: each word capitalised.
fn capitalised(city: &str) -> String {
    city.split(' ')
        .map(|word| {
            let mut letters = word.chars();
            letters.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(letters).collect()
            })
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The geo hostcall's JSON for `ip`, asking again with the size it needs when the
/// first buffer is too small.
fn lookup_json(ip: IpAddr) -> Option<Vec<u8>> {
    let octets: Vec<u8> = match ip {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => v6.octets().to_vec(),
    };
    let mut capacity = 1024;
    for _ in 0..2 {
        let mut buf = vec![0u8; capacity];
        let mut written = 0usize;
        // SAFETY: the hostcall reads `octets.len()` bytes from `octets` and writes at
        // most `buf.len()` bytes into `buf` (both live, correctly sized buffers), and
        // the count it wrote, or the size it needs, into `written`.
        let status = unsafe {
            fastly_sys::fastly_geo::lookup(
                octets.as_ptr(),
                octets.len(),
                buf.as_mut_ptr(),
                buf.len(),
                &mut written,
            )
        };
        if status == FastlyStatus::OK {
            buf.truncate(written.min(buf.len()));
            return Some(buf);
        }
        if status != FastlyStatus::BUFLEN || written <= capacity {
            return None;
        }
        capacity = written;
    }
    None
}
