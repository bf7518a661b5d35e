//! Data-driven conformance of the joint decision. Each `decisions/<case>.toml` is a scenario
//! whose leading comment block holds the request, one `# key = value` per line:
//!
//! ```text
//! # from = beijing                 ingress router
//! # service = render               or: demand = 20 TFLOPS, processing = 4 ms
//! # max_latency = 20 ms            optional SLA bounds
//! # min_bandwidth = 1 Gbps
//! # max_loss = 0.1%
//! # objective = latency            latency | cost | carbon | load | balanced
//! # down = a-b                     state before deciding: a link down (repeatable)
//! # free = a-b 500 Mbps            a link's free bandwidth
//! # used = site 10 PFLOPS          compute in use at a site
//! # site_down = site
//! ```
//!
//! The decision's report is compared with `<case>.json` (`CPN_UPDATE_EXPECT=1` rewrites it).

use std::path::Path;

use cpn_model::{NoImports, Scenario};
use cpn_route::{Demand, Engine, Objective, Report, Request, SlaBounds};
use cpn_testdata::{check_expect, files_with_extension};
use cpn_units::{Bandwidth, Flops, Nanos, Ratio};

fn run_case(file: &Path) -> String {
    let text = std::fs::read_to_string(file).expect("case readable");
    let scenario = Scenario::parse(&file.display().to_string(), &text, &mut NoImports)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut engine = Engine::new(&scenario);
    let mut request = Request {
        ingress: cpn_model::RouterId(0),
        demand: Demand::Raw {
            demand: Flops::fp64(0),
            processing: Nanos::ZERO,
        },
        sla: SlaBounds::default(),
        objective: Objective::Latency,
    };
    let (mut demand, mut processing) = (None, Nanos::ZERO);
    for line in text.lines().take_while(|l| l.starts_with('#')) {
        let Some((key, value)) = line.trim_start_matches('#').split_once('=') else {
            continue;
        };
        let (key, value) = (key.trim(), value.trim());
        let link = |name: &str| {
            scenario
                .links
                .iter()
                .find(|l| l.name == name)
                .unwrap_or_else(|| panic!("no link {name}"))
                .id
        };
        let site = |name: &str| {
            scenario
                .site(name)
                .unwrap_or_else(|| panic!("no site {name}"))
                .id
        };
        match key {
            "from" => request.ingress = scenario.router(value).expect("ingress router").id,
            "service" => {
                request.demand = Demand::Service(scenario.service(value).expect("service").id)
            }
            "demand" => demand = Some(value.parse::<Flops>().expect("demand")),
            "processing" => processing = value.parse().expect("processing"),
            "max_latency" => request.sla.max_latency = Some(value.parse().expect("latency")),
            "min_bandwidth" => {
                request.sla.min_bandwidth = value.parse::<Bandwidth>().expect("bandwidth")
            }
            "max_loss" => request.sla.max_loss = Some(value.parse::<Ratio>().expect("loss")),
            "objective" => {
                request.objective = match value {
                    "latency" => Objective::Latency,
                    "cost" => Objective::Cost,
                    "carbon" => Objective::Carbon,
                    "load" => Objective::Load,
                    "balanced" => Objective::BALANCED,
                    other => panic!("objective {other}"),
                }
            }
            "down" => engine.graph_mut().set_up(link(value), false),
            "free" => {
                let (name, bw) = value.split_once(' ').expect("free = LINK RATE");
                engine
                    .graph_mut()
                    .set_available(link(name), bw.parse().expect("rate"));
            }
            "used" => {
                let (name, q) = value.split_once(' ').expect("used = SITE FLOPS");
                engine.set_site_used(site(name), q.parse::<Flops>().expect("flops").per_second);
            }
            "site_down" => engine.set_site_up(site(value), false),
            _ => {}
        }
    }
    if let Some(demand) = demand {
        request.demand = Demand::Raw { demand, processing };
    }
    let decision = engine.decide(&request).expect("valid request");
    let steering = cpn_route::steering(
        &decision,
        &scenario,
        engine.graph(),
        cpn_route::srv6::RAW_DEMAND_PREFIX,
        cpn_route::srv6::Mode::Loose,
        8,
        "cpn0",
    )
    .expect("steerable");
    let report = Report::new(
        &decision,
        request.objective,
        &scenario,
        engine.graph(),
        steering.as_ref().map(|(l, c)| (l, c.clone())),
    );
    serde_json::to_string_pretty(&report).expect("JSON") + "\n"
}

#[test]
fn decisions_match_their_expected_reports() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/decisions");
    let files = files_with_extension(&dir, "toml");
    assert!(!files.is_empty());
    for file in files {
        check_expect(&file.with_extension("json"), &run_case(&file));
    }
}
