//! `cpn task`: work run by agents, through a running controller.

use clap::Subcommand;
use cpn_api::{PlaceRequest, TaskLimits, TaskSubmit, TaskView};

use crate::client::{Remote, print_json};
use crate::{Failure, Outcome};

#[derive(Debug, Subcommand)]
pub(crate) enum TaskCommand {
    /// Submits a task: placed on a site with a live agent, run there, reported back.
    Submit {
        #[command(flatten)]
        remote: Remote,
        /// The task's id.
        #[arg(long)]
        id: String,
        /// The ingress router its data comes from.
        #[arg(long = "from")]
        from: String,
        #[arg(long, required_unless_present = "demand")]
        service: Option<String>,
        /// A raw compute demand instead of a service, such as "2 TFLOPS".
        #[arg(long)]
        demand: Option<String>,
        /// How long to hold its reservation, such as "1 h".
        #[arg(long)]
        duration: Option<String>,
        #[arg(long)]
        cpu_seconds: Option<u64>,
        #[arg(long)]
        memory_mib: Option<u64>,
        #[arg(long)]
        wall_seconds: Option<u64>,
        /// The program and its arguments, after `--`.
        #[arg(last = true, required = true)]
        command: Vec<String>,
    },
    /// Lists your tasks.
    List {
        #[command(flatten)]
        remote: Remote,
        #[arg(long)]
        json: bool,
    },
    /// One task with its agent's last report.
    Show {
        #[command(flatten)]
        remote: Remote,
        id: String,
    },
}

pub(crate) fn run(command: TaskCommand) -> Outcome {
    match command {
        TaskCommand::Submit {
            remote,
            id,
            from,
            service,
            demand,
            duration,
            cpu_seconds,
            memory_mib,
            wall_seconds,
            command,
        } => {
            let request: PlaceRequest = serde_json::from_value(serde_json::json!({
                "id": id, "from": from, "service": service, "demand": demand, "duration": duration
            }))
            .map_err(|e| Failure::Internal(e.into()))?;
            let submit = TaskSubmit {
                request,
                command,
                limits: TaskLimits {
                    cpu_seconds,
                    memory_mib,
                    wall_seconds,
                },
            };
            let view: TaskView = remote.require()?.post("/api/v1/tasks", &submit)?;
            print_json(&view)
        }
        TaskCommand::List { remote, json } => {
            let list: Vec<TaskView> = remote.require()?.get("/api/v1/tasks")?;
            if json {
                return print_json(&list);
            }
            for t in list {
                let exit = t
                    .report
                    .as_ref()
                    .and_then(|r| r.exit_code)
                    .map_or("-".to_string(), |c| c.to_string());
                println!(
                    "{:<20} {:<9} site {:<20} agent {:<20} exit {exit}",
                    t.id,
                    format!("{:?}", t.state).to_lowercase(),
                    t.site.as_deref().unwrap_or("-"),
                    t.agent.as_deref().unwrap_or("-"),
                );
            }
            Ok(())
        }
        TaskCommand::Show { remote, id } => {
            let view: TaskView = remote.require()?.get(&format!("/api/v1/tasks/{id}"))?;
            print_json(&view)
        }
    }
}
