//! Results: latency percentiles, a table on stdout, JSON on request.

use serde_json::{json, Value};
use std::time::Duration;

/// Latency summary in milliseconds.
pub fn latency(mut v: Vec<Duration>) -> Value {
    if v.is_empty() {
        return json!({"count": 0});
    }
    v.sort();
    let ms = |d: Duration| (d.as_secs_f64() * 1e6).round() / 1e3;
    let p = |q: f64| ms(v[((v.len() as f64 - 1.0) * q).round() as usize]);
    json!({
        "count": v.len(),
        "p50_ms": p(0.50), "p90_ms": p(0.90), "p99_ms": p(0.99),
        "min_ms": ms(v[0]), "max_ms": ms(v[v.len() - 1]),
    })
}

/// Prints a result as a two-column table.
pub fn table(title: &str, v: &Value) {
    println!("\n{title}");
    println!("| metric | value |");
    println!("|---|---|");
    fn walk(prefix: &str, v: &Value) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&key, x);
                }
            }
            other => println!("| {prefix} | {other} |"),
        }
    }
    walk("", v);
}

/// The machine, for the record.
pub fn machine() -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_default();
    let mem_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .map(|kb| (kb / 1024.0 / 1024.0 * 10.0).round() / 10.0)
        .unwrap_or(0.0);
    json!({
        "cpu": cpu,
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "memory_gib": mem_gib,
        "kernel": std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim(),
    })
}
