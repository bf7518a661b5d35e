//! The scheduling brain of cpn: what is reserved where and when, on sites and on links, and
//! the decisions that change it. A request gets compute at a site, a path, and the bandwidth
//! on every link of that path, or nothing: every change is all or nothing.
//!
//! A pure core over `cpn-route`: no I/O, no clock (time comes in as a value, in seconds of the
//! scenario's timeline), so that the controller and the simulator run exactly the same code.

pub mod autoscale;
pub mod batch;
pub mod calendar;
mod scheduler;

pub use calendar::{
    Calendar, CalendarError, Isolation, LinkCalendar, MultiCalendar, Overload, Plateau,
};
pub use scheduler::{
    Circuit, Footprint, JobPlan, JobRequest, PlaceRequest, Placed, Preempted, Recovery, Refusal,
    Reservation, ReservationId, Savings, SchedError, Scheduler, Strategy,
};
