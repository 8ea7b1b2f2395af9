//! The openim-bots configuration: a TOML file plus `OPENIM_*` environment overrides.
//!
//! ```toml
//! [server]
//! api_addr = "http://127.0.0.1:10002"
//! ws_addr = "ws://127.0.0.1:10001"
//! platform = 7
//! [account]
//! user_id = "support_bot"
//! token = "…"            # or: secret = "…" (the server's admin secret)
//! [store]
//! data_dir = "./openim-bots-data"
//! [session]              # optional: the session's tuning (openim_bot::SessionConfig)
//! durable_acks = false
//! catch_up_limit = 1000000
//! [bots.friend_gate]
//! enabled = true
//! ```
//!
//! `OPENIM_API_ADDR`, `OPENIM_WS_ADDR`, `OPENIM_PLATFORM`, `OPENIM_USER_ID`, `OPENIM_TOKEN`,
//! `OPENIM_SECRET` and `OPENIM_DATA_DIR` override the file. A wrong value is reported with its
//! dotted key and what is wrong with it.

use std::fmt;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

use crate::autoreply::{AutoreplySettings, Rules};
use crate::friend_gate::{FriendGate, FriendGateSettings};
use crate::moderator::{Moderator, ModeratorSettings};
use crate::settings::Invalid;
use crate::support::{Desk, SupportSettings};

/// A secret string (token or admin secret) whose `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    /// The secret itself (only to hand it to the session).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// `[server]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    /// HTTP API address, e.g. `http://127.0.0.1:10002`.
    pub api_addr: String,
    /// WebSocket gateway address, e.g. `ws://127.0.0.1:10001`.
    pub ws_addr: String,
    /// Login platform ID (1 iOS, 2 Android, 3 Windows, 4 macOS, 5 Web, 7 Linux, …).
    #[serde(default = "default_platform")]
    pub platform: i32,
}

fn default_platform() -> i32 {
    7
}

/// `[account]`: the bot's user ID and exactly one of `token` or `secret`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountSection {
    /// The bot's user ID.
    pub user_id: String,
    /// A user token for the bot.
    #[serde(default)]
    pub token: Option<Secret>,
    /// The server's admin secret (the session then mints and renews tokens itself).
    #[serde(default)]
    pub secret: Option<Secret>,
    /// With `secret`: the admin user ID used to obtain admin tokens (default `imAdmin`).
    #[serde(default)]
    pub admin_user_id: Option<String>,
}

/// `[store]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSection {
    /// Directory for the session store, the ledger and the bots' state.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("./openim-bots-data")
}

impl Default for StoreSection {
    fn default() -> Self {
        Self {
            data_dir: default_data_dir(),
        }
    }
}

/// `[session]`: optional tuning of the bot account's session, each key the
/// [`openim_bot::SessionConfig`] field of the same name (its docs say what each does); a key
/// left out keeps the session's default.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionSection {
    /// Capacity of the channel from the session to the handlers (at least 1).
    #[serde(default)]
    pub channel_capacity: Option<usize>,
    /// Timeout of one HTTP or gateway request, in ms (at least 1).
    #[serde(default)]
    pub request_timeout_ms: Option<u64>,
    /// Each acknowledgement is flushed to disk as its watermark advances
    /// (`SessionConfig::durable_acks`).
    #[serde(default)]
    pub durable_acks: Option<bool>,
    /// A CA certificate (PEM) for a server with a private CA: the HTTP API trusts it besides
    /// the system roots, the gateway (`wss://`) trusts it alone (`SessionConfig::tls_root_ca`).
    #[serde(default)]
    pub tls_ca: Option<PathBuf>,
    /// Gateway frame compression: `none` or `gzip`.
    #[serde(default)]
    pub compression: Option<openim_bot::config::Compression>,
    /// Pushes queued for the engine before the connection drops pushes (at least 1).
    #[serde(default)]
    pub push_queue_limit: Option<usize>,
    /// Payload bytes queued for the engine before the connection drops pushes (at least 1).
    #[serde(default)]
    pub push_queue_bytes: Option<usize>,
    /// Seqs of one conversation a catch-up pulls at most (at least 1).
    #[serde(default)]
    pub catch_up_limit: Option<u64>,
}

impl SessionSection {
    /// The first key set to 0 where the session needs at least 1.
    fn zero_key(&self) -> Option<&'static str> {
        [
            (
                "session.channel_capacity",
                self.channel_capacity.map(|n| n as u64),
            ),
            ("session.request_timeout_ms", self.request_timeout_ms),
            (
                "session.push_queue_limit",
                self.push_queue_limit.map(|n| n as u64),
            ),
            (
                "session.push_queue_bytes",
                self.push_queue_bytes.map(|n| n as u64),
            ),
            ("session.catch_up_limit", self.catch_up_limit),
        ]
        .into_iter()
        .find_map(|(key, value)| (value == Some(0)).then_some(key))
    }

    /// Sets the keys given on `c`.
    fn apply(&self, c: &mut openim_bot::SessionConfig) {
        if let Some(n) = self.channel_capacity {
            c.channel_capacity = n;
        }
        if let Some(n) = self.request_timeout_ms {
            c.request_timeout_ms = n;
        }
        if let Some(b) = self.durable_acks {
            c.durable_acks = b;
        }
        if let Some(path) = &self.tls_ca {
            c.tls_root_ca = Some(path.clone());
        }
        if let Some(compression) = self.compression {
            c.compression = compression;
        }
        if let Some(n) = self.push_queue_limit {
            c.push_queue_limit = n;
        }
        if let Some(n) = self.push_queue_bytes {
            c.push_queue_bytes = n;
        }
        if let Some(n) = self.catch_up_limit {
            c.catch_up_limit = n;
        }
    }
}

/// `[bots]`: one optional table per bundled bot, and what they share.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BotsSection {
    /// Mark a conversation read once its messages are handled
    /// ([`openim_bot::runtime::MarkRead`]); default false.
    #[serde(default)]
    pub mark_read: bool,
    /// `[bots.friend_gate]`.
    #[serde(default)]
    pub friend_gate: Option<FriendGateSettings>,
    /// `[bots.moderator]`.
    #[serde(default)]
    pub moderator: Option<ModeratorSettings>,
    /// `[bots.autoreply]`.
    #[serde(default)]
    pub autoreply: Option<AutoreplySettings>,
    /// `[bots.support]`.
    #[serde(default)]
    pub support: Option<SupportSettings>,
}

/// The whole configuration file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[server]`.
    pub server: ServerSection,
    /// `[account]`.
    pub account: AccountSection,
    /// `[store]`.
    #[serde(default)]
    pub store: StoreSection,
    /// `[session]`.
    #[serde(default)]
    pub session: SessionSection,
    /// `[bots.*]`.
    #[serde(default)]
    pub bots: BotsSection,
}

/// The bots a configuration enables, compiled and ready.
#[derive(Debug, Default)]
pub struct EnabledBots {
    /// friend_gate, if enabled.
    pub friend_gate: Option<FriendGate>,
    /// moderator, if enabled.
    pub moderator: Option<Moderator>,
    /// autoreply, if enabled.
    pub autoreply: Option<Rules>,
    /// support, if enabled.
    pub support: Option<Desk>,
}

impl EnabledBots {
    /// Names of the enabled bots.
    pub fn names(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.friend_gate.is_some() {
            v.push("friend_gate");
        }
        if self.moderator.is_some() {
            v.push("moderator");
        }
        if self.autoreply.is_some() {
            v.push("autoreply");
        }
        if self.support.is_some() {
            v.push("support");
        }
        v
    }
}

/// Why a configuration could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A key is missing, has the wrong type or a wrong value.
    #[error("invalid config: {0}")]
    Invalid(#[from] Invalid),
}

impl ConfigError {
    /// The offending key, when the problem is a value.
    pub fn key(&self) -> Option<&str> {
        match self {
            ConfigError::Invalid(i) => Some(&i.key),
            ConfigError::Read { .. } => None,
        }
    }
}

/// The environment variables that override the file, and the key each one sets.
/// The session's ones are those [`openim_bot::config::SessionConfig::from_env`] reads, so that
/// a variable means the same to the bundled bots as to a bot of one's own.
pub const ENV_OVERRIDES: [(&str, &str); 14] = [
    ("OPENIM_API_ADDR", "server.api_addr"),
    ("OPENIM_WS_ADDR", "server.ws_addr"),
    ("OPENIM_PLATFORM", "server.platform"),
    ("OPENIM_USER_ID", "account.user_id"),
    ("OPENIM_TOKEN", "account.token"),
    ("OPENIM_SECRET", "account.secret"),
    ("OPENIM_DATA_DIR", "store.data_dir"),
    ("OPENIM_ADMIN_USER_ID", "account.admin_user_id"),
    ("OPENIM_TLS_CA", "session.tls_ca"),
    ("OPENIM_DURABLE_ACKS", "session.durable_acks"),
    ("OPENIM_COMPRESSION", "session.compression"),
    ("OPENIM_PUSH_QUEUE_LIMIT", "session.push_queue_limit"),
    ("OPENIM_PUSH_QUEUE_BYTES", "session.push_queue_bytes"),
    ("OPENIM_CATCH_UP_LIMIT", "session.catch_up_limit"),
];

/// The value of environment variable `name` for `key`: a number or a boolean where the key
/// takes one (the file's type), else the text.
fn env_value(name: &str, key: &str, value: &str) -> Result<serde_json::Value, Invalid> {
    let bad = |what: &str| {
        Invalid::new(
            key.to_owned(),
            format!("{value:?} is not {what} (from env {name})"),
        )
    };
    let number = |what: &str| {
        value
            .trim()
            .parse::<i64>()
            .map(serde_json::Value::from)
            .map_err(|_| bad(what))
    };
    match key {
        "server.platform" => number("a platform number"),
        "session.push_queue_limit" | "session.push_queue_bytes" | "session.catch_up_limit" => {
            number("a number")
        }
        "session.durable_acks" => match value.trim().to_ascii_lowercase().as_str() {
            "true" | "1" => Ok(true.into()),
            "false" | "0" => Ok(false.into()),
            _ => Err(bad("true or false")),
        },
        _ => Ok(value.into()),
    }
}

fn figment_to_invalid(e: figment::Error, source: &str) -> Invalid {
    let mut key = e.path.join(".");
    if let figment::error::Kind::MissingField(f) = &e.kind {
        if !key.is_empty() {
            key.push('.');
        }
        key.push_str(f);
    }
    if key.is_empty() {
        key = "(top level)".to_owned();
    }
    let origin = match e.metadata.as_ref().map(|m| m.name.to_string()) {
        Some(n) if n.contains("TOML") => source.to_owned(),
        Some(_) => "the OPENIM_* environment".to_owned(),
        None => source.to_owned(),
    };
    let problem = match &e.kind {
        figment::error::Kind::MissingField(_) => "missing (required)".to_owned(),
        // (figment quotes serde's already quoted list again)
        figment::error::Kind::UnknownField(_, expected) => {
            format!("unknown key; expected one of {}", expected.join(", "))
        }
        other => other.to_string(),
    };
    Invalid::new(key, format!("{problem} (from {origin})"))
}

impl Config {
    /// Reads `path` and applies the process's `OPENIM_*` variables.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml_and_env(&text, &path.display().to_string(), std::env::vars())
    }

    /// Parses TOML `text` (named `source` in errors) and applies the `OPENIM_*` pairs of `env`.
    pub fn from_toml_and_env(
        text: &str,
        source: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        // Check the TOML syntax first so its error names the line, not a figment key.
        if let Err(e) = text.parse::<toml::Table>() {
            return Err(
                Invalid::new("(syntax)", format!("{source} is not valid TOML: {e}")).into(),
            );
        }
        let mut overrides = serde_json::Map::new();
        let mut env_names = Vec::new();
        for (name, value) in env {
            let Some((_, key)) = ENV_OVERRIDES.iter().find(|(n, _)| *n == name) else {
                continue;
            };
            let (section, field) = key.split_once('.').unwrap_or(("", key));
            let value = env_value(&name, key, &value)?;
            env_names.push(name);
            overrides
                .entry(section.to_owned())
                .or_insert_with(|| serde_json::Value::Object(Default::default()))
                .as_object_mut()
                .map(|o| o.insert(field.to_owned(), value));
        }
        // A credential given in the environment replaces the other kind from the file.
        let env_token = env_names.iter().any(|n| n == "OPENIM_TOKEN");
        let env_secret = env_names.iter().any(|n| n == "OPENIM_SECRET");
        let mut fig = Figment::new().merge(Toml::string(text));
        if env_token != env_secret {
            let drop = if env_token { "secret" } else { "token" };
            let mut table: toml::Table = text.parse().unwrap_or_default();
            if let Some(toml::Value::Table(acc)) = table.get_mut("account") {
                acc.remove(drop);
            }
            fig = Figment::new().merge(Toml::string(&toml::to_string(&table).unwrap_or_default()));
        }
        let fig = fig.merge(Serialized::defaults(serde_json::Value::Object(overrides)));
        let config: Config = fig.extract().map_err(|e| figment_to_invalid(e, source))?;
        // Where the bad value came from, as figment's errors say: a variable, else the file.
        config.validate().map_err(|mut e| {
            let origin = ENV_OVERRIDES
                .iter()
                .find(|(n, k)| *k == e.key && env_names.iter().any(|m| m == n))
                .map_or_else(|| source.to_owned(), |(n, _)| format!("env {n}"));
            e.problem.push_str(&format!(" (from {origin})"));
            e
        })?;
        Ok(config)
    }

    /// Semantic checks beyond types.
    fn validate(&self) -> Result<(), Invalid> {
        let s = &self.server;
        if !(s.api_addr.starts_with("http://") || s.api_addr.starts_with("https://")) {
            return Err(Invalid::new(
                "server.api_addr",
                format!("{:?} must start with http:// or https://", s.api_addr),
            ));
        }
        if !(s.ws_addr.starts_with("ws://") || s.ws_addr.starts_with("wss://")) {
            return Err(Invalid::new(
                "server.ws_addr",
                format!("{:?} must start with ws:// or wss://", s.ws_addr),
            ));
        }
        // What the server always refuses (platform IDs, secret login on platform 10 or as the
        // admin user): the framework's own check, reported under this file's keys.
        if let Some(problem) = self.session_config().login_problem() {
            let key = match problem.field() {
                "platform" => "server.platform",
                _ => "account.user_id",
            };
            return Err(Invalid::new(key, problem.to_string()));
        }
        if self.account.user_id.trim().is_empty() {
            return Err(Invalid::new("account.user_id", "must not be empty"));
        }
        match (&self.account.token, &self.account.secret) {
            (None, None) => {
                return Err(Invalid::new(
                    "account.token",
                    "set either `token` (a user token) or `secret` (the admin secret)",
                ));
            }
            (Some(_), Some(_)) => {
                return Err(Invalid::new(
                    "account.secret",
                    "set only one of `token` and `secret`",
                ));
            }
            (Some(t), None) if t.expose().trim().is_empty() => {
                return Err(Invalid::new("account.token", "must not be empty"));
            }
            (None, Some(t)) if t.expose().trim().is_empty() => {
                return Err(Invalid::new("account.secret", "must not be empty"));
            }
            _ => {}
        }
        if let Some(key) = self.session.zero_key() {
            return Err(Invalid::new(key, "must be at least 1"));
        }
        if let Some(path) = &self.session.tls_ca
            && !path.is_file()
        {
            return Err(Invalid::new(
                "session.tls_ca",
                format!("{} is not a readable file", path.display()),
            ));
        }
        if self.account.admin_user_id.is_some() && self.account.secret.is_none() {
            return Err(Invalid::new(
                "account.admin_user_id",
                "only meaningful with `secret`",
            ));
        }
        self.compile().map(|_| ())
    }

    /// The session configuration for the bot account.
    pub fn session_config(&self) -> openim_bot::SessionConfig {
        let s = &self.server;
        let a = &self.account;
        let data_dir = self.store.data_dir.clone();
        let mut c = match (&a.token, &a.secret) {
            (Some(t), _) => openim_bot::SessionConfig::with_token(
                &s.api_addr,
                &s.ws_addr,
                data_dir,
                &a.user_id,
                t.expose(),
            ),
            (None, secret) => {
                let secret = secret.as_ref().map(Secret::expose).unwrap_or_default();
                openim_bot::SessionConfig::with_secret(
                    &s.api_addr,
                    &s.ws_addr,
                    data_dir,
                    &a.user_id,
                    secret,
                )
            }
        };
        c.platform = s.platform;
        if let (Some(admin), openim_bot::Credentials::Secret { admin_user_id, .. }) =
            (&a.admin_user_id, &mut c.credentials)
        {
            admin_user_id.clone_from(admin);
        }
        self.session.apply(&mut c);
        c
    }

    /// Compiles the enabled bots (regexes, templates, hours…).
    pub fn compile(&self) -> Result<EnabledBots, Invalid> {
        let b = &self.bots;
        let none_enabled = [
            b.friend_gate.as_ref().map(|s| s.enabled),
            b.moderator.as_ref().map(|s| s.enabled),
            b.autoreply.as_ref().map(|s| s.enabled),
            b.support.as_ref().map(|s| s.enabled),
        ]
        .iter()
        .all(|e| *e != Some(true));
        if none_enabled {
            return Err(Invalid::new(
                "bots",
                "no bot is enabled; add e.g. [bots.friend_gate] with enabled = true (see bots.example.toml)",
            ));
        }
        Ok(EnabledBots {
            friend_gate: b
                .friend_gate
                .as_ref()
                .filter(|s| s.enabled)
                .map(FriendGate::from_settings)
                .transpose()?,
            moderator: b
                .moderator
                .as_ref()
                .filter(|s| s.enabled)
                .map(Moderator::from_settings)
                .transpose()?,
            autoreply: b
                .autoreply
                .as_ref()
                .filter(|s| s.enabled)
                .map(Rules::from_settings)
                .transpose()?,
            support: b
                .support
                .as_ref()
                .filter(|s| s.enabled)
                .map(Desk::from_settings)
                .transpose()?,
        })
    }

    /// A human explanation of what this configuration does (for `check-config`).
    pub fn explain(&self) -> String {
        let mut out = String::new();
        let s = &self.server;
        out.push_str(&format!(
            "server: API {} · gateway {} · platform {}\n",
            s.api_addr, s.ws_addr, s.platform
        ));
        out.push_str(&format!(
            "account: {} (authenticates with {})\n",
            self.account.user_id,
            if self.account.token.is_some() {
                "a user token"
            } else {
                "the admin secret; tokens are minted and renewed"
            }
        ));
        out.push_str(&format!("store: {}\n", self.store.data_dir.display()));
        let c = self.session_config();
        out.push_str(&format!(
            "session: acks {} · TLS roots {} · compression {} · catch-up limit {} seqs per conversation\n",
            if c.durable_acks {
                "durable as each is given (a crash repeats only the messages in flight)"
            } else {
                "durable within ~120 ms, more on a loaded disk (a crash repeats the messages in flight and those \
                 acknowledged that recently)"
            },
            c.tls_root_ca
                .as_ref()
                .map_or("of the system".to_owned(), |p| p.display().to_string()),
            c.compression.as_str(),
            c.catch_up_limit
        ));
        let b = &self.bots;
        out.push_str(if b.mark_read {
            "reading: conversations are marked read once their messages are handled\n"
        } else {
            "reading: nothing is marked read (messages to the bot stay unread)\n"
        });
        let off = |name: &str| format!("{name}: disabled\n");
        match &b.friend_gate {
            Some(f) if f.enabled => out.push_str(&format!(
                "friend_gate: accepts {}{}{}; otherwise {}; greets new friends: {}\n",
                match f.accept {
                    crate::friend_gate::AcceptMode::All => "everyone".to_owned(),
                    crate::friend_gate::AcceptMode::Matching => format!(
                        "requests matching /{}/",
                        f.request_pattern.as_deref().unwrap_or("")
                    ),
                    _ => "the allow-list only".to_owned(),
                },
                if f.allow_list.is_empty() {
                    String::new()
                } else {
                    format!(" + allow-list {:?}", f.allow_list)
                },
                if f.block_list.is_empty() {
                    String::new()
                } else {
                    format!(", refuses {:?}", f.block_list)
                },
                match f.otherwise {
                    crate::friend_gate::Otherwise::Refuse => "refuses",
                    _ => "leaves them pending",
                },
                if f.greeting.trim().is_empty() {
                    "no"
                } else {
                    "yes"
                }
            )),
            _ => out.push_str(&off("friend_gate")),
        }
        match &b.moderator {
            Some(m) if m.enabled => out.push_str(&format!(
                "moderator: groups {:?}; {} banned-word patterns; links {}; flood {}; repeats {}; \
                 strikes: warn, mute {} from {}, kick at {}; join applications {}\n",
                m.groups,
                m.banned_words.len(),
                if m.block_links { "removed" } else { "allowed" },
                m.flood
                    .as_ref()
                    .map(|f| format!("> {} msgs / {}", f.max_messages, f.window))
                    .unwrap_or_else(|| "off".into()),
                m.repeat
                    .as_ref()
                    .map(|r| format!("{}× / {}", r.max_repeats, r.window))
                    .unwrap_or_else(|| "off".into()),
                m.mute_duration,
                m.mute_after,
                m.kick_after,
                m.join_answer
                    .as_ref()
                    .map(|a| format!("approved when matching /{a}/, else refused"))
                    .unwrap_or_else(|| "left to humans".into()),
            )),
            _ => out.push_str(&off("moderator")),
        }
        let support_on = b.support.as_ref().is_some_and(|s| s.enabled);
        match &b.autoreply {
            Some(a) if a.enabled => {
                out.push_str(&format!(
                    "autoreply: {} rules; cooldown {} per conversation{}{}\n",
                    a.rules.len(),
                    a.cooldown,
                    if a.group_requires_mention {
                        "; in groups only when mentioned"
                    } else {
                        ""
                    },
                    if support_on {
                        "; private chats belong to support"
                    } else {
                        ""
                    }
                ));
                // Support runs first and takes every private message: such a rule is dead.
                for (i, r) in a.rules.iter().enumerate() {
                    if support_on && r.scope == crate::autoreply::Scope::Private {
                        out.push_str(&format!(
                            "warning: bots.autoreply.rules[{i}] (scope \"private\") never \
                             answers while support is enabled: support owns private chats\n"
                        ));
                    }
                }
            }
            _ => out.push_str(&off("autoreply")),
        }
        match &b.support {
            Some(s) if s.enabled => out.push_str(&format!(
                "support: agents group {}; {} FAQ entries; hours {}\n",
                s.agents_group,
                s.faq.len(),
                s.hours
                    .as_ref()
                    .map(|h| format!(
                        "{} {}–{} UTC{}",
                        h.days.join("/"),
                        h.open,
                        h.close,
                        h.utc_offset
                    ))
                    .unwrap_or_else(|| "always open".into())
            )),
            _ => out.push_str(&off("support")),
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[server]
api_addr = "http://127.0.0.1:10002"
ws_addr = "ws://127.0.0.1:10001"
[account]
user_id = "bot"
token = "tok"
[bots.friend_gate]
enabled = true
"#;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    fn err(text: &str) -> Invalid {
        match Config::from_toml_and_env(text, "t.toml", env(&[])) {
            Err(ConfigError::Invalid(i)) => i,
            other => panic!("expected an invalid config, got {other:?}"),
        }
    }

    #[test]
    fn good_config_and_env_overrides() {
        let c = Config::from_toml_and_env(GOOD, "t.toml", env(&[])).unwrap();
        assert_eq!(c.server.platform, 7);
        assert_eq!(c.compile().unwrap().names(), ["friend_gate"]);
        let c = Config::from_toml_and_env(
            GOOD,
            "t.toml",
            env(&[
                ("OPENIM_API_ADDR", "https://im.example.com"),
                ("OPENIM_PLATFORM", "5"),
                ("OPENIM_SECRET", "s3cret"),
                ("OPENIM_DATA_DIR", "/tmp/x"),
                ("OPENIM_USER_ID", "bot2"),
                ("UNRELATED", "1"),
            ]),
        )
        .unwrap();
        assert_eq!(c.server.api_addr, "https://im.example.com");
        assert_eq!(c.server.platform, 5);
        assert_eq!(c.account.user_id, "bot2");
        assert!(
            c.account.token.is_none(),
            "env secret replaces the file's token"
        );
        assert_eq!(
            c.account.secret.as_ref().map(Secret::expose),
            Some("s3cret")
        );
        assert_eq!(c.store.data_dir, PathBuf::from("/tmp/x"));
        assert!(!format!("{c:?}").contains("s3cret"));
        assert!(c.explain().contains("friend_gate: accepts everyone"));
    }

    /// A `[session]` section tunes the account's session, key by key; a key left out keeps the
    /// session's default, and a wrong value names its key.
    #[test]
    fn the_session_section_tunes_the_session() {
        let defaults = Config::from_toml_and_env(GOOD, "t.toml", env(&[]))
            .unwrap()
            .session_config();
        let ca = tempfile::NamedTempFile::new().unwrap();
        let text = format!(
            "{GOOD}\n[session]\nchannel_capacity = 8\nrequest_timeout_ms = 2500\n\
             durable_acks = true\ntls_ca = {:?}\ncompression = \"gzip\"\n\
             push_queue_limit = 100\npush_queue_bytes = 4096\ncatch_up_limit = 500\n",
            ca.path().display().to_string()
        );
        let config = Config::from_toml_and_env(&text, "t.toml", env(&[])).unwrap();
        assert!(
            config.explain().contains(
                "session: acks durable as each is given (a crash repeats only the messages in \
                 flight) · TLS roots "
            ),
            "{}",
            config.explain()
        );
        let c = config.session_config();
        assert_eq!(
            (c.channel_capacity, c.request_timeout_ms, c.durable_acks),
            (8, 2500, true)
        );
        assert_eq!(c.tls_root_ca.as_deref(), Some(ca.path()));
        assert_eq!(c.compression, openim_bot::config::Compression::Gzip);
        assert_eq!(
            (c.push_queue_limit, c.push_queue_bytes, c.catch_up_limit),
            (100, 4096, 500)
        );
        let partial = format!("{GOOD}\n[session]\ncatch_up_limit = 7\n");
        let config = Config::from_toml_and_env(&partial, "t.toml", env(&[])).unwrap();
        assert!(
            config.explain().contains(
                "session: acks durable within ~120 ms, more on a loaded disk (a crash repeats the messages in \
                 flight and those acknowledged that recently) · TLS roots of the system · compression none · \
                 catch-up limit 7 seqs per conversation"
            ),
            "{}",
            config.explain()
        );
        let c = config.session_config();
        assert_eq!(c.catch_up_limit, 7);
        assert_eq!(
            (c.push_queue_limit, c.push_queue_bytes, c.durable_acks),
            (
                defaults.push_queue_limit,
                defaults.push_queue_bytes,
                defaults.durable_acks
            ),
            "the keys left out keep the session's defaults"
        );
        for (line, key) in [
            ("push_queue_limit = 0", "session.push_queue_limit"),
            ("catch_up_limit = 0", "session.catch_up_limit"),
            ("channel_capacity = 0", "session.channel_capacity"),
            ("compression = \"zstd\"", "session.compression"),
            ("tls_ca = \"/nonexistent/ca.pem\"", "session.tls_ca"),
            ("catch_up_limit = -1", "session.catch_up_limit"),
            ("fast = true", "session.fast"),
        ] {
            let e = err(&format!("{GOOD}\n[session]\n{line}\n"));
            assert_eq!(e.key, key, "{line}: {e}");
            assert!(e.problem.ends_with("(from t.toml)"), "{line}: {e}");
        }
    }

    #[test]
    fn the_session_variables_tune_the_session_as_for_any_bot() {
        let ca = tempfile::NamedTempFile::new().unwrap();
        let ca_path = ca.path().display().to_string();
        // The variables SessionConfig::from_env reads, over a [session] section of the file.
        let text = format!("{GOOD}\n[session]\ncatch_up_limit = 9\n");
        let config = Config::from_toml_and_env(
            &text,
            "t.toml",
            env(&[
                ("OPENIM_TLS_CA", &ca_path),
                ("OPENIM_DURABLE_ACKS", "true"),
                ("OPENIM_COMPRESSION", "gzip"),
                ("OPENIM_PUSH_QUEUE_LIMIT", "100"),
                ("OPENIM_PUSH_QUEUE_BYTES", "4096"),
                ("OPENIM_CATCH_UP_LIMIT", "500"),
            ]),
        )
        .unwrap();
        assert!(
            config.explain().contains(&format!("TLS roots {ca_path} ·")),
            "{}",
            config.explain()
        );
        let c = config.session_config();
        assert_eq!(c.tls_root_ca.as_deref(), Some(ca.path()));
        assert!(c.durable_acks);
        assert_eq!(c.compression, openim_bot::config::Compression::Gzip);
        assert_eq!(
            (c.push_queue_limit, c.push_queue_bytes, c.catch_up_limit),
            (100, 4096, 500)
        );
        // A semantic check names the variable too, as a type error does.
        match Config::from_toml_and_env(GOOD, "t.toml", env(&[("OPENIM_CATCH_UP_LIMIT", "0")])) {
            Err(ConfigError::Invalid(e)) => {
                assert!(
                    e.problem.ends_with("(from env OPENIM_CATCH_UP_LIMIT)"),
                    "{e}"
                )
            }
            other => panic!("a zero limit accepted: {other:?}"),
        }
        for (name, value, key) in [
            ("OPENIM_DURABLE_ACKS", "maybe", "session.durable_acks"),
            ("OPENIM_CATCH_UP_LIMIT", "many", "session.catch_up_limit"),
            ("OPENIM_PUSH_QUEUE_LIMIT", "0", "session.push_queue_limit"),
            ("OPENIM_TLS_CA", "/nonexistent/ca.pem", "session.tls_ca"),
            ("OPENIM_COMPRESSION", "zstd", "session.compression"),
        ] {
            match Config::from_toml_and_env(GOOD, "t.toml", env(&[(name, value)])) {
                Err(ConfigError::Invalid(e)) => assert_eq!(e.key, key, "{name}={value}: {e}"),
                other => panic!("{name}={value} accepted: {other:?}"),
            }
        }
    }

    #[test]
    fn errors_name_the_key() {
        assert_eq!(
            err(&GOOD.replace("api_addr = \"http://127.0.0.1:10002\"\n", "")).key,
            "server.api_addr"
        );
        let e = err(&GOOD.replace(
            "[bots.friend_gate]",
            "[bots.friend_gate]\naccept = \"maybe\"",
        ));
        assert_eq!(e.key, "bots.friend_gate.accept");
        assert!(e.problem.contains("t.toml"), "{e}");
        let e = err(&format!(
            "{GOOD}\n[bots.moderator]\ngroups = [\"g\"]\nmute_duration = \"soon\"\n"
        ));
        assert_eq!(e.key, "bots.moderator.mute_duration");
        assert!(e.problem.contains("invalid duration"), "{e}");
        let e = err(&format!(
            "{GOOD}\n[bots.moderator]\ngroups = [\"g\"]\nbanned_words = [\"(\"]\n"
        ));
        assert_eq!(e.key, "bots.moderator.banned_words[0]");
        let e = err(&format!(
            "{GOOD}\n[bots.moderator]\ngroups = [\"g\"]\nbaned_words = [\"x\"]\n"
        ));
        assert_eq!(e.key, "bots.moderator.baned_words");
        assert!(
            e.problem
                .starts_with("unknown key; expected one of enabled, groups, banned_words,"),
            "{e}"
        );
        // A rule's zero window and its too small count, each under its own key.
        for (rule, body, key) in [
            (
                "flood",
                "max_messages = 5\nwindow = \"0s\"",
                "bots.moderator.flood.window",
            ),
            (
                "flood",
                "max_messages = 0\nwindow = \"10s\"",
                "bots.moderator.flood.max_messages",
            ),
            (
                "repeat",
                "max_repeats = 3\nwindow = \"0s\"",
                "bots.moderator.repeat.window",
            ),
            (
                "repeat",
                "max_repeats = 1\nwindow = \"1m\"",
                "bots.moderator.repeat.max_repeats",
            ),
        ] {
            let e = err(&format!(
                "{GOOD}\n[bots.moderator]\ngroups = [\"g\"]\n[bots.moderator.{rule}]\n{body}\n"
            ));
            assert_eq!(e.key, key, "{e}");
        }
        assert_eq!(
            err(&GOOD.replace("[bots.friend_gate]", "[bots.friend_gates]")).key,
            "bots.friend_gates"
        );
        assert_eq!(
            err(&GOOD.replace("token = \"tok\"", "")).key,
            "account.token"
        );
        assert_eq!(
            err(&GOOD.replace("token = \"tok\"", "token = \"a\"\nsecret = \"b\"")).key,
            "account.secret"
        );
        assert_eq!(err(&GOOD.replace("ws://", "http://")).key, "server.ws_addr");
        assert_eq!(
            err(&GOOD.replace("enabled = true", "enabled = false")).key,
            "bots"
        );
        assert_eq!(
            err(&GOOD.replace("[account]", "[account]\nplatform = 3")).key,
            "account.platform"
        );
        assert_eq!(err("[server\n").key, "(syntax)");
        let e =
            Config::from_toml_and_env(GOOD, "t", env(&[("OPENIM_PLATFORM", "web")])).unwrap_err();
        assert_eq!(e.key(), Some("server.platform"));
    }

    #[test]
    fn logins_the_server_refuses_name_the_key() {
        let secret = GOOD.replace("token = \"tok\"", "secret = \"openIM123\"");
        let with_platform =
            |p: i32| secret.replace("[account]", &format!("platform = {p}\n[account]"));
        for p in [0, 12] {
            let e = err(&with_platform(p));
            assert_eq!(e.key, "server.platform", "{p}");
            assert!(e.to_string().contains("not an OpenIM platform"), "{e}");
        }
        let e = err(&with_platform(10));
        assert_eq!(e.key, "server.platform");
        assert!(e.to_string().contains("platform 10"), "{e}");
        let e = err(&secret.replace("user_id = \"bot\"", "user_id = \"imAdmin\""));
        assert_eq!(e.key, "account.user_id");
        assert!(e.to_string().contains("admin user"), "{e}");
        // A token login on platform 10 (an admin token) and HarmonyOS (11) are fine.
        let token10 = GOOD.replace("[account]", "platform = 10\n[account]");
        assert!(Config::from_toml_and_env(&token10, "t", env(&[])).is_ok());
        assert!(Config::from_toml_and_env(&with_platform(11), "t", env(&[])).is_ok());
    }

    #[test]
    fn server_and_account_may_come_from_the_environment_only() {
        let c = Config::from_toml_and_env(
            "[bots.autoreply]\n[[bots.autoreply.rules]]\nkeywords = [\"hi\"]\nreply = \"hello\"\n",
            "t.toml",
            env(&[
                ("OPENIM_API_ADDR", "http://127.0.0.1:10002"),
                ("OPENIM_WS_ADDR", "ws://127.0.0.1:10001"),
                ("OPENIM_USER_ID", "bot"),
                ("OPENIM_SECRET", "openIM123"),
            ]),
        )
        .unwrap();
        assert_eq!(c.account.user_id, "bot");
        assert_eq!(c.store.data_dir, PathBuf::from("./openim-bots-data"));
        let session = c.session_config();
        assert_eq!(session.user_id(), "bot");
        assert_eq!(session.platform, 7);
        assert!(!format!("{session:?}").contains("openIM123"));
    }

    #[test]
    fn example_file_is_valid() {
        let text = include_str!("../bots.example.toml");
        let c = Config::from_toml_and_env(text, "bots.example.toml", env(&[])).unwrap();
        assert_eq!(
            c.compile().unwrap().names(),
            ["friend_gate", "moderator", "autoreply", "support"]
        );
        // Its rules all answer somewhere (no private-only rule while support owns private chats).
        assert!(!c.explain().contains("warning:"), "{}", c.explain());
        let dead = text.replacen("scope = \"group\"", "scope = \"private\"", 1);
        let d = Config::from_toml_and_env(&dead, "bots.example.toml", env(&[])).unwrap();
        assert!(
            d.explain()
                .contains("warning: bots.autoreply.rules[1] (scope \"private\") never answers"),
            "{}",
            d.explain()
        );
        // Its header lists every variable that overrides the file.
        let header: String = text.lines().take_while(|l| l.starts_with('#')).collect();
        for (name, _) in ENV_OVERRIDES {
            assert!(header.contains(name), "the example's header omits {name}");
        }
    }
}
