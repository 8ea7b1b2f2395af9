//! Putting the bots on a session: building the runtime [`Bot`], sync progress, logging.

use std::io::IsTerminal;
use std::sync::{Arc, Mutex};

use openim_bot::event::{SyncServerFailed, SyncServerFinish, SyncServerProgress, SyncServerStart};
use openim_bot::runtime::{
    Bot, BotBuilder, BotError, Context, EventHandler, HandlerResult, RouteInfo,
};

use crate::config::Config;
use crate::handlers::{Observer, bundle};

/// Shows the progress of the initial sync: a progress bar on a terminal, log lines otherwise.
#[derive(Debug)]
pub struct SyncProgress {
    bar: Mutex<Option<indicatif::ProgressBar>>,
    terminal: bool,
}

impl SyncProgress {
    /// A bar when stderr is a terminal, log lines otherwise.
    pub fn new() -> Self {
        Self {
            bar: Mutex::new(None),
            terminal: std::io::stderr().is_terminal(),
        }
    }

    /// Always log lines (tests, the demo).
    pub fn log_only() -> Self {
        Self {
            bar: Mutex::new(None),
            terminal: false,
        }
    }

    fn bar(&self) -> std::sync::MutexGuard<'_, Option<indicatif::ProgressBar>> {
        self.bar.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Default for SyncProgress {
    fn default() -> Self {
        Self::new()
    }
}

static SYNC_ROUTES: [RouteInfo; 1] = [RouteInfo {
    event: "SyncServerStart/Progress/Finish/Failed",
    matcher: "on(SyncServer*)",
    filters: "",
    method: "progress bar or log lines",
}];

#[openim_bot::runtime::async_trait]
impl EventHandler for SyncProgress {
    fn name(&self) -> &'static str {
        "sync_progress"
    }
    fn routes(&self) -> &'static [RouteInfo] {
        &SYNC_ROUTES
    }
    async fn on_sync_server_start(&self, _: &Context, ev: &SyncServerStart) -> HandlerResult {
        if self.terminal {
            let bar = indicatif::ProgressBar::new(100);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} syncing with the server [{bar:30}] {pos}%",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            *self.bar() = Some(bar);
        } else {
            tracing::info!(reinstalled = ev.reinstalled, "sync started");
        }
        Ok(())
    }
    async fn on_sync_server_progress(&self, _: &Context, ev: &SyncServerProgress) -> HandlerResult {
        match &*self.bar() {
            Some(bar) => bar.set_position(u64::from(ev.progress.min(100))),
            None => tracing::info!(progress = ev.progress, "sync progress"),
        }
        Ok(())
    }
    async fn on_sync_server_finish(&self, _: &Context, _: &SyncServerFinish) -> HandlerResult {
        match self.bar().take() {
            Some(bar) => bar.finish_with_message("synced"),
            None => tracing::info!("sync finished"),
        }
        Ok(())
    }
    async fn on_sync_server_failed(&self, _: &Context, ev: &SyncServerFailed) -> HandlerResult {
        if let Some(bar) = self.bar().take() {
            bar.abandon();
        }
        tracing::warn!(reason = %ev.reason, "sync failed; the session retries");
        Ok(())
    }
}

/// Adds the enabled bots of `config` (and the sync progress display) to a builder.
pub fn with_bots(
    mut builder: BotBuilder,
    config: &Config,
    progress: SyncProgress,
    observer: Option<Observer>,
) -> Result<BotBuilder, crate::settings::Invalid> {
    let bots = config.compile()?;
    builder = builder.help(false).handler(progress);
    if config.bots.mark_read {
        builder = builder.middleware(openim_bot::runtime::MarkRead::new());
    }
    for h in bundle(bots, observer) {
        builder = builder.handler_arc(h);
    }
    Ok(builder)
}

/// Errors of [`build`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The runtime refused the bot or failed.
    #[error(transparent)]
    Bot(#[from] BotError),
}

/// The bot described by `config`, ready to [`run`](Bot::run) (its session starts in `run`).
pub fn build(
    config: &Config,
    progress: SyncProgress,
    observer: Option<Observer>,
) -> Result<Bot, AppError> {
    let builder = Bot::builder(config.session_config());
    let builder =
        with_bots(builder, config, progress, observer).map_err(crate::config::ConfigError::from)?;
    Ok(builder.build()?)
}

/// Wraps a closure as an [`Observer`].
pub fn observer(
    f: impl Fn(&'static str, &crate::action::Action, &Result<(), String>) + Send + Sync + 'static,
) -> Observer {
    Arc::new(f)
}
