//! CPU accounting from `/proc`: the benchmark process's CPU time split between the sandbox's
//! threads (its own runtime, threads named [`SANDBOX_THREADS`]), the echo load generator's
//! threads ([`LOADGEN_THREADS`]) and everything else (the bot: session, runtime, sled), plus the CPU
//! time of a child process (the Node side).
//!
//! Wall-clock rates on a shared 2-core machine move with whatever else runs; CPU time per message
//! does not, so every row reports both.

use std::time::Duration;

/// Name prefix of the sandbox runtime's threads.
pub const SANDBOX_THREADS: &str = "sandbox-rt";
/// Name prefix of the echo load generator's threads.
pub const LOADGEN_THREADS: &str = "loadgen-rt";

/// Linux `USER_HZ` (the unit of `utime`/`stime` in `/proc/*/stat`; 100 on every Linux ABI).
const TICKS_PER_SEC: f64 = 100.0;

/// CPU time consumed so far, by role.
#[derive(Debug, Clone, Copy, Default)]
pub struct Cpu {
    /// The whole process (threads that already exited included).
    pub total: Duration,
    /// Threads of the sandbox runtime.
    pub sandbox: Duration,
    /// Threads of the load generator runtime.
    pub loadgen: Duration,
}

impl Cpu {
    /// The bot side: everything that is neither the sandbox nor the load generator.
    pub fn bot(&self) -> Duration {
        self.total
            .saturating_sub(self.sandbox)
            .saturating_sub(self.loadgen)
    }

    /// CPU consumed between `earlier` and `self`.
    pub fn since(&self, earlier: &Cpu) -> Cpu {
        Cpu {
            total: self.total.saturating_sub(earlier.total),
            sandbox: self.sandbox.saturating_sub(earlier.sandbox),
            loadgen: self.loadgen.saturating_sub(earlier.loadgen),
        }
    }
}

/// `(comm, utime + stime)` of one `/proc/.../stat` line.
fn parse_stat(stat: &str) -> Option<(String, Duration)> {
    // the command name is in parentheses and may itself contain spaces or parentheses
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat.get(open + 1..close)?.to_string();
    let mut fields = stat.get(close + 1..)?.split_whitespace();
    // after ")": state(3) ... utime(14) stime(15)
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some((
        comm,
        Duration::from_secs_f64((utime + stime) as f64 / TICKS_PER_SEC),
    ))
}

/// The CPU time of this process, split by role (zeros where `/proc` is unavailable).
pub fn now() -> Cpu {
    let mut cpu = Cpu::default();
    if let Some((_, t)) = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| parse_stat(&s))
    {
        cpu.total = t;
    }
    for (_, comm, t) in threads() {
        // (the kernel keeps 15 bytes of a thread name; both prefixes fit)
        if comm.starts_with(SANDBOX_THREADS) {
            cpu.sandbox += t;
        } else if comm.starts_with(LOADGEN_THREADS) {
            cpu.loadgen += t;
        }
    }
    cpu
}

/// Every live thread of this process: `(tid, name, CPU so far)`.
pub fn threads() -> Vec<(u32, String, Duration)> {
    // /proc/<pid>/task is read by position: a thread that exits during the read shifts the
    // entries after it, and one live thread can be skipped (seen in CI while other tests'
    // threads ended). The listing is taken again until two in a row name the same threads.
    let mut last = list_threads();
    for _ in 0..8 {
        let next = list_threads();
        let same = next.len() == last.len() && next.iter().zip(&last).all(|(a, b)| a.0 == b.0);
        last = next;
        if same {
            break;
        }
    }
    last
}

/// One read of `/proc/self/task` (see [`threads`]), by thread ID.
fn list_threads() -> Vec<(u32, String, Duration)> {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for task in tasks.flatten() {
        let Some(tid) = task.file_name().to_str().and_then(|t| t.parse().ok()) else {
            continue;
        };
        if let Some((comm, t)) = std::fs::read_to_string(task.path().join("stat"))
            .ok()
            .and_then(|s| parse_stat(&s))
        {
            out.push((tid, comm, t));
        }
    }
    out.sort_unstable_by_key(|t| t.0);
    out
}

/// The CPU time (user + system) of another process so far, if readable.
pub fn of_pid(pid: u32) -> Option<Duration> {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| parse_stat(&s))
        .map(|(_, t)| t)
}

/// Microseconds of `cpu` per item.
pub fn us_per(cpu: Duration, items: usize) -> f64 {
    cpu.as_secs_f64() * 1e6 / items.max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_stat_line_whose_name_has_spaces_and_parentheses() {
        let line = "4242 (sandbox-rt (x) 1) S 1 1 1 0 -1 4194304 169 0 0 0 250 50 0 0 20 0 1 0";
        let (comm, t) = parse_stat(line).expect("parsed");
        assert_eq!(comm, "sandbox-rt (x) 1");
        assert_eq!(t, Duration::from_secs(3));
    }

    #[test]
    fn lists_every_live_thread_by_name() {
        if !std::path::Path::new("/proc/self/task").exists() {
            return; // not Linux: the trace prints no threads
        }
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
        let named = std::thread::Builder::new()
            .name("cpu-test-peer".into())
            .spawn(move || {
                ready_tx.send(()).expect("test alive");
                let _ = stop_rx.recv();
            })
            .expect("spawned");
        ready_rx.recv().expect("peer started");
        let threads = threads();
        stop_tx.send(()).expect("peer alive");
        named.join().expect("peer joined");
        assert!(threads.len() >= 2, "{threads:?}");
        assert!(
            threads.iter().any(|(_, name, _)| name == "cpu-test-peer"),
            "{threads:?}"
        );
        let mut tids: Vec<u32> = threads.iter().map(|t| t.0).collect();
        tids.sort_unstable();
        tids.dedup();
        assert_eq!(tids.len(), threads.len(), "one row per thread");
    }

    #[test]
    fn reads_this_process_and_its_threads() {
        if !std::path::Path::new("/proc/self/stat").exists() {
            return; // not Linux: the rows print zeros
        }
        let stat = std::fs::read_to_string("/proc/self/stat").expect("readable");
        let (comm, _) = parse_stat(&stat).expect("parsed");
        assert!(!comm.is_empty());
        let cpu = now();
        assert!(cpu.bot() <= cpu.total);
        assert_eq!(
            cpu.sandbox,
            Duration::ZERO,
            "no sandbox threads in this test"
        );
    }
}
