//! Loading and validating the site's config.
//!
//! [`load`] parses the JSON, checks every field against the types in [`model`] and
//! every rule against the others (slots that exist, segments that exist, unique
//! ids, weights that add up, URLs on the allow-list, conditions that compile), and
//! reports **all** problems at once, each with its JSON path. A config with any
//! problem is refused whole: the page keeps its default content.

pub mod model;
pub mod strict;
mod validate;

use crate::core::attributes::AttributePlan;
use crate::core::condition::Condition;
use crate::core::order::stable_sort_by;
use crate::core::pattern::PatternEngine;
use crate::core::template::Template;
pub use model::*;
use serde_json::Value;
pub use strict::ConfigError;

/// A validated config with its conditions and templates compiled.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    /// The config as written (with defaults filled in).
    pub site: SiteConfig,
    pub(crate) segments: Vec<Compiled<()>>,
    pub(crate) experiences: Vec<Compiled<ExperiencePlan>>,
    pub(crate) greetings: Vec<Compiled<Template>>,
    pub(crate) popups: Vec<Compiled<()>>,
    pub(crate) saved_groups: crate::core::condition::SavedGroups,
    /// `<html>` class names, built once.
    pub(crate) class_names: ClassNames,
    /// The order rules are tried in.
    pub(crate) order: RuleOrder,
    /// Each slot's CSS selector (given, or `[data-ep-slot="<name>"]`).
    pub(crate) slot_selectors: std::collections::BTreeMap<String, String>,
    /// The attributes any condition or template reads, so a page view builds only those.
    pub(crate) attribute_plan: AttributePlan,
}

impl LoadedConfig {
    /// Each slot's name and CSS selector (given, or `[data-ep-slot="<name>"]`), in
    /// slot-name order.
    pub fn slot_selectors(&self) -> impl Iterator<Item = (&str, &str)> {
        self.slot_selectors
            .iter()
            .map(|(name, selector)| (name.as_str(), selector.as_str()))
    }
}

/// The `<html>` classes the engine can add, with the config's prefix, built once so
/// page views only borrow them.
#[derive(Debug, Clone, Default)]
pub(crate) struct ClassNames {
    experience: [String; 3],
    stage: [String; 4],
    bands: Vec<(String, String)>,
    segments: Vec<(String, String)>,
}

impl ClassNames {
    pub(crate) fn of(site: &SiteConfig) -> ClassNames {
        let prefix = &site.html_classes.prefix;
        let named = |kind: &str, name: &str| (name.to_string(), format!("{prefix}{kind}-{name}"));
        ClassNames {
            experience: ["new", "returning", "experienced"].map(|e| format!("{prefix}exp-{e}")),
            stage: ["cold", "warm", "hot", "customer"].map(|s| format!("{prefix}stage-{s}")),
            bands: site
                .classify
                .price
                .bands
                .iter()
                .map(|b| named("price", &b.name))
                .collect(),
            segments: site
                .segments
                .iter()
                .map(|s| named("seg", &s.name))
                .collect(),
        }
    }

    pub(crate) fn experience(&self, level: crate::core::classify::ExperienceLevel) -> &str {
        use crate::core::classify::ExperienceLevel::*;
        &self.experience[match level {
            New => 0,
            Returning => 1,
            Experienced => 2,
        }]
    }

    pub(crate) fn stage(&self, stage: FunnelStage) -> &str {
        &self.stage[usize::from(stage.code()).min(3)]
    }

    pub(crate) fn band(&self, band: &str) -> Option<&str> {
        self.bands
            .iter()
            .find(|(b, _)| b == band)
            .map(|(_, c)| c.as_str())
    }

    pub(crate) fn segment(&self, segment: &str) -> Option<&str> {
        self.segments
            .iter()
            .find(|(s, _)| s == segment)
            .map(|(_, c)| c.as_str())
    }
}

/// What an experience needs precompiled besides its condition.
#[derive(Debug, Clone, Default)]
pub(crate) struct ExperiencePlan {
    /// GrowthBook bucket ranges of its variants, shrunk by the holdout.
    pub(crate) ranges: Vec<(f64, f64)>,
    /// Its attribute values as templates, in `setAttributes` order.
    pub(crate) attribute_values: Vec<Template>,
}

/// Rules in the order they are tried: highest priority first, ties in config order.
#[derive(Debug, Clone, Default)]
pub(crate) struct RuleOrder {
    /// Each slot with experiences, and their indices.
    pub(crate) slots: Vec<(String, Vec<usize>)>,
    /// Greeting indices.
    pub(crate) greetings: Vec<usize>,
    /// Popup indices.
    pub(crate) popups: Vec<usize>,
}

impl RuleOrder {
    pub(crate) fn of(site: &SiteConfig) -> RuleOrder {
        // Stable sorts: ties keep config order.
        let by_priority = |indices: &mut Vec<usize>, priority: &dyn Fn(usize) -> i32| {
            stable_sort_by(indices, |&a, &b| priority(a) > priority(b));
        };
        let slots = site
            .slots
            .keys()
            .filter_map(|slot| {
                let mut indices: Vec<usize> = (0..site.experiences.len())
                    .filter(|&i| site.experiences[i].slot == *slot)
                    .collect();
                by_priority(&mut indices, &|i| site.experiences[i].priority);
                (!indices.is_empty()).then(|| (slot.clone(), indices))
            })
            .collect();
        let mut greetings: Vec<usize> = (0..site.greetings.len()).collect();
        by_priority(&mut greetings, &|i| site.greetings[i].priority);
        let mut popups: Vec<usize> = (0..site.popups.len()).collect();
        by_priority(&mut popups, &|i| site.popups[i].priority);
        RuleOrder {
            slots,
            greetings,
            popups,
        }
    }
}

/// A rule's compiled condition, plus whatever else the rule needs precompiled.
#[derive(Debug, Clone)]
pub(crate) struct Compiled<T> {
    pub(crate) condition: Option<Condition>,
    pub(crate) extra: T,
}

/// Every problem in a config, in document order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl std::fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let count = self.0.len();
        writeln!(
            f,
            "the config has {count} error{}:",
            if count == 1 { "" } else { "s" }
        )?;
        for error in &self.0 {
            writeln!(f, "  {error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// Parses and validates a config.
///
/// # Errors
/// [`ConfigErrors`] listing every problem found, each with its JSON path.
pub fn load(json: &str, patterns: &dyn PatternEngine) -> Result<LoadedConfig, ConfigErrors> {
    // A byte-order mark, as editors on Windows save one (`fetch`'s text() drops it too).
    let json = json.strip_prefix('\u{FEFF}').unwrap_or(json);
    let value: Value = serde_json::from_str(json).map_err(|e| {
        ConfigErrors(vec![ConfigError {
            path: String::new(),
            message: json_error_message(json, &e),
        }])
    })?;
    load_value(&value, patterns)
}

/// A JSON syntax error in words, with its line and column once (serde_json's own
/// text repeats them), and a hint where JSON differs from what people write.
fn json_error_message(json: &str, error: &serde_json::Error) -> String {
    let text = error.to_string();
    let what = text
        .rsplit_once(" at line ")
        .map_or(text.as_str(), |(what, _)| what);
    let at: String = json
        .lines()
        .nth(error.line().saturating_sub(1))
        .map(|line| {
            let from = error.column().saturating_sub(1);
            line.chars().skip(from).take(2).collect()
        })
        .unwrap_or_default();
    let hint = if at.starts_with("//") || at.starts_with("/*") {
        " (comments are not allowed in JSON)"
    } else if at.starts_with('\'') {
        " (JSON strings take double quotes)"
    } else {
        ""
    };
    format!(
        "not valid JSON at line {}, column {}: {what}{hint}",
        error.line(),
        error.column()
    )
}

/// The typed config and the type errors found: every one of them, each with its
/// path, with the `all-errors` feature (native, edge); without it (the browser build,
/// where every byte is downloaded) serde's first error. Sites check their config
/// with `edge-persona check`, which reports them all.
#[cfg(feature = "all-errors")]
fn deserialize(value: &Value) -> (Option<SiteConfig>, Vec<ConfigError>) {
    strict::from_value_lenient::<SiteConfig>(value)
}

#[cfg(not(feature = "all-errors"))]
fn deserialize(value: &Value) -> (Option<SiteConfig>, Vec<ConfigError>) {
    match crate::core::value_de::from_value::<SiteConfig>(value) {
        Ok(site) => (Some(site), Vec::new()),
        Err(error) => (
            None,
            vec![ConfigError {
                path: String::new(),
                message: format!(
                    "{error} (run `edge-persona check` for every error with its path)"
                ),
            }],
        ),
    }
}

/// Like [`load`], from an already parsed JSON value.
///
/// # Errors
/// [`ConfigErrors`] listing every problem found, each with its JSON path.
pub fn load_value(
    value: &Value,
    patterns: &dyn PatternEngine,
) -> Result<LoadedConfig, ConfigErrors> {
    let (site, mut errors) = deserialize(value);
    let Some(site) = site else {
        return Err(ConfigErrors(errors));
    };
    match validate::validate(site, patterns) {
        Ok(loaded) if errors.is_empty() => Ok(loaded),
        Ok(_) => Err(ConfigErrors(errors)),
        Err(ConfigErrors(rule_errors)) => {
            // A value that had the wrong type was replaced by a neutral one; rule
            // errors about that stand-in would only repeat the type error.
            let type_error_paths: Vec<String> = errors.iter().map(|e| e.path.clone()).collect();
            errors.extend(rule_errors.into_iter().filter(|e| {
                !type_error_paths.iter().any(|p| {
                    e.path == *p
                        || e.path.starts_with(&format!("{p}."))
                        || e.path.starts_with(&format!("{p}["))
                })
            }));
            Err(ConfigErrors(errors))
        }
    }
}
