//! Workload injection through the sandbox's admin HTTP API, and the counting consumer of a bot
//! session.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use openim_bot::{Event, Session};
use serde_json::{Value, json};

/// Error type of the benchmark.
pub type BenchError = Box<dyn std::error::Error + Send + Sync>;
/// Result type of the benchmark.
pub type Res<T> = Result<T, BenchError>;

/// An admin HTTP client (keep-alive) for fast injection.
#[derive(Debug)]
pub struct Admin {
    http: reqwest::Client,
    api: String,
    token: String,
    op: AtomicU64,
}

/// One injection request.
#[derive(Debug, Clone)]
pub enum Job {
    /// `/msg/batch_send_msg`: one text from `send` to each of `recvs` (single chats).
    Batch {
        /// Sender.
        send: String,
        /// Recipients.
        recvs: Arc<[String]>,
    },
    /// `/msg/send_msg` to a group.
    Group {
        /// Sender.
        send: String,
        /// Group ID.
        group: String,
    },
}

impl Admin {
    /// A client for `api` with an admin token.
    pub fn new(api: String, token: String) -> Res<Admin> {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .tcp_nodelay(true)
            .build()?;
        Ok(Admin {
            http,
            api,
            token,
            op: AtomicU64::new(0),
        })
    }

    /// Posts to a route and returns `data`, failing on a non-zero errCode.
    pub async fn post(&self, route: &str, body: &Value) -> Res<Value> {
        let op = self.op.fetch_add(1, Ordering::Relaxed);
        let resp = self
            .http
            .post(format!("{}{route}", self.api))
            .header("operationID", format!("bench-{op}"))
            .header("token", &self.token)
            .json(body)
            .send()
            .await?;
        let v: Value = resp.json().await?;
        let code = v.get("errCode").and_then(Value::as_i64).unwrap_or(-1);
        if code != 0 {
            return Err(format!("{route}: errCode {code} {}", v["errMsg"]).into());
        }
        Ok(v.get("data").cloned().unwrap_or(Value::Null))
    }

    /// Registers users (in chunks of 1,000 per request).
    pub async fn register(&self, ids: &[String]) -> Res<()> {
        for chunk in ids.chunks(1000) {
            let users: Vec<Value> = chunk
                .iter()
                .map(|id| json!({"userID": id, "nickname": id, "faceURL": ""}))
                .collect();
            self.post("/user/user_register", &json!({ "users": users }))
                .await?;
        }
        Ok(())
    }

    /// Creates a group owned by `owner` with `members`; returns its ID.
    pub async fn create_group(&self, owner: &str, members: &[String], name: &str) -> Res<String> {
        let data = self
            .post(
                "/group/create_group",
                &json!({
                    "ownerUserID": owner,
                    "memberUserIDs": members,
                    "adminUserIDs": [],
                    "groupInfo": {"groupName": name, "groupType": 2},
                }),
            )
            .await?;
        data["groupInfo"]["groupID"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| "create_group answered no groupID".into())
    }

    async fn run(&self, job: &Job, n: usize) -> Res<()> {
        match job {
            Job::Batch { send, recvs } => {
                let body = json!({"sendID": send, "recvIDs": &recvs[..], "sessionType": 1, "contentType": 101,
                    "content": {"content": format!("bench {n}")}, "senderNickname": send, "senderPlatformID": 5,
                    "isSendAll": false});
                let data = self.post("/msg/batch_send_msg", &body).await?;
                if data["failedUserIDs"]
                    .as_array()
                    .is_some_and(|a| !a.is_empty())
                {
                    return Err(
                        format!("batch_send_msg failed for {}", data["failedUserIDs"]).into(),
                    );
                }
            }
            Job::Group { send, group } => {
                let body = json!({"sendID": send, "groupID": group, "sessionType": 3, "contentType": 101,
                    "content": {"content": format!("bench {n}")}, "senderNickname": send, "senderPlatformID": 5});
                self.post("/msg/send_msg", &body).await?;
            }
        }
        Ok(())
    }
}

/// Runs `jobs` from `concurrency` tasks; returns the requests per second achieved.
pub async fn inject(admin: &Arc<Admin>, jobs: Vec<Job>, concurrency: usize) -> Res<f64> {
    let total = jobs.len();
    let jobs = Arc::new(jobs);
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (admin, jobs, next) = (admin.clone(), jobs.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                let Some(job) = jobs.get(i) else {
                    return Ok::<(), BenchError>(());
                };
                admin.run(job, i).await?;
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(total as f64 / started.elapsed().as_secs_f64().max(1e-9))
}

/// Counts the new messages a consumer handled and records when a target was reached.
#[derive(Debug, Default)]
pub struct Counter {
    count: AtomicU64,
    target: AtomicU64,
    done_at: parking_lot_free::Slot,
    notify: tokio::sync::Notify,
}

/// A tiny `Mutex<Option<Instant>>` wrapper (std mutex; uncontended).
mod parking_lot_free {
    use std::sync::Mutex;
    use std::time::Instant;

    #[derive(Debug, Default)]
    pub struct Slot(Mutex<Option<Instant>>);
    impl Slot {
        pub fn set_if_empty(&self, at: Instant) {
            let mut g = self.0.lock().unwrap_or_else(|e| e.into_inner());
            if g.is_none() {
                *g = Some(at);
            }
        }
        pub fn take(&self) -> Option<Instant> {
            self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
        }
        pub fn get(&self) -> Option<Instant> {
            *self.0.lock().unwrap_or_else(|e| e.into_inner())
        }
    }
}

impl Counter {
    /// Messages counted so far.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::SeqCst)
    }

    /// Expects `more` messages beyond those counted so far.
    pub fn arm(&self, more: u64) {
        self.done_at.take();
        self.target.store(self.count() + more, Ordering::SeqCst);
        if self.count() >= self.target.load(Ordering::SeqCst) {
            self.done_at.set_if_empty(Instant::now());
            self.notify.notify_one();
        }
    }

    fn hit(&self) {
        let n = self.count.fetch_add(1, Ordering::SeqCst) + 1;
        let target = self.target.load(Ordering::SeqCst);
        if target > 0 && n >= target {
            self.done_at.set_if_empty(Instant::now());
            self.notify.notify_one();
        }
    }

    /// Waits until the armed target is reached; returns when it was reached.
    pub async fn wait(&self, timeout: Duration, what: &str) -> Res<Instant> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(at) = self.done_at.get() {
                return Ok(at);
            }
            if tokio::time::timeout_at(deadline, self.notify.notified())
                .await
                .is_err()
            {
                return Err(format!(
                    "{what}: only {} of {} messages within {timeout:?}",
                    self.count(),
                    self.target.load(Ordering::SeqCst)
                )
                .into());
            }
        }
    }
}

/// A session drained by a task that counts new messages (no-op handler) and acks everything.
#[derive(Debug)]
pub struct Consumer {
    /// The counter.
    pub counter: Arc<Counter>,
    synced: Arc<tokio::sync::Notify>,
    stop: Arc<tokio::sync::Notify>,
    task: tokio::task::JoinHandle<Session>,
}

impl Consumer {
    /// Starts draining `session`.
    pub fn start(mut session: Session) -> Consumer {
        let counter = Arc::new(Counter::default());
        let stop = Arc::new(tokio::sync::Notify::new());
        let synced = Arc::new(tokio::sync::Notify::new());
        let (c, s, y) = (counter.clone(), stop.clone(), synced.clone());
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    d = session.next() => {
                        let Some(d) = d else { break };
                        if let Event::NewMessage(m) = &d.event
                            && !m.is_self
                        {
                            c.hit();
                        } else if let Event::SyncServerFinish(_) = &d.event {
                            y.notify_one();
                        }
                        d.ack.ack();
                    }
                    _ = s.notified() => break,
                }
            }
            session
        });
        Consumer {
            counter,
            synced,
            stop,
            task,
        }
    }

    /// Waits for the first `SyncServerFinish` (before it, new messages may count as history).
    pub async fn synced(&self, timeout: Duration) -> Res<()> {
        tokio::time::timeout(timeout, self.synced.notified())
            .await
            .map_err(|_| "no SyncServerFinish from the session".into())
    }

    /// Stops draining and shuts the session down (ledger flushed).
    pub async fn shutdown(self) -> Res<()> {
        self.stop.notify_one();
        let session = self.task.await?;
        session.shutdown().await?;
        Ok(())
    }
}

/// `(wchar, syscw)` of this process (`/proc/self/io`): bytes passed to write-like system calls
/// and their count, e.g. to see how much a row's window wrote to files.
pub fn io_written() -> Option<(u64, u64)> {
    let io = std::fs::read_to_string("/proc/self/io").ok()?;
    let field = |name: &str| -> Option<u64> {
        io.lines()
            .find_map(|l| l.strip_prefix(name))?
            .trim()
            .parse()
            .ok()
    };
    Some((field("wchar:")?, field("syscw:")?))
}

/// Minor page faults of this process so far (`/proc/self/stat` field 10): first touches of
/// fresh memory, each of which the VM this runs on may make cost a host fault.
pub fn minor_faults() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // after ")": state(3) ppid pgrp session tty_nr tpgid flags minflt(10)
    stat.get(stat.rfind(')')? + 1..)?
        .split_whitespace()
        .nth(7)?
        .parse()
        .ok()
}

/// What a timed window wrote to files and how many fresh pages it touched, as a diagnostic line
/// (the store's writes, plus the in-process sandbox's socket writes).
pub struct WindowIo {
    written: Option<(u64, u64)>,
    faults: Option<u64>,
}

impl WindowIo {
    /// Reads the counters at the window's start.
    pub fn start() -> WindowIo {
        WindowIo {
            written: io_written(),
            faults: minor_faults(),
        }
    }

    /// Prints `[bench] <label> window wrote … MB in … write calls, … minor page faults`.
    pub fn report(&self, label: &str) {
        let (Some((bytes0, calls0)), Some((bytes1, calls1))) = (self.written, io_written()) else {
            return;
        };
        let faults = minor_faults()
            .zip(self.faults)
            .map_or(0, |(f1, f0)| f1.saturating_sub(f0));
        eprintln!(
            "[bench] {label} window wrote {:.1} MB in {} write calls, {faults} minor page faults",
            bytes1.saturating_sub(bytes0) as f64 / 1e6,
            calls1.saturating_sub(calls0),
        );
    }
}

/// Peak resident set size of this process (VmHWM), in KiB.
pub fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Milliseconds since the Unix epoch (shared clock with the Node side).
pub fn epoch_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}
