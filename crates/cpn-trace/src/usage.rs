//! Datacenter-wide utilisation series at 300 s steps (`datacenter-usage-timeseries`,
//! aggregates by A. Fernández of the Alibaba 2018, Azure 2019 and Google 2019 traces), as
//! fractions 0..=1 that can become background load on a site.

use std::io::Read;
use std::path::Path;

use crate::TraceError;
use crate::table::Table;

/// The step of every series, in seconds.
pub const USAGE_STEP_S: u64 = 300;

/// Which aggregate a file is; told apart by its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UsageSource {
    /// `cpu_util_percent,mem_util_percent,net_in,net_out,disk_io_percent`: means over the
    /// machines in percent; no time column.
    Alibaba2018,
    /// `timestamp,cpu_usage,assigned_mem`: sums over all VMs (busy cores, assigned memory).
    Azure2019,
    /// `avg_cpu,avg_mem,avg_assigned_mem,avg_cycles_per_instruction`: means over the
    /// instances of one cell in Google's normalised units; no time column.
    Google2019,
}

/// One 300 s window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UsageSample {
    /// Start of the window in seconds from the start of the series.
    pub offset_s: u64,
    /// CPU utilisation, 0..=1.
    pub cpu: f64,
    /// Memory utilisation, 0..=1.
    pub mem: f64,
}

/// A utilisation series and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageSeries {
    pub source: UsageSource,
    pub samples: Vec<UsageSample>,
    /// For Azure 2019, whose columns are absolute sums (busy cores, assigned memory) over a
    /// fleet of unstated size, the largest `cpu_usage` and `assigned_mem` of the file: its
    /// fractions are relative to these peaks, so the series is the shape of the load with its
    /// busiest window at 1. `None` for the sources that are already fractions.
    pub peaks: Option<(f64, f64)>,
}

/// Reads a utilisation series, recognising the source by its header. Percentages are divided
/// by 100; values outside 0..=1 (0..=100 for percentages) are rejected. Rows without a time
/// column are `USAGE_STEP_S` apart; Azure's `timestamp` must grow by exactly that step from 0.
pub fn read_usage(reader: impl Read, origin: &str) -> Result<UsageSeries, TraceError> {
    let mut table = Table::open(reader, origin)?;
    let source = if table.has_column("cpu_util_percent") {
        UsageSource::Alibaba2018
    } else if table.has_column("cpu_usage") {
        UsageSource::Azure2019
    } else {
        // Google's is the last guess, so a header with none of the three is reported as
        // missing Google's first column.
        UsageSource::Google2019
    };
    let mut samples = Vec::new();
    match source {
        UsageSource::Alibaba2018 | UsageSource::Google2019 => {
            let (cpu_col, mem_col, scale, expected) = if source == UsageSource::Alibaba2018 {
                (
                    table.column("cpu_util_percent")?,
                    table.column("mem_util_percent")?,
                    100.0,
                    "a percentage 0 to 100",
                )
            } else {
                (
                    table.column("avg_cpu")?,
                    table.column("avg_mem")?,
                    1.0,
                    "a fraction 0 to 1",
                )
            };
            while let Some(row) = table.next_row()? {
                samples.push(UsageSample {
                    offset_s: USAGE_STEP_S * samples.len() as u64,
                    cpu: row.float(cpu_col, 0.0, scale, expected)? / scale,
                    mem: row.float(mem_col, 0.0, scale, expected)? / scale,
                });
            }
            Ok(UsageSeries {
                source,
                samples,
                peaks: None,
            })
        }
        UsageSource::Azure2019 => {
            let ts = table.column("timestamp")?;
            let cpu_col = table.column("cpu_usage")?;
            let mem_col = table.column("assigned_mem")?;
            let (mut cpu_peak, mut mem_peak) = (0.0_f64, 0.0_f64);
            while let Some(row) = table.next_row()? {
                let want = USAGE_STEP_S * samples.len() as u64;
                let offset: u64 = row.int(ts, &format!("the timestamp {want}"))?;
                if offset != want {
                    return Err(row.error(ts, &format!("the timestamp {want}"), row.text(ts)?));
                }
                const SUM: &str = "a non-negative number";
                let cpu = row.float(cpu_col, 0.0, f64::MAX, SUM)?;
                let mem = row.float(mem_col, 0.0, f64::MAX, SUM)?;
                cpu_peak = cpu_peak.max(cpu);
                mem_peak = mem_peak.max(mem);
                samples.push(UsageSample {
                    offset_s: offset,
                    cpu,
                    mem,
                });
            }
            // Relative to the peaks; an all-zero column stays zero.
            for s in &mut samples {
                s.cpu = if cpu_peak > 0.0 {
                    s.cpu / cpu_peak
                } else {
                    0.0
                };
                s.mem = if mem_peak > 0.0 {
                    s.mem / mem_peak
                } else {
                    0.0
                };
            }
            Ok(UsageSeries {
                source,
                samples,
                peaks: Some((cpu_peak, mem_peak)),
            })
        }
    }
}

/// Reads a utilisation series from a file, named in errors by its path.
pub fn load_usage(path: impl AsRef<Path>) -> Result<UsageSeries, TraceError> {
    crate::load(path.as_ref(), read_usage)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(input: &str) -> String {
        match read_usage(input.as_bytes(), "usage.csv") {
            Ok(r) => panic!("expected an error, got {r:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn reads_the_three_sources() {
        let ali = "cpu_util_percent,mem_util_percent,net_in,net_out,disk_io_percent\n50,25,1,2,3\n100,0,1,2,3\n";
        let s = read_usage(ali.as_bytes(), "a.csv").expect("reads");
        assert_eq!(s.source, UsageSource::Alibaba2018);
        assert_eq!(
            s.samples,
            vec![
                UsageSample {
                    offset_s: 0,
                    cpu: 0.5,
                    mem: 0.25
                },
                UsageSample {
                    offset_s: 300,
                    cpu: 1.0,
                    mem: 0.0
                }
            ]
        );
        let google =
            "avg_cpu,avg_mem,avg_assigned_mem,avg_cycles_per_instruction\n0.5,0.25,0.6,148.6\n";
        let s = read_usage(google.as_bytes(), "g.csv").expect("reads");
        assert_eq!(
            (s.source, s.samples[0].cpu, s.samples[0].mem),
            (UsageSource::Google2019, 0.5, 0.25)
        );
        let azure = "timestamp,cpu_usage,assigned_mem\n0,50.0,10.0\n300,100.0,40.0";
        let s = read_usage(azure.as_bytes(), "z.csv").expect("reads");
        assert_eq!(s.peaks, Some((100.0, 40.0)));
        assert_eq!(
            s.samples,
            vec![
                UsageSample {
                    offset_s: 0,
                    cpu: 0.5,
                    mem: 0.25
                },
                UsageSample {
                    offset_s: 300,
                    cpu: 1.0,
                    mem: 1.0
                }
            ]
        );
    }

    #[test]
    fn rejects_bad_rows_with_their_line() {
        let ali = "cpu_util_percent,mem_util_percent,net_in,net_out,disk_io_percent\n";
        assert_eq!(
            err(&format!("{ali}50,25,1,2,3\n100.5,0,1,2,3\n")),
            "usage.csv:3: cpu_util_percent: expected a percentage 0 to 100, got \"100.5\""
        );
        assert_eq!(
            err(&format!("{ali}50,NaN,1,2,3\n")),
            "usage.csv:2: mem_util_percent: expected a percentage 0 to 100, got \"NaN\""
        );
        assert_eq!(
            err("avg_cpu,avg_mem,avg_assigned_mem,avg_cycles_per_instruction\n-0.1,0,0,0\n"),
            "usage.csv:2: avg_cpu: expected a fraction 0 to 1, got \"-0.1\""
        );
        assert_eq!(
            err("avg_cpu,avg_mem,avg_assigned_mem,avg_cycles_per_instruction\n0.1\n"),
            "usage.csv:2: avg_mem: expected 4 fields (avg_cpu,avg_mem,avg_assigned_mem,avg_cycles_per_instruction), got 1"
        );
        let az = "timestamp,cpu_usage,assigned_mem\n0,1,1\n";
        assert_eq!(
            err(&format!("{az}600,1,1\n")),
            "usage.csv:3: timestamp: expected the timestamp 300, got \"600\""
        );
        assert_eq!(
            err(&format!("{az}300,x,1\n")),
            "usage.csv:3: cpu_usage: expected a non-negative number, got \"x\""
        );
        assert_eq!(
            err("cpu,mem\n"),
            "usage.csv:1: header: expected a column named avg_cpu, got \"cpu,mem\""
        );
    }
}
