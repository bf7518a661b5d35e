//! The simulation kernel of cpn's digital twin: a deterministic discrete-event loop
//! (`kernel`) over a monotone radix event queue that stays fast with millions of pending
//! events (`queue`), seeded random variates (`rng`), multi-server FIFO site queues (`site`)
//! and a flow-level network whose links are shared max-min fairly, recomputed incrementally
//! over only the flows a change can affect (`flow`). `twin` runs workloads through the real
//! scheduler under each placement strategy on identical arrivals and reports on them; `replay`
//! runs a controller's decision log through the controller's own state machine. `workload` draws
//! the twin's synthetic workloads (diurnal, bursty) and turns the GPU cluster trace and the
//! utilisation series into arrivals and background load; `edge` builds scenarios whose edge
//! sites stand at real base stations, and demand weighted by where users are.
//!
//! This crate never reads a clock and never does I/O: simulated time is a value (`u64` ns)
//! that only moves when an event is popped, and randomness comes from a seed. The same seed
//! therefore gives the same run, bit for bit, which is what lets the twin compare strategies
//! on identical arrivals and replay the controller's decisions.

pub mod edge;
pub mod flow;
pub mod kernel;
pub mod optimum;
pub mod queue;
pub mod replay;
pub mod rng;
pub mod site;
pub mod twin;
pub mod workload;

pub use flow::{FlowId, FlowNet, FlowStats};
pub use kernel::{SimError, Simulation};
pub use queue::{EventQueue, QueueError};
pub use rng::Rng;
pub use site::{FifoSite, Started, TooBig, UnitSite};
