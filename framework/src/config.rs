//! The session's init config, the equivalent of the SDK's `InitSDK` config plus credentials.

use std::fmt;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// Platform used when none is configured: 7 (Linux).
pub const DEFAULT_PLATFORM: i32 = 7;

/// Platform 10 (Admin): the platform of admin tokens, never of user tokens.
const ADMIN_PLATFORM: i32 = 10;

/// The platform IDs OpenIM knows: 1 iOS, 2 Android, 3 Windows, 4 macOS, 5 Web, 6 MiniWeb,
/// 7 Linux, 8 Android pad, 9 iPad, 10 Admin, 11 HarmonyOS (11 only from protocol 0.0.73, the
/// v3.8.3-patch line; plain v3.8.3 stops at 10).
pub const PLATFORM_IDS: std::ops::RangeInclusive<i32> = 1..=11;

/// A login setting the OpenIM server always refuses ([`SessionConfig::login_problem`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LoginProblem {
    /// The platform is not an OpenIM platform ID.
    #[error("platform {0} is not an OpenIM platform ID (1..=11; 7 = Linux)")]
    UnknownPlatform(i32),
    /// Secret login on platform 10: `get_user_token` refuses it (1002).
    #[error(
        "platform 10 (Admin) gets no user token from the secret: use another platform, or a token"
    )]
    AdminPlatformWithSecret,
    /// Secret login as the admin user: `get_user_token` refuses app administrators (1002).
    #[error(
        "user_id {0:?} is the admin user: OpenIM gives app administrators no user token; give the \
         bot its own account, or use an admin token with platform 10"
    )]
    AdminUserWithSecret(String),
}

impl LoginProblem {
    /// The config key at fault: `platform` or `user_id`.
    pub fn field(&self) -> &'static str {
        match self {
            LoginProblem::UnknownPlatform(_) | LoginProblem::AdminPlatformWithSecret => "platform",
            LoginProblem::AdminUserWithSecret(_) => "user_id",
        }
    }
}

/// Credentials of the bot account.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Credentials {
    /// A user token obtained elsewhere. When it expires the session stops.
    Token {
        /// The bot's user ID.
        user_id: String,
        /// The user token (JWT).
        token: String,
    },
    /// The server's admin secret: the session mints user tokens itself (through an admin token)
    /// and renews them when they expire.
    Secret {
        /// The bot's user ID.
        user_id: String,
        /// The admin secret (`share.yml: secret`).
        secret: String,
        /// The admin user ID used to obtain the admin token (default `imAdmin`).
        #[serde(default = "default_admin_user")]
        admin_user_id: String,
    },
}

fn default_admin_user() -> String {
    "imAdmin".to_owned()
}

impl Credentials {
    /// The bot's user ID.
    pub fn user_id(&self) -> &str {
        match self {
            Credentials::Token { user_id, .. } | Credentials::Secret { user_id, .. } => user_id,
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Token { user_id, .. } => f
                .debug_struct("Token")
                .field("user_id", user_id)
                .field("token", &"<redacted>")
                .finish(),
            Credentials::Secret {
                user_id,
                admin_user_id,
                ..
            } => f
                .debug_struct("Secret")
                .field("user_id", user_id)
                .field("secret", &"<redacted>")
                .field("admin_user_id", admin_user_id)
                .finish(),
        }
    }
}

/// Compression of the gateway's binary frames (the `compression` connect parameter).
///
/// The default is [`Compression::None`], what a user of the framework would expect from an
/// OpenIM client speaking its protocol: the framework uses the JSON (`sdkType=js`) framing of
/// the official JS SDK, and that SDK never asks for compression (only the native Go SDK, which
/// uses gob framing, always sends `compression=gzip`). Bots usually run next to the server
/// (same host, LAN, data centre), where gzip costs more than it saves:
/// - each frame is its own gzip member, so every message pays a fresh deflate/inflate state
///   on both ends: about a fifth of the CPU of the echo and inbound benchmarks
///   (docs/BENCHMARKS.md);
/// - frames are small and mostly base64 of protobuf with random IDs, which compresses
///   poorly: a one-message push frame shrinks by only 10–15 % (344 → 305 bytes for a short
///   text).
///
/// Choose [`Compression::Gzip`] for slow or metered links; every server version supports both.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Compression {
    /// Frames are sent and expected uncompressed (the JS SDK's behaviour).
    #[default]
    None,
    /// Every binary frame is a gzip member in both directions (the Go SDK's behaviour).
    Gzip,
}

impl Compression {
    /// The config spelling: `none` or `gzip`.
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
        }
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Compression {
    type Err = ConfigError;

    /// Accepts `none` / `gzip` (any case, surrounding spaces ignored); `off`, `false` and the
    /// empty string also mean `none`.
    fn from_str(s: &str) -> Result<Compression, ConfigError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" | "off" | "false" | "" => Ok(Compression::None),
            "gzip" => Ok(Compression::Gzip),
            other => Err(ConfigError::Invalid(format!(
                "compression must be \"none\" or \"gzip\", got {other:?}"
            ))),
        }
    }
}

/// Configuration of a [`Session`](crate::session::Session).
///
/// Secrets are redacted in `Debug` and never logged by this crate. Note that the WebSocket
/// dependency logs the whole upgrade request at TRACE level (`tungstenite=trace`), and the
/// gateway URL carries the token as the protocol requires: keep `tungstenite` at `debug` or
/// above in production.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionConfig {
    /// Login platform ID (1 iOS … 5 Web … 7 Linux …).
    pub platform: i32,
    /// HTTP API address, e.g. `http://127.0.0.1:10002`.
    pub api_addr: String,
    /// WebSocket gateway address, e.g. `ws://127.0.0.1:10001`.
    pub ws_addr: String,
    /// Directory for the local store and the ledger. Loaded configs default to
    /// `./openim-data-<user_id>` (relative to the working directory) when none is given.
    pub data_dir: PathBuf,
    /// Credentials.
    pub credentials: Credentials,
    /// Capacity of the channel to the consumer (backpressure).
    #[serde(default = "default_channel")]
    pub channel_capacity: usize,
    /// Timeout of one gateway request or HTTP API call, in milliseconds (default 10,000).
    #[serde(default = "default_request_timeout")]
    pub request_timeout_ms: u64,
    /// Make every acknowledgement durable before the watermark counts (a disk flush whenever a
    /// watermark advances): after a hard crash only the messages in flight are delivered again.
    /// An ack given while the engine is still writing the rows of the next messages is made
    /// durable with them, when that write ends: a crash in between repeats the acked message too.
    /// Off by default: acks are made durable by the store's sync rounds (every 100 ms, after the
    /// rows they depend on), so a crash may also repeat the messages acknowledged in the last
    /// ~120 ms, more on a loaded disk (docs/reliability.md).
    #[serde(default)]
    pub durable_acks: bool,
    /// An extra root CA (PEM file) to trust for `https://` and `wss://` (self-signed or private
    /// CA servers). The API client trusts it in addition to the built-in roots; the gateway
    /// connection then trusts this CA only.
    #[serde(default)]
    pub tls_root_ca: Option<PathBuf>,
    /// Compression of gateway frames (TOML `compression`, env `OPENIM_COMPRESSION`: `none` or
    /// `gzip`). Default `none`; see [`Compression`] for why.
    #[serde(default)]
    pub compression: Compression,
    /// Pushes the connection may queue for the engine (TOML `push_queue_limit`, env
    /// `OPENIM_PUSH_QUEUE_LIMIT`; default [`DEFAULT_PUSH_QUEUE_LIMIT`]; at least 1). When a flood
    /// comes faster than the handlers take it, the connection keeps reading, but drops pushes
    /// from the moment this many are queued until half of them have been taken; the engine then
    /// pulls the dropped pushes' messages by seq. Stored messages are neither lost nor delivered
    /// twice; messages without a seq (online-only ones, typing) in a dropped push are lost, as
    /// while the bot is offline. The bound is in pushes (typically 0.3–1 KB each);
    /// [`SessionConfig::push_queue_bytes`] bounds their bytes.
    #[serde(default = "default_push_queue_limit")]
    pub push_queue_limit: usize,
    /// Bytes of push payloads the connection may queue for the engine (TOML
    /// `push_queue_bytes`, env `OPENIM_PUSH_QUEUE_BYTES`; default [`DEFAULT_PUSH_QUEUE_BYTES`];
    /// at least 1): a second bound next to [`SessionConfig::push_queue_limit`], which the
    /// reader also drops pushes at, for floods of large pushes (a gateway message may be up
    /// to 64 MiB). A run of drops ends when both are down to half. Not counted in bytes: the
    /// pushes the reader decodes ahead of the engine (at most 256, of payloads up to 16 KiB;
    /// larger ones are never decoded ahead). The engine counts a round's payloads back as it
    /// handles them, 32 pushes at a time, so the bytes held stay within the bound plus the
    /// push that passes it. (The push count is counted back when a round of up to 512 is
    /// taken: at most 512 more pushes than the limit are held.)
    #[serde(default = "default_push_queue_bytes")]
    pub push_queue_bytes: usize,
    /// How many seqs of one conversation a catch-up pulls at most (TOML `catch_up_limit`, env
    /// `OPENIM_CATCH_UP_LIMIT`; default [`DEFAULT_CATCH_UP_LIMIT`]; at least 1; a config built
    /// in code with 0 counts as 1). When a conversation's gap (its messages from the last one
    /// handled up to the newest the server names, at connect, after dropped pushes, or before
    /// a pushed message) is longer, only its newest `catch_up_limit` seqs are pulled and
    /// delivered: the older ones are skipped, with a warning naming the conversation and the
    /// skipped seqs, and are never delivered (docs/reliability.md). Without a bound a seq
    /// near `i64::MAX` from a broken or hostile server had the bot pull for ever.
    #[serde(default = "default_catch_up_limit")]
    pub catch_up_limit: u64,
}

/// Default of [`SessionConfig::push_queue_limit`]: about 30 MB of typical pushes. A burst larger
/// than this that comes faster than the handlers take it (300,000 pushes released at once reach
/// it on a 2-core machine) is then taken partly by pull, which costs more per message.
pub const DEFAULT_PUSH_QUEUE_LIMIT: usize = 65_536;

/// Default of [`SessionConfig::push_queue_bytes`]: 64 MiB, what [`DEFAULT_PUSH_QUEUE_LIMIT`]
/// pushes of 1 KiB take: the push count bounds a flood of typical pushes (0.3–1 KB), this one a
/// flood of larger ones.
pub const DEFAULT_PUSH_QUEUE_BYTES: usize = 64 * 1024 * 1024;

/// Default of [`SessionConfig::catch_up_limit`]: 1,000,000 seqs (10,000 pull requests of 100)
/// per conversation. Far more than a bot that was away for a while misses (openim-sdk-core
/// pulls only the newest 1 to 10 messages of a gap and reads older ones on demand), while the
/// time one bad seq from the server can hold the engine, and the pulls it costs the server,
/// stay bounded.
pub const DEFAULT_CATCH_UP_LIMIT: u64 = 1_000_000;

fn default_channel() -> usize {
    1024
}
fn default_push_queue_limit() -> usize {
    DEFAULT_PUSH_QUEUE_LIMIT
}
fn default_push_queue_bytes() -> usize {
    DEFAULT_PUSH_QUEUE_BYTES
}
fn default_catch_up_limit() -> u64 {
    DEFAULT_CATCH_UP_LIMIT
}
/// `value`, or `default` if unset; 0 is refused (a queue bound of 0 would drop every push, a
/// catch-up limit of 0 would skip every gap).
fn at_least_one<T: Copy + Default + PartialEq>(
    value: Option<T>,
    default: T,
    name: &str,
) -> Result<T, ConfigError> {
    match value {
        None => Ok(default),
        Some(n) if n == T::default() => {
            Err(ConfigError::Invalid(format!("{name} must be at least 1")))
        }
        Some(n) => Ok(n),
    }
}

fn default_request_timeout() -> u64 {
    10_000
}

/// Errors loading a [`SessionConfig`].
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The sources could not be read or parsed.
    #[error("invalid session config: {0}")]
    Figment(#[from] Box<figment::Error>),
    /// A value is missing or wrong.
    #[error("invalid session config: {0}")]
    Invalid(String),
}

// `fn main() -> Result<(), Box<dyn Error>>` prints errors with `Debug`: figment's derived
// `Debug` is several hundred characters of its internals, while its `Display` names the key,
// the source and what was expected. Show that.
impl fmt::Debug for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Figment(e) => f
                .debug_tuple("Figment")
                .field(&format_args!("{e}"))
                .finish(),
            ConfigError::Invalid(s) => f.debug_tuple("Invalid").field(s).finish(),
        }
    }
}

/// Flat form read from TOML / env (`OPENIM_*`).
#[derive(Debug, Default, Serialize, Deserialize)]
struct RawConfig {
    platform: Option<i32>,
    api_addr: Option<String>,
    ws_addr: Option<String>,
    data_dir: Option<PathBuf>,
    user_id: Option<String>,
    token: Option<String>,
    secret: Option<String>,
    admin_user_id: Option<String>,
    channel_capacity: Option<usize>,
    request_timeout_ms: Option<u64>,
    durable_acks: Option<bool>,
    tls_ca: Option<PathBuf>,
    compression: Option<String>,
    push_queue_limit: Option<usize>,
    push_queue_bytes: Option<usize>,
    catch_up_limit: Option<u64>,
}

impl SessionConfig {
    /// A config with a user token.
    pub fn with_token(
        api_addr: impl Into<String>,
        ws_addr: impl Into<String>,
        data_dir: impl Into<PathBuf>,
        user_id: impl Into<String>,
        token: impl Into<String>,
    ) -> SessionConfig {
        SessionConfig {
            platform: DEFAULT_PLATFORM,
            api_addr: api_addr.into(),
            ws_addr: ws_addr.into(),
            data_dir: data_dir.into(),
            credentials: Credentials::Token {
                user_id: user_id.into(),
                token: token.into(),
            },
            channel_capacity: default_channel(),
            request_timeout_ms: default_request_timeout(),
            durable_acks: false,
            tls_root_ca: None,
            compression: Compression::None,
            push_queue_limit: DEFAULT_PUSH_QUEUE_LIMIT,
            push_queue_bytes: DEFAULT_PUSH_QUEUE_BYTES,
            catch_up_limit: DEFAULT_CATCH_UP_LIMIT,
        }
    }

    /// A config with the admin secret (tokens minted and renewed automatically).
    pub fn with_secret(
        api_addr: impl Into<String>,
        ws_addr: impl Into<String>,
        data_dir: impl Into<PathBuf>,
        user_id: impl Into<String>,
        secret: impl Into<String>,
    ) -> SessionConfig {
        SessionConfig {
            platform: DEFAULT_PLATFORM,
            api_addr: api_addr.into(),
            ws_addr: ws_addr.into(),
            data_dir: data_dir.into(),
            credentials: Credentials::Secret {
                user_id: user_id.into(),
                secret: secret.into(),
                admin_user_id: default_admin_user(),
            },
            channel_capacity: default_channel(),
            request_timeout_ms: default_request_timeout(),
            durable_acks: false,
            tls_root_ca: None,
            compression: Compression::None,
            push_queue_limit: DEFAULT_PUSH_QUEUE_LIMIT,
            push_queue_bytes: DEFAULT_PUSH_QUEUE_BYTES,
            catch_up_limit: DEFAULT_CATCH_UP_LIMIT,
        }
    }

    /// The bot's user ID.
    pub fn user_id(&self) -> &str {
        self.credentials.user_id()
    }

    /// Loads from the environment only (`OPENIM_API_ADDR`, `OPENIM_WS_ADDR`, `OPENIM_PLATFORM`,
    /// `OPENIM_USER_ID`, `OPENIM_TOKEN`, `OPENIM_SECRET`, `OPENIM_DATA_DIR`, optional
    /// `OPENIM_ADMIN_USER_ID`, `OPENIM_DURABLE_ACKS`, `OPENIM_TLS_CA`, `OPENIM_COMPRESSION`,
    /// `OPENIM_PUSH_QUEUE_LIMIT`, `OPENIM_PUSH_QUEUE_BYTES`, `OPENIM_CATCH_UP_LIMIT`).
    /// Without `OPENIM_DATA_DIR` the store lives in `./openim-data-<user_id>`.
    pub fn from_env() -> Result<SessionConfig, ConfigError> {
        Self::from_figment(Figment::new().merge(Env::prefixed("OPENIM_")))
    }

    /// Loads a TOML file (flat keys `api_addr`, `ws_addr`, `platform`, `user_id`, `token`,
    /// `secret`, `data_dir`, and optionally `admin_user_id`, `channel_capacity`,
    /// `request_timeout_ms`, `durable_acks`, `tls_ca`, `compression`, `push_queue_limit`,
    /// `push_queue_bytes`, `catch_up_limit`),
    /// overridden by the `OPENIM_*` environment variables.
    pub fn from_toml_and_env(path: impl AsRef<Path>) -> Result<SessionConfig, ConfigError> {
        Self::from_figment(
            Figment::new()
                .merge(Toml::file(path.as_ref()))
                .merge(Env::prefixed("OPENIM_")),
        )
    }

    /// Loads from any figment whose keys are the flat names above.
    pub fn from_figment(figment: Figment) -> Result<SessionConfig, ConfigError> {
        let raw: RawConfig = Figment::from(Serialized::defaults(RawConfig::default()))
            .merge(figment)
            .extract()
            .map_err(Box::new)?;
        let need = |v: Option<String>, name: &str| {
            v.filter(|s| !s.trim().is_empty())
                .ok_or_else(|| ConfigError::Invalid(format!("{name} is required")))
        };
        let api_addr = need(raw.api_addr, "api_addr (OPENIM_API_ADDR)")?;
        let ws_addr = need(raw.ws_addr, "ws_addr (OPENIM_WS_ADDR)")?;
        let user_id = need(raw.user_id, "user_id (OPENIM_USER_ID)")?;
        if !(api_addr.starts_with("http://") || api_addr.starts_with("https://")) {
            return Err(ConfigError::Invalid(format!(
                "api_addr must start with http:// or https://, got {api_addr:?}"
            )));
        }
        if !(ws_addr.starts_with("ws://") || ws_addr.starts_with("wss://")) {
            return Err(ConfigError::Invalid(format!(
                "ws_addr must start with ws:// or wss://, got {ws_addr:?}"
            )));
        }
        let platform = raw.platform.unwrap_or(DEFAULT_PLATFORM);
        let credentials = match (
            raw.token.filter(|t| !t.is_empty()),
            raw.secret.filter(|s| !s.is_empty()),
        ) {
            (_, Some(secret)) => Credentials::Secret {
                user_id,
                secret,
                admin_user_id: raw.admin_user_id.unwrap_or_else(default_admin_user),
            },
            (Some(token), None) => Credentials::Token { user_id, token },
            (None, None) => {
                return Err(ConfigError::Invalid(
                    "either token (OPENIM_TOKEN) or secret (OPENIM_SECRET) is required".into(),
                ));
            }
        };
        let compression = match raw.compression.as_deref() {
            None => Compression::default(),
            Some(s) => s.parse()?,
        };
        let data_dir = raw
            .data_dir
            .unwrap_or_else(|| PathBuf::from(format!("openim-data-{}", credentials.user_id())));
        let config = SessionConfig {
            platform,
            api_addr: api_addr.trim_end_matches('/').to_owned(),
            ws_addr: ws_addr.trim_end_matches('/').to_owned(),
            data_dir,
            credentials,
            channel_capacity: raw.channel_capacity.unwrap_or_else(default_channel).max(1),
            request_timeout_ms: raw
                .request_timeout_ms
                .unwrap_or_else(default_request_timeout),
            durable_acks: raw.durable_acks.unwrap_or(false),
            tls_root_ca: raw.tls_ca,
            compression,
            push_queue_limit: at_least_one(
                raw.push_queue_limit,
                DEFAULT_PUSH_QUEUE_LIMIT,
                "push_queue_limit (OPENIM_PUSH_QUEUE_LIMIT)",
            )?,
            push_queue_bytes: at_least_one(
                raw.push_queue_bytes,
                DEFAULT_PUSH_QUEUE_BYTES,
                "push_queue_bytes (OPENIM_PUSH_QUEUE_BYTES)",
            )?,
            catch_up_limit: at_least_one(
                raw.catch_up_limit,
                DEFAULT_CATCH_UP_LIMIT,
                "catch_up_limit (OPENIM_CATCH_UP_LIMIT)",
            )?,
        };
        config.validate()?;
        Ok(config)
    }

    /// The first login setting the server would always refuse: a platform outside
    /// [`PLATFORM_IDS`], or a secret login on platform 10 or as the admin user (the server's
    /// `get_user_token` answers 1002 for both). Other admins of the server's `imAdminUserID`
    /// list are unknown here and still fail at start.
    pub fn login_problem(&self) -> Option<LoginProblem> {
        if !PLATFORM_IDS.contains(&self.platform) {
            return Some(LoginProblem::UnknownPlatform(self.platform));
        }
        if let Credentials::Secret {
            user_id,
            admin_user_id,
            ..
        } = &self.credentials
        {
            if self.platform == ADMIN_PLATFORM {
                return Some(LoginProblem::AdminPlatformWithSecret);
            }
            if user_id == admin_user_id {
                return Some(LoginProblem::AdminUserWithSecret(user_id.clone()));
            }
        }
        None
    }

    /// Checks the config (see [`SessionConfig::login_problem`]); the loaders call it.
    pub fn validate(&self) -> Result<(), ConfigError> {
        match self.login_problem() {
            Some(problem) => Err(ConfigError::Invalid(problem.to_string())),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_secrets() {
        let c = SessionConfig::with_secret("http://a", "ws://b", "/tmp/x", "bot", "openIM123");
        let s = format!("{c:?}");
        assert!(!s.contains("openIM123"), "{s}");
        let c = SessionConfig::with_token("http://a", "ws://b", "/tmp/x", "bot", "eyJtoken");
        assert!(!format!("{c:?}").contains("eyJtoken"));
    }

    #[test]
    fn loads_toml_and_rejects_bad_values() {
        let fig = Figment::new().merge(Toml::string(
            "api_addr='http://h:10002'\nws_addr='ws://h:10001'\nuser_id='bot'\ntoken='t'\nplatform=5",
        ));
        let c = SessionConfig::from_figment(fig).unwrap();
        assert_eq!(c.platform, 5);
        assert!(matches!(c.credentials, Credentials::Token { .. }));
        assert_eq!(c.push_queue_limit, DEFAULT_PUSH_QUEUE_LIMIT);
        assert_eq!(c.push_queue_bytes, DEFAULT_PUSH_QUEUE_BYTES);
        // A minimal valid config with one more line.
        let with = |line: &str| {
            SessionConfig::from_figment(Figment::new().merge(Toml::string(&format!(
                "api_addr='http://h'\nws_addr='ws://h'\nuser_id='bot'\ntoken='t'\n{line}"
            ))))
        };
        assert_eq!(with("push_queue_limit=500").unwrap().push_queue_limit, 500);
        assert!(matches!(
            with("push_queue_limit=0"),
            Err(ConfigError::Invalid(m)) if m.contains("push_queue_limit")
        ));
        let c = with("push_queue_bytes=4096").unwrap();
        assert_eq!(
            (c.push_queue_bytes, c.push_queue_limit),
            (4096, DEFAULT_PUSH_QUEUE_LIMIT)
        );
        assert!(matches!(
            with("push_queue_bytes=0"),
            Err(ConfigError::Invalid(m)) if m.contains("push_queue_bytes")
        ));
        assert_eq!(c.catch_up_limit, DEFAULT_CATCH_UP_LIMIT);
        assert_eq!(with("catch_up_limit=500").unwrap().catch_up_limit, 500);
        assert!(matches!(
            with("catch_up_limit=0"),
            Err(ConfigError::Invalid(m)) if m.contains("catch_up_limit")
        ));
        assert!(matches!(
            with("catch_up_limit=-1"),
            Err(ConfigError::Figment(_))
        ));
        let fig = Figment::new().merge(Toml::string(
            "api_addr='h:10002'\nws_addr='ws://h:10001'\nuser_id='bot'\ntoken='t'",
        ));
        assert!(matches!(
            SessionConfig::from_figment(fig),
            Err(ConfigError::Invalid(_))
        ));
        let fig = Figment::new().merge(Toml::string(
            "api_addr='http://h'\nws_addr='ws://h'\nuser_id='bot'",
        ));
        assert!(SessionConfig::from_figment(fig).is_err());
        let fig = Figment::new().merge(Toml::string("platform='x'"));
        assert!(matches!(
            SessionConfig::from_figment(fig),
            Err(ConfigError::Figment(_))
        ));
    }

    #[test]
    fn a_parse_error_debugs_as_its_message() {
        let fig = Figment::new().merge(Toml::string("platform='web'"));
        let err = SessionConfig::from_figment(fig).expect_err("platform is a number");
        let debug = format!("{err:?}");
        assert!(debug.starts_with("Figment("), "{debug}");
        assert!(debug.contains("platform"), "{debug}");
        assert!(!debug.contains("Metadata"), "{debug}");
        assert!(debug.len() < 300, "{debug}");
    }

    #[test]
    fn secret_login_refuses_what_get_user_token_refuses() {
        let base = "api_addr='http://h:10002'\nws_addr='ws://h:10001'\nsecret='s'\n";
        let load = |extra: &str| {
            SessionConfig::from_figment(
                Figment::new().merge(Toml::string(&format!("{base}{extra}"))),
            )
        };
        let err = load("user_id='bot'\nplatform=10").unwrap_err().to_string();
        assert!(err.contains("platform 10"), "{err}");
        let err = load("user_id='imAdmin'").unwrap_err().to_string();
        assert!(err.contains("admin user"), "{err}");
        let err = load("user_id='ops'\nadmin_user_id='ops'")
            .unwrap_err()
            .to_string();
        assert!(err.contains("admin user"), "{err}");
        assert!(load("user_id='bot'\nplatform=5").is_ok());
        // An admin token on platform 10 is a valid login.
        let fig = Figment::new().merge(Toml::string(
            "api_addr='http://h'\nws_addr='ws://h'\nuser_id='imAdmin'\ntoken='t'\nplatform=10",
        ));
        assert!(SessionConfig::from_figment(fig).is_ok());
        // The same checks on a config built in code.
        let mut c = SessionConfig::with_secret("http://a", "ws://b", "/tmp/x", "imAdmin", "s");
        assert_eq!(
            c.login_problem(),
            Some(LoginProblem::AdminUserWithSecret("imAdmin".into()))
        );
        assert_eq!(c.login_problem().map(|p| p.field()), Some("user_id"));
        c.credentials = Credentials::Secret {
            user_id: "bot".into(),
            secret: "s".into(),
            admin_user_id: "imAdmin".into(),
        };
        c.platform = 10;
        assert_eq!(
            c.login_problem(),
            Some(LoginProblem::AdminPlatformWithSecret)
        );
        c.platform = 12;
        assert_eq!(c.login_problem(), Some(LoginProblem::UnknownPlatform(12)));
        assert_eq!(c.login_problem().map(|p| p.field()), Some("platform"));
        assert!(c.validate().is_err());
        c.platform = 11;
        assert_eq!(c.login_problem(), None);
        assert!(c.validate().is_ok());
    }

    const MINIMAL: &str =
        "api_addr='http://h:10002'\nws_addr='ws://h:10001'\nuser_id='bot'\ntoken='t'\n";

    #[test]
    fn compression_defaults_to_none_and_parses_both_values() {
        let c = SessionConfig::from_figment(Figment::new().merge(Toml::string(MINIMAL))).unwrap();
        assert_eq!(c.compression, Compression::None);
        assert_eq!(
            SessionConfig::with_token("http://a", "ws://b", "/tmp/x", "bot", "t").compression,
            Compression::None
        );
        for (value, want) in [
            ("gzip", Compression::Gzip),
            ("GZIP", Compression::Gzip),
            ("none", Compression::None),
            ("off", Compression::None),
        ] {
            let toml = format!("{MINIMAL}compression='{value}'");
            let c = SessionConfig::from_figment(Figment::new().merge(Toml::string(&toml))).unwrap();
            assert_eq!(c.compression, want, "{value}");
            assert_eq!(
                c.compression.to_string().parse::<Compression>().unwrap(),
                want
            );
        }
    }

    #[test]
    fn compression_rejects_unknown_values_with_a_clear_error() {
        let toml = format!("{MINIMAL}compression='brotli'");
        let err = SessionConfig::from_figment(Figment::new().merge(Toml::string(&toml)))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("compression") && err.contains("brotli"),
            "{err}"
        );
    }

    #[test]
    fn compression_serde_uses_the_config_spelling() {
        let mut c = SessionConfig::with_token("http://a", "ws://b", "/tmp/x", "bot", "t");
        c.compression = Compression::Gzip;
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["compression"], "gzip");
        let back: SessionConfig = serde_json::from_value(json).unwrap();
        assert_eq!(back, c);
        let mut json = serde_json::to_value(&c).unwrap();
        json.as_object_mut().unwrap().remove("compression");
        let old: SessionConfig = serde_json::from_value(json).unwrap();
        assert_eq!(old.compression, Compression::None);
    }
}
