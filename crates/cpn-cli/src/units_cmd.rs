//! `cpn units`: quantities as people write them.

use clap::Subcommand;
use cpn_units::{Quantity, accepted_units};

use crate::{Failure, Outcome};

#[derive(Debug, Subcommand)]
pub(crate) enum UnitsCommand {
    /// Convert a quantity to another unit of the same dimension, exactly:
    /// `cpn units convert "93.015 PFLOPS" --to TFLOPS` prints `93015 TFLOPS`.
    Convert {
        /// The quantity, such as "93.015 PFLOPS", "200 EH/s", "312 TFLOPS fp16".
        quantity: String,
        /// The unit to write it in, such as TFLOPS, Mbps, "TFLOPS fp16".
        #[arg(long)]
        to: String,
    },
    /// Read a quantity and print it in its natural unit, with its base value.
    Parse { quantity: String },
    /// List every accepted unit.
    List,
}

pub(crate) fn run(command: UnitsCommand) -> Outcome {
    match command {
        UnitsCommand::Convert { quantity, to } => {
            let q = Quantity::parse(&quantity).map_err(Failure::bad)?;
            println!("{}", q.convert(&to).map_err(Failure::bad)?);
        }
        UnitsCommand::Parse { quantity } => {
            let q = Quantity::parse(&quantity).map_err(Failure::bad)?;
            println!(
                "{q} ({} {}, {})",
                q.base,
                q.dimension.base_unit(),
                q.dimension
            );
        }
        UnitsCommand::List => {
            for group in accepted_units().split("; ") {
                println!("{group}");
            }
        }
    }
    Ok(())
}
