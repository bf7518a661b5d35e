//! The scheduler's conformance cases: bandwidth on demand for a window, slice isolation,
//! preemption, a link failure re-routed onto a backup path, and a delay-tolerant job sent west
//! with its saving reported.

use cpn_model::{LinkId, NoImports, RouterId, Scenario, SliceId};
use cpn_route::Objective;
use cpn_sched::{Isolation, PlaceRequest, Placed, Recovery, Scheduler};
use cpn_units::{Bandwidth, Flops, Nanos, Ratio};

const HOUR: u64 = 3_600;

fn request(name: &str, ingress: RouterId, tflops: u128) -> PlaceRequest {
    PlaceRequest {
        name: name.to_string(),
        ingress,
        service: None,
        demand: Some(Flops::fp64(tflops * 1_000_000_000_000)),
        processing: Nanos::from_millis(1),
        cores: 0,
        memory_mib: 0,
        gpus: Vec::new(),
        bandwidth: Bandwidth::ZERO,
        max_latency: None,
        max_loss: None,
        priority: 0,
        slice: None,
        isolation: Isolation::Soft,
        start: 0,
        end: HOUR,
        objective: Objective::Latency,
    }
}

fn national() -> Scenario {
    cpn_model::built_in("national")
        .expect("built in")
        .expect("valid")
}

#[test]
fn bandwidth_on_demand_for_a_window() {
    let scenario = national();
    let mut s = Scheduler::new(&scenario);
    let (beijing, guiyang) = (
        scenario.router("beijing").expect("r").id,
        scenario.router("guiyang").expect("r").id,
    );
    // "20 Gbps from Beijing to Guiyang, 02:00 to 06:00"
    let id = s
        .book_bandwidth(
            "bod",
            beijing,
            guiyang,
            Bandwidth::from_gbps(20),
            (2 * HOUR, 6 * HOUR),
            None,
            Isolation::Soft,
        )
        .expect("valid")
        .expect("booked");
    let circuit = s.circuit(id).expect("kept").clone();
    assert_eq!(circuit.path.source(), beijing.0);
    assert_eq!(circuit.path.target(), guiyang.0);
    let first = circuit.links[0];
    let cal = s.link_calendar(first);
    assert_eq!(
        cal.traffic_at(None, 2 * HOUR - 1),
        0,
        "nothing before 02:00"
    );
    assert_eq!(cal.traffic_at(None, 2 * HOUR), 20_000_000_000);
    assert_eq!(cal.traffic_at(None, 6 * HOUR - 1), 20_000_000_000);
    assert_eq!(
        cal.traffic_at(None, 6 * HOUR),
        0,
        "released at 06:00 by itself"
    );
    // The rest of the link is still bookable in the window, and all of it afterwards.
    let capacity = cal.capacity();
    let rest = Bandwidth(capacity - 20_000_000_000);
    let fill = s
        .book_bandwidth(
            "fill",
            beijing,
            guiyang,
            rest,
            (2 * HOUR, 6 * HOUR),
            None,
            Isolation::Soft,
        )
        .expect("valid");
    let fill = fill.expect("the rest fits");
    assert_eq!(
        s.circuit(fill).map(|c| c.links[0]),
        Some(first),
        "the same fastest path"
    );
    assert_eq!(s.link_calendar(first).traffic_at(None, 3 * HOUR), capacity);
    // Released early, the 20 Gbps are free again in the window.
    s.release_bandwidth(id).expect("known");
    assert_eq!(s.link_calendar(first).traffic_at(None, 3 * HOUR), rest.0);
}

/// Two routers, one 1 Gbps link, one site behind it.
fn pair() -> Scenario {
    let text = r#"
[[router]]
id = "a"
[[router]]
id = "b"
[[link]]
a = "a"
b = "b"
bandwidth = "1 Gbps"
latency = "1 ms"
[[site]]
id = "dc"
router = "b"
tier = "edge"
compute = "100 TFLOPS"
"#;
    Scenario::parse("pair", text, &mut NoImports).expect("valid")
}

#[test]
fn slices_are_isolated() {
    let scenario = pair();
    let mut s = Scheduler::new(&scenario);
    let (a, b, link) = (RouterId(0), RouterId(1), LinkId(0));
    let (gold, silver) = (SliceId(0), SliceId(1));
    s.set_slice(gold, &[link], Bandwidth::from_mbps(600), 0, HOUR)
        .expect("room for gold");
    // A second guarantee that would exceed the capacity is refused.
    assert!(
        s.set_slice(silver, &[link], Bandwidth::from_mbps(500), 0, HOUR)
            .is_err()
    );
    s.set_slice(silver, &[link], Bandwidth::from_mbps(300), 0, HOUR)
        .expect("room for silver");
    // Best effort gets only what no guarantee holds: 100 Mbps.
    let win = (0, HOUR);
    assert!(
        s.book_bandwidth(
            "be",
            a,
            b,
            Bandwidth::from_mbps(200),
            win,
            None,
            Isolation::Soft
        )
        .expect("valid")
        .is_err()
    );
    assert!(
        s.book_bandwidth(
            "be",
            a,
            b,
            Bandwidth::from_mbps(100),
            win,
            None,
            Isolation::Soft
        )
        .expect("valid")
        .is_ok()
    );
    // Silver cannot use gold's guarantee: hard traffic beyond its own 300 Mbps is refused.
    assert!(
        s.book_bandwidth(
            "s",
            a,
            b,
            Bandwidth::from_mbps(400),
            win,
            Some(silver),
            Isolation::Hard
        )
        .expect("valid")
        .is_err()
    );
    assert!(
        s.book_bandwidth(
            "s",
            a,
            b,
            Bandwidth::from_mbps(300),
            win,
            Some(silver),
            Isolation::Hard
        )
        .expect("valid")
        .is_ok()
    );
    // Gold has all of its guarantee, and no more.
    assert!(
        s.book_bandwidth(
            "g",
            a,
            b,
            Bandwidth::from_mbps(600),
            win,
            Some(gold),
            Isolation::Hard
        )
        .expect("valid")
        .is_ok()
    );
    assert!(
        s.book_bandwidth(
            "g2",
            a,
            b,
            Bandwidth::from_mbps(1),
            win,
            Some(gold),
            Isolation::Hard
        )
        .expect("valid")
        .is_err()
    );
    // A placement in gold with its guarantee used up is refused, with the reason.
    let mut q = request("in-gold", a, 1);
    q.bandwidth = Bandwidth::from_mbps(10);
    q.slice = Some(gold);
    q.isolation = Isolation::Hard;
    match s.place(q).expect("valid") {
        Placed::Refused(r) => assert!(
            r.reason.contains("no path with 10 Mbps free"),
            "{}",
            r.reason
        ),
        other => panic!("placed {other:?}"),
    }
}

/// An ingress with a small site next to it and a larger one two hops away.
fn two_sites() -> Scenario {
    let text = r#"
[[router]]
id = "a"
[[router]]
id = "b"
[[router]]
id = "c"
[[link]]
a = "a"
b = "b"
bandwidth = "10 Gbps"
latency = "1 ms"
[[link]]
a = "b"
b = "c"
bandwidth = "10 Gbps"
latency = "1 ms"
[[link]]
a = "a"
b = "c"
bandwidth = "10 Gbps"
latency = "5 ms"
[[site]]
id = "near"
router = "b"
tier = "edge"
compute = "10 TFLOPS"
[[site]]
id = "far"
router = "c"
tier = "cloud"
compute = "100 TFLOPS"
"#;
    Scenario::parse("two-sites", text, &mut NoImports).expect("valid")
}

#[test]
fn a_higher_priority_preempts_only_when_it_cannot_fit_otherwise() {
    let scenario = two_sites();
    let mut s = Scheduler::new(&scenario);
    let a = RouterId(0);
    let near = scenario.site("near").expect("s").id;
    let far = scenario.site("far").expect("s").id;
    let mut low = request("low", a, 8);
    low.max_latency = Some(Nanos::from_millis(20));
    let Placed::Accepted {
        reservation: low_id,
        ..
    } = s.place(low).expect("valid")
    else {
        panic!("low refused")
    };
    assert_eq!(s.reservation(low_id).map(|r| r.site), Some(near));
    // 5 TFLOPS within 3 ms fits only at the near site, where 2 are free: preempt.
    let mut high = request("high", a, 5);
    high.priority = 5;
    high.max_latency = Some(Nanos::from_micros(3_500));
    let placed = s.place(high).expect("valid");
    let Placed::Accepted {
        reservation: high_id,
        preempted,
    } = placed
    else {
        panic!("high refused: {placed:?}")
    };
    assert_eq!(s.reservation(high_id).map(|r| r.site), Some(near));
    assert_eq!(preempted.len(), 1);
    assert_eq!(preempted[0].reservation, low_id);
    let again = preempted[0].replaced_by.expect("low placed again");
    assert_eq!(
        s.reservation(again).map(|r| r.site),
        Some(far),
        "{}",
        preempted[0].reason
    );
    assert!(
        preempted[0]
            .reason
            .contains("preempted by `high` (priority 5)"),
        "{}",
        preempted[0].reason
    );
    // A request that fits without preemption preempts nothing.
    let mut other = request("other", a, 1);
    other.priority = 7;
    assert!(
        matches!(s.place(other).expect("valid"), Placed::Accepted { preempted, .. } if preempted.is_empty())
    );
}

#[test]
fn a_failed_link_moves_reservations_onto_backup_paths() {
    let scenario = two_sites();
    let mut s = Scheduler::new(&scenario);
    let far = scenario.site("far").expect("s").id;
    let mut q = request("job", RouterId(0), 50);
    q.bandwidth = Bandwidth::from_gbps(1);
    let Placed::Accepted { reservation, .. } = s.place(q).expect("valid") else {
        panic!("refused")
    };
    let r = s.reservation(reservation).expect("kept").clone();
    assert_eq!(r.site, far);
    assert_eq!(r.path.nodes, vec![0, 1, 2], "a-b-c is the fastest");
    let ab = scenario
        .links
        .iter()
        .find(|l| l.name == "a-b")
        .expect("link")
        .id;
    let out = s.link_down(ab).expect("recovers");
    let [Recovery::Rerouted { old, new, .. }] = out.as_slice() else {
        panic!("{out:?}")
    };
    assert_eq!(*old, reservation);
    let moved = s.reservation(*new).expect("kept");
    assert_eq!(moved.site, far, "same site, backup path");
    assert_eq!(moved.path.nodes, vec![0, 2]);
    // The old path's bandwidth was returned.
    assert_eq!(s.link_calendar(ab).traffic_at(None, 0), 0);
}

#[test]
fn measured_loss_beyond_a_bound_moves_the_reservation_and_within_it_does_not() {
    let scenario = two_sites();
    let mut s = Scheduler::new(&scenario);
    let ab = scenario
        .links
        .iter()
        .find(|l| l.name == "a-b")
        .expect("link")
        .id;
    let mut q = request("job", RouterId(0), 50);
    q.max_loss = Some(Ratio(5_000_000_000)); // 0.5%
    let Placed::Accepted { reservation, .. } = s.place(q).expect("valid") else {
        panic!("refused")
    };
    assert_eq!(
        s.reservation(reservation).expect("kept").path.nodes,
        vec![0, 1, 2]
    );
    // 0.4% on a-b: within the bound, nothing moves.
    s.set_link_metrics(ab, None, Some(Ratio(4_000_000_000)));
    assert!(s.link_measured(ab).expect("measured").is_empty());
    // 1%: beyond it; a path to the same site without a-b is taken.
    s.set_link_metrics(ab, None, Some(Ratio(10_000_000_000)));
    let out = s.link_measured(ab).expect("measured");
    let [Recovery::Rerouted { old, new, .. }] = out.as_slice() else {
        panic!("{out:?}")
    };
    assert_eq!(*old, reservation);
    assert_eq!(s.reservation(*new).expect("kept").path.nodes, vec![0, 2]);
    // A reservation without a loss bound stays whatever the loss.
    let Placed::Accepted {
        reservation: free, ..
    } = s.place(request("free", RouterId(0), 1)).expect("valid")
    else {
        panic!("refused")
    };
    let links = s.reservation(free).expect("kept").links.clone();
    for l in links {
        s.set_link_metrics(l, None, Some(Ratio(500_000_000_000)));
        assert!(s.link_measured(l).expect("measured").is_empty());
    }
}

#[test]
fn a_delay_tolerant_job_goes_west_and_reports_its_saving() {
    let scenario = national();
    let mut s = Scheduler::new(&scenario);
    let shanghai = scenario.router("shanghai").expect("r").id;
    let mut job = request("batch", shanghai, 100);
    job.processing = Nanos(HOUR * 1_000_000_000);
    job.max_latency = Some(Nanos(HOUR * 1_000_000_000 + 40_000_000));
    job.objective = Objective::Carbon;
    let Placed::Accepted { reservation, .. } = s.place(job).expect("valid") else {
        panic!("refused")
    };
    let r = s.reservation(reservation).expect("kept");
    let site = &scenario.sites[r.site.index()];
    assert_eq!(
        site.name, "tianfu-cluster",
        "Sichuan's hydro power is the cleanest grid"
    );
    let saving = r.savings.as_ref().expect("not the nearest site");
    let nearest = &scenario.sites[saving.nearest.index()];
    assert_eq!(
        nearest.router,
        scenario.router("shanghai").expect("r").id,
        "the nearest is in Shanghai"
    );
    assert!(saving.carbon_g.is_some_and(|g| g > 0.0), "{saving:?}");
    assert!(saving.extra_latency_us > 0 && r.latency.total <= 3_600_040_000);
}

#[test]
fn a_job_moves_its_data_west_when_it_still_finishes_in_time() {
    use cpn_sched::JobRequest;
    use cpn_units::Bytes;
    let scenario = national();
    let mut s = Scheduler::new(&scenario);
    let yrd = scenario.site("yrd-cluster").expect("s").id;
    // 100 TFLOPS for two hours, 45 TB of input in the Yangtze River Delta, moved at 100 Gbps
    // (an hour), finishing within six hours, as green as possible.
    let mut job = JobRequest {
        name: "train".into(),
        demand: Flops::fp64(100 * 1_000_000_000_000),
        processing: Nanos(2 * HOUR * 1_000_000_000),
        input: Some((yrd, Bytes(45_000_000_000_000))),
        transfer: Bandwidth::from_gbps(100),
        release: 0,
        deadline: 6 * HOUR,
        priority: 0,
        objective: Objective::Carbon,
    };
    let plan = s.place_job(&job).expect("valid").expect("placed");
    assert_eq!(scenario.sites[plan.site.index()].name, "tianfu-cluster");
    assert_eq!(plan.transfer_seconds, 3_600, "45 TB at 100 Gbps");
    assert_eq!((plan.start, plan.finish), (3_600, 3 * HOUR));
    let circuit = s
        .circuit(plan.transfer.expect("data moved"))
        .expect("booked");
    assert_eq!((circuit.start, circuit.end), (0, 3_600));
    assert!(plan.saved_carbon_g.is_some_and(|g| g > 0.0), "{plan:?}");
    // With a deadline the transfer cannot meet, the job stays with its data.
    job.name = "urgent".into();
    job.deadline = 2 * HOUR + 60;
    let plan = s.place_job(&job).expect("valid").expect("placed");
    assert_eq!(plan.site, yrd);
    assert_eq!((plan.transfer, plan.saved_carbon_g), (None, Some(0.0)));
    // And with one the data cannot even be processed by, nothing is booked.
    job.name = "impossible".into();
    job.deadline = HOUR;
    let why = s
        .place_job(&job)
        .expect("valid")
        .expect_err("too late everywhere");
    assert!(why.contains("after the deadline"), "{why}");
}

#[test]
fn accelerators_are_booked_by_model() {
    let scenario = national();
    let mut s = Scheduler::new(&scenario);
    let beijing = scenario.router("beijing").expect("r").id;
    let mut q = request("gpu-job", beijing, 10);
    q.gpus = vec![("NVIDIA L20".to_string(), 100)];
    // Only the Beijing and Shanghai edge sites have 128 L20s; Beijing's is the nearest.
    let Placed::Accepted { reservation, .. } = s.place(q.clone()).expect("valid") else {
        panic!("refused")
    };
    let site = s.reservation(reservation).expect("kept").site;
    assert_eq!(scenario.sites[site.index()].name, "beijing-edge");
    // 28 are left there: the next 100 go to Shanghai.
    let Placed::Accepted { reservation, .. } = s.place(q.clone()).expect("valid") else {
        panic!("refused")
    };
    assert_eq!(
        scenario.sites[s.reservation(reservation).expect("kept").site.index()].name,
        "shanghai-edge"
    );
    // No third site has 100 free.
    let Placed::Refused(r) = s.place(q.clone()).expect("valid") else {
        panic!("placed")
    };
    assert!(
        r.reason.contains("no site has 100 × NVIDIA L20 free"),
        "{}",
        r.reason
    );
    q.gpus = vec![("TPU v9".to_string(), 1)];
    let Placed::Refused(r) = s.place(q).expect("valid") else {
        panic!("placed")
    };
    assert!(
        r.reason
            .contains("no site has accelerators of model `TPU v9`"),
        "{}",
        r.reason
    );
}

#[test]
fn replicas_are_placed_all_or_none() {
    let scenario = two_sites();
    let mut s = Scheduler::new(&scenario);
    let a = RouterId(0);
    // 10 + 100 TFLOPS in all: four replicas of 25 fit (at the far site), a fifth does not.
    let q = request("svc", a, 25);
    let ids = s.place_replicas(&q, 3).expect("valid").expect("three fit");
    assert_eq!(ids.len(), 3);
    assert_eq!(
        s.reservation(ids[2]).map(|r| r.request.name.as_str()),
        Some("svc#3")
    );
    let before = s.reservations().count();
    let refusal = s
        .place_replicas(&q, 2)
        .expect("valid")
        .expect_err("only one more fits");
    assert!(
        refusal.reason.starts_with("replica 2 of 2:"),
        "{}",
        refusal.reason
    );
    assert_eq!(
        s.reservations().count(),
        before,
        "the first of the two was undone"
    );
}

#[test]
fn an_autoscaled_service_gains_and_sheds_replicas() {
    use cpn_sched::autoscale::{Autoscaler, Scale, ScalePolicy};
    let scenario = two_sites();
    let mut s = Scheduler::new(&scenario);
    let q = request("web", RouterId(0), 5);
    let mut replicas = Vec::new();
    let mut scaler = Autoscaler::new(ScalePolicy::default(), 1);
    s.scale_replicas(&q, &mut replicas, scaler.replicas())
        .expect("valid")
        .expect("one fits");
    // 1 replica of 100 req/s at 400 req/s: 400 % busy, scale to ceil(400 / 60) = 7.
    let Scale::Up { to, .. } = scaler.observe(0, 400.0, 100.0) else {
        panic!("should scale up")
    };
    s.scale_replicas(&q, &mut replicas, to)
        .expect("valid")
        .expect("seven fit");
    assert_eq!(replicas.len(), 7);
    assert_eq!(s.reservations().count(), 7);
    // Load drops; after the cooldown it scales down to 2, releasing the newest five.
    let Scale::Down { to, .. } = scaler.observe(600, 100.0, 100.0) else {
        panic!("should scale down")
    };
    let kept = replicas[..2].to_vec();
    s.scale_replicas(&q, &mut replicas, to)
        .expect("valid")
        .expect("always fits");
    assert_eq!(replicas, kept);
    assert_eq!(s.reservations().count(), 2);
    // More than fits is refused and changes nothing: 110 TFLOPS in all, 5 per replica.
    let refusal = s
        .scale_replicas(&q, &mut replicas, 30)
        .expect("valid")
        .expect_err("22 fit at most");
    assert!(refusal.reason.contains("of 28"), "{}", refusal.reason);
    assert_eq!(replicas.len(), 2);
    assert_eq!(s.reservations().count(), 2);
}
