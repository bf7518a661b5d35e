//! The Alibaba GPU cluster trace 2023 ("openb", `alibaba/clusterdata`
//! `cluster-trace-gpu-v2023`): tasks (`openb_pod_list_*.csv`) with their resource requests and
//! times, and nodes (`openb_node_list_*.csv`) with their capacities.

use std::io::Read;
use std::path::Path;

use crate::TraceError;
use crate::table::Table;

/// Quality of service class of a task, as in the trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Qos {
    /// Latency sensitive.
    Ls,
    /// Best effort.
    Be,
    Burstable,
    Guaranteed,
}

/// The task's Kubernetes phase at the end of the trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PodPhase {
    Running,
    Succeeded,
    Failed,
    Pending,
}

/// One task (a Kubernetes pod) of the trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GpuTask {
    pub name: String,
    /// Requested CPU in thousandths of a core.
    pub cpu_milli: u32,
    /// Requested memory in MiB.
    pub memory_mib: u32,
    /// Whole GPUs requested (0 to 8 in the trace).
    pub num_gpu: u32,
    /// For a GPU-sharing task (`num_gpu` = 1), the share of one GPU in thousandths; 1000 for
    /// a whole GPU; 0 with no GPU.
    pub gpu_milli: u32,
    /// GPU models the task may run on (`V100M16|V100M32` in the file); empty means any. The
    /// trace's own description writes "no constraint" as `nan`, the CSV as an empty field;
    /// both read as empty. Repeated models are listed once.
    pub gpu_spec: Vec<String>,
    pub qos: Qos,
    pub phase: PodPhase,
    /// Seconds from the start of the trace.
    pub creation_s: u64,
    /// Seconds from the start of the trace. The trace's description does not define an
    /// empty value; every shipped row has one. We read an empty field as `None`, meaning the
    /// task was not deleted within the trace (still running at its end).
    pub deletion_s: Option<u64>,
    /// Seconds from the start of the trace; `None` (an empty field) for a task never
    /// scheduled, which in the shipped files is exactly the `Pending` tasks.
    pub scheduled_s: Option<u64>,
}

/// Reads an openb task list (`openb_pod_list_default.csv`, `openb_pod_list_gpuspec33.csv`).
pub fn read_openb_tasks(reader: impl Read, origin: &str) -> Result<Vec<GpuTask>, TraceError> {
    let mut table = Table::open(reader, origin)?;
    let [
        name,
        cpu,
        mem,
        num_gpu,
        gpu_milli,
        spec,
        qos,
        phase,
        created,
        deleted,
        scheduled,
    ] = [
        "name",
        "cpu_milli",
        "memory_mib",
        "num_gpu",
        "gpu_milli",
        "gpu_spec",
        "qos",
        "pod_phase",
        "creation_time",
        "deletion_time",
        "scheduled_time",
    ]
    .map(|c| table.column(c));
    let (name, cpu, mem, num_gpu, gpu_milli, spec) =
        (name?, cpu?, mem?, num_gpu?, gpu_milli?, spec?);
    let (qos, phase, created, deleted, scheduled) = (qos?, phase?, created?, deleted?, scheduled?);
    const SECONDS: &str = "seconds from the trace start (an integer)";
    let mut out = Vec::new();
    while let Some(row) = table.next_row()? {
        let gpu_milli_value: u32 = row.int(gpu_milli, "thousandths of a GPU (0 to 1000)")?;
        if gpu_milli_value > 1000 {
            return Err(row.error(
                gpu_milli,
                "thousandths of a GPU (0 to 1000)",
                row.text(gpu_milli)?,
            ));
        }
        let spec_text = row.text(spec)?;
        let mut gpu_spec: Vec<String> = Vec::new();
        if !spec_text.is_empty() && spec_text != "nan" {
            for model in spec_text.split('|') {
                if model.is_empty() {
                    return Err(row.error(spec, "GPU models separated by |", spec_text));
                }
                if !gpu_spec.iter().any(|m| m == model) {
                    gpu_spec.push(model.to_string());
                }
            }
        }
        let qos_text = row.text(qos)?;
        let qos_value = match qos_text {
            "LS" => Qos::Ls,
            "BE" => Qos::Be,
            "Burstable" => Qos::Burstable,
            "Guaranteed" => Qos::Guaranteed,
            other => return Err(row.error(qos, "LS, BE, Burstable or Guaranteed", other)),
        };
        let phase_text = row.text(phase)?;
        let phase_value = match phase_text {
            "Running" => PodPhase::Running,
            "Succeeded" => PodPhase::Succeeded,
            "Failed" => PodPhase::Failed,
            "Pending" => PodPhase::Pending,
            other => {
                return Err(row.error(phase, "Running, Succeeded, Failed or Pending", other));
            }
        };
        out.push(GpuTask {
            name: row.text(name)?.to_string(),
            cpu_milli: row.int(cpu, "CPU in milli-cores (an integer)")?,
            memory_mib: row.int(mem, "memory in MiB (an integer)")?,
            num_gpu: row.int(num_gpu, "a GPU count (an integer)")?,
            gpu_milli: gpu_milli_value,
            gpu_spec,
            qos: qos_value,
            phase: phase_value,
            creation_s: row.int(created, SECONDS)?,
            deletion_s: row.opt_int(deleted, SECONDS)?,
            scheduled_s: row.opt_int(scheduled, SECONDS)?,
        });
    }
    Ok(out)
}

/// Reads an openb task list from a file, named in errors by its path.
pub fn load_openb_tasks(path: impl AsRef<Path>) -> Result<Vec<GpuTask>, TraceError> {
    crate::load(path.as_ref(), read_openb_tasks)
}

/// One node of the openb cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GpuNode {
    /// The node's name (`openb-node-0000`).
    pub sn: String,
    /// CPU in thousandths of a core.
    pub cpu_milli: u32,
    /// Memory in MiB.
    pub memory_mib: u32,
    /// Number of GPUs.
    pub gpus: u32,
    /// GPU model (`T4`, `P100`, `V100M16`, `V100M32`, `A10`, undisclosed `G2`, `G3`); `None`
    /// for a CPU-only node, which is exactly a node with no GPUs.
    pub model: Option<String>,
}

/// Reads an openb node list (`openb_node_list_all_node.csv`, `openb_node_list_gpu_node.csv`).
/// A node with GPUs must name their model and a node without must not.
pub fn read_openb_nodes(reader: impl Read, origin: &str) -> Result<Vec<GpuNode>, TraceError> {
    let mut table = Table::open(reader, origin)?;
    let sn = table.column("sn")?;
    let cpu = table.column("cpu_milli")?;
    let mem = table.column("memory_mib")?;
    let gpu = table.column("gpu")?;
    let model = table.column("model")?;
    let mut out = Vec::new();
    while let Some(row) = table.next_row()? {
        let gpus: u32 = row.int(gpu, "a GPU count (an integer)")?;
        let model_value = row.opt_string(model)?.filter(|m| m != "nan");
        match (gpus, &model_value) {
            (0, Some(m)) => return Err(row.error(model, "no model on a node with 0 GPUs", m)),
            (1.., None) => return Err(row.error(model, "the GPU model of a node with GPUs", "")),
            _ => {}
        }
        out.push(GpuNode {
            sn: row.text(sn)?.to_string(),
            cpu_milli: row.int(cpu, "CPU in milli-cores (an integer)")?,
            memory_mib: row.int(mem, "memory in MiB (an integer)")?,
            gpus,
            model: model_value,
        });
    }
    Ok(out)
}

/// Reads an openb node list from a file, named in errors by its path.
pub fn load_openb_nodes(path: impl AsRef<Path>) -> Result<Vec<GpuNode>, TraceError> {
    crate::load(path.as_ref(), read_openb_nodes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const POD_HEADER: &str = "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time\n";

    fn tasks_err(body: &str) -> String {
        match read_openb_tasks(format!("{POD_HEADER}{body}").as_bytes(), "pods.csv") {
            Ok(r) => panic!("expected an error, got {r:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn reads_good_tasks() {
        let body = "openb-pod-0000,12000,16384,1,1000,,LS,Running,0,12537496,0\n\
                    openb-pod-0035,16000,32768,1,460,V100M16|V100M32|V100M32,BE,Pending,9967058,,\n";
        let r =
            read_openb_tasks(format!("{POD_HEADER}{body}").as_bytes(), "pods.csv").expect("reads");
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].name, "openb-pod-0000");
        assert_eq!(
            (
                r[0].cpu_milli,
                r[0].memory_mib,
                r[0].num_gpu,
                r[0].gpu_milli
            ),
            (12000, 16384, 1, 1000)
        );
        assert!(r[0].gpu_spec.is_empty());
        assert_eq!(
            (r[0].creation_s, r[0].deletion_s, r[0].scheduled_s),
            (0, Some(12537496), Some(0))
        );
        assert_eq!(r[1].gpu_spec, ["V100M16", "V100M32"]);
        assert_eq!((r[1].qos, r[1].phase), (Qos::Be, PodPhase::Pending));
        assert_eq!((r[1].deletion_s, r[1].scheduled_s), (None, None));
    }

    #[test]
    fn rejects_bad_tasks_with_their_line() {
        let ok = "openb-pod-0000,12000,16384,1,1000,,LS,Running,0,12537496,0\n";
        assert_eq!(
            tasks_err(&format!("{ok}p,12k,1,0,0,,LS,Running,0,1,0\n")),
            "pods.csv:3: cpu_milli: expected CPU in milli-cores (an integer), got \"12k\""
        );
        assert_eq!(
            tasks_err("p,1,1,1,1001,,LS,Running,0,1,0\n"),
            "pods.csv:2: gpu_milli: expected thousandths of a GPU (0 to 1000), got \"1001\""
        );
        assert_eq!(
            tasks_err("p,1,1,1,1,,XX,Running,0,1,0\n"),
            "pods.csv:2: qos: expected LS, BE, Burstable or Guaranteed, got \"XX\""
        );
        assert_eq!(
            tasks_err("p,1,1,1,1,,LS,Running,0.5,1,0\n"),
            "pods.csv:2: creation_time: expected seconds from the trace start (an integer), got \"0.5\""
        );
        assert_eq!(
            tasks_err(&format!("{ok}{ok}p,1,1,1,1,,LS,Running,0,1\n")),
            "pods.csv:4: scheduled_time: expected 11 fields (name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time), got 10"
        );
        assert_eq!(
            tasks_err("p,1,1,1,1,A10||T4,LS,Running,0,1,0\n"),
            "pods.csv:2: gpu_spec: expected GPU models separated by |, got \"A10||T4\""
        );
    }

    #[test]
    fn reads_nodes_and_rejects_bad_ones() {
        let h = "sn,cpu_milli,memory_mib,gpu,model\n";
        let good =
            format!("{h}openb-node-0000,32000,262144,0,\nopenb-node-0228,128000,786432,8,G3\n");
        let r = read_openb_nodes(good.as_bytes(), "nodes.csv").expect("reads");
        assert_eq!(
            r,
            vec![
                GpuNode {
                    sn: "openb-node-0000".into(),
                    cpu_milli: 32000,
                    memory_mib: 262144,
                    gpus: 0,
                    model: None
                },
                GpuNode {
                    sn: "openb-node-0228".into(),
                    cpu_milli: 128000,
                    memory_mib: 786432,
                    gpus: 8,
                    model: Some("G3".into())
                },
            ]
        );
        let err = |body: &str| {
            read_openb_nodes(format!("{h}{body}").as_bytes(), "nodes.csv")
                .map(|_| ())
                .map_err(|e| e.to_string())
        };
        assert_eq!(
            err("n,32000,262144,2,\n"),
            Err("nodes.csv:2: model: expected the GPU model of a node with GPUs, got \"\"".into())
        );
        assert_eq!(
            err("n,32000,-1,0,\n"),
            Err("nodes.csv:2: memory_mib: expected memory in MiB (an integer), got \"-1\"".into())
        );
        assert_eq!(
            err("n,32000\n"),
            Err("nodes.csv:2: memory_mib: expected 5 fields (sn,cpu_milli,memory_mib,gpu,model), got 2".into())
        );
    }
}
