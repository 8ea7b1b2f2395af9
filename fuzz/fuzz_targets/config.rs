//! Configuration parsing: the session's `SessionConfig` (TOML through figment) and the bots'
//! `Config` (TOML + `OPENIM_*` overrides, then `compile()` of regexes/templates/hours).
//! Input: TOML text, optionally followed by a line `---` and `NAME=value` env lines.
//! Invariants: never panics; errors are typed; a valid config's Debug never shows its secret.
#![no_main]

use figment::Figment;
use figment::providers::{Format, Toml};
use libfuzzer_sys::fuzz_target;
use openim_bot::SessionConfig;
use openim_bot::config::Credentials;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (toml_text, env_text) = text.split_once("\n---\n").unwrap_or((text, ""));
    let env: Vec<(String, String)> = env_text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();

    if let Ok(config) = SessionConfig::from_figment(Figment::new().merge(Toml::string(toml_text))) {
        let debug = format!("{config:?}");
        // The same config without its secret: if that still shows the secret's text, the text
        // occurs in a public field by chance and proves nothing.
        let mut blank = config.clone();
        let secret = match &mut blank.credentials {
            Credentials::Token { token, .. } => std::mem::take(token),
            Credentials::Secret { secret, .. } => std::mem::take(secret),
            _ => String::new(),
        };
        if !secret.is_empty() && !format!("{blank:?}").contains(&secret) {
            assert!(!debug.contains(&secret), "secret visible in Debug");
        }
    }

    if let Ok(config) = openim_bots::config::Config::from_toml_and_env(toml_text, "fuzz.toml", env)
    {
        let _ = config.compile();
        let _ = config.explain();
        let _ = config.session_config();
    }
});
