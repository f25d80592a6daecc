//! Any text as a config: loading never panics; errors always carry a message.
#![no_main]
use edge_persona::core::engine::Engine;
use edge_persona::core::pattern::default_engine;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Err(errors) = Engine::from_json(&text, default_engine()) {
        assert!(errors.0.iter().all(|e| !e.message.is_empty()));
    }
});
