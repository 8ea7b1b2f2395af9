//! Fault suite (issue 7): long message streams under forced disconnects, SIGKILL of the bot
//! process, token expiry, a kick and a stalled server. Every test prints its figures
//! (`cargo test -p openim-tests --test faults -- --nocapture`).
//!
//! Knobs (environment):
//! - `OPENIM_FAULT_MESSAGES` (default 20000) and `OPENIM_FAULT_CONVERSATIONS` (default 100):
//!   size of the disconnect stream; the documented long run uses `OPENIM_FAULT_MESSAGES=100000`.
//! - `OPENIM_FAULT_DISCONNECT_EVERY` (default 500): a forced disconnect after every N sends.
//! - `OPENIM_FAULT_HANDLER_MESSAGES` (default 20000): the same stream consumed by runtime
//!   handlers (`EventHandler`), over `OPENIM_FAULT_CONVERSATIONS` conversations.
//! - `OPENIM_CRASH_MESSAGES` (default 3300) and `OPENIM_CRASH_KILLS` (default 10): the
//!   SIGKILL/restart stream.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::*;
use openim_bot::api::ApiError;
use openim_bot::event::Event;
use openim_bot::{ClientError, Session, Target};
use openim_sandbox::Sandbox;
use tokio::io::AsyncBufReadExt;

/// What a consumer saw of a stream whose texts are `"<peer>:<index>"`, per peer.
#[derive(Default, Debug)]
struct Tally {
    /// Next expected index per peer.
    next: HashMap<String, usize>,
    /// Times each (peer, index) was seen.
    seen: HashMap<(String, usize), usize>,
    /// Messages that arrived before an earlier one of the same peer.
    out_of_order: usize,
    /// Deliveries in total.
    deliveries: usize,
}

impl Tally {
    fn record(&mut self, peer: &str, text: &str) {
        self.deliveries += 1;
        let Some(index) = text
            .rsplit_once(':')
            .and_then(|(_, i)| i.parse::<usize>().ok())
        else {
            panic!("unexpected text {text:?} from {peer}");
        };
        let n = self.seen.entry((peer.to_owned(), index)).or_default();
        *n += 1;
        if *n == 1 {
            let next = self.next.entry(peer.to_owned()).or_default();
            if index != *next {
                self.out_of_order += 1;
            }
            *next = (*next).max(index + 1);
        }
    }

    fn unique(&self) -> usize {
        self.seen.len()
    }

    fn repeated(&self) -> usize {
        self.seen.values().map(|n| n - 1).sum()
    }
}

fn peers(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i:03}")).collect()
}

/// Sends messages `rounds` (indices) from each peer to `bot` with `workers` concurrent senders
/// (one peer is always served by the same worker, so per-conversation order is defined), calling
/// `every_n` after every `n` sends in total.
/// Who sends what to whom.
#[derive(Clone)]
struct Producer {
    sb: Arc<Sandbox>,
    admin: String,
    peers: Vec<String>,
    bot: String,
    workers: usize,
}

async fn produce(
    p: Producer,
    rounds: std::ops::Range<usize>,
    n: usize,
    every_n: Arc<dyn Fn() + Send + Sync>,
) -> usize {
    let Producer {
        sb,
        admin,
        peers,
        bot,
        workers,
    } = p;
    let sent = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for w in 0..workers {
        let mine: Vec<String> = peers.iter().skip(w).step_by(workers).cloned().collect();
        let (sb, admin, bot, sent, every_n) = (
            sb.clone(),
            admin.clone(),
            bot.clone(),
            sent.clone(),
            every_n.clone(),
        );
        let rounds = rounds.clone();
        tasks.push(tokio::spawn(async move {
            for i in rounds {
                for p in &mine {
                    send(&sb, &admin, p, &bot, &format!("{p}:{i}")).await;
                    if (sent.fetch_add(1, Ordering::SeqCst) + 1) % n == 0 {
                        every_n();
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await.expect("producer task");
    }
    sent.load(Ordering::SeqCst)
}

/// Consumes new messages, acknowledging each, until `total` distinct ones were seen or nothing
/// new arrives for `idle`.
async fn consume(s: &mut Session, tally: &mut Tally, total: usize, idle: Duration) {
    while tally.unique() < total {
        let d = match tokio::time::timeout(idle, s.next()).await {
            Ok(Some(d)) => d,
            Ok(None) => panic!("session ended after {} messages", tally.unique()),
            Err(_) => break,
        };
        if let Event::NewMessage(m) = &d.event {
            tally.record(&m.send_id, m.text().unwrap_or_default());
        }
        d.ack.ack();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_with_forced_disconnects_is_exactly_once_in_order() {
    let total_wanted = env_usize("OPENIM_FAULT_MESSAGES", 20_000);
    let convs = env_usize("OPENIM_FAULT_CONVERSATIONS", 100).max(1);
    let every = env_usize("OPENIM_FAULT_DISCONNECT_EVERY", 500).max(1);
    let per_peer = total_wanted.div_ceil(convs);
    let total = per_peer * convs;

    let sb = sandbox().await;
    let admin = sb.admin_token().await.expect("admin token");
    let bot = "fbot".to_owned();
    let peers = peers("fp", convs);
    let mut users = peers.clone();
    users.push(bot.clone());
    register(&sb, &admin, &users).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = start_session(config(
        &sb.api_url(),
        &sb.ws_url(),
        &bot,
        sb.secret(),
        dir.path(),
    ))
    .await;

    let disconnects = Arc::new(AtomicUsize::new(0));
    let (sb2, d2, bot2) = (sb.clone(), disconnects.clone(), bot.clone());
    let drop_bot: Arc<dyn Fn() + Send + Sync> = Arc::new(move || {
        if sb2.faults().drop_connections(&bot2) > 0 {
            d2.fetch_add(1, Ordering::SeqCst);
        }
    });
    let started = Instant::now();
    let producer = tokio::spawn(produce(
        Producer {
            sb: sb.clone(),
            admin,
            peers,
            bot: bot.clone(),
            workers: 8,
        },
        0..per_peer,
        every,
        drop_bot,
    ));
    let mut tally = Tally::default();
    consume(&mut s, &mut tally, total, Duration::from_secs(30)).await;
    let sent = producer.await.expect("producer");
    let elapsed = started.elapsed();
    let lost = total - tally.unique();
    let repeated = tally.repeated();
    println!(
        "FAULTS disconnect stream: messages={sent} conversations={convs} disconnects={} \
         delivered={} lost={lost} repeated={repeated} out_of_order={} elapsed={elapsed:.1?}",
        disconnects.load(Ordering::SeqCst),
        tally.deliveries,
        tally.out_of_order,
    );
    assert_eq!(sent, total);
    assert_eq!(lost, 0, "messages lost");
    assert_eq!(repeated, 0, "messages delivered twice");
    assert_eq!(tally.out_of_order, 0, "per-conversation order broken");
    assert!(
        disconnects.load(Ordering::SeqCst) >= total / every / 2,
        "the disconnect fault did not fire often enough"
    );
    s.shutdown().await.expect("shutdown");
    shutdown(sb).await;
}

// ------------------------------------------------------------------------------------------
// SIGKILL and restart

/// One line of the crash bot's record: `conversationID seq handled_unix_ms peer:index`.
struct Handled {
    run: usize,
    peer: String,
    index: usize,
    /// When the bot's handler recorded it (ms since the Unix epoch), just before its ack.
    at_ms: u64,
}

fn read_record(path: &std::path::Path, run_of_line: &[usize]) -> Vec<Handled> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let mut parts = line.splitn(4, ' ');
        let (Some(_conv), Some(_seq), Some(at_ms), Some(body)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            continue; // torn last line of a killed process
        };
        let Some((peer, index)) = body.rsplit_once(':') else {
            continue;
        };
        let (Ok(index), Ok(at_ms)) = (index.parse(), at_ms.parse()) else {
            continue;
        };
        out.push(Handled {
            run: run_of_line.get(i).copied().unwrap_or(usize::MAX),
            peer: peer.to_owned(),
            index,
            at_ms,
        });
    }
    out
}

/// A run delivering for longer than this without one durable ack has stuck persistence.
const STUCK_PERSISTENCE_MS: u64 = 1_000;

fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// `max_seq` of every conversation row in the store at `data` (opened and closed again; the
/// bot process must be down).
fn rows_max_seq(data: &std::path::Path) -> HashMap<String, i64> {
    let store = openim_bot::Store::open(data).expect("the store a killed bot left opens");
    let rows = store.conversations().expect("its rows read");
    rows.into_iter()
        .map(|c| (c.conversation_id.to_string(), c.max_seq))
        .collect()
}

/// What one SIGKILL cost: the killed run's deliveries whose ack was not yet durable.
#[derive(Debug, Default)]
struct KillReport {
    /// Messages the killed run's handler recorded.
    delivered: usize,
    /// In flight at the kill: delivered to the handler, ack not yet durable — exactly the
    /// messages delivered again after the restart.
    in_flight: usize,
    /// ms between the oldest in-flight delivery and the kill (the durability lag).
    window_ms: u64,
    /// Non-repeated deliveries after the first repeated one (0 when the in-flight messages
    /// are exactly the tail of the run in delivery order).
    not_a_tail: usize,
    /// ms between the run's first and last delivery.
    span_ms: u64,
}
struct BotProcess {
    child: tokio::process::Child,
    handled: tokio::sync::mpsc::UnboundedReceiver<()>,
    ready: tokio::sync::oneshot::Receiver<()>,
}

fn spawn_bot(
    sb: &Sandbox,
    bot: &str,
    dir: &std::path::Path,
    record: &std::path::Path,
    durable: bool,
) -> BotProcess {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_crash_bot"))
        .env("CRASH_BOT_API", sb.api_url())
        .env("CRASH_BOT_WS", sb.ws_url())
        .env("CRASH_BOT_DIR", dir)
        .env("CRASH_BOT_USER", bot)
        .env("CRASH_BOT_SECRET", sb.secret())
        .env("CRASH_BOT_RECORD", record)
        .env("RUST_LOG", "error")
        .env("CRASH_BOT_DURABLE_ACKS", if durable { "1" } else { "" })
        .env(
            "CRASH_BOT_FLUSH_READY",
            std::env::var("CRASH_BOT_FLUSH_READY").unwrap_or_default(),
        )
        .env(
            "CRASH_BOT_TRACE",
            std::env::var("CRASH_BOT_TRACE").unwrap_or_default(),
        )
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("crash_bot spawns");
    let stdout = child.stdout.take().expect("stdout");
    let (htx, handled) = tokio::sync::mpsc::unbounded_channel();
    let (rtx, ready) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        let mut rtx = Some(rtx);
        while let Ok(Some(line)) = lines.next_line().await {
            match line.as_str() {
                "ready" => {
                    if let Some(r) = rtx.take() {
                        let _ = r.send(());
                    }
                }
                "handled" => {
                    let _ = htx.send(());
                }
                _ => {}
            }
        }
    });
    BotProcess {
        child,
        handled,
        ready,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_restarts_lose_nothing_and_repeat_only_in_flight() {
    sigkill_scenario(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_with_durable_acks_repeats_only_the_message_in_flight() {
    sigkill_scenario(true).await;
}

/// Kills the bot process 10 times mid-stream; `durable` = `SessionConfig::durable_acks`.
async fn sigkill_scenario(durable: bool) {
    let total_wanted = env_usize("OPENIM_CRASH_MESSAGES", 3_300);
    let convs = env_usize("OPENIM_FAULT_CONVERSATIONS", 100).max(1);
    let kills = env_usize("OPENIM_CRASH_KILLS", 10);
    let per_peer = total_wanted.div_ceil(convs);
    let total = per_peer * convs;

    let sb = sandbox().await;
    let admin = sb.admin_token().await.expect("admin token");
    let bot = "kbot".to_owned();
    let peers = peers("kp", convs);
    let mut users = peers.clone();
    users.push(bot.clone());
    register(&sb, &admin, &users).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let record = dir.path().join("handled.txt");

    let mut proc = spawn_bot(&sb, &bot, &data, &record, durable);
    tokio::time::timeout(WAIT, &mut proc.ready)
        .await
        .expect("bot ready in time")
        .expect("bot ready");
    let started = Instant::now();
    let nothing: Arc<dyn Fn() + Send + Sync> = Arc::new(|| {});
    // The stream is sent in kills+1 chunks of rounds; run r is killed once it has handled half
    // a chunk, while its chunk is still being sent and processed.
    let chunks = kills + 1;
    let chunk_rounds = per_peer.div_ceil(chunks).max(1);
    let mut runs_line_counts = Vec::new(); // lines in the record when each run ended
    let mut kill_ms = Vec::new(); // when each run was killed (ms since the Unix epoch)
    let mut killed = 0;
    let mut sent = 0;
    let mut stuck = None;
    let mut rows_after_kill: HashMap<String, i64> = HashMap::new();
    for chunk in 0..chunks {
        let rounds =
            (chunk * chunk_rounds).min(per_peer)..((chunk + 1) * chunk_rounds).min(per_peer);
        let chunk_len = rounds.len() * convs;
        let producer = tokio::spawn(produce(
            Producer {
                sb: sb.clone(),
                admin: admin.clone(),
                peers: peers.clone(),
                bot: bot.clone(),
                workers: 4,
            },
            rounds,
            usize::MAX,
            nothing.clone(),
        ));
        if chunk == chunks - 1 {
            sent += producer.await.expect("producer");
            break;
        }
        let mut this_run = 0;
        while this_run < (chunk_len / 2).max(1) {
            match tokio::time::timeout(WAIT, proc.handled.recv()).await {
                Ok(Some(())) => this_run += 1,
                Ok(None) => panic!("crash_bot exited on its own (run {killed})"),
                Err(_) => {
                    stuck = Some(killed);
                    break;
                }
            }
        }
        kill_ms.push(unix_ms());
        proc.child.start_kill().expect("SIGKILL");
        let status = tokio::time::timeout(WAIT, proc.child.wait())
            .await
            .expect("killed bot exits")
            .expect("wait");
        assert!(!status.success(), "the bot was killed, not stopped");
        sent += producer.await.expect("producer");
        let lines = std::fs::read_to_string(&record)
            .unwrap_or_default()
            .lines()
            .count();
        runs_line_counts.push(lines);
        // What the killed run left on disk opens, and no conversation row went back: a SIGKILL
        // loses nothing the store appended (journal files, schema 3), whatever it was doing
        // (a snapshot, a fold, the deletion of old generations).
        let now = rows_max_seq(&data);
        for (conv, seq) in &rows_after_kill {
            let after = now.get(conv).copied().unwrap_or(0);
            assert!(
                after >= *seq,
                "kill {}: row {conv} went back from max_seq {seq} to {after}",
                killed + 1
            );
        }
        rows_after_kill = now;
        killed += 1;
        proc = spawn_bot(&sb, &bot, &data, &record, durable);
        tokio::time::timeout(WAIT, &mut proc.ready)
            .await
            .expect("restarted bot ready in time")
            .expect("restarted bot ready");
    }
    // The last run drains everything (or stops making progress: then something is lost).
    loop {
        let handled = read_record(&record, &[]);
        let unique: std::collections::HashSet<_> =
            handled.iter().map(|h| (h.peer.clone(), h.index)).collect();
        if unique.len() >= total {
            break;
        }
        match tokio::time::timeout(Duration::from_secs(10), proc.handled.recv()).await {
            Ok(Some(())) => {}
            _ => break,
        }
    }
    proc.child.start_kill().ok();
    let _ = proc.child.wait().await;

    // Attribute each record line to its run.
    let text = std::fs::read_to_string(&record).unwrap_or_default();
    let n_lines = text.lines().count();
    let mut run_of_line = Vec::with_capacity(n_lines);
    let mut run = 0;
    for i in 0..n_lines {
        while run < runs_line_counts.len() && i >= runs_line_counts[run] {
            run += 1;
        }
        run_of_line.push(run);
    }
    let handled = read_record(&record, &run_of_line);
    // How often each message was delivered, and in which runs.
    let mut times: HashMap<(String, usize), usize> = HashMap::new();
    for h in &handled {
        *times.entry((h.peer.clone(), h.index)).or_default() += 1;
    }
    // Per killed run: which of its deliveries come again later (= were in flight).
    let mut reports: Vec<KillReport> = (0..killed).map(|_| KillReport::default()).collect();
    let mut seen_later: std::collections::HashSet<(String, usize)> = Default::default();
    let mut repeated_later = vec![false; handled.len()];
    for (i, h) in handled.iter().enumerate().rev() {
        let key = (h.peer.clone(), h.index);
        repeated_later[i] = seen_later.contains(&key);
        seen_later.insert(key);
    }
    let mut dup_within_run = 0;
    let mut first_sight: HashMap<(String, usize), usize> = HashMap::new();
    for (i, h) in handled.iter().enumerate() {
        if let Some(&j) = first_sight.get(&(h.peer.clone(), h.index)) {
            if handled[j].run == h.run {
                dup_within_run += 1;
            }
        } else {
            first_sight.insert((h.peer.clone(), h.index), i);
        }
    }
    for (r, report) in reports.iter_mut().enumerate() {
        let lines: Vec<usize> = (0..handled.len())
            .filter(|&i| handled[i].run == r)
            .collect();
        report.delivered = lines.len();
        if let (Some(&first), Some(&last)) = (lines.first(), lines.last()) {
            report.span_ms = handled[last].at_ms.saturating_sub(handled[first].at_ms);
        }
        let mut in_tail = false;
        for &i in &lines {
            if repeated_later[i] {
                if !in_tail {
                    in_tail = true;
                    report.window_ms = kill_ms[r].saturating_sub(handled[i].at_ms);
                }
                report.in_flight += 1;
            } else if in_tail {
                report.not_a_tail += 1;
            }
        }
    }
    // Per peer, the indices in record order: contiguous within a run, resuming at or before
    // the previous run's last message.
    let mut by_peer: BTreeMap<String, Vec<(usize, usize)>> = BTreeMap::new();
    for h in &handled {
        by_peer
            .entry(h.peer.clone())
            .or_default()
            .push((h.run, h.index));
    }
    let mut lost = 0;
    let mut order_violations = 0;
    for p in (0..convs).map(|i| format!("kp{i:03}")) {
        let list = by_peer.get(&p).cloned().unwrap_or_default();
        let mut prev: Option<(usize, usize)> = None;
        for &(run, index) in &list {
            if let Some((prun, pindex)) = prev {
                if prun == run && index != pindex + 1 {
                    order_violations += 1;
                }
                if prun != run && index > pindex + 1 {
                    order_violations += 1;
                }
            }
            prev = Some((run, index));
        }
        lost += (0..per_peer)
            .filter(|i| !times.contains_key(&(p.clone(), *i)))
            .count();
    }
    let repeated: usize = times.values().map(|n| n - 1).sum();
    let in_flight: usize = reports.iter().map(|r| r.in_flight).sum();
    let not_a_tail: usize = reports.iter().map(|r| r.not_a_tail).sum();
    println!(
        "FAULTS sigkill (durable_acks={durable}): messages={sent} conversations={convs} \
         kills={killed} deliveries={} lost={lost} repeated={repeated} in_flight_at_kills={in_flight} \
         order_violations={order_violations} elapsed={:.1?}",
        handled.len(),
        started.elapsed()
    );
    for (k, r) in reports.iter().enumerate() {
        println!(
            "FAULTS sigkill   kill {:>2}: delivered in the run={:>4} in flight (delivered, ack \
             not durable) = repeated after restart={:>4}  delivered in the last {:>4} ms before \
             the kill  not-a-tail={}  run span={} ms",
            k + 1,
            r.delivered,
            r.in_flight,
            r.window_ms,
            r.not_a_tail,
            r.span_ms
        );
    }
    assert_eq!(
        stuck, None,
        "the bot made no progress for {WAIT:?} in run {stuck:?}"
    );
    assert_eq!(
        rows_after_kill.len(),
        convs,
        "every conversation has a row on disk after the last kill"
    );
    assert_eq!(sent, total);
    assert_eq!(killed, kills);
    assert_eq!(lost, 0, "messages lost across SIGKILL restarts");
    assert_eq!(order_violations, 0, "per-conversation order broken");
    assert_eq!(
        dup_within_run, 0,
        "a live process delivered a message twice"
    );
    // Every repeat is a message delivered by a killed run whose ack was not durable yet.
    assert_eq!(repeated, in_flight, "only in-flight messages repeat");
    // The ack watermark is persisted in delivery order: what repeats is the tail of the run.
    assert_eq!(
        not_a_tail, 0,
        "in-flight messages are the tail of each killed run"
    );
    // Acks become durable within ~120 ms (20 ms persist delay + 100 ms sled flush): a run that
    // kept delivering for over a second without a single durable ack means persistence is
    // stuck (only long runs, e.g. OPENIM_CRASH_MESSAGES=33000, have such runs).
    let stuck: Vec<usize> = reports
        .iter()
        .enumerate()
        .filter(|(_, r)| r.span_ms > STUCK_PERSISTENCE_MS && r.in_flight == r.delivered)
        .map(|(k, _)| k + 1)
        .collect();
    assert!(
        stuck.is_empty(),
        "no ack became durable during kills {stuck:?}' runs (> {STUCK_PERSISTENCE_MS} ms of deliveries)"
    );
    if durable {
        // The ack is the durability point: at most the message being handled repeats.
        assert!(
            reports.iter().all(|r| r.in_flight <= 1),
            "with durable acks at most one message per kill is in flight: {reports:?}"
        );
    }
    shutdown(sb).await;
}

// ------------------------------------------------------------------------------------------
// Token expiry, kick, stall

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_expiry_mid_stream_relogins_and_loses_nothing() {
    let sb = sandbox().await;
    let admin = sb.admin_token().await.expect("admin token");
    let bot = "tbot".to_owned();
    let peers = peers("tp", 5);
    let mut users = peers.clone();
    users.push(bot.clone());
    register(&sb, &admin, &users).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = start_session(config(
        &sb.api_url(),
        &sb.ws_url(),
        &bot,
        sb.secret(),
        dir.path(),
    ))
    .await;
    let client = s.client();
    let first_token = client.api().token().expect("logged in");
    let per_peer = 40;
    let total = per_peer * peers.len();
    let mut tally = Tally::default();
    // First half.
    for i in 0..per_peer / 2 {
        for p in &peers {
            send(&sb, &admin, p, &bot, &format!("{p}:{i}")).await;
        }
    }
    consume(&mut s, &mut tally, total / 2, WAIT).await;
    assert_eq!(tally.unique(), total / 2);
    // The token expires; the server drops the connection; messages keep coming meanwhile.
    sb.faults().expire_token(&first_token);
    sb.faults().drop_connections(&bot);
    for i in per_peer / 2..per_peer {
        for p in &peers {
            send(&sb, &admin, p, &bot, &format!("{p}:{i}")).await;
        }
    }
    let mut expired_events = 0;
    let mut renewed = false;
    let fut = async {
        while tally.unique() < total {
            let Some(d) = s.next().await else {
                panic!("session ended after the token expired")
            };
            if std::env::var_os("FAULTS_TRACE").is_some() {
                eprintln!("event: {}", d.event.to_json());
            }
            match &d.event {
                Event::NewMessage(m) => tally.record(&m.send_id, m.text().unwrap_or_default()),
                Event::UserTokenExpired(e) => {
                    expired_events += 1;
                    renewed |= e.renewed;
                }
                _ => {}
            }
            d.ack.ack();
        }
    };
    tokio::time::timeout(Duration::from_secs(60), fut)
        .await
        .expect("all messages after the token expiry");
    let second_token = client.api().token().expect("still logged in");
    println!(
        "FAULTS token expiry: messages={total} expired_events={expired_events} renewed={renewed} \
         lost={} repeated={} out_of_order={}",
        total - tally.unique(),
        tally.repeated(),
        tally.out_of_order
    );
    assert!(renewed, "the session re-logged in with the secret");
    assert_ne!(first_token, second_token, "a new token was minted");
    assert_eq!(tally.repeated(), 0);
    assert_eq!(tally.out_of_order, 0);
    s.shutdown().await.expect("shutdown");
    shutdown(sb).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kick_ends_the_session_without_a_reconnect_storm() {
    let sb = sandbox().await;
    let admin = sb.admin_token().await.expect("admin token");
    let bot = "xbot".to_owned();
    register(&sb, &admin, &[bot.clone(), "xpeer".to_owned()]).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = start_session(config(
        &sb.api_url(),
        &sb.ws_url(),
        &bot,
        sb.secret(),
        dir.path(),
    ))
    .await;
    // Connection attempts are counted by the sandbox at the upgrade request, before any
    // token check: a dial refused with 1506 (kicked token) would count too.
    let before = sb.faults().ws_connect_attempts(&bot);
    assert_eq!(before, 1, "one dial to connect");
    sb.faults().kick(&bot, openim_bot::config::DEFAULT_PLATFORM);
    let mut kicked = 0;
    let mut connecting_after_kick = 0;
    let mut events_after_kick = 0;
    // The session's terminal event is KickedOffline; then its stream ends.
    let ended = tokio::time::timeout(WAIT, async {
        while let Some(d) = s.next().await {
            match &d.event {
                Event::KickedOffline(_) => kicked += 1,
                Event::Connecting(_) if kicked > 0 => connecting_after_kick += 1,
                _ if kicked > 0 => events_after_kick += 1,
                _ => {}
            }
            d.ack.ack();
        }
    })
    .await;
    assert!(ended.is_ok(), "the session ends after a kick");
    let at_end = sb.faults().ws_connect_attempts(&bot);
    // One more round trip through the server: a message to the kicked bot (a live session
    // would be pushed it, a reconnecting one would dial for it).
    send(&sb, &admin, "xpeer", &bot, "xpeer:0").await;
    let after = sb.faults().ws_connect_attempts(&bot);
    println!(
        "FAULTS kick: kicked_events={kicked} connection_attempts: before={before} \
         at_session_end={at_end} after_one_more_round_trip={after} \
         (after the kick: {}) connecting_events_after_kick={connecting_after_kick} \
         other_events_after_kick={events_after_kick}",
        after - before
    );
    assert_eq!(kicked, 1, "one KickedOffline event");
    assert!(
        after - before <= 1,
        "no reconnect storm: {} dials",
        after - before
    );
    assert_eq!(after, before, "no reconnect at all after a kick");
    assert_eq!(connecting_after_kick, 0);
    assert_eq!(sb.connection_count(&bot), 0);
    shutdown(sb).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_server_times_requests_out_and_the_session_recovers() {
    let sb = sandbox().await;
    let admin = sb.admin_token().await.expect("admin token");
    let bot = "sbot".to_owned();
    let peers = peers("sp", 3);
    let mut users = peers.clone();
    users.push(bot.clone());
    register(&sb, &admin, &users).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cfg = config(&sb.api_url(), &sb.ws_url(), &bot, sb.secret(), dir.path());
    cfg.request_timeout_ms = 800;
    let mut s = start_session(cfg).await;
    let client = s.client();
    let mut tally = Tally::default();
    for p in &peers {
        send(&sb, &admin, p, &bot, &format!("{p}:0")).await;
    }
    consume(&mut s, &mut tally, peers.len(), WAIT).await;

    // The sandbox stalls for the bot: gateway answers withheld (requests are read and
    // handled), pushes held, HTTP requests made with the bot's token hang.
    sb.faults().stall_server(&bot);
    // A gateway request times out with the typed error, within its timeout (+ margin).
    let started = Instant::now();
    let r = tokio::time::timeout(
        Duration::from_secs(10),
        client.send_text(Target::user(&peers[0]), "during the stall"),
    )
    .await
    .expect("the request returns instead of hanging");
    let waited = started.elapsed();
    let code = match &r {
        Err(e @ ClientError::Gateway { .. }) => e.code(),
        other => panic!("expected a gateway timeout, got {other:?}"),
    };
    assert_eq!(code, Some(10001), "client-side timeout code");
    // An HTTP request with the bot's token hangs: the session's own API client gives up after
    // the session's request timeout with its typed transport error.
    let started_http = Instant::now();
    let hung = tokio::time::timeout(
        Duration::from_secs(10),
        client.api().get_users_info(&[&bot]),
    )
    .await
    .expect("the HTTP call returns instead of hanging");
    let http_waited = started_http.elapsed();
    let http_timed_out =
        matches!(&hung, Err(ApiError::Transport { source, .. }) if source.is_timeout());
    assert!(http_timed_out, "HTTP request during the stall: {hung:?}");
    assert!(
        http_waited < Duration::from_secs(5),
        "HTTP timed out in {http_waited:?}"
    );
    // Messages sent while stalled are held by the server.
    for i in 1..4 {
        for p in &peers {
            send(&sb, &admin, p, &bot, &format!("{p}:{i}")).await;
        }
    }
    sb.faults().release_server(&bot);
    consume(&mut s, &mut tally, peers.len() * 4, WAIT).await;
    // And the session works again: a gateway request and an HTTP request succeed.
    let sent = tokio::time::timeout(
        WAIT,
        client.send_text(Target::user(&peers[0]), "after the stall"),
    )
    .await
    .expect("request after the stall returns");
    let api_after = tokio::time::timeout(WAIT, client.api().get_users_info(&[&bot]))
        .await
        .expect("HTTP after the stall returns");
    println!(
        "FAULTS stall (sandbox stall_server): request_timeout=800ms timed_out_after={waited:.1?} \
         code={code:?} http_timed_out={http_timed_out} messages={} lost={} repeated={} \
         out_of_order={} send_after_stall_ok={} http_after_stall_ok={} dials={}",
        peers.len() * 4,
        peers.len() * 4 - tally.unique(),
        tally.repeated(),
        tally.out_of_order,
        sent.is_ok(),
        api_after.is_ok(),
        sb.faults().ws_connect_attempts(&bot),
    );
    assert!(waited < Duration::from_secs(5), "timed out in {waited:?}");
    assert_eq!(tally.unique(), peers.len() * 4, "nothing lost");
    assert_eq!(tally.repeated(), 0);
    assert_eq!(tally.out_of_order, 0);
    assert!(sent.is_ok(), "send after the stall: {sent:?}");
    assert!(api_after.is_ok(), "HTTP after the stall: {api_after:?}");
    s.shutdown().await.expect("shutdown");
    shutdown(sb).await;
}

// ------------------------------------------------------------------------------------------
// The same guarantee through the runtime: handlers see each message once, in order

/// Records every message a handler sees; stops the bot once `total` distinct ones arrived.
struct Recorder {
    tally: std::sync::Mutex<Tally>,
    total: usize,
    done: tokio::sync::Notify,
}

#[openim_bot::runtime::async_trait]
impl openim_bot::runtime::EventHandler for Recorder {
    async fn on_new_message(
        &self,
        _ctx: &openim_bot::runtime::Context,
        msg: &openim_bot::Message,
    ) -> openim_bot::runtime::HandlerResult {
        let mut t = self.tally.lock().unwrap_or_else(|p| p.into_inner());
        t.record(&msg.send_id, msg.text().unwrap_or_default());
        if t.unique() >= self.total {
            self.done.notify_one();
        }
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runtime_handlers_see_each_message_once_in_order_across_disconnects() {
    let total_wanted = env_usize("OPENIM_FAULT_HANDLER_MESSAGES", 20_000);
    let convs = env_usize("OPENIM_FAULT_CONVERSATIONS", 100).max(1);
    let every = env_usize("OPENIM_FAULT_DISCONNECT_EVERY", 500).max(1);
    let per_peer = total_wanted.div_ceil(convs);
    let total = per_peer * convs;
    let sb = sandbox().await;
    let admin = sb.admin_token().await.expect("admin token");
    let bot = "rbot".to_owned();
    let peers = peers("rp", convs);
    let mut users = peers.clone();
    users.push(bot.clone());
    register(&sb, &admin, &users).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let session = start_session(config(
        &sb.api_url(),
        &sb.ws_url(),
        &bot,
        sb.secret(),
        dir.path(),
    ))
    .await;
    let recorder = Arc::new(Recorder {
        tally: std::sync::Mutex::new(Tally::default()),
        total,
        done: tokio::sync::Notify::new(),
    });
    let bot_rt = openim_bot::runtime::BotBuilder::from_session(session)
        .handler_arc(recorder.clone())
        .handle_ctrl_c(false)
        .build()
        .expect("bot builds");
    let stop = bot_rt.shutdown_handle();
    let running = tokio::spawn(bot_rt.run());
    let disconnects = Arc::new(AtomicUsize::new(0));
    let (sb2, d2, bot2) = (sb.clone(), disconnects.clone(), bot.clone());
    let drop_bot: Arc<dyn Fn() + Send + Sync> = Arc::new(move || {
        if sb2.faults().drop_connections(&bot2) > 0 {
            d2.fetch_add(1, Ordering::SeqCst);
        }
    });
    let started = Instant::now();
    let sent = produce(
        Producer {
            sb: sb.clone(),
            admin,
            peers,
            bot: bot.clone(),
            workers: 8,
        },
        0..per_peer,
        every,
        drop_bot,
    )
    .await;
    let finished = tokio::time::timeout(Duration::from_secs(60), recorder.done.notified()).await;
    stop.shutdown();
    let _ = tokio::time::timeout(WAIT, running).await;
    let (unique, deliveries, repeated, out_of_order) = {
        let t = recorder.tally.lock().unwrap_or_else(|p| p.into_inner());
        (t.unique(), t.deliveries, t.repeated(), t.out_of_order)
    };
    println!(
        "FAULTS runtime handlers: messages={sent} conversations={convs} disconnects={} \
         handled={deliveries} lost={} repeated={repeated} out_of_order={out_of_order} elapsed={:.1?}",
        disconnects.load(Ordering::SeqCst),
        total - unique,
        started.elapsed()
    );
    assert!(finished.is_ok(), "handlers saw {unique} of {total}");
    assert_eq!(repeated, 0, "a handler saw a message twice");
    assert_eq!(out_of_order, 0, "per-conversation order broken in handlers");
    shutdown(sb).await;
}

/// A revoke names the revoked message's sender and send time from the bot's message index.
/// Messages caught up after a restart come in long runs of one conversation, which the store
/// writes straight as index blocks (b3d2573), the tail as a journal entry: revokes of both,
/// before and after another restart (the journal folded at open), still find their message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revokes_of_caught_up_messages_name_their_sender_across_restarts() {
    let sb = sandbox().await;
    let admin = sb.admin_token().await.expect("admin token");
    register(&sb, &admin, &["rv_bot".into(), "rv_alice".into()]).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = |user: &str| {
        config(
            &sb.api_url(),
            &sb.ws_url(),
            user,
            sb.secret(),
            &dir.path().join(user),
        )
    };
    // First start (the ledger starts at the current seqs), then offline while alice writes.
    start_session(cfg("rv_bot"))
        .await
        .shutdown()
        .await
        .expect("bot stops");
    const N: i64 = 150;
    for i in 1..=N {
        send(&sb, &admin, "rv_alice", "rv_bot", &format!("m{i}")).await;
    }
    let mut bot = Session::start(cfg("rv_bot")).await.expect("bot restarts");
    let mut sent_at = BTreeMap::new();
    wait_for(&mut bot, "the caught-up messages", |e| {
        if let Event::NewMessage(m) = e {
            sent_at.insert(m.seq, m.send_time);
        }
        sent_at.len() == N as usize
    })
    .await;
    assert_eq!(
        sent_at.keys().copied().collect::<Vec<_>>(),
        (1..=N).collect::<Vec<_>>()
    );
    let alice = start_session(cfg("rv_alice")).await;
    let conv = Target::user("rv_bot").conversation_id("rv_alice");
    let check = async |bot: &mut Session, seq: i64| {
        alice
            .client()
            .revoke(&conv, seq)
            .await
            .expect("alice revokes");
        let e = wait_for(bot, "the revoke", |e| matches!(e, Event::MessageRevoked(_))).await;
        let Event::MessageRevoked(r) = e else {
            unreachable!()
        };
        assert_eq!(
            (
                r.seq,
                r.source_message_send_id.as_str(),
                r.source_message_send_time
            ),
            (seq, "rv_alice", sent_at[&seq]),
            "revoke of seq {seq}"
        );
    };
    check(&mut bot, 10).await;
    check(&mut bot, N - 3).await;
    bot.shutdown().await.expect("bot stops");
    let mut bot = start_session(cfg("rv_bot")).await;
    check(&mut bot, 70).await;
    check(&mut bot, N).await;
    bot.shutdown().await.expect("bot stops");
    alice.shutdown().await.expect("alice stops");
    shutdown(sb).await;
}

// ------------------------------------------------------------------------------------------
// Journal files on disk (framework store schema 3: `<data dir>/journal/<kind>-<16 hex>.log`)

/// The journal generation files (`<kind>-<16 hex>.log`) under `data/journal`, by name.
fn journal_files(data: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out: Vec<_> = std::fs::read_dir(data.join("journal"))
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "log"))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir") {
        let e = e.expect("entry");
        let target = to.join(e.file_name());
        if e.file_type().expect("file type").is_dir() {
            copy_tree(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).expect("copy");
        }
    }
}

/// Open descriptors of this process on files under `dir` that were deleted.
fn deleted_fds_under(dir: &std::path::Path) -> Vec<String> {
    let dir = dir.to_string_lossy().into_owned();
    std::fs::read_dir("/proc/self/fd")
        .map(|d| {
            d.filter_map(Result::ok)
                .filter_map(|e| std::fs::read_link(e.path()).ok())
                .map(|p| p.to_string_lossy().into_owned())
                .filter(|p| p.starts_with(&dir) && p.ends_with("(deleted)"))
                .collect()
        })
        .unwrap_or_default()
}

/// A sandbox, a bot with its data in `data`, and `n_peers` peers (IDs `<prefix>NNN`) that each
/// sent it `rounds` messages, all received once: where the journal tests start.
struct Streamed {
    sb: Arc<Sandbox>,
    admin: String,
    bot: String,
    peers: Vec<String>,
    session: Session,
}

async fn stream_to_fresh_bot(
    prefix: &str,
    n_peers: usize,
    rounds: usize,
    data: &std::path::Path,
) -> Streamed {
    let sb = sandbox().await;
    let admin = sb.admin_token().await.expect("admin token");
    let bot = format!("{prefix}_bot");
    let peers = peers(prefix, n_peers);
    let mut users = peers.clone();
    users.push(bot.clone());
    register(&sb, &admin, &users).await;
    let mut session =
        start_session(config(&sb.api_url(), &sb.ws_url(), &bot, sb.secret(), data)).await;
    let producer = tokio::spawn(produce(
        Producer {
            sb: sb.clone(),
            admin: admin.clone(),
            peers: peers.clone(),
            bot: bot.clone(),
            workers: 4,
        },
        0..rounds,
        usize::MAX,
        Arc::new(|| {}),
    ));
    let mut tally = Tally::default();
    consume(&mut session, &mut tally, n_peers * rounds, WAIT).await;
    assert_eq!(producer.await.expect("producer"), n_peers * rounds);
    assert_eq!(tally.unique(), n_peers * rounds, "every message arrives");
    Streamed {
        sb,
        admin,
        bot,
        peers,
        session,
    }
}

/// Many conversations, several row-journal cleanings: the journal directory stays small (old
/// generations are deleted, not just forgotten), no descriptor of a deleted generation stays
/// open, and every row is intact after a reopen (nothing lost between a cleaning and the deletion
/// of the generation it cleaned).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journal_generations_are_deleted_and_rows_survive_many_cleanings() {
    // 36,000 messages: past the message index's fold (32,768 entries) as well.
    const PEERS: usize = 200;
    const ROUNDS: usize = 180;
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let Streamed { sb, session: s, .. } = stream_to_fresh_bot("jg", PEERS, ROUNDS, &data).await;
    s.client().store().flush().expect("flush");
    // Old generations go once what supersedes them is durable; a descriptor of one that was deleted
    // may live until the next sync (<= 100 ms): polled with a deadline.
    let deadline = Instant::now() + WAIT;
    loop {
        let files = journal_files(&data);
        let sizes: Vec<(String, u64)> = files
            .iter()
            .map(|f| {
                let name = f
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned();
                (name, std::fs::metadata(f).map_or(0, |m| m.len()))
            })
            .collect();
        let bytes_of = |kind: &str| -> u64 {
            sizes
                .iter()
                .filter(|(n, _)| n.starts_with(kind))
                .map(|(_, l)| l)
                .sum()
        };
        // The conversation rows' journal: ~150 bytes per row, 36,000 row updates never
        // compacted would be ~5.4 MB; cleaned it holds at most two generations of 512 KB (the
        // bound for few rows) plus what was appended until the next cleaning and sync round. The
        // message index (~100 bytes per entry) folds at 32,768 entries: unfolded it would hold
        // ~3.6 MB, folded only what came after the fold.
        let (row_bytes, index_bytes) = (bytes_of("rows-"), bytes_of("index-"));
        // Generation 1 gone: at least one cleaning deleted it.
        let cleaned = !sizes.iter().any(|(n, _)| n == "rows-0000000000000001.log");
        let leaked = deleted_fds_under(&data);
        println!("FAULTS journal: files {sizes:?}, descriptors of deleted files {leaked:?}");
        if files.len() <= 6
            && cleaned
            && row_bytes <= 1_500_000
            && index_bytes <= 1_500_000
            && leaked.is_empty()
        {
            break;
        }
        let bytes = (row_bytes, index_bytes);
        assert!(
            Instant::now() < deadline,
            "journal not compacted or deleted generations held open: {files:?} ((rows, index) \
             bytes: {bytes:?}), open deleted files {leaked:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    s.shutdown().await.expect("session stops");
    let store = openim_bot::Store::open(&data).expect("store reopens");
    let rows = store.conversations().expect("rows");
    assert_eq!(rows.len(), PEERS, "one row per conversation");
    for c in &rows {
        let text = c.latest_msg.as_ref().and_then(|m| m.text.clone());
        assert_eq!(
            (
                c.max_seq,
                text.as_deref()
                    .and_then(|t| t.rsplit_once(':'))
                    .map(|(_, i)| i)
            ),
            (ROUNDS as i64, Some(&*(ROUNDS - 1).to_string())),
            "row of {} after the reopen",
            c.conversation_id
        );
    }
    drop(store);
    shutdown(sb).await;
}

/// Journal files are input: torn, corrupt, zero-filled, foreign or oddly numbered files never
/// make the store panic; it opens (documented recovery: what is before the damage is kept) or
/// reports a typed error, and a session on it goes on (new messages once, nothing handled
/// before delivered again).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damaged_journal_files_never_panic_and_the_session_goes_on() {
    const PEERS: usize = 60;
    const ROUNDS: usize = 10;
    let dir = tempfile::tempdir().expect("tempdir");
    let base = dir.path().join("base");
    let Streamed {
        sb,
        admin,
        bot,
        peers,
        session: s,
    } = stream_to_fresh_bot("jd", PEERS, ROUNDS, &base).await;
    let cfg = |data: &std::path::Path| config(&sb.api_url(), &sb.ws_url(), &bot, sb.secret(), data);
    s.shutdown().await.expect("session stops");
    let files = journal_files(&base);
    assert!(!files.is_empty(), "the store wrote journal files");
    let newest = files.last().cloned().expect("a journal file");
    let kind = |p: &std::path::Path| {
        let name = p.file_name().expect("name").to_string_lossy().into_owned();
        name.split_once('-')
            .map(|(k, _)| k.to_owned())
            .expect("kind-generation.log")
    };
    type Damage = Box<dyn Fn(&std::path::Path)>;
    let rel = |p: &std::path::Path| p.strip_prefix(&base).expect("under base").to_path_buf();
    let (newest_rel, oldest_rel, newest_kind) = (rel(&newest), rel(&files[0]), kind(&newest));
    let modes: Vec<(&str, Damage)> = vec![
        ("torn tail", {
            let f = newest_rel.clone();
            Box::new(move |d| {
                let p = d.join(&f);
                let len = std::fs::metadata(&p).expect("meta").len();
                let file = std::fs::OpenOptions::new()
                    .write(true)
                    .open(&p)
                    .expect("open");
                file.set_len(len.saturating_sub(3)).expect("truncate");
            })
        }),
        ("flipped byte in the newest file", {
            let f = newest_rel.clone();
            Box::new(move |d| {
                let p = d.join(&f);
                let mut bytes = std::fs::read(&p).expect("read");
                let at = bytes.len() / 2;
                if let Some(b) = bytes.get_mut(at) {
                    *b ^= 0xFF;
                }
                std::fs::write(&p, bytes).expect("write");
            })
        }),
        ("flipped length in the oldest file", {
            let f = oldest_rel.clone();
            Box::new(move |d| {
                let p = d.join(&f);
                let mut bytes = std::fs::read(&p).expect("read");
                if bytes.len() >= 4 {
                    bytes[..4].copy_from_slice(&u32::MAX.to_le_bytes());
                }
                std::fs::write(&p, bytes).expect("write");
            })
        }),
        ("zeros after the last frame", {
            let f = newest_rel.clone();
            Box::new(move |d| {
                use std::io::Write;
                let mut file = std::fs::OpenOptions::new()
                    .append(true)
                    .open(d.join(&f))
                    .expect("open");
                file.write_all(&[0; 4096]).expect("append zeros");
            })
        }),
        ("a newer generation of garbage", {
            let k = newest_kind.clone();
            let next = newest
                .file_stem()
                .and_then(|s| s.to_str())
                .and_then(|s| s.rsplit_once('-'))
                .and_then(|(_, hex)| u64::from_str_radix(hex, 16).ok())
                .expect("a generation number")
                + 1;
            Box::new(move |d| {
                std::fs::write(
                    d.join("journal").join(format!("{k}-{next:016x}.log")),
                    [0xFFu8; 64],
                )
                .expect("write");
            })
        }),
        ("the highest generation number", {
            let k = newest_kind.clone();
            Box::new(move |d| {
                std::fs::write(
                    d.join("journal").join(format!("{k}-ffffffffffffffff.log")),
                    b"",
                )
                .expect("write");
            })
        }),
        ("every journal file deleted", {
            Box::new(move |d| {
                for f in journal_files(d) {
                    std::fs::remove_file(f).expect("rm");
                }
            })
        }),
    ];
    for (round, (name, damage)) in (ROUNDS..).zip(&modes) {
        let data = dir.path().join(name.replace(' ', "_"));
        copy_tree(&base, &data);
        damage(&data);
        // The store alone first: opened (documented recovery) or a typed error, never a panic.
        let opened = std::panic::catch_unwind(|| {
            openim_bot::Store::open(&data).map(|s| s.conversations().map(|c| c.len()))
        });
        let rows = match opened {
            Err(_) => panic!("{name}: opening the store panicked"),
            Ok(Ok(Ok(n))) => n,
            Ok(Ok(Err(e))) => panic!("{name}: rows unreadable after the open: {e}"),
            Ok(Err(e)) => panic!("{name}: the store did not open: {e}"),
        };
        println!("FAULTS damaged journal ({name}): store opens with {rows} rows");
        // Then a session on it: the next message of two peers arrives once, nothing older again.
        let mut s = start_session(cfg(&data)).await;
        let text = |p: &str| format!("{p}:{round}");
        for p in [&peers[0], &peers[PEERS - 1]] {
            send(&sb, &admin, p, &bot, &text(p)).await;
        }
        let mut got = Vec::new();
        wait_for(&mut s, "the new messages", |e| {
            if let Event::NewMessage(m) = e {
                got.push(m.text().unwrap_or_default().to_owned());
            }
            got.len() >= 2
        })
        .await;
        got.sort();
        let mut want = vec![text(&peers[0]), text(&peers[PEERS - 1])];
        want.sort();
        assert_eq!(got, want, "{name}: only the new messages, once each");
        s.shutdown().await.expect("session stops");
    }
    shutdown(sb).await;
}
