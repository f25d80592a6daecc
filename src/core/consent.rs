//! Whether this page view may store anything.

use crate::core::config::{ConsentLevel, ConsentMode, ConsentSettings};
use crate::core::context::RequestFacts;
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

/// What the page view itself says about privacy, besides a consent answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PrivacySignals {
    /// Global Privacy Control: an opt-out of profiling in every mode.
    pub gpc: bool,
    /// The consent platform withholds storage until the visitor answers (Consent
    /// Mode's `default: denied`, a TCF CMP that has not answered): without an
    /// answer, nothing is stored in any mode,
    /// but nothing stored before is deleted (it is not a refusal).
    pub withheld: bool,
}

impl PrivacySignals {
    /// The signals of a page view's facts.
    pub fn of(facts: &RequestFacts) -> PrivacySignals {
        PrivacySignals {
            gpc: facts.global_privacy_control,
            withheld: facts.consent_withheld,
        }
    }
}

/// What [`crate::core::profile::Profile::consent`] holds for a profile stored with no
/// answer from the visitor (a site whose config implies consent or needs none). It
/// is no grant: an edge reading it back has only the config's mode to go by, and a
/// site that later requires consent does not take it for one. (Before this value,
/// such profiles were stamped with the config's level.)
pub const STORED_WITHOUT_ANSWER: u8 = 3;

/// The profile cookie's value once the visitor has said no (a refusal; Global
/// Privacy Control comes with every request and deletes instead): it holds no data
/// and no identifier, only that answer, so that
/// an edge, which cannot see the page's consent platform, stores no new profile for
/// them on the next page (under `implied` or `none` it otherwise would). A grant on
/// a page replaces it; `forget()` deletes it.
pub const REFUSED_COOKIE_VALUE: &str = "0";

/// Whether a profile cookie value is [`REFUSED_COOKIE_VALUE`].
pub fn is_refusal(cookie: Option<&str>) -> bool {
    cookie.is_some_and(|value| value.trim() == REFUSED_COOKIE_VALUE)
}

/// The answer a page view goes by: the page's own, else a refusal the profile
/// cookie remembers.
pub fn answer_or_remembered_refusal(
    answer: Option<ConsentLevel>,
    cookie: Option<&str>,
) -> Option<ConsentLevel> {
    answer.or_else(|| is_refusal(cookie).then_some(ConsentLevel::Denied))
}

/// [`crate::core::profile::Profile::consent`] for a profile stored under `answer`.
pub fn stored_consent(answer: Option<ConsentLevel>) -> u8 {
    answer.map_or(STORED_WITHOUT_ANSWER, |level| level as u8)
}

/// Decides whether the profile may be stored.
///
/// `signal` is what the consent platform said (`None`: it has not answered).
pub fn storage_verdict(
    settings: &ConsentSettings,
    signal: Option<ConsentLevel>,
    privacy: PrivacySignals,
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
    if privacy.gpc {
        return refused("Global Privacy Control is on: no profiling");
    }
    match (settings.mode, signal) {
        (_, Some(ConsentLevel::Denied)) => refused("the visitor refused"),
        (_, None) if privacy.withheld => verdict(
            false,
            "the consent platform withholds storage until the visitor answers",
        ),
        // An answer below the level the config asks for is a refusal, whatever the
        // mode: a site that needs no consent still hears a visitor who said no.
        (_, Some(level)) if level < settings.level => {
            refused("the visitor's consent does not cover personalization")
        }
        (ConsentMode::None, _) => verdict(true, "the site needs no consent"),
        (_, Some(_)) => verdict(true, "the visitor consented"),
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
            consent_on_page: false,
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
            (M::None, Some(Necessary), false, false),
            (M::None, Some(Personalization), false, true),
            (M::None, None, true, false),
        ];
        for (mode, signal, gpc, allowed) in cases {
            let privacy = PrivacySignals {
                gpc,
                withheld: false,
            };
            assert_eq!(
                storage_verdict(&settings(mode), signal, privacy).allowed,
                allowed,
                "{mode:?} {signal:?} gpc={gpc}"
            );
        }
    }

    #[test]
    fn a_withheld_default_stores_nothing_and_deletes_nothing_until_an_answer() {
        use ConsentLevel::*;
        let withheld = PrivacySignals {
            gpc: false,
            withheld: true,
        };
        for mode in [
            ConsentMode::Required,
            ConsentMode::Implied,
            ConsentMode::None,
        ] {
            let verdict = storage_verdict(&settings(mode), None, withheld);
            assert!(
                !verdict.allowed && !verdict.withdrawn,
                "{mode:?}: {verdict:?}"
            );
            // The visitor's own answer decides.
            assert!(storage_verdict(&settings(mode), Some(Personalization), withheld).allowed);
            assert!(storage_verdict(&settings(mode), Some(Denied), withheld).withdrawn);
        }
    }
}
