//! `cpn emu`: a scenario brought up as network namespaces on this machine (root only), and
//! torn down again (docs/dataplane.md).

use std::path::PathBuf;

use clap::{Args, Subcommand};
use cpn_dataplane::emu;

use crate::scenario_cmd::load;
use crate::{Failure, Outcome};

#[derive(Debug, Subcommand)]
pub(crate) enum EmuCommand {
    /// One namespace per router, site and client; veth links shaped to the scenario's
    /// bandwidth divided by --scale; the SRv6 SID plan; static routes along shortest IGP
    /// paths; hop counters. Prints what was made and how long it took.
    Up {
        /// A scenario file, or a built-in scenario's name (`national`).
        scenario: String,
        #[command(flatten)]
        common: Common,
        /// Link rates are the scenario's bandwidth divided by this (100 Gbps becomes
        /// 100 Mbps with the default), so that the machine can carry them.
        #[arg(long, default_value_t = emu::DEFAULT_SCALE)]
        scale: u64,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Remove every namespace of the emulation (also after a failed `up`) and its state file.
    Down {
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Debug, Args)]
pub(crate) struct Common {
    /// The run's name: namespaces are `<name>_r<i>`, `<name>_s<j>`, `<name>_c<i>`.
    #[arg(long, default_value = "cpn")]
    name: String,
    /// Where state files are kept.
    #[arg(long, default_value = emu::STATE_DIR, env = "CPN_EMU_STATE_DIR")]
    state_dir: PathBuf,
}

pub(crate) fn run(command: EmuCommand) -> Outcome {
    match command {
        EmuCommand::Up {
            scenario,
            common,
            scale,
            json,
        } => {
            emu::check_name(&common.name).map_err(Failure::bad)?;
            if scale == 0 {
                return Err(Failure::bad(
                    "--scale: link rates are divided by it, give 1 or more",
                ));
            }
            let scenario = load(&scenario)?;
            let (_, report) = emu::up(&scenario, &common.name, scale, &common.state_dir)
                .map_err(|e| Failure::Internal(e.into()))?;
            if json {
                let text = serde_json::to_string_pretty(&report)
                    .map_err(|e| Failure::Internal(e.into()))?;
                println!("{text}");
            } else {
                println!(
                    "emulation `{}` of `{}` is up: {} namespaces, {} veth pairs, {} addresses, {} routes in {:.2} s",
                    report.name,
                    scenario.name,
                    report.namespaces,
                    report.veths,
                    report.addresses,
                    report.routes,
                    report.seconds
                );
            }
            Ok(())
        }
        EmuCommand::Down { common } => {
            emu::check_name(&common.name).map_err(Failure::bad)?;
            let removed = emu::down(&common.name, &common.state_dir)
                .map_err(|e| Failure::Internal(e.into()))?;
            println!(
                "emulation `{}` is down: {} namespaces removed",
                common.name,
                removed.len()
            );
            Ok(())
        }
    }
}
