//! openim-bench: throughput, latency, catch-up and memory benchmarks of openim-bot against the
//! in-process sandbox, side by side with the official JS SDK (@openim/client-sdk 0.0.14 under Node).
//!
//! `cargo run --release -p openim-bench [-- --quick] [-- --runs 5]`; see docs/BENCHMARKS.md. The
//! last line printed is `summary inbound=… inbound_js=… … scaling_ratio=…` (medians over the runs).
//!
//! The sandbox runs on its own runtime (threads `sandbox-rt`) and the echo load generator on
//! another (`loadgen-rt`), so each row also reports the CPU time per item of the bot, the sandbox
//! and the Node process, read from `/proc` (see [`cpu`]).

mod cpu;
mod echo;
mod js;
mod load;

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use openim_bot::{Session, SessionConfig};
use openim_sandbox::{Sandbox, SandboxConfig};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};

use load::{Admin, Consumer, Job, Res, epoch_ms, inject};

/// Command line.
#[derive(Debug, Parser)]
#[command(
    name = "openim-bench",
    about = "openim-bot benchmarks against the sandbox and the JS SDK"
)]
struct Args {
    /// Smaller sizes: finishes in under a minute (CI smoke use).
    #[arg(long)]
    quick: bool,
    /// Tiny sizes (functional test of every row; figures meaningless).
    #[arg(long, env = "OPENIM_BENCH_TINY")]
    tiny: bool,
    /// Skip the JS SDK rows (printed as skipped).
    #[arg(long)]
    no_js: bool,
    /// Run only these rows (comma list of inbound,echo,catchup,memory,scaling); the summary then
    /// reports 0 for the others.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Override: inbound message count.
    #[arg(long)]
    inbound: Option<usize>,
    /// Override: catch-up conversations (100 messages each at full size).
    #[arg(long)]
    catchup_convs: Option<usize>,
    /// Override: memory row single chats.
    #[arg(long)]
    mem_singles: Option<usize>,
    /// Override: memory row groups.
    #[arg(long)]
    mem_groups: Option<usize>,
    /// Override: scaling row, the large conversation count.
    #[arg(long)]
    scale_big: Option<usize>,
    /// Override: scaling row, events measured per side.
    #[arg(long)]
    scale_events: Option<usize>,
    /// Override: echo duration in seconds.
    #[arg(long)]
    echo_secs: Option<f64>,
    /// Repeat the whole measurement this many times (fresh sandbox each run); prints every run's
    /// figures and, last, the summary line of the medians.
    #[arg(long, default_value_t = 1)]
    runs: usize,
    /// Worker threads of the sandbox's own runtime; 0 = run the sandbox on the bot's runtime
    /// (then its CPU is counted with the bot's).
    #[arg(long, default_value_t = 1)]
    sandbox_threads: usize,
    /// Diagnostics: write every echo round trip (`send offset us`, `latency us`, `user`) to this
    /// file and print the CPU each thread used in the echo window.
    #[arg(long)]
    echo_trace: Option<std::path::PathBuf>,
    /// Scaling row: keep the sessions' default push-queue bounds (by default the row lifts them,
    /// so that both sides take every event by push); the bursts then pass them, and the
    /// sessions take part of them by pull (the row prints how many pushes were dropped).
    #[arg(long)]
    scale_default_bounds: bool,
    /// Internal: `bot` runs the bot side of the memory row as a child process.
    #[arg(long, default_value = "main", hide = true)]
    role: String,
    #[arg(long, hide = true)]
    api: Option<String>,
    #[arg(long, hide = true)]
    ws: Option<String>,
    #[arg(long, hide = true)]
    user: Option<String>,
    #[arg(long, hide = true)]
    secret: Option<String>,
    #[arg(long, hide = true)]
    data_dir: Option<std::path::PathBuf>,
    #[arg(long, hide = true, default_value_t = 0)]
    expect: u64,
}

/// Workload sizes.
#[derive(Debug, Clone, Copy)]
struct Sizes {
    inbound: usize,
    echo_users: usize,
    echo_rate: f64,
    echo_secs: f64,
    catchup_convs: usize,
    catchup_per_conv: usize,
    mem_singles: usize,
    mem_groups: usize,
    mem_group_size: usize,
    scale_small: usize,
    scale_big: usize,
    scale_events: usize,
    concurrency: usize,
}

const FULL: Sizes = Sizes {
    inbound: 100_000,
    echo_users: 100,
    echo_rate: 5000.0,
    echo_secs: 10.0,
    catchup_convs: 1000,
    catchup_per_conv: 100,
    mem_singles: 9000,
    mem_groups: 1000,
    mem_group_size: 100,
    scale_small: 10,
    scale_big: 100_000,
    // Long enough for the steady state: a window of 20,000 events (~40 ms) was half fixed
    // start-up (the first pushes' release and read) and mostly missed the row and ledger
    // snapshots and index merges that 100,000 conversations make every ~100,000-200,000
    // events, so its ratio read ~1.05x where 300,000 events read ~1.4x (session 12).
    scale_events: 300_000,
    concurrency: 8,
};
const QUICK: Sizes = Sizes {
    inbound: 20_000,
    echo_users: 100,
    echo_rate: 5000.0,
    echo_secs: 2.0,
    catchup_convs: 100,
    catchup_per_conv: 100,
    mem_singles: 900,
    mem_groups: 100,
    mem_group_size: 100,
    scale_small: 10,
    scale_big: 500,
    scale_events: 500,
    concurrency: 8,
};
const TINY: Sizes = Sizes {
    inbound: 200,
    echo_users: 5,
    echo_rate: 100.0,
    echo_secs: 0.5,
    catchup_convs: 5,
    catchup_per_conv: 20,
    mem_singles: 20,
    mem_groups: 5,
    mem_group_size: 5,
    scale_small: 10,
    scale_big: 50,
    scale_events: 100,
    concurrency: 4,
};

const WAIT: Duration = Duration::from_secs(300);

/// One printed row.
struct Row {
    name: String,
    value: String,
    cpu: String,
    target: String,
}

fn row(rows: &mut Vec<Row>, name: &str, value: String, cpu: String, target: &str) {
    if cpu.is_empty() {
        eprintln!("[bench] {name}: {value}");
    } else {
        eprintln!("[bench] {name}: {value} (CPU {cpu})");
    }
    rows.push(Row {
        name: name.to_string(),
        value,
        cpu,
        target: target.to_string(),
    });
}

fn ids(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

fn fmt_opt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "na".to_string(), |x| format!("{x:.digits$}"))
}

/// CPU per item of the bot and the sandbox over a window.
fn cpu_split(d: &cpu::Cpu, items: usize, unit: &str) -> String {
    format!(
        "bot {:.1} + sandbox {:.1} us/{unit}",
        cpu::us_per(d.bot(), items),
        cpu::us_per(d.sandbox, items)
    )
}

/// CPU per item of the Node process and the sandbox over a window.
fn cpu_split_js(node: Option<Duration>, sandbox: Duration, items: usize, unit: &str) -> String {
    format!(
        "node {} + sandbox {:.1} us/{unit}",
        fmt_opt(node.map(|n| cpu::us_per(n, items)), 1),
        cpu::us_per(sandbox, items)
    )
}

/// The runtimes the benchmark spreads its parts over.
#[derive(Clone)]
struct Runtimes {
    sandbox: tokio::runtime::Handle,
    loadgen: tokio::runtime::Handle,
}

struct Ctx {
    sb: Sandbox,
    admin: Arc<Admin>,
    tmp: tempfile::TempDir,
    sizes: Sizes,
    node: bool,
    rt: Runtimes,
    echo_trace: Option<std::path::PathBuf>,
    scale_default_bounds: bool,
}

impl Ctx {
    fn config(&self, user: &str) -> SessionConfig {
        SessionConfig::with_secret(
            self.sb.api_url(),
            self.sb.ws_url(),
            self.tmp.path().join(user),
            user,
            self.sb.secret(),
        )
    }

    async fn js(&self, mode: &str, user: &str, expect: usize) -> Res<js::JsRun> {
        let token = self.sb.user_token(user, 5).await?;
        js::JsRun::spawn(
            &json!({"mode": mode, "api": self.sb.api_url(), "ws": self.sb.ws_url(),
            "userID": user, "token": token, "expect": expect}),
        )
    }
}

/// 1 + 6a: inbound push rate, bot session then JS SDK, one after the other.
///
/// Pushes to both are held (fault `stall_pushes`) while the messages are injected. Then the bot's
/// are released (by a task of the sandbox's runtime, so that queueing them counts as the
/// sandbox's CPU, not the bot's) and timed to the N-th `NewMessage`; the bot is stopped; then the JS user's are
/// released and timed to the N-th `OnRecvNewMessages` item. Each side has both cores to itself.
async fn inbound(cx: &Ctx, rows: &mut Vec<Row>) -> Res<(f64, Option<f64>)> {
    let n = cx.sizes.inbound;
    let (bot, jsu) = ("in_bot".to_string(), "in_js".to_string());
    let senders = ids("in_s", 16);
    cx.admin
        .register(&[&[bot.clone(), jsu.clone()][..], &senders].concat())
        .await?;
    let consumer = Consumer::start(Session::start(cx.config(&bot)).await?);
    consumer.synced(WAIT).await?;
    let mut js = if cx.node {
        let mut run = cx.js("inbound", &jsu, n).await?;
        run.next().await?; // ready
        Some(run)
    } else {
        None
    };
    cx.sb.faults().stall_pushes(&bot);
    cx.sb.faults().stall_pushes(&jsu);
    let recvs: Arc<[String]> = if js.is_some() {
        vec![bot.clone(), jsu.clone()].into()
    } else {
        vec![bot.clone()].into()
    };
    let jobs = (0..n)
        .map(|i| Job::Batch {
            send: senders[i % senders.len()].clone(),
            recvs: recvs.clone(),
        })
        .collect();
    let inject_rate = inject(&cx.admin, jobs, cx.sizes.concurrency).await?;
    eprintln!("[bench] inbound: injected {n} requests at {inject_rate:.0}/s (pushes held)");
    consumer.counter.arm(n as u64);
    let c0 = cpu::now();
    let t0 = Instant::now();
    let release = cx.sb.faults().release_pushes_on(&bot, &cx.rt.sandbox);
    let done = consumer.counter.wait(WAIT, "inbound").await?;
    release.await?;
    let used = cpu::now().since(&c0);
    let rate = n as f64 / done.duration_since(t0).as_secs_f64();
    row(
        rows,
        "inbound (openim-bot session)",
        format!("{rate:.0} msg/s"),
        cpu_split(&used, n, "msg"),
        ">= 100000 msg/s",
    );
    consumer.shutdown().await?;
    let js_rate = match js.as_mut() {
        Some(run) => {
            let node0 = run.pid().and_then(cpu::of_pid);
            let c0 = cpu::now();
            let t0 = epoch_ms();
            let release = cx.sb.faults().release_pushes_on(&jsu, &cx.rt.sandbox);
            let v = run.next().await?;
            release.await?;
            let used = cpu::now().since(&c0);
            let node = run
                .pid()
                .and_then(cpu::of_pid)
                .zip(node0)
                .map(|(b, a)| b.saturating_sub(a));
            let ms = v["done_epoch_ms"].as_f64().ok_or("no done_epoch_ms")? - t0;
            let r = n as f64 / (ms / 1000.0);
            row(
                rows,
                "inbound (JS SDK 0.0.14)",
                format!("{r:.0} msg/s"),
                cpu_split_js(node, used.sandbox, n, "msg"),
                "-",
            );
            Some(r)
        }
        None => {
            row(
                rows,
                "inbound (JS SDK 0.0.14)",
                "skipped: node absent".into(),
                String::new(),
                "-",
            );
            None
        }
    };
    if let Some(run) = js {
        run.finish().await?;
    }
    Ok((rate, js_rate))
}

/// 2: echo round trips from raw gateway users to a runtime bot, paced at the target rate.
///
/// The users run on their own runtime (`loadgen-rt`), so their CPU is reported apart and the
/// generator's own scheduling delay (how late a due send left) is reported as a health check.
async fn echo_row(cx: &Ctx, rows: &mut Vec<Row>) -> Res<f64> {
    let s = cx.sizes;
    let bot = "echo_bot".to_string();
    let users = ids("echo_u", s.echo_users);
    cx.admin
        .register(&[&[bot.clone()][..], &users].concat())
        .await?;
    let session = Session::start(cx.config(&bot)).await?;
    let synced = Arc::new(tokio::sync::Notify::new());
    let bot_rt = openim_bot::runtime::BotBuilder::from_session(session)
        .handler(echo::Echo(synced.clone()))
        .handle_ctrl_c(false)
        .build()?;
    let stop = bot_rt.shutdown_handle();
    let running = tokio::spawn(bot_rt.run());
    tokio::time::timeout(WAIT, synced.notified())
        .await
        .map_err(|_| "echo bot: no SyncServerFinish")?;
    let mut raw = Vec::new();
    for u in &users {
        let token = cx.sb.user_token(u, 5).await?;
        let (ws, u2, bot2) = (cx.sb.ws_url(), u.clone(), bot.clone());
        let r = cx
            .rt
            .loadgen
            .spawn(async move {
                let mut r = echo::RawUser::connect(&ws, &u2, &token, &bot2).await?;
                r.round_trip(Duration::from_secs(10)).await?; // warm-up: conversation exists
                Ok::<_, load::BenchError>(r)
            })
            .await??;
        raw.push(r);
    }
    let period = Duration::from_secs_f64(s.echo_users as f64 / s.echo_rate);
    let run_for = Duration::from_secs_f64(s.echo_secs);
    let threads0 = cpu::threads();
    let c0 = cpu::now();
    let started = Instant::now();
    if cx.echo_trace.is_some() {
        // CLOCK_MONOTONIC, the clock `perf record -k CLOCK_MONOTONIC` stamps samples with
        eprintln!("[bench] echo window starts at {started:?}");
    }
    let mut tasks = Vec::new();
    for (i, mut r) in raw.into_iter().enumerate() {
        tasks.push(cx.rt.loadgen.spawn(async move {
            // spread the users over the period
            tokio::time::sleep(period.mul_f64(i as f64 / s.echo_users as f64)).await;
            let mut tick = tokio::time::interval(period);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let (mut lat, mut lag) = (Vec::new(), Vec::new());
            let mut free_since = tokio::time::Instant::now();
            while started.elapsed() < run_for {
                let due = tick.tick().await;
                // how late the send leaves after it was both due and possible (closed loop)
                lag.push(
                    tokio::time::Instant::now().saturating_duration_since(due.max(free_since)),
                );
                let at = started.elapsed();
                lat.push((at, r.round_trip(Duration::from_secs(10)).await?));
                free_since = tokio::time::Instant::now();
            }
            Ok::<_, load::BenchError>((lat, lag))
        }));
    }
    let (mut trace, mut lag) = (Vec::new(), Vec::new());
    for (i, t) in tasks.into_iter().enumerate() {
        let (l, g) = t.await??;
        trace.extend(l.into_iter().map(|(at, d)| (at, d, i)));
        lag.extend(g);
    }
    let secs = started.elapsed().as_secs_f64();
    let used = cpu::now().since(&c0);
    if let Some(path) = &cx.echo_trace {
        write_echo_trace(path, &mut trace, &threads0)?;
    }
    let mut lat: Vec<Duration> = trace.iter().map(|t| t.1).collect();
    stop.shutdown();
    let _ = running.await;
    let pct = |v: &mut Vec<Duration>, p: f64| {
        v.sort();
        v.get(((v.len() as f64 * p).ceil() as usize).saturating_sub(1))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    let (p50, p99) = (pct(&mut lat, 0.50), pct(&mut lat, 0.99));
    let lag99 = pct(&mut lag, 0.99);
    let rate = lat.len() as f64 / secs;
    let n = lat.len();
    row(
        rows,
        &format!(
            "echo ({} users, paced at {:.0} rt/s)",
            s.echo_users, s.echo_rate
        ),
        format!("{rate:.0} rt/s, p50 {p50:.2} ms, p99 {p99:.2} ms"),
        format!(
            "{}; load generator {:.1} us/rt, send lag p99 {lag99:.2} ms",
            cpu_split(&used, n, "rt"),
            cpu::us_per(used.loadgen, n)
        ),
        "p99 < 5 ms at 5000 rt/s",
    );
    Ok(p99)
}

/// `--echo-trace`: the round trips in send order, and each thread's CPU in the window (stderr).
fn write_echo_trace(
    path: &std::path::Path,
    trace: &mut [(Duration, Duration, usize)],
    threads0: &[(u32, String, Duration)],
) -> Res<()> {
    use std::io::Write as _;
    trace.sort();
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    for (at, d, user) in trace.iter() {
        writeln!(out, "{} {} {user}", at.as_micros(), d.as_micros())?;
    }
    out.flush()?;
    for (tid, name, t) in cpu::threads() {
        let before = threads0
            .iter()
            .find(|x| x.0 == tid)
            .map_or(Duration::ZERO, |x| x.2);
        let used = t.saturating_sub(before);
        if !used.is_zero() {
            eprintln!("[bench] echo thread {tid} {name}: {} ms", used.as_millis());
        }
    }
    eprintln!("[bench] echo: {} threads alive", cpu::threads().len());
    Ok(())
}

/// 3 + 6b: catch-up after an offline period, bot then JS SDK, one after the other.
async fn catchup(cx: &Ctx, rows: &mut Vec<Row>) -> Res<(f64, Option<f64>)> {
    let s = cx.sizes;
    let total = s.catchup_convs * s.catchup_per_conv;
    let (bot, jsu) = ("cu_bot".to_string(), "cu_js".to_string());
    let senders = ids("cu_s", s.catchup_convs);
    cx.admin
        .register(&[&[bot.clone(), jsu.clone()][..], &senders].concat())
        .await?;
    // First login: the ledger exists, so the next start catches up instead of skipping history.
    let first = Consumer::start(Session::start(cx.config(&bot)).await?);
    first.synced(WAIT).await?;
    first.shutdown().await?;
    let recvs: Arc<[String]> = if cx.node {
        vec![bot.clone(), jsu.clone()].into()
    } else {
        vec![bot.clone()].into()
    };
    let mut jobs = Vec::with_capacity(total);
    for _ in 0..s.catchup_per_conv {
        for snd in &senders {
            jobs.push(Job::Batch {
                send: snd.clone(),
                recvs: recvs.clone(),
            });
        }
    }
    let inject_rate = inject(&cx.admin, jobs, s.concurrency).await?;
    eprintln!(
        "[bench] catch-up: injected {total} requests at {inject_rate:.0}/s (recipients offline)"
    );
    let c0 = cpu::now();
    let io = load::WindowIo::start();
    let t0 = Instant::now();
    let consumer = Consumer::start(Session::start(cx.config(&bot)).await?);
    consumer.counter.arm(total as u64);
    let done = consumer.counter.wait(WAIT, "catch-up").await?;
    let used = cpu::now().since(&c0);
    io.report("catch-up");
    let secs = done.duration_since(t0).as_secs_f64();
    // CLOCK_MONOTONIC, the clock `perf record -k CLOCK_MONOTONIC` stamps samples with: lets a
    // profile of the whole run be cut to the timed window (`perf report --time`)
    eprintln!("[bench] catch-up window: {t0:?} .. {done:?}");
    consumer.shutdown().await?;
    row(
        rows,
        &format!(
            "catch-up {total} msgs / {} convs (openim-bot)",
            s.catchup_convs
        ),
        format!("{secs:.3} s ({:.0} msg/s)", total as f64 / secs),
        cpu_split(&used, total, "msg"),
        "< 3 s for 100000",
    );
    let js_secs = if cx.node {
        let mut run = cx.js("catchup", &jsu, total).await?;
        run.next().await?; // ready (Node started, SDK loaded)
        let node0 = run.pid().and_then(cpu::of_pid);
        let c0 = cpu::now();
        run.go().await?;
        let v = run.next().await?;
        let used = cpu::now().since(&c0);
        let node = run
            .pid()
            .and_then(cpu::of_pid)
            .zip(node0)
            .map(|(b, a)| b.saturating_sub(a));
        run.finish().await?;
        let count = v["count"].as_u64().unwrap_or(0);
        if count < total as u64 {
            return Err(format!("JS catch-up saw {count} of {total}: {v}").into());
        }
        let secs = v["elapsed_ms"].as_f64().ok_or("no elapsed_ms")? / 1000.0;
        row(
            rows,
            "catch-up (JS SDK 0.0.14: login + history)",
            format!("{secs:.3} s ({:.0} msg/s)", total as f64 / secs),
            cpu_split_js(node, used.sandbox, total, "msg"),
            "-",
        );
        Some(secs)
    } else {
        row(
            rows,
            "catch-up (JS SDK 0.0.14)",
            "skipped: node absent".into(),
            String::new(),
            "-",
        );
        None
    };
    Ok((secs, js_secs))
}

/// 4: peak RSS of the bot side (child process) with many conversations and large groups.
async fn memory(cx: &Ctx, rows: &mut Vec<Row>) -> Res<f64> {
    let s = cx.sizes;
    let bot = "mem_bot".to_string();
    let pool = ids("mem_u", s.mem_singles.max(s.mem_group_size));
    cx.admin
        .register(&[&[bot.clone()][..], &pool].concat())
        .await?;
    let mut groups = Vec::new();
    for g in 0..s.mem_groups {
        let owner = &pool[g % pool.len()];
        let mut members = vec![bot.clone()];
        for j in 1..s.mem_group_size.saturating_sub(1) {
            members.push(pool[(g * 37 + j) % pool.len()].clone());
        }
        members.retain(|m| m != owner);
        members.dedup();
        groups.push((
            owner.clone(),
            cx.admin
                .create_group(owner, &members, &format!("g{g}"))
                .await?,
        ));
    }
    let total = s.mem_singles + s.mem_groups;
    eprintln!(
        "[bench] memory: {} groups created; starting the bot process",
        s.mem_groups
    );
    let exe = std::env::current_exe()?;
    // Diagnostics: OPENIM_BENCH_BOT_WRAP="heaptrack -o /tmp/bot" runs the bot under a profiler.
    let wrap = std::env::var("OPENIM_BENCH_BOT_WRAP").unwrap_or_default();
    let mut wrap = wrap.split_whitespace();
    let wrapped = wrap.next();
    let mut child = match wrapped {
        Some(tool) => {
            let mut c = tokio::process::Command::new(tool);
            c.args(wrap).arg(exe);
            c
        }
        None => tokio::process::Command::new(exe),
    };
    let mut child = child
        .args([
            "--role",
            "bot",
            "--api",
            &cx.sb.api_url(),
            "--ws",
            &cx.sb.ws_url(),
            "--user",
            &bot,
        ])
        .arg("--secret")
        .arg(cx.sb.secret())
        .arg("--data-dir")
        .arg(cx.tmp.path().join(&bot))
        .arg("--expect")
        .arg(total.to_string())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let mut lines = BufReader::new(child.stdout.take().ok_or("no stdout")?).lines();
    // A profiler wrapping the child may print lines of its own first.
    let mut first = String::new();
    while let Some(line) = lines.next_line().await? {
        first = line;
        if first == "ready" || wrapped.is_none() {
            break;
        }
    }
    if first != "ready" {
        return Err(format!("bot child: {first}").into());
    }
    let one: Arc<[String]> = vec![bot.clone()].into();
    let mut jobs: Vec<Job> = pool[..s.mem_singles]
        .iter()
        .map(|u| Job::Batch {
            send: u.clone(),
            recvs: one.clone(),
        })
        .collect();
    jobs.extend(
        groups
            .into_iter()
            .map(|(owner, group)| Job::Group { send: owner, group }),
    );
    inject(&cx.admin, jobs, s.concurrency).await?;
    eprintln!("[bench] memory: {total} messages sent");
    let line = tokio::time::timeout(WAIT, async {
        loop {
            match lines.next_line().await? {
                Some(l) if wrapped.is_some() && !l.starts_with("vmhwm_kib=") => continue,
                l => return std::io::Result::Ok(l.unwrap_or_default()),
            }
        }
    })
    .await
    .map_err(|_| "bot child: no result")??;
    let kib: f64 = line
        .strip_prefix("vmhwm_kib=")
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| format!("bot child answered {line:?}"))?;
    child.wait().await?;
    let mb = kib / 1024.0;
    row(
        rows,
        &format!(
            "peak RSS, bot process ({} convs, {} groups x {})",
            total, s.mem_groups, s.mem_group_size
        ),
        format!("{mb:.1} MB"),
        String::new(),
        "< 64 MB",
    );
    Ok(mb)
}

/// The bot side of the memory row: session + no-op consumer until `expect` messages, then VmHWM.
async fn bot_role(args: &Args) -> Res<()> {
    let config = SessionConfig::with_secret(
        args.api.clone().ok_or("--api")?,
        args.ws.clone().ok_or("--ws")?,
        args.data_dir.clone().ok_or("--data-dir")?,
        args.user.clone().ok_or("--user")?,
        args.secret.clone().ok_or("--secret")?,
    );
    let phases = RssPhases::start();
    let consumer = Consumer::start(Session::start(config).await?);
    phases.enter("first sync");
    consumer.synced(WAIT).await?;
    phases.enter("messages");
    consumer.counter.arm(args.expect);
    println!("ready");
    consumer.counter.wait(WAIT, "bot role").await?;
    eprintln!(
        "[bench] bot role: {} messages handled",
        consumer.counter.count()
    );
    phases.enter("shutdown");
    consumer.shutdown().await?;
    eprintln!("[bench] bot role: {}", phases.report());
    if std::env::var_os("OPENIM_BENCH_RSS_TRACE").is_some() {
        eprintln!(
            "[bench] bot role: largest mappings by resident size:\n{}",
            largest_mappings(12)
        );
    }
    println!("vmhwm_kib={}", load::vm_hwm_kib().unwrap_or(0));
    Ok(())
}

/// Diagnostics of the memory row (stderr only): the highest resident size sampled (every 2 ms)
/// in each phase of the bot process, to tell where its peak comes from.
struct RssPhases {
    state: Arc<std::sync::Mutex<Vec<(&'static str, u64)>>>,
}

impl RssPhases {
    fn start() -> RssPhases {
        let state = Arc::new(std::sync::Mutex::new(vec![("login", 0u64)]));
        let weak = Arc::downgrade(&state);
        // Diagnostics: OPENIM_BENCH_RSS_TRACE=FILE writes a timeline (every 4 ms) of the
        // resident size, the thread count and glibc's heap in use / free / mmapped.
        let mut trace = std::env::var_os("OPENIM_BENCH_RSS_TRACE")
            .and_then(|p| std::fs::File::create(p).ok())
            .map(std::io::LineWriter::new);
        let t0 = Instant::now();
        std::thread::spawn(move || {
            let mut n = 0u64;
            while let Some(state) = weak.upgrade() {
                let rss = vm_rss_kib().unwrap_or(0);
                let mut phase = "";
                if let Ok(mut s) = state.lock()
                    && let Some(last) = s.last_mut()
                {
                    last.1 = last.1.max(rss);
                    phase = last.0;
                }
                drop(state);
                n += 1;
                if let Some(out) = trace.as_mut()
                    && n.is_multiple_of(2)
                {
                    use std::io::Write;
                    let _ = writeln!(
                        out,
                        "{} {phase} rss_kib={rss} threads={} {} epoch_ms={}",
                        t0.elapsed().as_millis(),
                        proc_status("Threads:").unwrap_or(0),
                        heap::summary(),
                        epoch_ms() as u64
                    );
                }
                std::thread::sleep(Duration::from_millis(2));
            }
        });
        RssPhases { state }
    }

    fn enter(&self, phase: &'static str) {
        if let Ok(mut s) = self.state.lock() {
            s.push((phase, 0));
        }
    }

    fn report(&self) -> String {
        let s = self.state.lock().map(|s| s.clone()).unwrap_or_default();
        let phases: Vec<String> = s
            .iter()
            .map(|(p, kib)| format!("{p} {:.1}", *kib as f64 / 1024.0))
            .collect();
        format!("peak RSS MB by phase: {}", phases.join(", "))
    }
}

/// Current resident set size of this process (VmRSS), in KiB.
fn vm_rss_kib() -> Option<u64> {
    proc_status("VmRSS:")
}

/// The `n` mappings of this process with the most resident memory (diagnostics).
fn largest_mappings(n: usize) -> String {
    let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap_or_default();
    let mut maps: Vec<(u64, String)> = Vec::new();
    let mut current = String::new();
    for line in smaps.lines() {
        if let Some(kib) = line.strip_prefix("Rss:") {
            let kib = kib
                .trim()
                .trim_end_matches(" kB")
                .trim()
                .parse()
                .unwrap_or(0);
            maps.push((kib, current.clone()));
        } else if line
            .split_whitespace()
            .next()
            .is_some_and(|f| f.contains('-') && !f.ends_with(':'))
        {
            current = line.to_string();
        }
    }
    maps.sort_by_key(|m| std::cmp::Reverse(m.0));
    maps.iter()
        .take(n)
        .map(|(kib, m)| format!("  {kib:>7} KiB  {m}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A number of /proc/self/status (the first after `field`).
fn proc_status(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// glibc's own account of the heap (diagnostics of the memory row only).
mod heap {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    pub fn summary() -> String {
        #[repr(C)]
        struct MallInfo2 {
            arena: usize,
            ordblks: usize,
            smblks: usize,
            hblks: usize,
            hblkhd: usize,
            usmblks: usize,
            fsmblks: usize,
            uordblks: usize,
            fordblks: usize,
            keepcost: usize,
        }
        unsafe extern "C" {
            fn mallinfo2() -> MallInfo2;
        }
        // SAFETY: mallinfo2 (glibc >= 2.33) takes no arguments and returns a plain struct.
        let m = unsafe { mallinfo2() };
        format!(
            "heap_used_kib={} heap_free_kib={} mmap_kib={} arena_kib={} top_kib={}",
            m.uordblks / 1024,
            m.fordblks / 1024,
            m.hblkhd / 1024,
            m.arena / 1024,
            m.keepcost / 1024
        )
    }

    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    pub fn summary() -> String {
        String::new()
    }
}

/// 5: per-event cost with few versus many known conversations.
///
/// Each side runs on a sandbox of its own, started for it and prepared the same way (every
/// user registered, the same warm-up history): a sandbox shared by both sides made whichever
/// side ran second pay for the first side's history in the sandbox's own per-push work (its
/// frames and writes, measured in the window), though the bot is what is compared.
async fn scaling(cx: &Ctx, rows: &mut Vec<Row>) -> Res<f64> {
    let s = cx.sizes;
    let users = ids("sc_u", s.scale_big);
    let mut cost = Vec::new();
    let mut cpu_cost = Vec::new();
    for (bot, convs) in [("sc_small", s.scale_small), ("sc_big", s.scale_big)] {
        let (sb, admin) = start_sandbox(&cx.rt).await?;
        admin.register(&users).await?;
        admin.register(&[bot.to_string()]).await?;
        let mut config = SessionConfig::with_secret(
            sb.api_url(),
            sb.ws_url(),
            cx.tmp.path().join(bot),
            bot,
            sb.secret(),
        );
        // Every event by push on both sides: released at once, the burst's backlog behind the
        // engine (~80,000 pushes at 100,000 conversations) passes the default limits, and the
        // session would take part of it by pull (a path of its own, slower per message with
        // many conversations), which is not what this row compares (unless asked to).
        if !cx.scale_default_bounds {
            config.push_queue_limit = usize::MAX;
            config.push_queue_bytes = usize::MAX;
        }
        let session = Session::start(config).await?;
        let client = session.client();
        let consumer = Consumer::start(session);
        consumer.synced(WAIT).await?;
        let one: Arc<[String]> = vec![bot.to_string()].into();
        let job = |i: usize| Job::Batch {
            send: users[i % convs].clone(),
            recvs: one.clone(),
        };
        // Warm-up: every conversation known to the bot, and the same history on both sides
        // (as many messages as the larger side has conversations): the sides then differ only
        // in how many conversations the bot knows, not in how much its message index holds
        // (a larger index costs folds and merges of its own in the window).
        consumer.counter.arm(s.scale_big as u64);
        inject(&admin, (0..s.scale_big).map(job).collect(), s.concurrency).await?;
        consumer.counter.wait(WAIT, "scaling warm-up").await?;
        sb.faults().stall_pushes(bot);
        inject(
            &admin,
            (0..s.scale_events).map(job).collect(),
            s.concurrency,
        )
        .await?;
        consumer.counter.arm(s.scale_events as u64);
        let c0 = cpu::now();
        let io = load::WindowIo::start();
        let t0 = Instant::now();
        let release = sb.faults().release_pushes_on(bot, &cx.rt.sandbox);
        let done = consumer.counter.wait(WAIT, "scaling").await?;
        release.await?;
        let used = cpu::now().since(&c0);
        io.report(&format!("scaling ({convs} conversations)"));
        eprintln!("[bench] scaling ({convs} conversations) window: {t0:?} .. {done:?}");
        let us = done.duration_since(t0).as_secs_f64() * 1e6 / s.scale_events as f64;
        let dropped = client.dropped_pushes();
        if dropped > 0 {
            eprintln!(
                "[bench] scaling ({convs} conversations): {dropped} pushes dropped, pulled by seq"
            );
        }
        consumer.shutdown().await?;
        cx.rt.sandbox.spawn(sb.shutdown()).await?;
        row(
            rows,
            &format!("per-event cost, {convs} conversations"),
            match dropped {
                0 => format!("{us:.2} us/event"),
                n => format!("{us:.2} us/event, {n} dropped"),
            },
            cpu_split(&used, s.scale_events, "event"),
            "-",
        );
        cost.push(us);
        cpu_cost.push(cpu::us_per(used.bot(), s.scale_events));
    }
    let ratio = cost[1] / cost[0];
    let cpu_ratio = (cpu_cost[0] > 0.0).then(|| cpu_cost[1] / cpu_cost[0]);
    row(
        rows,
        &format!("scaling ratio ({} vs {} convs)", s.scale_big, s.scale_small),
        format!("{ratio:.2}x"),
        format!("bot CPU per event {}x", fmt_opt(cpu_ratio, 2)),
        "<= 1.2x",
    );
    Ok(ratio)
}

/// The nine figures of one run (the summary line).
#[derive(Debug, Clone, Copy, Default)]
struct Summary {
    inbound: f64,
    inbound_js: Option<f64>,
    echo_p99_ms: f64,
    catchup_s: f64,
    catchup_js_s: Option<f64>,
    rss_mb: f64,
    scaling_ratio: f64,
}

impl Summary {
    fn inbound_ratio(&self) -> Option<f64> {
        self.inbound_js.map(|j| self.inbound / j)
    }

    fn catchup_ratio(&self) -> Option<f64> {
        self.catchup_js_s.map(|j| j / self.catchup_s)
    }

    /// The figures in summary order, as printed.
    fn fields(&self) -> [(&'static str, String); 9] {
        [
            ("inbound", format!("{:.0}", self.inbound)),
            ("inbound_js", fmt_opt(self.inbound_js, 0)),
            ("inbound_ratio", fmt_opt(self.inbound_ratio(), 2)),
            ("echo_p99_ms", format!("{:.3}", self.echo_p99_ms)),
            ("catchup_s", format!("{:.3}", self.catchup_s)),
            ("catchup_js_s", fmt_opt(self.catchup_js_s, 3)),
            ("catchup_ratio", fmt_opt(self.catchup_ratio(), 2)),
            ("rss_mb", format!("{:.1}", self.rss_mb)),
            ("scaling_ratio", format!("{:.3}", self.scaling_ratio)),
        ]
    }
}

/// Median of the present values (`None` if there are none).
fn median(mut v: Vec<f64>) -> Option<f64> {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    })
}

/// The medians of the runs' figures, each over the runs that have it. The ratios are the medians
/// of the per-run ratios (each measured bot-against-JS within one run), printed beside the figures.
fn median_fields(runs: &[Summary]) -> [(&'static str, String); 9] {
    let m = |f: &dyn Fn(&Summary) -> Option<f64>| median(runs.iter().filter_map(f).collect());
    let some = |x: f64| Some(x);
    [
        ("inbound", fmt_opt(m(&|s| some(s.inbound)), 0)),
        ("inbound_js", fmt_opt(m(&|s| s.inbound_js), 0)),
        ("inbound_ratio", fmt_opt(m(&|s| s.inbound_ratio()), 2)),
        ("echo_p99_ms", fmt_opt(m(&|s| some(s.echo_p99_ms)), 3)),
        ("catchup_s", fmt_opt(m(&|s| some(s.catchup_s)), 3)),
        ("catchup_js_s", fmt_opt(m(&|s| s.catchup_js_s), 3)),
        ("catchup_ratio", fmt_opt(m(&|s| s.catchup_ratio()), 2)),
        ("rss_mb", fmt_opt(m(&|s| some(s.rss_mb)), 1)),
        ("scaling_ratio", fmt_opt(m(&|s| some(s.scaling_ratio)), 3)),
    ]
}

fn summary_line(fields: &[(&'static str, String); 9]) -> String {
    let kv: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("summary {}", kv.join(" "))
}

/// Between rows: the finished row's bot stores are deleted and the file system synced, so the
/// kernel's write-back of the last row's data (100,000 messages in sled) does not run during the
/// next row's window.
async fn settle(cx: &Ctx) {
    if let Ok(entries) = std::fs::read_dir(cx.tmp.path()) {
        for e in entries.flatten() {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
    let _ = tokio::process::Command::new("sync").status().await;
}

/// A sandbox for the bench (on its own runtime) and an admin client of it.
async fn start_sandbox(rt: &Runtimes) -> Res<(Sandbox, Arc<Admin>)> {
    let mut config = SandboxConfig::default();
    // Pushes go to every recipient immediately (no simulated echo latency).
    config.push_latency = Duration::ZERO;
    let sb = rt.sandbox.spawn(Sandbox::start(config)).await??;
    let admin = Arc::new(Admin::new(sb.api_url(), sb.admin_token().await?)?);
    Ok((sb, admin))
}

/// One complete measurement on a fresh sandbox; prints its table and returns its figures.
async fn run_once(args: &Args, sizes: Sizes, node: bool, rt: &Runtimes) -> Res<Summary> {
    let (sb, admin) = start_sandbox(rt).await?;
    let cx = Ctx {
        sb,
        admin,
        tmp: tempfile::tempdir()?,
        sizes,
        node,
        rt: rt.clone(),
        echo_trace: args.echo_trace.clone(),
        scale_default_bounds: args.scale_default_bounds,
    };
    let started = Instant::now();
    let mut rows = Vec::new();
    let on = |name: &str| args.only.is_empty() || args.only.iter().any(|o| o == name);
    let mut sum = Summary::default();
    if on("inbound") {
        (sum.inbound, sum.inbound_js) = inbound(&cx, &mut rows).await?;
        settle(&cx).await;
    }
    if on("echo") {
        sum.echo_p99_ms = echo_row(&cx, &mut rows).await?;
        settle(&cx).await;
    }
    if on("catchup") {
        (sum.catchup_s, sum.catchup_js_s) = catchup(&cx, &mut rows).await?;
        settle(&cx).await;
    }
    if on("memory") {
        sum.rss_mb = memory(&cx, &mut rows).await?;
        settle(&cx).await;
    }
    if on("scaling") {
        sum.scaling_ratio = scaling(&cx, &mut rows).await?;
    }
    let Ctx { sb, .. } = cx;
    rt.sandbox.spawn(sb.shutdown()).await?;

    let inbound_ratio = sum.inbound_ratio();
    let catchup_ratio = sum.catchup_ratio();
    row(
        &mut rows,
        "inbound ratio (bot / JS)",
        fmt_opt(inbound_ratio, 1) + if inbound_ratio.is_some() { "x" } else { "" },
        String::new(),
        ">= 10x",
    );
    row(
        &mut rows,
        "catch-up ratio (JS time / bot time)",
        fmt_opt(catchup_ratio, 1) + if catchup_ratio.is_some() { "x" } else { "" },
        String::new(),
        ">= 10x",
    );
    let mode = if args.tiny {
        "tiny"
    } else if args.quick {
        "quick"
    } else {
        "full"
    };
    println!(
        "openim-bench ({mode} sizes, {:.1} s)",
        started.elapsed().as_secs_f64()
    );
    let w = rows.iter().map(|r| r.name.len()).max().unwrap_or(10);
    let wv = rows.iter().map(|r| r.value.len()).max().unwrap_or(10);
    let wt = rows.iter().map(|r| r.target.len()).max().unwrap_or(10);
    println!(
        "{:<w$}  {:<wv$}  {:<wt$}  cpu per item",
        "row", "value", "target"
    );
    for r in &rows {
        println!(
            "{:<w$}  {:<wv$}  {:<wt$}  {}",
            r.name, r.value, r.target, r.cpu
        );
    }
    Ok(sum)
}

async fn run_main(args: &Args, rt: Runtimes) -> Res<()> {
    let mut sizes = if args.tiny {
        TINY
    } else if args.quick {
        QUICK
    } else {
        FULL
    };
    let set = |slot: &mut usize, v: Option<usize>| {
        if let Some(v) = v {
            *slot = v.max(1);
        }
    };
    set(&mut sizes.inbound, args.inbound);
    set(&mut sizes.catchup_convs, args.catchup_convs);
    set(&mut sizes.mem_singles, args.mem_singles);
    set(&mut sizes.mem_groups, args.mem_groups);
    set(&mut sizes.scale_big, args.scale_big);
    set(&mut sizes.scale_events, args.scale_events);
    if let Some(v) = args.echo_secs {
        sizes.echo_secs = v;
    }
    eprintln!("[bench] sizes: {sizes:?}");
    let node = if args.no_js {
        false
    } else {
        match js::prepare().await? {
            Some(v) => {
                eprintln!("[bench] node {v}: JS SDK rows enabled");
                true
            }
            None => {
                eprintln!("[bench] node not found: the JS SDK rows are skipped");
                false
            }
        }
    };
    let runs = args.runs.max(1);
    let mut all = Vec::new();
    for i in 1..=runs {
        if runs > 1 {
            println!("run {i}/{runs}");
        }
        let sum = run_once(args, sizes, node, &rt).await?;
        if runs > 1 {
            println!("run {i}/{runs}: {}", summary_line(&sum.fields()));
        }
        all.push(sum);
    }
    if runs > 1 {
        println!("medians of {runs} runs");
        let per_run: Vec<[(&'static str, String); 9]> = all.iter().map(Summary::fields).collect();
        let med = median_fields(&all);
        print!("{:<14}", "figure");
        for i in 1..=runs {
            print!(" {:>10}", format!("run {i}"));
        }
        println!(" {:>10}", "median");
        for (k, (name, m)) in med.iter().enumerate() {
            print!("{name:<14}");
            for r in &per_run {
                print!(" {:>10}", r[k].1);
            }
            println!(" {m:>10}");
        }
        println!("{}", summary_line(&med));
    } else if let Some(sum) = all.first() {
        println!("{}", summary_line(&sum.fields()));
    }
    Ok(())
}

/// `--features mimalloc`: compare allocators side by side (docs/BENCHMARKS.md).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn runtime(name: Option<&str>, workers: Option<usize>) -> std::io::Result<tokio::runtime::Runtime> {
    let mut b = tokio::runtime::Builder::new_multi_thread();
    b.enable_all();
    if let Some(name) = name {
        b.thread_name(name);
    }
    if let Some(n) = workers {
        b.worker_threads(n);
    }
    b.build()
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("OPENIM_BENCH_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let result: Res<()> = (|| {
        // the bot side: the default runtime (one worker per core), as a bot binary would use
        let main_rt = runtime(None, None)?;
        if args.role == "bot" {
            return main_rt.block_on(bot_role(&args));
        }
        // the sandbox, like a server, and the echo users, like remote clients, on their own threads
        let sandbox_rt = match args.sandbox_threads {
            0 => None,
            n => Some(runtime(Some(cpu::SANDBOX_THREADS), Some(n))?),
        };
        let loadgen_rt = runtime(Some(cpu::LOADGEN_THREADS), Some(1))?;
        let rt = Runtimes {
            sandbox: sandbox_rt
                .as_ref()
                .map_or_else(|| main_rt.handle().clone(), |r| r.handle().clone()),
            loadgen: loadgen_rt.handle().clone(),
        };
        main_rt.block_on(run_main(&args, rt))
    })();
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("openim-bench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
