//! openim-bench: throughput, latency, catch-up and memory benchmarks.
fn main() {}
