//! CATS steering tables: incremental refresh, hysteresis and flow affinity.

use cpn_model::{NoImports, Scenario};
use cpn_route::{Engine, Flows, Hysteresis, Objective, Steered, SteeringTable};
use cpn_units::Nanos;

/// An ingress `a` and two sites: `x` behind a 1 ms link, `y` behind a 3 ms link.
const NET: &str = r#"
[[router]]
id = "a"
[[router]]
id = "bx"
[[router]]
id = "by"
[[link]]
a = "a"
b = "bx"
bandwidth = "10 Gbps"
latency = "1 ms"
[[link]]
a = "a"
b = "by"
bandwidth = "10 Gbps"
latency = "3 ms"
[[site]]
id = "x"
router = "bx"
tier = "edge"
compute = "1 PFLOPS"
[[site]]
id = "y"
router = "by"
tier = "edge"
compute = "1 PFLOPS"
[[service]]
id = "svc"
demand = "1 TFLOPS"
processing = "1 ms"
sites = ["x", "y"]
"#;

fn setup() -> (Scenario, Engine, SteeringTable) {
    let scenario = Scenario::parse("net", NET, &mut NoImports).expect("valid");
    let mut engine = Engine::new(&scenario);
    let table = SteeringTable::build(
        &mut engine,
        scenario.services.len(),
        Objective::Latency,
        Hysteresis::default(),
    );
    (scenario, engine, table)
}

fn site_of(table: &SteeringTable, scenario: &Scenario) -> Option<String> {
    let e = table.lookup(
        scenario.router("a").expect("a").id,
        scenario.service("svc").expect("svc").id,
    )?;
    e.site.map(|s| scenario.sites[s.index()].name.clone())
}

#[test]
fn the_table_starts_from_the_best_decision() {
    let (scenario, _, table) = setup();
    assert_eq!(site_of(&table, &scenario).as_deref(), Some("x"));
}

#[test]
fn noise_below_the_margin_does_not_move_an_entry() {
    let (scenario, mut engine, mut table) = setup();
    let to_y = scenario
        .links
        .iter()
        .find(|l| l.name == "a-by")
        .expect("link")
        .id;
    let to_x = scenario
        .links
        .iter()
        .find(|l| l.name == "a-bx")
        .expect("link")
        .id;
    // x: rtt 2 ms + 1 ms = 3 ms. Make x slightly worse (3.2 ms) and y slightly better
    // (3.1 ms): y wins a fresh decision by 100 µs, less than 10% + 200 µs of 3.2 ms.
    engine
        .graph_mut()
        .set_latency(to_x, Nanos::from_micros(1_100));
    engine
        .graph_mut()
        .set_latency(to_y, Nanos::from_micros(1_050));
    assert_eq!(table.on_link_change(&mut engine, to_x, true), 0);
    assert_eq!(table.on_link_change(&mut engine, to_y, false), 0);
    assert_eq!(site_of(&table, &scenario).as_deref(), Some("x"));
    // A real change moves it: y now 1.2 ms rtt + 1 ms against x's 3.2 ms.
    engine
        .graph_mut()
        .set_latency(to_y, Nanos::from_micros(100));
    assert_eq!(table.on_link_change(&mut engine, to_y, false), 1);
    assert_eq!(site_of(&table, &scenario).as_deref(), Some("y"));
    assert_eq!(table.moves, 1);
}

#[test]
fn a_failed_link_refreshes_the_entries_that_cross_it() {
    let (scenario, mut engine, mut table) = setup();
    let to_x = scenario
        .links
        .iter()
        .find(|l| l.name == "a-bx")
        .expect("link")
        .id;
    engine.graph_mut().set_up(to_x, false);
    assert_eq!(table.on_link_change(&mut engine, to_x, true), 1);
    assert_eq!(site_of(&table, &scenario).as_deref(), Some("y"));
    // Other links' failures touch nothing: no entry crosses a-bx any more.
    assert_eq!(table.on_link_change(&mut engine, to_x, true), 0);
}

#[test]
fn flows_keep_their_site_until_its_sla_fails() {
    let (scenario, mut engine, mut table) = setup();
    let (a, svc) = (
        scenario.router("a").expect("a").id,
        scenario.service("svc").expect("svc").id,
    );
    let (x, y) = (
        scenario.site("x").expect("x").id,
        scenario.site("y").expect("y").id,
    );
    let mut flows = Flows::default();
    assert_eq!(flows.steer(7, a, svc, &mut engine, &table), Steered::New(x));
    // The table moves to y (x got much slower), but flow 7 stays on x: x still serves it.
    let to_x = scenario
        .links
        .iter()
        .find(|l| l.name == "a-bx")
        .expect("link")
        .id;
    engine.graph_mut().set_latency(to_x, Nanos::from_millis(10));
    table.on_link_change(&mut engine, to_x, true);
    assert_eq!(
        flows.steer(7, a, svc, &mut engine, &table),
        Steered::Kept(x)
    );
    assert_eq!(flows.steer(8, a, svc, &mut engine, &table), Steered::New(y));
    // x goes down: flow 7 moves.
    engine.set_site_up(x, false);
    table.on_site_change(&mut engine, x);
    assert_eq!(
        flows.steer(7, a, svc, &mut engine, &table),
        Steered::Moved { from: x, to: y }
    );
    assert_eq!(flows.get(7).map(|f| f.site), Some(y));
}
