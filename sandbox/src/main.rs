//! The `openim-sandbox` binary: runs the sandbox server until Ctrl-C / SIGTERM.

use clap::Parser;
use openim_sandbox::cli::{self, ServeArgs};

/// An embedded, protocol-faithful OpenIM-compatible server for testing bots.
#[derive(Parser, Debug)]
#[command(name = "openim-sandbox", version)]
struct Args {
    #[command(flatten)]
    serve: ServeArgs,
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("OPENIM_SANDBOX_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    match cli::start(&args.serve).await {
        Ok(sandbox) => cli::serve_until_signal(sandbox).await,
        Err(e) => {
            eprintln!("openim-sandbox: {e}");
            std::process::exit(1);
        }
    }
}
