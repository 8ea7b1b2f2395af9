//! The Node side: `bench/js/bench.mjs` drives @openim/client-sdk 0.0.14.

use std::path::PathBuf;
use std::process::Stdio;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use crate::load::Res;

/// The folder of the Node side.
pub fn js_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("js")
}

/// Checks that `node` runs and installs the Node packages (`npm ci`) if missing.
/// `Ok(None)` = node is absent (the JS rows are skipped, and said so); `Ok(Some(version))` = ready.
pub async fn prepare() -> Res<Option<String>> {
    let version = match Command::new("node").arg("--version").output().await {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_string(),
        _ => return Ok(None),
    };
    let dir = js_dir();
    if !dir.join("node_modules/@openim/client-sdk").exists() {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .stdout(Stdio::null())
            .status()
            .await?;
        if !status.success() {
            return Err(format!("npm ci in {} failed: {status}", dir.display()).into());
        }
    }
    Ok(Some(version))
}

/// A running `bench.mjs`.
#[derive(Debug)]
pub struct JsRun {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Lines<BufReader<ChildStdout>>,
}

impl JsRun {
    /// Starts `bench.mjs` with its JSON argument.
    pub fn spawn(args: &Value) -> Res<JsRun> {
        let mut child = Command::new("node")
            .arg(js_dir().join("bench.mjs"))
            .arg(args.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let stdin = child.stdin.take();
        Ok(JsRun {
            child,
            stdin,
            lines: BufReader::new(stdout).lines(),
        })
    }

    /// The Node process ID (for its CPU time).
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Tells a waiting `bench.mjs` (after its `ready` line) to start the measured phase.
    pub async fn go(&mut self) -> Res<()> {
        let stdin = self.stdin.as_mut().ok_or("bench.mjs stdin closed")?;
        stdin.write_all(b"go\n").await?;
        stdin.flush().await?;
        Ok(())
    }

    /// The next JSON line; an `error` event becomes an error.
    pub async fn next(&mut self) -> Res<Value> {
        loop {
            let Some(line) = self.lines.next_line().await? else {
                let status = self.child.wait().await?;
                return Err(format!("bench.mjs exited ({status}) without an answer").into());
            };
            let Ok(v) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            if v["event"] == "error" {
                return Err(format!("bench.mjs: {}", v["error"]).into());
            }
            return Ok(v);
        }
    }

    /// Waits for the process to end.
    pub async fn finish(mut self) -> Res<()> {
        self.child.wait().await?;
        Ok(())
    }
}
