//! Replays every journey file in `tests/journeys/` natively and checks each step's
//! expectations. The browser and edge test suites replay the same files.

use edge_persona::core::engine::Engine;
use edge_persona::core::journey::{run, JourneyFile};
use edge_persona::core::pattern::default_engine;
use std::path::Path;

#[test]
fn journeys_decide_as_expected() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/journeys");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/journeys exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no journey files in {}", dir.display());
    let mut failures = Vec::new();
    let mut steps = 0;
    for path in &files {
        let text = std::fs::read_to_string(path).expect("readable journey file");
        let file = JourneyFile::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let config = file
            .config_json(path.parent().expect("has a folder"))
            .expect("config readable");
        let engine = Engine::from_json(&config, default_engine())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        // Explained and fast runs must agree: details never change a decision.
        for explain in [false, true] {
            for journey in run(&file, &engine, explain) {
                if let Ok(s) = &journey.steps {
                    steps += s.len();
                }
                failures.extend(
                    journey
                        .failures()
                        .into_iter()
                        .map(|f| format!("{} (explain={explain}): {f}", path.display())),
                );
            }
        }
    }
    assert!(steps > 0, "journeys ran no steps");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
