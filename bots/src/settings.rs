//! Small value types shared by the bots' configuration sections.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A duration written the human way in configuration files: `"30s"`, `"10m"`, `"1h 30m"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HumanDuration(pub Duration);

impl HumanDuration {
    /// Seconds, for building configs in code.
    pub const fn secs(s: u64) -> Self {
        Self(Duration::from_secs(s))
    }
}

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", humantime::format_duration(self.0))
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        humantime::parse_duration(s.trim())
            .map(HumanDuration)
            .map_err(|e| {
                serde::de::Error::custom(format!(
                    "invalid duration {s:?} ({e}); write e.g. \"30s\", \"10m\", \"2h\""
                ))
            })
    }
}

impl Serialize for HumanDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

/// A configuration value that is wrong: which key and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{key}`: {problem}")]
pub struct Invalid {
    /// Dotted key, e.g. `bots.moderator.banned_words[2]`.
    pub key: String,
    /// What is wrong and, where possible, how to fix it.
    pub problem: String,
}

impl Invalid {
    /// Builds an error for `key`.
    pub fn new(key: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            problem: problem.into(),
        }
    }
}

/// Compiles a regex from the configuration, naming the key on failure.
pub fn compile_regex(key: &str, pattern: &str) -> Result<regex::Regex, Invalid> {
    regex::RegexBuilder::new(pattern)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| Invalid::new(key, format!("invalid regular expression: {e}")))
}

/// Serde default for `enabled` keys: a bot table that is present runs unless it says otherwise.
pub(crate) fn default_true() -> bool {
    true
}
