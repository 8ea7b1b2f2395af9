//! The `openim-bots` command line: `demo`, `run`, `check-config`, `routes`, `sandbox`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use openim_bots::app::{SyncProgress, build};
use openim_bots::config::Config;

mod sandbox_cmd;

/// Ready-made OpenIM bots: friend gate, moderator, auto-reply and customer support.
#[derive(Debug, Parser)]
#[command(name = "openim-bots", version, about)]
struct Cli {
    /// Log level or filter (e.g. `info`, `debug`, `openim_bot=debug,info`); default `info`
    /// (`warn` for `demo`). RUST_LOG is used when this is not given.
    #[arg(long, global = true)]
    log_level: Option<String>,
    /// Log format.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Starts an embedded sandbox server, the bot and simulated users, plays a scenario for
    /// every bundled bot and prints the transcript.
    Demo,
    /// Connects to the configured server and runs the enabled bots until Ctrl-C.
    Run {
        /// The configuration file (TOML; OPENIM_* variables override it).
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Runs the embedded OpenIM-compatible sandbox server standalone (test your bot without
    /// deploying OpenIM); prints `ready api=<url> ws=<url>` once it listens, stops on Ctrl-C.
    Sandbox(Box<sandbox_cmd::SandboxArgs>),
    /// Validates a configuration file and explains what it does.
    CheckConfig {
        /// The configuration file.
        file: PathBuf,
    },
    /// Prints the routing table of the configured bots.
    Routes {
        /// The configuration file.
        #[arg(long, short)]
        config: PathBuf,
    },
}

fn init_logs(level: Option<&str>, default: &str, format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = match level {
        Some(l) => EnvFilter::try_new(l).unwrap_or_else(|e| {
            eprintln!("warning: --log-level {l:?} is not a valid filter ({e}); using {default:?}");
            EnvFilter::new(default)
        }),
        None => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default)),
    };
    // Colours only on a terminal: logs redirected to a file or a supervisor stay plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

fn load(path: &std::path::Path) -> Result<Config, ExitCode> {
    Config::load(path).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(2)
    })
}

/// The token `bots.example.toml` ships with.
const PLACEHOLDER_TOKEN: &str = "paste-a-user-token-here";

/// What to do about a login failure whose cause is a common setup mistake.
fn login_hint(e: &openim_bot::runtime::BotError, config: &Config) -> Option<String> {
    use openim_bot::runtime::{BotError, SessionEnd};
    let user = &config.account.user_id;
    if let BotError::SessionEnded(SessionEnd::KickedOffline) = e {
        return Some(format!(
            "OpenIM keeps one login per user and platform: do not log in as {user:?} with \
             server.platform {} elsewhere (give the bot its own account or platform ID); \
             a supervisor that restarts on failure logs it in again, which kicks that other \
             login offline in turn",
            config.server.platform
        ));
    }
    let placeholder = config
        .account
        .token
        .as_ref()
        .is_some_and(|t| t.expose() == PLACEHOLDER_TOKEN);
    let refused_credentials = |code: i32| {
        if placeholder {
            format!(
                "account.token is still the example's placeholder (errCode {code}): paste a \
                 token minted for {user:?}, or set account.secret (OPENIM_SECRET) instead and \
                 the bot mints its own"
            )
        } else {
            format!(
                "the server refused the credentials (errCode {code}): check account.token \
                 (minted for this user and server.platform) or account.secret"
            )
        }
    };
    if let BotError::SessionEnded(SessionEnd::TokenInvalid { code, .. }) = e {
        return Some(refused_credentials(*code));
    }
    if let BotError::Session(openim_bot::SessionError::Store(store)) = e
        && store.to_string().contains("could not acquire lock")
    {
        return Some(format!(
            "another process (another `openim-bots run`?) has the store at {} open: stop it, \
             or give this bot its own store.data_dir",
            config.store.data_dir.display()
        ));
    }
    let BotError::Session(openim_bot::SessionError::Login(api)) = e else {
        return None;
    };
    match api.code() {
        // RecordNotFoundError: the account does not exist on the server.
        Some(1004) => Some(format!(
            "register the bot's account {user:?} first: POST /user/user_register with an admin \
             token, or start the sandbox with `openim-bots sandbox --user {user}`"
        )),
        // NoPermissionError while minting a token: the admin secret is not the server's.
        Some(1002) if config.account.secret.is_some() => Some(
            "the server refused account.secret (OPENIM_SECRET): use the server's admin secret \
             (`secret` in open-im-server's share.yml; the sandbox's is openIM123 unless started \
             with --secret)"
                .to_owned(),
        ),
        Some(code) if api.is_token_error() => Some(refused_credentials(code)),
        _ => None,
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let default_level = if matches!(cli.command, Command::Demo | Command::Sandbox(_)) {
        "warn"
    } else {
        "info"
    };
    init_logs(cli.log_level.as_deref(), default_level, cli.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        match cli.command {
            Command::CheckConfig { file } => match load(&file) {
                Ok(config) => {
                    println!("{} is valid.\n", file.display());
                    print!("{}", config.explain());
                    ExitCode::SUCCESS
                }
                Err(code) => code,
            },
            Command::Routes { config } => {
                let config = match load(&config) {
                    Ok(c) => c,
                    Err(code) => return code,
                };
                match build(&config, SyncProgress::new(), None) {
                    Ok(bot) => {
                        println!("{}", bot.routes());
                        ExitCode::SUCCESS
                    }
                    Err(e) => {
                        eprintln!("error: {e}");
                        ExitCode::from(2)
                    }
                }
            }
            Command::Run { config } => {
                let config = match load(&config) {
                    Ok(c) => c,
                    Err(code) => return code,
                };
                let bot = match build(&config, SyncProgress::new(), None) {
                    Ok(b) => b,
                    Err(e) => {
                        eprintln!("error: {e}");
                        return ExitCode::from(2);
                    }
                };
                tracing::info!(
                    user = %config.account.user_id,
                    server = %config.server.api_addr,
                    bots = ?config.compile().map(|b| b.names()).unwrap_or_default(),
                    "starting; press Ctrl-C to stop"
                );
                match bot.run().await {
                    Ok(()) => {
                        tracing::info!("stopped cleanly");
                        ExitCode::SUCCESS
                    }
                    Err(e) => {
                        eprintln!("error: {e}");
                        if let Some(hint) = login_hint(&e, &config) {
                            eprintln!("hint: {hint}");
                        }
                        ExitCode::FAILURE
                    }
                }
            }
            Command::Sandbox(args) => match sandbox_cmd::serve(*args).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            },
            Command::Demo => match openim_bots::demo::run(std::io::stdout()).await {
                Ok(summary) => {
                    println!("{summary}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("demo failed: {e}");
                    ExitCode::FAILURE
                }
            },
        }
    })
}
