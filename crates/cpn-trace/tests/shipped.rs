//! The importers on the real files under `$CPN_DATA_DIR`: every file reads, the record count
//! equals the file's data lines (counted here independently of the csv reader), and the first
//! row's fields are those `head` shows. Skipped loudly without the data, failed on CI.
//! Every shipped file is under 1 MB and reads whole in well under a second in debug builds,
//! so no file is cut short; the read times are printed, never asserted.

use std::path::{Path, PathBuf};
use std::time::Instant;

use cpn_trace::*;
use cpn_units::Nanos;

/// The non-blank lines of the file after the header.
fn data_lines(path: &Path) -> usize {
    let text = std::fs::read_to_string(path).expect("readable");
    text.split('\n')
        .filter(|l| !l.trim_end_matches('\r').is_empty())
        .count()
        - 1
}

/// Every sample of the series is a fraction 0..=1.
fn fractions(s: &UsageSeries) -> usize {
    assert!(
        s.samples
            .iter()
            .all(|x| (0.0..=1.0).contains(&x.cpu) && (0.0..=1.0).contains(&x.mem))
    );
    s.samples.len()
}

fn file(set: &str, name: &str) -> Option<PathBuf> {
    cpn_testdata::data_dir(set).map(|d| d.join(name))
}

/// Loads `path` with `load`, prints how long it took, and checks the count.
fn load_counted<T>(
    path: &Path,
    load: impl FnOnce(&Path) -> Result<T, TraceError>,
    len: impl FnOnce(&T) -> usize,
) -> T {
    let start = Instant::now();
    let records = load(path).unwrap_or_else(|e| panic!("{e}"));
    let n = len(&records);
    eprintln!("{}: {n} records in {:?}", path.display(), start.elapsed());
    assert_eq!(n, data_lines(path), "{}", path.display());
    records
}

#[test]
fn azure_llm_traces() {
    let Some(code) = file(
        "azure-llm-inference-2023",
        "AzureLLMInferenceTrace_code.csv",
    ) else {
        return;
    };
    let r = load_counted(&code, |p| load_azure_llm(p), Vec::len);
    // 2023-11-16 18:17:03.9799600,4808,10 then 18:17:04.0319600,3180,8
    assert_eq!(
        r[0],
        LlmRequest {
            arrival: Nanos(0),
            context_tokens: 4808,
            generated_tokens: 10
        }
    );
    assert_eq!(
        r[1],
        LlmRequest {
            arrival: Nanos(52_000_000),
            context_tokens: 3180,
            generated_tokens: 8
        }
    );
    // Last row 19:14:19.9280160,549,173: 57 min 15.948056 s after the first.
    let last = r.last().copied().expect("rows");
    assert_eq!(last.arrival, Nanos(3_435_948_056_000));
    assert_eq!((last.context_tokens, last.generated_tokens), (549, 173));
    assert!(r.windows(2).all(|w| w[0].arrival <= w[1].arrival));

    let conv = code.with_file_name("AzureLLMInferenceTrace_conv.csv");
    let r = load_counted(&conv, |p| load_azure_llm(p), Vec::len);
    assert_eq!(
        r[0],
        LlmRequest {
            arrival: Nanos(0),
            context_tokens: 374,
            generated_tokens: 44
        }
    );
    assert_eq!(r[1].arrival, Nanos(4_314_579_000));
}

#[test]
fn alibaba_openb_tasks_and_nodes() {
    let Some(pods) = file("alibaba-gpu-v2023-openb", "openb_pod_list_default.csv") else {
        return;
    };
    let tasks = load_counted(&pods, |p| load_openb_tasks(p), Vec::len);
    // openb-pod-0000,12000,16384,1,1000,,LS,Running,0,12537496,0
    let t = &tasks[0];
    assert_eq!(t.name, "openb-pod-0000");
    assert_eq!(
        (t.cpu_milli, t.memory_mib, t.num_gpu, t.gpu_milli),
        (12000, 16384, 1, 1000)
    );
    assert!(t.gpu_spec.is_empty());
    assert_eq!((t.qos, t.phase), (Qos::Ls, PodPhase::Running));
    assert_eq!(
        (t.creation_s, t.deletion_s, t.scheduled_s),
        (0, Some(12_537_496), Some(0))
    );
    // What the SOURCE.md and the field docs say: never-scheduled tasks are the pending ones.
    assert!(
        tasks
            .iter()
            .all(|t| t.scheduled_s.is_none() == (t.phase == PodPhase::Pending))
    );

    let spec = load_counted(
        &pods.with_file_name("openb_pod_list_gpuspec33.csv"),
        |p| load_openb_tasks(p),
        Vec::len,
    );
    assert_eq!(spec.len(), tasks.len());
    assert!(spec.iter().any(|t| t.gpu_spec == ["V100M16", "V100M32"]));

    let all = load_counted(
        &pods.with_file_name("openb_node_list_all_node.csv"),
        |p| load_openb_nodes(p),
        Vec::len,
    );
    // openb-node-0000,32000,262144,0,
    assert_eq!(
        all[0],
        GpuNode {
            sn: "openb-node-0000".into(),
            cpu_milli: 32000,
            memory_mib: 262_144,
            gpus: 0,
            model: None
        }
    );
    assert_eq!(all.iter().filter(|n| n.model.is_none()).count(), 310);
    let gpu = load_counted(
        &pods.with_file_name("openb_node_list_gpu_node.csv"),
        |p| load_openb_nodes(p),
        Vec::len,
    );
    // openb-node-0000,64000,262144,2,P100
    assert_eq!(
        gpu[0],
        GpuNode {
            sn: "openb-node-0000".into(),
            cpu_milli: 64000,
            memory_mib: 262_144,
            gpus: 2,
            model: Some("P100".into())
        }
    );
}

#[test]
fn datacenter_usage_series() {
    let Some(ali) = file(
        "datacenter-usage-timeseries",
        "alibaba2018_machine_usage_300s_8days.csv",
    ) else {
        return;
    };
    let s = load_counted(&ali, |p| load_usage(p), fractions);
    assert_eq!(s.source, UsageSource::Alibaba2018);
    // 16.126976521322472,87.13895543842837,...
    assert_eq!(
        s.samples[0],
        UsageSample {
            offset_s: 0,
            cpu: 16.126976521322472 / 100.0,
            mem: 87.13895543842837 / 100.0
        }
    );
    assert_eq!(s.samples[1].offset_s, 300);

    let s = load_counted(
        &ali.with_file_name("azure2019_vm_cpu_mem_300s_month.csv"),
        |p| load_usage(p),
        |s| s.samples.len(),
    );
    assert_eq!(s.source, UsageSource::Azure2019);
    let (cpu_peak, mem_peak) = s.peaks.expect("azure has peaks");
    // 0,6135515.87712279,2002296.0
    assert_eq!(s.samples[0].offset_s, 0);
    assert_eq!(s.samples[0].cpu, 6135515.87712279 / cpu_peak);
    assert_eq!(s.samples[0].mem, 2002296.0 / mem_peak);
    assert_eq!(s.samples.last().map(|x| x.offset_s), Some(2_591_700));

    let s = load_counted(
        &ali.with_file_name("google2019_instance_usage_300s_month.csv"),
        |p| load_usage(p),
        |s| s.samples.len(),
    );
    assert_eq!(s.source, UsageSource::Google2019);
    // 0.4416155843647663,0.332384265123427,...
    assert_eq!(
        s.samples[0],
        UsageSample {
            offset_s: 0,
            cpu: 0.4416155843647663,
            mem: 0.332384265123427
        }
    );
}

#[test]
fn eua_melbourne_sites_and_users() {
    let Some(sites) = file("eua-melbourne", "site-optus-melbCBD.csv") else {
        return;
    };
    let r = load_counted(&sites, |p| load_eua_sites(p), Vec::len);
    // 10003026,-37.81517,144.97476,Spring and Flinders ucell Optus North West corner ...,VIC,2,,Within 10 meters,,KX3P
    let s = &r[0];
    assert_eq!(s.site_id, 10_003_026);
    assert_eq!(
        s.position,
        LatLon {
            lat: -37.81517,
            lon: 144.97476
        }
    );
    assert!(s.name.starts_with("Spring and Flinders ucell Optus"));
    assert_eq!(
        (s.state.as_str(), s.licensing_area_id, s.postcode),
        ("VIC", 2, None)
    );
    assert_eq!(
        (s.precision.as_str(), s.elevation_m, s.hcis_l2.as_str()),
        ("Within 10 meters", None, "KX3P")
    );

    let u = load_counted(
        &sites.with_file_name("users-melbcbd-generated.csv"),
        |p| load_eua_users(p),
        Vec::len,
    );
    assert_eq!(
        u[0].position,
        LatLon {
            lat: -37.814619463998895,
            lon: 144.9744434939978
        }
    );
    let u = load_counted(
        &sites.with_file_name("users-aus.csv"),
        |p| load_eua_users(p),
        Vec::len,
    );
    // 1.120.0.1,-30.5083,151.6712,2350.0,Armidale,NSW,AU
    assert_eq!(
        u[0].position,
        LatLon {
            lat: -30.5083,
            lon: 151.6712
        }
    );
    assert_eq!(
        u[0].info,
        EuaUserInfo {
            ip: Some("1.120.0.1".into()),
            postcode: Some(2350),
            city: Some("Armidale".into()),
            state: Some("NSW".into()),
            country: Some("AU".into())
        }
    );
}

#[test]
fn shanghai_base_stations() {
    let Some(path) = file("shanghai-telecom-base-stations", "base_stations_all.csv") else {
        return;
    };
    let r = load_counted(&path, |p| load_shanghai_base_stations(p), Vec::len);
    // 0,0,31.237872,121.470259,31.237872-121.470259,0
    assert_eq!(
        r[0],
        BaseStation {
            id: 0,
            position: LatLon {
                lat: 31.237872,
                lon: 121.470259
            }
        }
    );
    assert!(r.iter().enumerate().all(|(i, b)| b.id as usize == i));
    // SOURCE.md: 3,009 of the 3,042 points lie in the Shanghai box.
    assert_eq!(r.iter().filter(|b| b.in_shanghai()).count(), 3009);
}
