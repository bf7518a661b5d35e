//! The exact placement: the MILP of `docs/placement.md` through `good_lp`, one binary per
//! (request, site) pair within the bound. By default the pure-Rust microlp solves it, which
//! is fine for the small instances the tests compare against; the `highs` feature uses HiGHS
//! (C++), which solves larger ones. Used to measure the heuristic, never on the decision path.

use good_lp::{Expression, ProblemVariables, Solution, SolverModel, Variable, variable};

use super::{Instance, Placement};

/// Why the exact solver gave no placement.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExactError {
    #[error("the exact solver failed on a {requests} x {sites} instance: {message}")]
    Solver {
        requests: usize,
        sites: usize,
        message: String,
    },
}

/// An optimal placement and its objective.
pub fn solve_exact(instance: &Instance) -> Result<(Placement, f64), ExactError> {
    let mut vars = ProblemVariables::new();
    let x: Vec<Variable> = instance
        .pairs
        .iter()
        .map(|_| vars.add(variable().binary()))
        .collect();
    let objective: Expression = instance
        .pairs
        .iter()
        .zip(&x)
        .map(|(p, &v)| p.value() * v)
        .sum();
    let mut per_request: Vec<Expression> = vec![Expression::default(); instance.requests.len()];
    let mut per_site: Vec<Expression> = vec![Expression::default(); instance.site_capacity.len()];
    let mut per_link: Vec<Expression> = vec![Expression::default(); instance.link_capacity.len()];
    let mut site_used = vec![false; per_site.len()];
    let mut link_used = vec![false; per_link.len()];
    for (p, &v) in instance.pairs.iter().zip(&x) {
        let r = &instance.requests[p.request as usize];
        per_request[p.request as usize] += v;
        per_site[p.site as usize] += r.demand_tflops as f64 * v;
        site_used[p.site as usize] = true;
        for &l in &p.links {
            per_link[l as usize] += r.bandwidth_mbps as f64 * v;
            link_used[l as usize] = true;
        }
    }
    let mut model = solver(vars.maximise(objective));
    for e in per_request {
        model.add_constraint(e.leq(1.0));
    }
    for ((e, &cap), used) in per_site
        .into_iter()
        .zip(&instance.site_capacity)
        .zip(site_used)
    {
        if used {
            model.add_constraint(e.leq(cap as f64));
        }
    }
    for ((e, &cap), used) in per_link
        .into_iter()
        .zip(&instance.link_capacity)
        .zip(link_used)
    {
        if used {
            model.add_constraint(e.leq(cap as f64));
        }
    }
    let solution = model.solve().map_err(|e| ExactError::Solver {
        requests: instance.requests.len(),
        sites: instance.site_capacity.len(),
        message: e.to_string(),
    })?;
    let mut placement = Placement::empty(instance.requests.len());
    for (p, &v) in instance.pairs.iter().zip(&x) {
        // Binaries come back as floats; anything near 1 is chosen.
        if solution.value(v) > 0.5 {
            placement.assignment[p.request as usize] = Some(p.site as usize);
        }
    }
    let value = super::objective(instance, &placement);
    Ok((placement, value))
}

#[cfg(not(feature = "highs"))]
fn solver(problem: good_lp::variable::UnsolvedProblem) -> impl SolverModel {
    problem.using(good_lp::microlp)
}

#[cfg(feature = "highs")]
fn solver(problem: good_lp::variable::UnsolvedProblem) -> impl SolverModel {
    problem.using(good_lp::highs)
}
