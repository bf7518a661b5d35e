//! What the server itself measures, for `/metrics`: calls by route and status, their latency,
//! and the core's commit batches. Lock-free counters; the histogram has fixed buckets.

use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the latency buckets, seconds.
const BUCKETS: [f64; 12] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0,
];

#[derive(Debug, Default)]
struct Histogram {
    counts: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    /// Sum in nanoseconds.
    sum_ns: AtomicU64,
}

impl Histogram {
    fn observe(&self, d: Duration) {
        let s = d.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|&b| s <= b) {
            self.counts[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_ns.fetch_add(
            u64::try_from(d.as_nanos()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let mut cumulative = 0;
        let sep = if labels.is_empty() { "" } else { "," };
        for (i, b) in BUCKETS.iter().enumerate() {
            cumulative += self.counts[i].load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{b}\"}} {cumulative}");
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {count}");
        let sum = self.sum_ns.load(Ordering::Relaxed) as f64 / 1e9;
        let braces = |s: &str| {
            if s.is_empty() {
                String::new()
            } else {
                format!("{{{s}}}")
            }
        };
        let _ = writeln!(out, "{name}_sum{} {sum}", braces(labels));
        let _ = writeln!(out, "{name}_count{} {count}", braces(labels));
    }
}

/// The server's own measurements.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    /// Calls by (route, status).
    calls: Mutex<std::collections::BTreeMap<(&'static str, u16), u64>>,
    latency: Histogram,
    decision_latency: Histogram,
    commit: Histogram,
    batches: AtomicU64,
    batched_events: AtomicU64,
    records: AtomicU64,
    rate_limited: AtomicU64,
}

impl Metrics {
    pub(crate) fn call(&self, route: &'static str, status: u16, took: Duration) {
        if let Ok(mut calls) = self.calls.lock() {
            *calls.entry((route, status)).or_default() += 1;
        }
        self.latency.observe(took);
        if matches!(route, "route" | "place") && status < 400 {
            self.decision_latency.observe(took);
        }
        if status == 429 {
            self.rate_limited.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn batch(&self, events: usize, records: usize, took: Duration) {
        self.batches.fetch_add(1, Ordering::Relaxed);
        self.batched_events
            .fetch_add(events as u64, Ordering::Relaxed);
        self.records.fetch_add(records as u64, Ordering::Relaxed);
        if records > 0 {
            self.commit.observe(took);
        }
    }

    pub(crate) fn render(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "# HELP cpn_http_requests_total HTTP calls, by route and status."
        );
        let _ = writeln!(out, "# TYPE cpn_http_requests_total counter");
        if let Ok(calls) = self.calls.lock() {
            for ((route, status), n) in calls.iter() {
                let _ = writeln!(
                    out,
                    "cpn_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP cpn_http_request_duration_seconds Time to answer an HTTP call."
        );
        let _ = writeln!(out, "# TYPE cpn_http_request_duration_seconds histogram");
        self.latency
            .render(out, "cpn_http_request_duration_seconds", "");
        let _ = writeln!(
            out,
            "# HELP cpn_decision_duration_seconds Time to answer a route or place call, durable."
        );
        let _ = writeln!(out, "# TYPE cpn_decision_duration_seconds histogram");
        self.decision_latency
            .render(out, "cpn_decision_duration_seconds", "");
        let _ = writeln!(
            out,
            "# HELP cpn_commit_duration_seconds Time the core took for a batch that wrote, commit included."
        );
        let _ = writeln!(out, "# TYPE cpn_commit_duration_seconds histogram");
        self.commit.render(out, "cpn_commit_duration_seconds", "");
        let counters = [
            (
                "cpn_core_batches_total",
                "Batches of events the core handled.",
                &self.batches,
            ),
            (
                "cpn_core_events_total",
                "Events the core handled.",
                &self.batched_events,
            ),
            (
                "cpn_store_records_total",
                "Records committed to the store.",
                &self.records,
            ),
            (
                "cpn_rate_limited_total",
                "Calls refused with 429.",
                &self.rate_limited,
            ),
        ];
        for (name, help, value) in counters {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} counter");
            let _ = writeln!(out, "{name} {}", value.load(Ordering::Relaxed));
        }
    }
}
