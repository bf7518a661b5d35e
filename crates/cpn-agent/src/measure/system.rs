//! What the system states about itself: cores, CPU model, frequency, vector extensions,
//! memory, disk and GPUs. The parsers take text, so they are tested on fixture strings; only
//! [`SystemFacts::read`] touches `/proc`, `/sys` and the file system. A fact the system does
//! not state is `None`, never a guess.

use serde::{Deserialize, Serialize};

/// What `/proc/cpuinfo` says.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CpuInfo {
    /// `model name` of the first processor.
    pub model: Option<String>,
    /// Number of `processor` entries: the logical cores.
    pub logical_cores: usize,
    /// Distinct (`physical id`, `core id`) pairs, or `cpu cores` when core ids are missing;
    /// `None` when neither is stated (as in many VMs and on ARM).
    pub physical_cores: Option<usize>,
    /// `cpu MHz` of the first processor: the clock when the file was read.
    pub mhz: Option<f64>,
    /// The vector extensions among the `flags` of the first processor.
    pub vector_extensions: VectorExtensions,
}

/// The x86 vector extensions that decide the FLOPs a core can do per cycle.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VectorExtensions {
    /// 128-bit SSE2, part of every x86-64 CPU.
    pub sse2: bool,
    /// 256-bit AVX.
    pub avx: bool,
    /// 256-bit integer AVX2.
    pub avx2: bool,
    /// Fused multiply-add (FMA3).
    pub fma: bool,
    /// 512-bit AVX-512 Foundation.
    pub avx512f: bool,
}

impl VectorExtensions {
    /// The extensions named in a `flags` line's words.
    pub fn from_flags<'a>(flags: impl IntoIterator<Item = &'a str>) -> Self {
        let mut ext = VectorExtensions::default();
        for flag in flags {
            match flag {
                "sse2" => ext.sse2 = true,
                "avx" => ext.avx = true,
                "avx2" => ext.avx2 = true,
                "fma" => ext.fma = true,
                "avx512f" => ext.avx512f = true,
                _ => {}
            }
        }
        ext
    }
}

/// Splits a `key : value` line of a `/proc` file.
fn field(line: &str) -> Option<(&str, &str)> {
    let (key, value) = line.split_once(':')?;
    Some((key.trim(), value.trim()))
}

/// Reads the text of `/proc/cpuinfo` (x86 layout; on other layouts the fields that are
/// missing stay `None`).
pub fn parse_cpuinfo(text: &str) -> CpuInfo {
    let mut info = CpuInfo::default();
    let mut pairs = std::collections::BTreeSet::new();
    let mut cores_per_socket: Option<usize> = None;
    let mut sockets = std::collections::BTreeSet::new();
    let (mut physical_id, mut all_have_ids) = (None, true);
    let mut first_flags = true;
    for line in text.lines() {
        let Some((key, value)) = field(line) else {
            continue;
        };
        match key {
            "processor" => {
                info.logical_cores += 1;
                physical_id = None;
            }
            "model name" if info.model.is_none() => info.model = Some(value.to_string()),
            "cpu MHz" if info.mhz.is_none() => info.mhz = value.parse().ok(),
            "physical id" => {
                physical_id = Some(value.to_string());
                sockets.insert(value.to_string());
            }
            "core id" => match &physical_id {
                Some(p) => {
                    pairs.insert((p.clone(), value.to_string()));
                }
                None => all_have_ids = false,
            },
            "cpu cores" if cores_per_socket.is_none() => cores_per_socket = value.parse().ok(),
            "flags" if first_flags => {
                first_flags = false;
                info.vector_extensions = VectorExtensions::from_flags(value.split_whitespace());
            }
            _ => {}
        }
    }
    info.physical_cores = if !pairs.is_empty() && all_have_ids {
        Some(pairs.len())
    } else {
        cores_per_socket.map(|c| c * sockets.len().max(1))
    };
    info
}

/// `MemTotal` of `/proc/meminfo` in bytes (the file counts in kB, meaning KiB).
pub fn parse_meminfo(text: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let (key, value) = field(line)?;
        if key != "MemTotal" {
            return None;
        }
        let kib: u64 = value
            .strip_suffix("kB")
            .unwrap_or(value)
            .trim()
            .parse()
            .ok()?;
        kib.checked_mul(1024)
    })
}

/// Where the frequency came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FrequencySource {
    /// `/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq`: the rated maximum.
    SysfsMax,
    /// `cpu MHz` of `/proc/cpuinfo`: the clock when read, which in a VM is often the
    /// host's nominal clock and below what the core reaches under load.
    ProcCpuinfo,
    /// Neither is available.
    Unknown,
}

/// One GPU, as NVML reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gpu {
    /// The product name.
    pub name: String,
    /// Total device memory in bytes.
    pub memory_bytes: u64,
}

/// The facts of this machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SystemFacts {
    /// CPU model name.
    pub cpu_model: Option<String>,
    /// Logical cores this process may use.
    pub logical_cores: usize,
    /// Physical cores, when `/proc/cpuinfo` says.
    pub physical_cores: Option<usize>,
    /// Core clock in MHz; see `frequency_source` for which clock.
    pub frequency_mhz: Option<f64>,
    /// Where `frequency_mhz` came from.
    pub frequency_source: FrequencySource,
    /// Vector extensions of the first core.
    pub vector_extensions: VectorExtensions,
    /// `MemTotal`, bytes.
    pub memory_total_bytes: Option<u64>,
    /// Size of the file system holding the current directory, bytes.
    pub disk_total_bytes: Option<u64>,
    /// Space on it that an unprivileged user may still fill, bytes.
    pub disk_free_bytes: Option<u64>,
    /// GPUs; empty without the `nvml` feature.
    pub gpus: Vec<Gpu>,
    /// How the GPUs were looked for: `nvml`, why NVML failed, or `not built with nvml`.
    pub gpu_source: String,
}

impl SystemFacts {
    /// Reads the facts of this machine.
    pub fn read() -> SystemFacts {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .map(|t| parse_cpuinfo(&t))
            .unwrap_or_default();
        let max_khz =
            std::fs::read_to_string("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq")
                .ok()
                .and_then(|t| t.trim().parse::<f64>().ok())
                .filter(|khz| *khz > 0.0);
        let (frequency_mhz, frequency_source) = match (max_khz, cpu.mhz) {
            (Some(khz), _) => (Some(khz / 1000.0), FrequencySource::SysfsMax),
            (None, Some(mhz)) => (Some(mhz), FrequencySource::ProcCpuinfo),
            (None, None) => (None, FrequencySource::Unknown),
        };
        let memory_total_bytes = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|t| parse_meminfo(&t));
        let disk = rustix::fs::statvfs(".").ok();
        let (gpus, gpu_source) = gpus();
        SystemFacts {
            cpu_model: cpu.model,
            logical_cores: std::thread::available_parallelism()
                .map_or(cpu.logical_cores.max(1), |n| n.get()),
            physical_cores: cpu.physical_cores,
            frequency_mhz,
            frequency_source,
            vector_extensions: cpu.vector_extensions,
            memory_total_bytes,
            disk_total_bytes: disk.as_ref().map(|d| d.f_blocks.saturating_mul(d.f_frsize)),
            disk_free_bytes: disk.as_ref().map(|d| d.f_bavail.saturating_mul(d.f_frsize)),
            gpus,
            gpu_source,
        }
    }
}

#[cfg(feature = "nvml")]
fn gpus() -> (Vec<Gpu>, String) {
    let nvml = match nvml_wrapper::Nvml::init() {
        Ok(nvml) => nvml,
        Err(e) => return (Vec::new(), format!("nvml unavailable: {e}")),
    };
    let count = match nvml.device_count() {
        Ok(count) => count,
        Err(e) => return (Vec::new(), format!("nvml device count failed: {e}")),
    };
    let gpus = (0..count)
        .filter_map(|i| nvml.device_by_index(i).ok())
        .map(|d| Gpu {
            name: d.name().unwrap_or_else(|_| "unknown".to_string()),
            memory_bytes: d.memory_info().map_or(0, |m| m.total),
        })
        .collect();
    (gpus, "nvml".to_string())
}

#[cfg(not(feature = "nvml"))]
fn gpus() -> (Vec<Gpu>, String) {
    (Vec::new(), "not built with nvml".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two processors of a 2-core VM, trimmed to the fields that matter.
    const EPYC_VM: &str = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC\n\
        cpu MHz\t\t: 2445.406\nphysical id\t: 0\nsiblings\t: 2\ncore id\t\t: 0\ncpu cores\t: 2\n\
        flags\t\t: fpu sse sse2 pni fma avx f16c avx2 sha_ni\n\n\
        processor\t: 1\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC\n\
        cpu MHz\t\t: 2445.406\nphysical id\t: 0\nsiblings\t: 2\ncore id\t\t: 1\ncpu cores\t: 2\n\
        flags\t\t: fpu sse sse2 pni fma avx f16c avx2 sha_ni\n";

    /// Four logical cores on two physical cores with hyper-threading, AVX-512.
    const XEON_HT: &str = "processor: 0\nmodel name: Intel Xeon\nphysical id: 0\ncore id: 0\ncpu cores: 2\nflags: sse2 avx avx2 fma avx512f\n\
        processor: 1\nphysical id: 0\ncore id: 1\n\
        processor: 2\nphysical id: 0\ncore id: 0\n\
        processor: 3\nphysical id: 0\ncore id: 1\n";

    /// An ARM board: no model name, no MHz, no physical ids.
    const ARM: &str = "processor\t: 0\nBogoMIPS\t: 108.00\nFeatures\t: fp asimd\n\nprocessor\t: 1\nBogoMIPS\t: 108.00\n";

    #[test]
    fn cpuinfo_fixtures() {
        let cases: [(&str, CpuInfo); 3] = [
            (
                EPYC_VM,
                CpuInfo {
                    model: Some("AMD EPYC".into()),
                    logical_cores: 2,
                    physical_cores: Some(2),
                    mhz: Some(2445.406),
                    vector_extensions: VectorExtensions {
                        sse2: true,
                        avx: true,
                        avx2: true,
                        fma: true,
                        avx512f: false,
                    },
                },
            ),
            (
                XEON_HT,
                CpuInfo {
                    model: Some("Intel Xeon".into()),
                    logical_cores: 4,
                    physical_cores: Some(2),
                    mhz: None,
                    vector_extensions: VectorExtensions {
                        sse2: true,
                        avx: true,
                        avx2: true,
                        fma: true,
                        avx512f: true,
                    },
                },
            ),
            (
                ARM,
                CpuInfo {
                    logical_cores: 2,
                    ..CpuInfo::default()
                },
            ),
        ];
        for (text, want) in cases {
            assert_eq!(parse_cpuinfo(text), want, "{text}");
        }
    }

    #[test]
    fn meminfo_fixtures() {
        let cases = [
            (
                "MemTotal:       24567896 kB\nMemFree:  100 kB\n",
                Some(24_567_896 * 1024),
            ),
            ("MemFree:  100 kB\nMemTotal: 2048 kB\n", Some(2048 * 1024)),
            ("MemFree:  100 kB\n", None),
            ("MemTotal: lots kB\n", None),
            ("", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_meminfo(text), want, "{text:?}");
        }
    }
}
