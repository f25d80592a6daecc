//! `edge-persona`: check a config, simulate visitor journeys, debug a condition,
//! print the config's JSON Schema.

use clap::{Parser, Subcommand};
use edge_persona::core::condition::{Condition, SavedGroups};
use edge_persona::core::config::{self, SiteConfig};
use edge_persona::core::context::{local_time, Hemisphere};
use edge_persona::core::decide::Outcome;
use edge_persona::core::engine::{CookieWrite, Engine};
use edge_persona::core::journey::{edge_step, run, JourneyFile, JourneyOutcome, StepOutcome};
use edge_persona::core::pattern::default_engine;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "edge-persona",
    version,
    about = "Privacy-first personalization: check configs, simulate visitors, debug segments"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate a config; print every error with its JSON path.
    Check {
        /// The config file (JSON).
        config: PathBuf,
        /// Also require what the edge needs: selectors its streaming rewriter can run.
        #[arg(long)]
        edge: bool,
    },
    /// Replay a journey file against a config and print each step's profile,
    /// classes and decisions with their reasons.
    Simulate {
        /// The config file (JSON).
        config: PathBuf,
        /// The journey file (JSON, see tests/journeys/).
        journey: PathBuf,
        /// Only journeys whose name contains this text.
        #[arg(long)]
        only: Option<String>,
        /// Print the reasons of rules that did not apply too.
        #[arg(long)]
        all_reasons: bool,
        /// Print machine-readable JSON instead of tables.
        #[arg(long)]
        json: bool,
        /// Print, as JSON, each step as an edge sees it: its request, and the
        /// decision the core makes from just that (for replaying the journeys
        /// through an edge runtime).
        #[arg(long, conflicts_with_all = ["json", "all_reasons"])]
        edge: bool,
    },
    /// Evaluate one condition against attributes: prints true or false, and why.
    Eval {
        /// The condition (JSON object).
        #[arg(long)]
        condition: String,
        /// The attributes (JSON object).
        #[arg(long)]
        attributes: String,
        /// Saved groups for $inGroup / $notInGroup (JSON object of arrays).
        #[arg(long)]
        saved_groups: Option<String>,
    },
    /// Print the head snippet for a script-tag site: the anti-flicker style for the
    /// config's slots, the runtime's preload and the loader.
    Snippet {
        /// The config file (JSON).
        config: PathBuf,
        /// How long slots may stay hidden, in milliseconds.
        #[arg(long, default_value_t = 300)]
        budget_ms: u32,
        /// URL of the folder serving the npm package's files.
        #[arg(long, default_value = "/ep/")]
        base_url: String,
        /// URL the page loads the config from.
        #[arg(long, default_value = "/config.json")]
        config_url: String,
    },
    /// Print the config's JSON Schema (or, with --markdown, the config reference).
    Schema {
        /// Print the Markdown config reference instead.
        #[arg(long)]
        markdown: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check { config, edge } => check(&config, edge),
        Command::Simulate {
            config,
            journey,
            only,
            edge: true,
            ..
        } => simulate_edge(&config, &journey, only.as_deref()),
        Command::Simulate {
            config,
            journey,
            only,
            all_reasons,
            json,
            edge: _,
        } => simulate(&config, &journey, only.as_deref(), all_reasons, json),
        Command::Eval {
            condition,
            attributes,
            saved_groups,
        } => eval(&condition, &attributes, saved_groups.as_deref()),
        Command::Snippet {
            config,
            budget_ms,
            base_url,
            config_url,
        } => snippet(&config, budget_ms, &base_url, &config_url),
        Command::Schema { markdown } => {
            if markdown {
                print!("{}", edge_persona::config_reference_markdown());
            } else {
                println!("{}", edge_persona::schema_json());
            }
            Ok(ExitCode::SUCCESS)
        }
    };
    result.unwrap_or_else(|message| {
        eprintln!("edge-persona: {message}");
        ExitCode::from(2)
    })
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn load_engine(path: &Path) -> Result<Result<Engine, config::ConfigErrors>, String> {
    Ok(Engine::from_json(&read(path)?, default_engine()))
}

fn snippet(
    path: &Path,
    budget_ms: u32,
    base_url: &str,
    config_url: &str,
) -> Result<ExitCode, String> {
    match load_engine(path)? {
        Ok(engine) => {
            let options = edge_persona::core::snippet::SnippetOptions {
                budget_ms,
                base_url,
                config_url,
            };
            print!(
                "{}",
                edge_persona::core::snippet::head_snippet(engine.config(), &options)
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(errors) => {
            eprint!("{}: {errors}", path.display());
            Ok(ExitCode::FAILURE)
        }
    }
}

fn check(path: &Path, edge: bool) -> Result<ExitCode, String> {
    match load_engine(path)? {
        Ok(engine) => {
            // Broken CSS fails everywhere, in the browser too.
            let broken = edge_persona::edge::broken_selectors(&engine);
            if !broken.is_empty() {
                for problem in &broken {
                    eprintln!("{}: error: {problem}", path.display());
                }
                return Ok(ExitCode::FAILURE);
            }
            let edge_problems = edge_persona::edge::edge_selector_problems(&engine);
            if !edge_problems.is_empty() {
                let heading = if edge { "error" } else { "note" };
                for problem in &edge_problems {
                    eprintln!("{}: {heading} (edge): {problem}", path.display());
                }
                if edge {
                    return Ok(ExitCode::FAILURE);
                }
            }
            if edge {
                for note in edge_persona::edge::browser_only_rules(&engine) {
                    eprintln!("{}: note (edge): {note}", path.display());
                }
            }
            let site: &SiteConfig = &engine.config().site;
            println!(
                "{}: ok — {} segments, {} slots, {} experiences, {} greetings, {} popups",
                path.display(),
                site.segments.len(),
                site.slots.len(),
                site.experiences.len(),
                site.greetings.len(),
                site.popups.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(errors) => {
            eprint!("{}: {errors}", path.display());
            Ok(ExitCode::FAILURE)
        }
    }
}

/// The config's engine and the journey file, with only the journeys named `only`.
fn journeys_to_run(
    config: &Path,
    journey: &Path,
    only: Option<&str>,
) -> Result<(Engine, JourneyFile), String> {
    let engine = match load_engine(config)? {
        Ok(engine) => engine,
        Err(errors) => return Err(format!("{}: {errors}", config.display())),
    };
    let mut file =
        JourneyFile::parse(&read(journey)?).map_err(|e| format!("{}: {e}", journey.display()))?;
    if let Some(only) = only {
        file.journeys.retain(|j| j.name.contains(only));
    }
    Ok((engine, file))
}

/// `simulate --edge`: each step as an edge sees it (see [`edge_step`]).
fn simulate_edge(config: &Path, journey: &Path, only: Option<&str>) -> Result<ExitCode, String> {
    let (engine, file) = journeys_to_run(config, journey, only)?;
    let mut out = Vec::new();
    for outcome in run(&file, &engine, false) {
        let steps = outcome
            .steps
            .map_err(|e| format!("{}: {e}", outcome.name))?;
        let steps: Vec<_> = steps.iter().map(|s| edge_step(s, &engine)).collect();
        out.push(serde_json::json!({"journey": outcome.name, "steps": steps}));
    }
    println!(
        "{}",
        serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?
    );
    Ok(ExitCode::SUCCESS)
}

fn simulate(
    config: &Path,
    journey: &Path,
    only: Option<&str>,
    all_reasons: bool,
    json: bool,
) -> Result<ExitCode, String> {
    let (engine, file) = journeys_to_run(config, journey, only)?;
    let outcomes = run(&file, &engine, true);
    let failures: Vec<String> = outcomes.iter().flat_map(JourneyOutcome::failures).collect();
    if json {
        let out: Vec<Value> = outcomes
            .iter()
            .map(|o| {
                let steps = match &o.steps {
                    Ok(steps) => steps
                        .iter()
                        .map(|s| serde_json::json!({"nowMs": s.now_ms, "summary": s.summary, "pageView": s.page_view, "failures": s.failures}))
                        .collect(),
                    Err(e) => vec![serde_json::json!({"error": e})],
                };
                serde_json::json!({"journey": o.name, "steps": steps})
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?
        );
    } else {
        for outcome in &outcomes {
            print_journey(outcome, all_reasons);
        }
        if failures.is_empty() {
            println!("All expectations in {} hold.", journey.display());
        } else {
            println!("{} expectation(s) failed:", failures.len());
            for f in &failures {
                println!("  ✗ {f}");
            }
        }
    }
    Ok(if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_journey(outcome: &JourneyOutcome, all_reasons: bool) {
    println!("━━ {} ━━", outcome.name);
    let steps = match &outcome.steps {
        Ok(steps) => steps,
        Err(e) => {
            println!("   cannot run: {e}\n");
            return;
        }
    };
    let mut table = vec![[
        "#",
        "local time",
        "visits",
        "experience",
        "stage",
        "price",
        "segments",
        "slots",
        "greeting",
        "popups",
        "cookie",
    ]
    .map(String::from)
    .to_vec()];
    for (i, step) in steps.iter().enumerate() {
        table.push(row(i + 1, step));
    }
    print_table(&table);
    for (i, step) in steps.iter().enumerate() {
        print_step(i + 1, step, all_reasons);
    }
    println!();
}

fn text_of(value: &Value) -> String {
    match value {
        Value::Null => "—".into(),
        Value::String(s) => s.clone(),
        Value::Array(items) if items.is_empty() => "—".into(),
        Value::Array(items) => items.iter().map(text_of).collect::<Vec<_>>().join(", "),
        Value::Object(map) if map.is_empty() => "—".into(),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| format!("{k}={}", text_of(v)))
            .collect::<Vec<_>>()
            .join(" "),
        other => other.to_string(),
    }
}

fn row(index: usize, step: &StepOutcome) -> Vec<String> {
    let s = &step.summary;
    let get = |k: &str| text_of(s.get(k).unwrap_or(&Value::Null));
    let status = if step.failures.is_empty() { "" } else { " ✗" };
    vec![
        format!("{index}{status}"),
        format_time(step),
        get("visits"),
        get("experience"),
        get("stage"),
        get("priceBand"),
        get("segments"),
        get("slots"),
        get("greetings"),
        get("popups"),
        get("cookie"),
    ]
}

fn format_time(step: &StepOutcome) -> String {
    let offset = step.utc_offset_minutes;
    let t = local_time(step.now_ms, offset, Hemisphere::North);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        t.year, t.month, t.day, t.hour, t.minute
    )
}

fn print_table(rows: &[Vec<String>]) {
    let columns = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .map(|r| r.get(c).map_or(0, |s| s.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    for (n, row) in rows.iter().enumerate() {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, &w)| format!("{cell}{}", " ".repeat(w - cell.chars().count())))
            .collect();
        println!("  {}", line.join(" │ ").trim_end());
        if n == 0 {
            let rule: Vec<String> = widths.iter().map(|&w| "─".repeat(w)).collect();
            println!("  {}", rule.join("─┼─"));
        }
    }
}

fn print_step(index: usize, step: &StepOutcome, all_reasons: bool) {
    let view = &step.page_view;
    let d = &view.decision;
    println!("\n  step {index} · {} · {}", format_time(step), step.url);
    let p = &view.profile;
    println!(
        "    profile   visits {} · page views {} · prices seen {} (typical {:.0}) · add to cart {} · checkouts {} · purchases {} · interests {}",
        p.visits,
        p.page_views,
        p.prices.count,
        p.prices.typical,
        p.funnel.add_to_cart.count,
        p.funnel.checkout.count,
        p.funnel.purchase.count,
        if p.interests.is_empty() {
            "—".to_string()
        } else {
            p.interests.iter().map(|i| format!("{} {:.1}", i.category, i.score)).collect::<Vec<_>>().join(", ")
        }
    );
    println!(
        "    classes   {}",
        if d.html_classes.is_empty() {
            "—".into()
        } else {
            d.html_classes.join(" ")
        }
    );
    for slot in &d.slots {
        let shown = match (&slot.experience, &slot.variant, slot.holdout) {
            (Some(e), _, true) => format!("default (holdout of {e})"),
            (Some(e), Some(v), false) => format!("{e} / variant {v}"),
            (Some(e), None, false) => e.to_string(),
            (None, _, _) => "default".into(),
        };
        println!("    slot      {} ({}) → {shown}", slot.slot, slot.selector);
    }
    for g in &d.greetings {
        println!("    greeting  {} → “{}”", g.slot, g.text);
    }
    for a in &d.attributes {
        println!(
            "    attribute {} [{}] = {}",
            a.selector, a.attribute, a.value
        );
    }
    let cookie = match &view.cookie {
        CookieWrite::Set { value, .. } => format!("set ({} bytes)", value.len()),
        CookieWrite::Delete { .. } => "delete".into(),
        CookieWrite::Refuse { .. } => "refuse".into(),
        CookieWrite::Unchanged => "unchanged".into(),
    };
    println!(
        "    storage   {} — {}; cookie {cookie}",
        if view.storage.allowed {
            "allowed"
        } else {
            "not allowed"
        },
        view.storage.reason
    );
    for reason in &d.reasons {
        let notable = !matches!(reason.outcome, Outcome::NotMatched | Outcome::Matched);
        if notable || all_reasons {
            let outcome = serde_json::to_value(reason.outcome)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default();
            let detail = reason
                .detail
                .as_deref()
                .map(|d| format!(" — {d}"))
                .unwrap_or_default();
            println!(
                "    why       {} {}: {outcome}{detail}",
                reason.kind, reason.rule
            );
        }
    }
    for f in &step.failures {
        println!("    ✗ {f}");
    }
}

fn eval(condition: &str, attributes: &str, saved_groups: Option<&str>) -> Result<ExitCode, String> {
    let condition: Value = serde_json::from_str(condition)
        .map_err(|e| format!("--condition is not valid JSON: {e}"))?;
    let attributes: Value = serde_json::from_str(attributes)
        .map_err(|e| format!("--attributes is not valid JSON: {e}"))?;
    let groups: SavedGroups = match saved_groups {
        Some(text) => serde_json::from_str(text)
            .map_err(|e| format!("--saved-groups is not a JSON object: {e}"))?,
        None => SavedGroups::new(),
    };
    let (compiled, issues) = Condition::compile(&condition, default_engine());
    for issue in &issues {
        let at = if issue.path.is_empty() {
            "(root)"
        } else {
            &issue.path
        };
        eprintln!("warning: {at}: {} (evaluates to false)", issue.message);
    }
    let explanation = compiled.explain(&attributes, &groups);
    println!("{}", explanation.matched);
    println!("why: {}", explanation.reason);
    Ok(ExitCode::SUCCESS)
}
