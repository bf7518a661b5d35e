//! Delay-tolerant jobs: a demand for a processing time, to finish by a deadline, with input
//! data at a site that must first be moved to wherever the job runs. This is the
//! East-Data-West-Compute trade: the data crosses the country when the cleaner or cheaper
//! site still finishes in time.
//!
//! Each candidate site gets a plan: move the data (its size over the requested transfer rate,
//! on a path with that rate free for the whole transfer), then run from the end of the
//! transfer for the processing time, finishing by the deadline. Plans are tried in the order of
//! the objective (cost, carbon, or the earliest finish for latency; then the earliest finish,
//! then the site's id); the first one whose transfer and compute can both be booked wins. The
//! outcome reports what it saved against running where the data already is.

use cpn_model::{RouterId, SiteId};
use cpn_route::Objective;
use cpn_units::{Bandwidth, Bytes, Flops, Nanos};
use serde::Serialize;

use super::{Isolation, PlaceRequest, ReservationId, SchedError, Scheduler};
use cpn_route::run_cost;

/// A job: compute for a while, data to move first, a deadline.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRequest {
    pub name: String,
    pub demand: Flops,
    /// Processing time at a site that gives the job its demand.
    pub processing: Nanos,
    /// Where the input data is, and how much there is.
    pub input: Option<(SiteId, Bytes)>,
    /// The rate the data is moved at.
    pub transfer: Bandwidth,
    /// Earliest start and latest finish, seconds.
    pub release: u64,
    pub deadline: u64,
    pub priority: u8,
    pub objective: Objective,
}

/// Where a job runs and when.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobPlan {
    pub site: SiteId,
    /// The circuit that moves the input data, when it moves.
    pub transfer: Option<ReservationId>,
    pub transfer_seconds: u64,
    /// The compute reservation.
    pub reservation: ReservationId,
    pub start: u64,
    pub finish: u64,
    pub cost: Option<f64>,
    pub carbon_g: Option<f64>,
    /// Against running where the data is (when that site could have been an option at all).
    pub saved_cost: Option<f64>,
    pub saved_carbon_g: Option<f64>,
}

impl Scheduler {
    /// Plans and books a job, or says why no site can finish it in time.
    pub fn place_job(&mut self, job: &JobRequest) -> Result<Result<JobPlan, String>, SchedError> {
        if job.release >= job.deadline {
            return Err(SchedError::EmptyWindow {
                start: job.release,
                end: job.deadline,
            });
        }
        let processing_s = job.processing.0.div_ceil(1_000_000_000).max(1);
        let mut plans: Vec<Candidate> = Vec::new();
        let mut why: Vec<String> = Vec::new();
        for (i, info) in self.site_info.iter().enumerate() {
            let site = SiteId(i as u32);
            let transfer_s = match job.input {
                Some((from, bytes)) if from != site => {
                    if job.transfer.0 == 0 {
                        why.push(format!(
                            "{}: the data would have to move at 0 bit/s",
                            info.name
                        ));
                        continue;
                    }
                    u64::try_from((u128::from(bytes.0) * 8).div_ceil(u128::from(job.transfer.0)))
                        .unwrap_or(u64::MAX)
                }
                _ => 0,
            };
            let start = job.release.saturating_add(transfer_s);
            let finish = start.saturating_add(processing_s);
            if finish > job.deadline {
                why.push(format!(
                    "{}: would finish at {finish} s, after the deadline {} s",
                    info.name, job.deadline
                ));
                continue;
            }
            let (cost, carbon) = run_cost(
                job.demand,
                job.processing,
                info.price,
                info.carbon,
                info.pue,
            );
            plans.push(Candidate {
                site,
                transfer_s,
                start,
                finish,
                cost,
                carbon,
            });
        }
        let key = |c: &Candidate| match job.objective {
            Objective::Cost => c.cost.unwrap_or(f64::INFINITY),
            Objective::Carbon => c.carbon.unwrap_or(f64::INFINITY),
            _ => c.finish as f64,
        };
        plans.sort_by(|a, b| {
            key(a)
                .total_cmp(&key(b))
                .then(a.finish.cmp(&b.finish))
                .then(a.site.cmp(&b.site))
        });
        let at_data = job
            .input
            .and_then(|(s, _)| plans.iter().find(|c| c.site == s).cloned());
        for c in plans {
            match self.book_job(job, &c)? {
                Ok((transfer, reservation)) => {
                    let diff = |a: Option<f64>, b: Option<f64>| a.zip(b).map(|(a, b)| a - b);
                    return Ok(Ok(JobPlan {
                        site: c.site,
                        transfer,
                        transfer_seconds: c.transfer_s,
                        reservation,
                        start: c.start,
                        finish: c.finish,
                        cost: c.cost,
                        carbon_g: c.carbon,
                        saved_cost: at_data.as_ref().and_then(|d| diff(d.cost, c.cost)),
                        saved_carbon_g: at_data.as_ref().and_then(|d| diff(d.carbon, c.carbon)),
                    }));
                }
                Err(reason) => {
                    why.push(format!("{}: {reason}", self.site_info[c.site.index()].name))
                }
            }
        }
        Ok(Err(format!(
            "no site can finish `{}` by {} s: {}",
            job.name,
            job.deadline,
            why.join("; ")
        )))
    }

    /// Books the data transfer (if any) and the compute of one plan, or nothing.
    fn book_job(
        &mut self,
        job: &JobRequest,
        c: &Candidate,
    ) -> Result<Result<(Option<ReservationId>, ReservationId), String>, SchedError> {
        let router = RouterId(self.site_info[c.site.index()].router);
        let transfer = match job.input {
            Some((from, _)) if c.transfer_s > 0 => {
                let from_router = RouterId(self.site_info[from.index()].router);
                let window = (job.release, job.release + c.transfer_s);
                match self.book_bandwidth(
                    &format!("{} input", job.name),
                    from_router,
                    router,
                    job.transfer,
                    window,
                    None,
                    Isolation::Soft,
                )? {
                    Ok(id) => Some(id),
                    Err(reason) => return Ok(Err(format!("cannot move the data: {reason}"))),
                }
            }
            _ => None,
        };
        let request = PlaceRequest {
            name: job.name.clone(),
            ingress: router,
            service: None,
            demand: Some(job.demand),
            processing: job.processing,
            cores: 0,
            memory_mib: 0,
            gpus: Vec::new(),
            bandwidth: Bandwidth::ZERO,
            max_latency: None,
            max_loss: None,
            priority: job.priority,
            slice: None,
            isolation: Isolation::Soft,
            start: c.start,
            end: c.finish,
            objective: Objective::Latency,
        };
        match self.try_place_among(&request, Some(&[c.site]))? {
            Ok(id) => Ok(Ok((transfer, id))),
            Err(refusal) => {
                if let Some(t) = transfer {
                    self.release_bandwidth(t)?;
                }
                Ok(Err(refusal.reason))
            }
        }
    }
}

#[derive(Debug, Clone)]
struct Candidate {
    site: SiteId,
    transfer_s: u64,
    start: u64,
    finish: u64,
    cost: Option<f64>,
    carbon: Option<f64>,
}
