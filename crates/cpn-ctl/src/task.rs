//! Tasks: work that a tenant submits with a placement, that the controller places on a site
//! with a live agent, assigns to that agent, and that the agent runs and reports on (start,
//! exit status, CPU-seconds, wall time: the metering trading settles on). A task whose site
//! fails moves with its reservation and is assigned again at the new site.
//!
//! Every change of a task is a logged command (submission with the sites that had live agents,
//! assignment, report), so a replay rebuilds the tasks exactly.

use cpn_api::{HeartbeatReply, Role, TaskAssignment, TaskReport, TaskState, TaskSubmit, TaskView};
use cpn_sched::{Recovery, ReservationId};
use cpn_units::Nanos;

use crate::controller::{ADMIN_TENANT, Applied, Controller, Principal, json};
use crate::event::{Action, ApiError, Reply};
use crate::log::Command;

/// The most arguments, and the longest argument, a task's command may have.
const MAX_ARGS: usize = 256;
const MAX_ARG_LEN: usize = 4_096;

/// A task and where it is.
#[derive(Debug, Clone)]
pub(crate) struct Task {
    owner: String,
    submit: TaskSubmit,
    state: TaskState,
    site: Option<String>,
    reservation: Option<u64>,
    agent: Option<String>,
    attempts: u32,
    report: Option<TaskReport>,
    reason: Option<String>,
}

impl Task {
    fn view(&self) -> TaskView {
        TaskView {
            id: self.submit.request.id.clone(),
            tenant: self.owner.clone(),
            state: self.state,
            command: self.submit.command.clone(),
            limits: self.submit.limits,
            site: self.site.clone(),
            reservation: self.reservation,
            agent: self.agent.clone(),
            attempts: self.attempts,
            report: self.report.clone(),
            reason: self.reason.clone(),
        }
    }

    fn active(&self) -> bool {
        matches!(self.state, TaskState::Assigned | TaskState::Running)
    }
}

impl Controller {
    /// `POST /api/v1/tasks`: checks, resolves the window, notes which sites have a live agent
    /// now, then places and assigns through logged commands.
    pub(crate) fn submit_task(
        &mut self,
        now: Nanos,
        p: &Principal,
        submit: TaskSubmit,
        out: &mut Vec<Action>,
    ) -> Result<Reply, ApiError> {
        let id = submit.request.id.clone();
        if self.tasks.contains_key(&id) {
            return Err(ApiError::conflict(format!("task `{id}` exists")));
        }
        if submit.command.is_empty() {
            return Err(ApiError::bad(
                "command: expected the program and its arguments",
            ));
        }
        if submit.command.len() > MAX_ARGS
            || submit
                .command
                .iter()
                .any(|a| a.len() > MAX_ARG_LEN || a.contains('\0'))
        {
            return Err(ApiError::bad(format!(
                "command: at most {MAX_ARGS} arguments of at most {MAX_ARG_LEN} bytes, without NUL"
            )));
        }
        let place = cpn_api::to_place(
            &submit.request,
            &self.scenario,
            now.0 / 1_000_000_000,
            p.scope(),
        )
        .map_err(|e| ApiError::of_field("request: ", &e))?;
        let mut task = submit;
        task.request.start = Some(place.start);
        task.request.end = (place.end != u64::MAX).then_some(place.end);
        task.request.duration = None;
        let sites = self.live_sites();
        let tenant = p.scope().map(str::to_string);
        self.command(now, tenant, Command::Task { task, sites }, out)?;
        self.assign_pending(now, out);
        let view = self
            .tasks
            .get(&id)
            .map(Task::view)
            .ok_or_else(|| ApiError::new(500, "internal", "the task vanished"))?;
        Ok(json(201, &view))
    }

    /// Applies a submission: the placement among `sites`, all logged.
    pub(crate) fn apply_task(
        &mut self,
        now: Nanos,
        tenant: Option<&str>,
        submit: &TaskSubmit,
        sites: &[String],
    ) -> Result<Applied, ApiError> {
        let place = cpn_api::to_place(
            &submit.request,
            &self.scenario,
            now.0 / 1_000_000_000,
            tenant,
        )
        .map_err(|e| ApiError::bad(format!("request: {e}")))?;
        let ids: Vec<_> = sites
            .iter()
            .filter_map(|name| self.scenario.site(name).map(|s| s.id))
            .collect();
        let owner = tenant.unwrap_or(ADMIN_TENANT).to_string();
        let mut task = Task {
            owner: owner.clone(),
            submit: submit.clone(),
            state: TaskState::Refused,
            site: None,
            reservation: None,
            agent: None,
            attempts: 0,
            report: None,
            reason: None,
        };
        if ids.is_empty() {
            task.reason = Some("no site has a live agent to run it".into());
        } else {
            match self
                .sched
                .place_among(&place, &ids)
                .map_err(|e| ApiError::bad(e.to_string()))?
            {
                Ok(id) => {
                    let site = self
                        .sched
                        .reservation(id)
                        .map(|r| self.scenario.sites[r.site.index()].name.clone());
                    self.owners.insert(id.0, owner);
                    self.maybe_assignable = true;
                    task.state = TaskState::Placed;
                    task.site = site;
                    task.reservation = Some(id.0);
                }
                Err(refusal) => task.reason = Some(refusal.reason),
            }
        }
        self.stats.placements += 1;
        let view = task.view();
        self.tasks.insert(view.id.clone(), task);
        Ok(Applied::Task(view))
    }

    /// The sites that work now and have a live agent, by name.
    fn live_sites(&self) -> Vec<String> {
        let mut sites: Vec<String> = self
            .scenario
            .sites
            .iter()
            .filter(|s| self.site_up[s.id.index()] && self.agents_alive_at(&s.name) > 0)
            .map(|s| s.name.clone())
            .collect();
        sites.sort();
        sites
    }

    /// Gives every placed task to a live agent at its site: the one with the fewest active
    /// tasks, then by name. A task whose site has no live agent (its agent died, or a failure
    /// moved it to a site without one) is placed again among the sites that have one.
    pub(crate) fn assign_pending(&mut self, now: Nanos, out: &mut Vec<Action>) {
        let stranded: Vec<String> = self
            .tasks
            .iter()
            .filter(|(_, t)| t.state == TaskState::Placed)
            .filter(|(_, t)| {
                t.site
                    .as_deref()
                    .is_none_or(|s| self.agents_alive_at(s) == 0)
            })
            .map(|(id, _)| id.clone())
            .collect();
        if !stranded.is_empty() {
            let sites = self.live_sites();
            if !sites.is_empty() {
                for task in stranded {
                    let sites = sites.clone();
                    let _ = self.command(now, None, Command::Replace { task, sites }, out);
                }
            }
        }
        let waiting: Vec<(String, String)> = self
            .tasks
            .iter()
            .filter(|(_, t)| t.state == TaskState::Placed)
            .filter_map(|(id, t)| t.site.clone().map(|s| (id.clone(), s)))
            .collect();
        for (task, site) in waiting {
            let busy = |agent: &str| {
                self.tasks
                    .values()
                    .filter(|t| t.active() && t.agent.as_deref() == Some(agent))
                    .count()
            };
            let chosen = self
                .agents
                .values()
                .filter(|a| a.site == site && self.is_alive(&a.id))
                .map(|a| (busy(&a.id), a.id.clone()))
                .min();
            if let Some((_, agent)) = chosen {
                let _ = self.command(now, None, Command::Assign { task, agent }, out);
            }
        }
    }

    /// Places a stranded task again among `sites`, then gives back its old reservation; when
    /// none of them can take it, it keeps waiting where it is.
    pub(crate) fn apply_replace(
        &mut self,
        now: Nanos,
        task: &str,
        sites: &[String],
    ) -> Result<Applied, ApiError> {
        let t = self
            .tasks
            .get(task)
            .ok_or_else(|| ApiError::not_found(format!("no task `{task}`")))?;
        let (owner, old) = (t.owner.clone(), t.reservation);
        // The window starts now: the old one may have begun long ago.
        let mut request = t.submit.request.clone();
        let now_s = now.0 / 1_000_000_000;
        if let (Some(start), Some(end)) = (request.start, request.end) {
            request.end = Some(now_s.max(start) + (end - start));
        }
        request.start = Some(now_s);
        let scope = (owner != ADMIN_TENANT).then_some(owner.as_str());
        let place = cpn_api::to_place(&request, &self.scenario, now_s, scope)
            .map_err(|e| ApiError::bad(format!("request: {e}")))?;
        let ids: Vec<_> = sites
            .iter()
            .filter_map(|name| self.scenario.site(name).map(|s| s.id))
            .collect();
        let outcome = self
            .sched
            .place_among(&place, &ids)
            .map_err(|e| ApiError::bad(e.to_string()))?;
        let placed = match &outcome {
            Ok(id) => self
                .sched
                .reservation(*id)
                .map(|r| (id.0, self.scenario.sites[r.site.index()].name.clone())),
            Err(_) => None,
        };
        if placed.is_some()
            && let Some(id) = old
            && self.sched.reservation(ReservationId(id)).is_some()
        {
            self.sched
                .release(ReservationId(id))
                .map_err(|e| ApiError::bad(e.to_string()))?;
            self.owners.remove(&id);
        }
        if let Some((id, _)) = &placed {
            self.owners.insert(*id, owner);
        }
        let t = self
            .tasks
            .get_mut(task)
            .ok_or_else(|| ApiError::not_found(format!("no task `{task}`")))?;
        match (placed, outcome) {
            (Some((id, site)), _) => {
                t.reservation = Some(id);
                t.site = Some(site);
                t.agent = None;
                t.state = TaskState::Placed;
                t.reason = None;
                self.maybe_assignable = true;
            }
            (None, Err(refusal)) => {
                t.reason = Some(format!(
                    "waiting for an agent at its site: no site with a live agent can take it ({})",
                    refusal.reason
                ));
            }
            (None, Ok(_)) => return Err(ApiError::new(500, "internal", "a placement vanished")),
        }
        Ok(Applied::TaskChanged(t.view()))
    }

    pub(crate) fn has_active_tasks(&self, agent: &str) -> bool {
        self.tasks
            .values()
            .any(|t| t.active() && t.agent.as_deref() == Some(agent))
    }

    /// An agent died: its tasks wait for another agent (at their site, or placed again).
    pub(crate) fn apply_unassign(&mut self, agent: &str) -> Applied {
        let mut moved = Vec::new();
        for t in self.tasks.values_mut() {
            if t.active() && t.agent.as_deref() == Some(agent) {
                t.agent = None;
                t.state = TaskState::Placed;
                moved.push(t.submit.request.id.clone());
            }
        }
        self.maybe_assignable = true;
        Applied::Unassigned(moved)
    }

    pub(crate) fn apply_assign(&mut self, task: &str, agent: &str) -> Result<Applied, ApiError> {
        let t = self
            .tasks
            .get_mut(task)
            .ok_or_else(|| ApiError::not_found(format!("no task `{task}`")))?;
        t.agent = Some(agent.to_string());
        t.state = TaskState::Assigned;
        t.attempts += 1;
        Ok(Applied::TaskChanged(t.view()))
    }

    /// What a heartbeat's reply carries: the agent's assigned, unstarted tasks.
    pub(crate) fn assignments(&self, agent: &str) -> HeartbeatReply {
        HeartbeatReply {
            tasks: self
                .tasks
                .values()
                .filter(|t| t.state == TaskState::Assigned && t.agent.as_deref() == Some(agent))
                .map(|t| TaskAssignment {
                    id: t.submit.request.id.clone(),
                    command: t.submit.command.clone(),
                    limits: t.submit.limits,
                    attempt: t.attempts,
                })
                .collect(),
        }
    }

    /// `POST /api/v1/tasks/{id}/report`, from the agent the task is assigned to.
    pub(crate) fn report_task(
        &mut self,
        now: Nanos,
        p: &Principal,
        task: String,
        report: TaskReport,
        out: &mut Vec<Action>,
    ) -> Result<Reply, ApiError> {
        if p.role == Role::Tenant {
            return Err(ApiError::forbidden("reports need an agent or admin token"));
        }
        let agent = self
            .agents
            .get(&report.agent)
            .ok_or_else(|| ApiError::not_found(format!("agent: no agent `{}`", report.agent)))?;
        if p.role != Role::Admin && agent.tenant != p.tenant {
            return Err(ApiError::forbidden(format!(
                "agent `{}` is not yours",
                report.agent
            )));
        }
        let t = self
            .tasks
            .get(&task)
            .ok_or_else(|| ApiError::not_found(format!("no task `{task}`")))?;
        if t.agent.as_deref() != Some(report.agent.as_str()) {
            return Err(ApiError::conflict(format!(
                "task `{task}` is not assigned to agent `{}`",
                report.agent
            )));
        }
        let allowed = matches!(
            (t.state, report.state),
            (TaskState::Assigned, TaskState::Running)
                | (
                    TaskState::Assigned | TaskState::Running,
                    TaskState::Exited | TaskState::Failed
                )
        );
        if !allowed {
            return Err(ApiError::conflict(format!(
                "task `{task}` is {:?}; a `{:?}` report does not follow",
                t.state, report.state
            )));
        }
        let applied = self.command(now, None, Command::TaskReport { task, report }, out)?;
        match applied {
            Applied::TaskChanged(view) => Ok(json(200, &view)),
            _ => Err(ApiError::new(500, "internal", "a report gave no task")),
        }
    }

    /// Applies a report; a task that ended gives back its reservation.
    pub(crate) fn apply_report(
        &mut self,
        task: &str,
        report: &TaskReport,
    ) -> Result<Applied, ApiError> {
        let t = self
            .tasks
            .get_mut(task)
            .ok_or_else(|| ApiError::not_found(format!("no task `{task}`")))?;
        t.state = report.state;
        t.report = Some(report.clone());
        let ended = matches!(report.state, TaskState::Exited | TaskState::Failed);
        let view = t.view();
        if ended
            && let Some(id) = view.reservation
            && self.sched.reservation(ReservationId(id)).is_some()
        {
            self.sched
                .release(ReservationId(id))
                .map_err(|e| ApiError::bad(e.to_string()))?;
            self.owners.remove(&id);
            self.stats.releases += 1;
        }
        Ok(Applied::TaskChanged(view))
    }

    /// Tasks follow their reservations through failures: a reservation moved to another site
    /// takes its task there, to be assigned again; one lost leaves its task refused.
    pub(crate) fn tasks_follow(&mut self, recoveries: &[(Recovery, String)]) {
        for (r, _) in recoveries {
            let (old, new, moved_to, reason) = match r {
                Recovery::Rerouted { old, new, .. } => (old.0, Some(new.0), None, None),
                Recovery::Moved { old, new, to, .. } => (old.0, Some(new.0), Some(*to), None),
                Recovery::Lost { old, reason, .. } => (old.0, None, None, Some(reason.clone())),
            };
            let site_name = moved_to.map(|s| self.scenario.sites[s.index()].name.clone());
            for t in self.tasks.values_mut() {
                if t.reservation != Some(old)
                    || !matches!(
                        t.state,
                        TaskState::Placed | TaskState::Assigned | TaskState::Running
                    )
                {
                    continue;
                }
                t.reservation = new;
                if let Some(site) = &site_name {
                    t.site = Some(site.clone());
                    t.agent = None;
                    t.state = TaskState::Placed;
                    self.maybe_assignable = true;
                }
                if let Some(reason) = &reason {
                    t.state = TaskState::Refused;
                    t.agent = None;
                    t.reason = Some(format!(
                        "its site failed and no other could take it: {reason}"
                    ));
                }
            }
        }
    }

    pub(crate) fn task_views(&self, p: &Principal) -> Vec<TaskView> {
        self.tasks
            .values()
            .filter(|t| p.role == Role::Admin || t.owner == p.tenant || self.runs_for(p, t))
            .map(Task::view)
            .collect()
    }

    pub(crate) fn task_view(&self, p: &Principal, id: &str) -> Result<TaskView, ApiError> {
        let t = self
            .tasks
            .get(id)
            .ok_or_else(|| ApiError::not_found(format!("no task `{id}`")))?;
        if p.role == Role::Admin || t.owner == p.tenant || self.runs_for(p, t) {
            Ok(t.view())
        } else {
            Err(ApiError::forbidden(format!(
                "task `{id}` belongs to another tenant"
            )))
        }
    }

    /// Whether the caller is an agent token of the tenant whose agent runs the task.
    fn runs_for(&self, p: &Principal, t: &Task) -> bool {
        p.role == Role::Agent
            && t.agent
                .as_ref()
                .and_then(|a| self.agents.get(a))
                .is_some_and(|a| a.tenant == p.tenant)
    }
}
