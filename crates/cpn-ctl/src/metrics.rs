//! The controller's state in the Prometheus text exposition format (version 0.0.4): counters
//! of decisions and rejections, and gauges of links, sites, slices and agents.

use std::fmt::Write;

use cpn_units::Nanos;

use crate::controller::Controller;
use crate::views;

/// Rejection reasons always exposed, at zero until they happen, so that rates can be taken
/// from the first scrape.
const REASONS: [&str; 5] = [
    "infeasible",
    "no_feasible_site",
    "unauthorized",
    "forbidden",
    "bad_request",
];

/// Escapes a label value: backslash, double quote and newline.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

impl Controller {
    /// Appends the controller's metrics to `out`.
    pub fn metrics(&self, now: Nanos, out: &mut String) {
        let now_s = now.0 / 1_000_000_000;
        let st = &self.stats;
        family(
            out,
            "cpn_decisions_total",
            "counter",
            "Joint decisions taken, by kind.",
        );
        let _ = writeln!(out, "cpn_decisions_total{{kind=\"route\"}} {}", st.routes);
        let _ = writeln!(
            out,
            "cpn_decisions_total{{kind=\"place\"}} {}",
            st.placements
        );
        family(
            out,
            "cpn_rejections_total",
            "counter",
            "Refused calls and infeasible requests, by reason.",
        );
        for reason in REASONS {
            let n = st.rejections.get(reason).copied().unwrap_or(0);
            let _ = writeln!(out, "cpn_rejections_total{{reason=\"{reason}\"}} {n}");
        }
        for (reason, n) in &st.rejections {
            if !REASONS.contains(reason) {
                let _ = writeln!(
                    out,
                    "cpn_rejections_total{{reason=\"{}\"}} {n}",
                    label(reason)
                );
            }
        }
        family(
            out,
            "cpn_releases_total",
            "counter",
            "Reservations released or expired.",
        );
        let _ = writeln!(out, "cpn_releases_total {}", st.releases);
        family(
            out,
            "cpn_recoveries_total",
            "counter",
            "Reservations re-placed or lost after a failure.",
        );
        let _ = writeln!(out, "cpn_recoveries_total {}", st.recoveries);
        family(
            out,
            "cpn_heartbeats_total",
            "counter",
            "Agent heartbeats accepted.",
        );
        let _ = writeln!(out, "cpn_heartbeats_total {}", st.heartbeats);
        family(
            out,
            "cpn_log_entries",
            "gauge",
            "Number of the last decision log entry.",
        );
        let _ = writeln!(out, "cpn_log_entries {}", self.next_seq() - 1);
        family(out, "cpn_reservations", "gauge", "Reservations held.");
        let _ = writeln!(
            out,
            "cpn_reservations {}",
            self.sched.reservations().count()
        );
        family(
            out,
            "cpn_path_round_trip_seconds",
            "gauge",
            "Round trip last measured along a reservation's path by the data plane's probes.",
        );
        for (id, d) in &self.measured {
            let site = self
                .sched
                .reservation(cpn_sched::ReservationId(*id))
                .map(|r| self.scenario.sites[r.site.index()].name.as_str())
                .unwrap_or("");
            let _ = writeln!(
                out,
                "cpn_path_round_trip_seconds{{reservation=\"{id}\",site=\"{}\"}} {}",
                label(site),
                d.round_trip_ns as f64 / 1e9
            );
        }

        let s = &self.scenario;
        let graph = self.sched.engine().graph();
        family(
            out,
            "cpn_link_utilisation_ratio",
            "gauge",
            "Bandwidth booked on a link now over its capacity.",
        );
        for l in &s.links {
            let u = views::link_utilisation(self, l.id, now_s);
            let _ = writeln!(
                out,
                "cpn_link_utilisation_ratio{{link=\"{}\"}} {u}",
                label(&l.name)
            );
        }
        family(out, "cpn_link_up", "gauge", "1 when the link works.");
        for l in &s.links {
            let _ = writeln!(
                out,
                "cpn_link_up{{link=\"{}\"}} {}",
                label(&l.name),
                u8::from(graph.is_up(l.id))
            );
        }
        family(
            out,
            "cpn_site_load_ratio",
            "gauge",
            "Compute booked at a site now over its capacity.",
        );
        for site in &s.sites {
            let u = views::site_load(self, site.id, now_s);
            let _ = writeln!(
                out,
                "cpn_site_load_ratio{{site=\"{}\",tier=\"{}\"}} {u}",
                label(&site.name),
                site.tier
            );
        }
        family(
            out,
            "cpn_site_capacity_gflops",
            "gauge",
            "Compute capacity of a site, GFLOPS.",
        );
        for site in &s.sites {
            let g = views::site_capacity_gflops(self, site.id);
            let _ = writeln!(
                out,
                "cpn_site_capacity_gflops{{site=\"{}\"}} {g}",
                label(&site.name)
            );
        }
        family(out, "cpn_site_up", "gauge", "1 when the site works.");
        for site in &s.sites {
            let up = self.site_up[site.id.index()];
            let _ = writeln!(
                out,
                "cpn_site_up{{site=\"{}\"}} {}",
                label(&site.name),
                u8::from(up)
            );
        }
        family(
            out,
            "cpn_slice_used_bps",
            "gauge",
            "Traffic booked in a slice now, summed over its links, bits/s.",
        );
        for v in views::slices(self, now, None) {
            let used: u64 = v.used_bps.values().sum();
            let _ = writeln!(
                out,
                "cpn_slice_used_bps{{slice=\"{}\",tenant=\"{}\"}} {used}",
                label(&v.name),
                label(&v.tenant)
            );
        }
        family(
            out,
            "cpn_agents",
            "gauge",
            "Registered agents, by liveness.",
        );
        let alive = self.agents_alive();
        let _ = writeln!(out, "cpn_agents{{state=\"alive\"}} {alive}");
        let _ = writeln!(
            out,
            "cpn_agents{{state=\"dead\"}} {}",
            self.agents_registered().saturating_sub(alive)
        );
    }
}
