//! Whether this page view may store anything.

use crate::core::config::{ConsentLevel, ConsentMode, ConsentSettings};
use serde::Serialize;

/// The storage verdict for one page view, with its reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageVerdict {
    /// The profile may be read from and written to the cookie.
    pub allowed: bool,
    /// Why, in a sentence.
    pub reason: &'static str,
    /// The visitor said no (a refusal, a level below the one required, or Global
    /// Privacy Control): what was stored before must go. `false` when storage is
    /// allowed or the consent platform simply has not answered.
    pub withdrawn: bool,
}

/// Decides whether the profile may be stored.
///
/// `signal` is what the consent platform said (`None`: it has not answered). Global
/// Privacy Control (`gpc`) is an opt-out of profiling in every mode.
pub fn storage_verdict(
    settings: &ConsentSettings,
    signal: Option<ConsentLevel>,
    gpc: bool,
) -> StorageVerdict {
    let verdict = |allowed, reason| StorageVerdict {
        allowed,
        reason,
        withdrawn: false,
    };
    let refused = |reason| StorageVerdict {
        allowed: false,
        reason,
        withdrawn: true,
    };
    if gpc {
        return refused("Global Privacy Control is on: no profiling");
    }
    match (settings.mode, signal) {
        (_, Some(ConsentLevel::Denied)) => refused("the visitor refused"),
        (ConsentMode::None, _) => verdict(true, "the site needs no consent"),
        (_, Some(level)) if level >= settings.level => verdict(true, "the visitor consented"),
        (_, Some(_)) => refused("the visitor's consent does not cover personalization"),
        (ConsentMode::Implied, None) => verdict(true, "consent is implied until refused"),
        (ConsentMode::Required, None) => verdict(false, "consent is required and was not given"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(mode: ConsentMode) -> ConsentSettings {
        ConsentSettings {
            mode,
            level: ConsentLevel::Personalization,
        }
    }

    #[test]
    fn modes_and_signals() {
        use ConsentLevel::*;
        use ConsentMode as M;
        let cases = [
            (M::Required, None, false, false),
            (M::Required, Some(Personalization), false, true),
            (M::Required, Some(Necessary), false, false),
            (M::Required, Some(Personalization), true, false),
            (M::Implied, None, false, true),
            (M::Implied, Some(Denied), false, false),
            (M::Implied, None, true, false),
            (M::None, None, false, true),
            (M::None, Some(Denied), false, false),
            (M::None, None, true, false),
        ];
        for (mode, signal, gpc, allowed) in cases {
            assert_eq!(
                storage_verdict(&settings(mode), signal, gpc).allowed,
                allowed,
                "{mode:?} {signal:?} gpc={gpc}"
            );
        }
    }
}
