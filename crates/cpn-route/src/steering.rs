//! CATS anycast steering: for every ingress router and service id, the site and path that
//! requests for that service entering there are sent to, kept in a table so that forwarding a
//! request is a lookup, not a search.
//!
//! The table is refreshed incrementally: a link that got worse (down, slower, lossier, less
//! free bandwidth) refreshes only the entries whose path crosses it; a link that got better, or
//! a site that changed, refreshes every entry of the services concerned, since any of them
//! may now prefer it. A refresh moves an entry only when its current choice is no longer
//! feasible, or when the new choice is better by more than the hysteresis margin, so that
//! metric noise does not make decisions oscillate (CATS requirement R9). Flows keep their
//! site (flow affinity) unless their SLA is violated.

use std::collections::HashMap;

use cpn_model::{LinkId, RouterId, ServiceId, SiteId};

use crate::decision::{Decision, Demand, Engine, Objective, Request, SlaBounds};
use crate::path::Path;

/// How much better a new choice must be before an entry moves to it: its score must be below
/// `current × (1 − relative) − absolute`. For the latency objective the score is in µs, so
/// `absolute` is µs; for the others it is in the objective's own unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hysteresis {
    pub relative: f64,
    pub absolute: f64,
}

impl Default for Hysteresis {
    /// 10 % and, for latency, 200 µs: above the jitter of a metro link, below what a user sees.
    fn default() -> Self {
        Hysteresis {
            relative: 0.10,
            absolute: 200.0,
        }
    }
}

/// The current choice for one (ingress, service).
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub site: Option<SiteId>,
    pub path: Option<Path>,
    pub score: f64,
}

/// Decision tables for every ingress and service.
#[derive(Debug, Clone)]
pub struct SteeringTable {
    services: usize,
    ingresses: usize,
    entries: Vec<Entry>,
    /// For each link, the entries whose path crosses it.
    by_link: Vec<Vec<u32>>,
    objective: Objective,
    hysteresis: Hysteresis,
    /// How many entries moved to another site since the table was built.
    pub moves: u64,
}

impl SteeringTable {
    /// Decides every (ingress, service) from scratch.
    pub fn build(
        engine: &mut Engine,
        services: usize,
        objective: Objective,
        hysteresis: Hysteresis,
    ) -> SteeringTable {
        let ingresses = engine.graph().node_count();
        let empty = Entry {
            site: None,
            path: None,
            score: f64::INFINITY,
        };
        let mut table = SteeringTable {
            services,
            ingresses,
            entries: vec![empty; ingresses * services],
            by_link: vec![Vec::new(); engine.graph().link_count()],
            objective,
            hysteresis,
            moves: 0,
        };
        for index in 0..table.entries.len() {
            let decision = table.decide(engine, index);
            table.entries[index] = best_entry(&decision);
        }
        table.reindex(engine);
        table.moves = 0;
        table
    }

    /// Where requests for `service` entering at `ingress` go now.
    pub fn lookup(&self, ingress: RouterId, service: ServiceId) -> Option<&Entry> {
        let index = self.index(ingress.0 as usize, service.index())?;
        self.entries.get(index).filter(|e| e.site.is_some())
    }

    /// After a link changed: `worse` when it went down or lost latency, loss or bandwidth
    /// headroom; otherwise it got better. Returns how many entries moved.
    pub fn on_link_change(&mut self, engine: &mut Engine, link: LinkId, worse: bool) -> usize {
        let affected: Vec<u32> = if worse {
            self.by_link.get(link.index()).cloned().unwrap_or_default()
        } else {
            (0..self.entries.len() as u32).collect()
        };
        self.refresh(engine, &affected)
    }

    /// After a site changed (load, up/down): every entry of the services it runs.
    pub fn on_site_change(&mut self, engine: &mut Engine, site: SiteId) -> usize {
        let services: Vec<usize> = (0..self.services)
            .filter(|&s| {
                engine
                    .service_sites(ServiceId(s as u32))
                    .is_some_and(|sites| sites.contains(&site))
            })
            .collect();
        let affected: Vec<u32> = (0..self.entries.len() as u32)
            .filter(|&i| services.contains(&(i as usize % self.services.max(1))))
            .collect();
        self.refresh(engine, &affected)
    }

    fn refresh(&mut self, engine: &mut Engine, affected: &[u32]) -> usize {
        let mut moved = 0;
        for &index in affected {
            let index = index as usize;
            let decision = self.decide(engine, index);
            let best = best_entry(&decision);
            let current = &self.entries[index];
            // The current site, judged in the same decision under the new state.
            let current_now = current
                .site
                .and_then(|site| decision.candidates.iter().find(|c| c.site == site));
            // Keep the current site while it stays eligible and the best is not better by more
            // than the margin; its path may still change (a link on it went down).
            let kept = current_now.filter(|c| {
                c.rejected.is_none() && {
                    let score = c.score.unwrap_or(f64::INFINITY);
                    best.score >= score - (score * self.hysteresis.relative + self.absolute())
                }
            });
            let next = match kept {
                Some(c) => Entry {
                    site: Some(c.site),
                    path: c.path.clone().or_else(|| engine.path_to_site(c.site)),
                    score: c.score.unwrap_or(f64::INFINITY),
                },
                None => best,
            };
            if next.site != self.entries[index].site {
                moved += 1;
            }
            self.entries[index] = next;
        }
        self.moves += moved as u64;
        self.reindex(engine);
        moved
    }

    fn absolute(&self) -> f64 {
        match self.objective {
            Objective::Latency => self.hysteresis.absolute,
            _ => 0.0,
        }
    }

    fn decide(&self, engine: &mut Engine, index: usize) -> Decision {
        let (ingress, service) = (index / self.services.max(1), index % self.services.max(1));
        let request = Request {
            ingress: RouterId(ingress as u32),
            demand: Demand::Service(ServiceId(service as u32)),
            sla: SlaBounds::default(),
            objective: self.objective,
        };
        // Ingress and service come from the table's own ranges, so the request is valid.
        engine.decide(&request).unwrap_or(Decision {
            chosen: None,
            candidates: Vec::new(),
        })
    }

    fn index(&self, ingress: usize, service: usize) -> Option<usize> {
        (ingress < self.ingresses && service < self.services)
            .then(|| ingress * self.services + service)
    }

    fn reindex(&mut self, engine: &Engine) {
        for list in &mut self.by_link {
            list.clear();
        }
        for (i, e) in self.entries.iter().enumerate() {
            if let Some(path) = &e.path {
                for link in path.links(engine.graph()) {
                    self.by_link[link.index()].push(i as u32);
                }
            }
        }
    }
}

fn best_entry(decision: &Decision) -> Entry {
    match decision.choice() {
        Some(c) => Entry {
            site: Some(c.site),
            path: c.path.clone(),
            score: c.score.unwrap_or(f64::INFINITY),
        },
        None => Entry {
            site: None,
            path: None,
            score: f64::INFINITY,
        },
    }
}

/// A flow's pinned site and path.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowState {
    pub ingress: RouterId,
    pub service: ServiceId,
    pub site: SiteId,
    pub path: Path,
}

/// What steering did with a packet of a flow.
#[derive(Debug, Clone, PartialEq)]
pub enum Steered {
    /// A new flow, sent where the table says.
    New(SiteId),
    /// An existing flow, kept on its site.
    Kept(SiteId),
    /// An existing flow whose SLA its site no longer meets, moved.
    Moved { from: SiteId, to: SiteId },
    /// No site can take the flow.
    Dropped,
}

/// Flow affinity: each flow stays on its site while that site still meets the SLA.
#[derive(Debug, Clone, Default)]
pub struct Flows {
    flows: HashMap<u64, FlowState>,
}

impl Flows {
    pub fn len(&self) -> usize {
        self.flows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.flows.is_empty()
    }

    pub fn get(&self, flow: u64) -> Option<&FlowState> {
        self.flows.get(&flow)
    }

    /// Steers `flow` on a flow event (its first packet, or a periodic or telemetry-triggered
    /// check; packets in between follow the pinned path without a call). An existing flow is
    /// checked against the current state: it keeps its site when a decision for its ingress
    /// and service still finds that site eligible; otherwise it moves to the table's current
    /// choice.
    pub fn steer(
        &mut self,
        flow: u64,
        ingress: RouterId,
        service: ServiceId,
        engine: &mut Engine,
        table: &SteeringTable,
    ) -> Steered {
        let pinned = self
            .flows
            .get(&flow)
            .filter(|f| f.ingress == ingress && f.service == service)
            .map(|f| f.site);
        let Some(site) = pinned else {
            return match table.lookup(ingress, service) {
                Some(Entry {
                    site: Some(site),
                    path: Some(path),
                    ..
                }) => {
                    self.flows.insert(
                        flow,
                        FlowState {
                            ingress,
                            service,
                            site: *site,
                            path: path.clone(),
                        },
                    );
                    Steered::New(*site)
                }
                _ => Steered::Dropped,
            };
        };
        let request = Request {
            ingress,
            demand: Demand::Service(service),
            sla: SlaBounds::default(),
            objective: table.objective,
        };
        let still_ok = engine
            .decide(&request)
            .ok()
            .and_then(|d| d.candidates.into_iter().find(|c| c.site == site))
            .filter(|c| c.rejected.is_none());
        if let Some(c) = still_ok {
            let path = c.path.or_else(|| engine.path_to_site(site));
            if let (Some(path), Some(state)) = (path, self.flows.get_mut(&flow)) {
                state.path = path;
            }
            return Steered::Kept(site);
        }
        match table.lookup(ingress, service) {
            Some(Entry {
                site: Some(to),
                path: Some(path),
                ..
            }) => {
                self.flows.insert(
                    flow,
                    FlowState {
                        ingress,
                        service,
                        site: *to,
                        path: path.clone(),
                    },
                );
                Steered::Moved {
                    from: site,
                    to: *to,
                }
            }
            _ => {
                self.flows.remove(&flow);
                Steered::Dropped
            }
        }
    }

    /// Forgets a flow that ended.
    pub fn end(&mut self, flow: u64) {
        self.flows.remove(&flow);
    }
}
