//! Writes a scenario back as TOML in the format it is read from, so that `cpn topo import`
//! can produce an editable file and any scenario can be exported and read back unchanged.

use std::fmt::Write;

use super::Scenario;
use super::build::default_igp_metric;
use crate::network::LatencyOrigin;

fn quote(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

pub(crate) fn to_toml(s: &Scenario) -> String {
    let mut out = body(s);
    out.push_str(&services(s, &[]));
    out
}

/// Everything but the services.
pub(crate) fn body(s: &Scenario) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail; the results are ignored for that reason.
    let _ = writeln!(out, "name = {}", quote(&s.name));
    if let Some(d) = &s.description {
        let _ = writeln!(out, "description = {}", quote(d));
    }
    if let Some(c) = &s.currency {
        let _ = writeln!(out, "currency = {}", quote(c));
    }
    let _ = writeln!(out, "route_factor = {:?}", s.route_factor);
    if !s.sources.is_empty() {
        out.push_str("sources = [\n");
        for source in &s.sources {
            let _ = writeln!(out, "    {},", quote(source));
        }
        out.push_str("]\n");
    }
    for w in &s.warnings {
        let _ = writeln!(out, "# warning: {w}");
    }
    for r in &s.routers {
        let _ = write!(out, "\n[[router]]\nid = {}\n", quote(&r.name));
        if let Some(label) = &r.label {
            let _ = writeln!(out, "name = {}", quote(label));
        }
        if let Some(p) = r.location {
            let _ = write!(out, "lat = {:?}\nlon = {:?}\n", p.lat, p.lon);
        }
    }
    for l in &s.links {
        let (a, b) = (&s.routers[l.a.index()].name, &s.routers[l.b.index()].name);
        let default_name = format!("{a}-{b}");
        let _ = write!(out, "\n[[link]]\n");
        if l.name != default_name && !l.name.starts_with(&format!("{default_name}#")) {
            let _ = writeln!(out, "id = {}", quote(&l.name));
        }
        let _ = write!(
            out,
            "a = {}\nb = {}\nbandwidth = \"{}\"\n",
            quote(a),
            quote(b),
            l.bandwidth
        );
        match l.latency_origin {
            LatencyOrigin::Given => {
                let _ = writeln!(out, "latency = \"{}\"", l.latency);
            }
            LatencyOrigin::Default => {
                let _ = writeln!(
                    out,
                    "latency = \"{}\"  # default: an endpoint has no coordinates",
                    l.latency
                );
            }
            LatencyOrigin::Distance { km } => {
                let _ = writeln!(out, "# latency {} derived from {km:.0} km", l.latency);
            }
        }
        if l.loss.0 != 0 {
            let _ = writeln!(out, "loss = \"{}\"", l.loss);
        }
        if l.igp_metric != default_igp_metric(l.latency) {
            let _ = writeln!(out, "igp_metric = {}", l.igp_metric);
        }
        if !l.up {
            out.push_str("up = false\n");
        }
    }
    for site in &s.sites {
        let c = &site.capacity;
        let _ = write!(out, "\n[[site]]\nid = {}\n", quote(&site.name));
        if let Some(label) = &site.label {
            let _ = writeln!(out, "name = {}", quote(label));
        }
        let router = &s.routers[site.router.index()].name;
        let _ = write!(
            out,
            "router = {}\ntier = \"{}\"\n",
            quote(router),
            site.tier
        );
        if let Some(region) = &site.region {
            let _ = writeln!(out, "region = {}", quote(region));
        }
        let _ = write!(
            out,
            "cpu_cores = {}\nmemory = \"{}\"\ncompute = \"{}\"\n",
            c.cpu_cores, c.memory, c.compute
        );
        if !c.gpus.is_empty() {
            let gpus: Vec<String> = c
                .gpus
                .iter()
                .map(|(model, n)| format!("{} = {n}", quote(model)))
                .collect();
            let _ = writeln!(out, "gpus = {{ {} }}", gpus.join(", "));
        }
        if let Some(price) = site.price {
            let _ = writeln!(out, "price = {price}");
        }
        if let Some(carbon) = site.carbon {
            let _ = writeln!(out, "carbon = \"{carbon}\"");
        }
        let _ = writeln!(out, "pue = {}", site.pue);
    }
    for slice in &s.slices {
        let tenant = &s.tenants[slice.tenant.index()].name;
        let _ = write!(
            out,
            "\n[[slice]]\nid = {}\ntenant = {}\nguaranteed = \"{}\"\n",
            quote(&slice.name),
            quote(tenant),
            slice.guaranteed
        );
    }
    for sla in &s.slas {
        let _ = write!(out, "\n[[sla]]\nid = {}\n", quote(&sla.name));
        if let Some(v) = sla.max_latency {
            let _ = writeln!(out, "max_latency = \"{v}\"");
        }
        let _ = writeln!(out, "min_bandwidth = \"{}\"", sla.min_bandwidth);
        if let Some(v) = sla.max_loss {
            let _ = writeln!(out, "max_loss = \"{v}\"");
        }
        let _ = writeln!(out, "priority = {}", sla.priority.0);
        if let Some(slice) = sla.slice {
            let _ = writeln!(out, "slice = {}", quote(&s.slices[slice.index()].name));
        }
    }
    out
}

/// The services, service `i` also on the sites named in `extra[i]` when given.
pub(crate) fn services(s: &Scenario, extra: &[Vec<String>]) -> String {
    let mut services = String::new();
    for (i, svc) in s.services.iter().enumerate() {
        let more = extra.get(i).map_or(&[][..], Vec::as_slice);
        let sites: Vec<String> = svc
            .sites
            .iter()
            .map(|id| quote(&s.sites[id.index()].name))
            .chain(more.iter().map(|name| quote(name)))
            .collect();
        let _ = write!(
            services,
            "\n[[service]]\nid = {}\ndemand = \"{}\"\nprocessing = \"{}\"\nsites = [{}]\n",
            quote(&svc.name),
            svc.demand,
            svc.processing,
            sites.join(", ")
        );
        if let Some(sla) = svc.sla {
            let _ = writeln!(services, "sla = {}", quote(&s.slas[sla.index()].name));
        }
    }
    services
}
