//! Routers and links from an imported topology (Internet Topology Zoo GraphML). One router per
//! `<node>` and one link per `<edge>`, parallel edges included, so that the counts always
//! equal the file's. What the source does not say is filled in with stated defaults, each
//! reported as a warning: a link without a parsable speed gets [`DEFAULT_LINK_BANDWIDTH`], a
//! link with an endpoint that has no coordinates gets [`DEFAULT_LINK_LATENCY`].

use std::collections::HashSet;

use cpn_topo::{Topology, Warning};
use cpn_units::{Bandwidth, Nanos, Ratio};

use super::build::default_igp_metric;
use crate::geo::{GeoPoint, fibre_latency};
use crate::id::{LinkId, RouterId};
use crate::network::{LatencyOrigin, Link, Router};

/// Capacity given to an imported link whose source states no speed: 10 Gbps, the common
/// backbone port speed of the period most Zoo maps date from.
pub const DEFAULT_LINK_BANDWIDTH: Bandwidth = Bandwidth::from_gbps(10);

/// Latency given to an imported link with an endpoint that has no coordinates (in the Zoo,
/// mostly external peers drawn without a place): 1 ms. The median derived latency of the
/// Zoo's 11,151 links whose endpoints both have coordinates is 0.8 ms (5 µs/km, route factor
/// 1.5); rounding it up treats a link of unknown length as a typical one, neither free nor
/// intercontinental.
pub const DEFAULT_LINK_LATENCY: Nanos = Nanos::from_millis(1);

pub(crate) struct Imported {
    pub(crate) routers: Vec<Router>,
    pub(crate) links: Vec<Link>,
    pub(crate) warnings: Vec<String>,
}

impl Imported {
    pub(crate) fn from_topology(topology: &Topology, route_factor: f64) -> Imported {
        // Labels that state no speed are summed up in one warning below rather than listed
        // one per edge: in some networks every edge is drawn in a colour, not a speed.
        let mut warnings: Vec<String> = topology
            .warnings
            .iter()
            .filter(|w| !matches!(w, Warning::UnparsableLinkLabel { .. }))
            .map(|w| w.to_string())
            .collect();
        let mut taken = HashSet::new();
        let routers: Vec<Router> = topology
            .nodes
            .iter()
            .enumerate()
            .map(|(i, node)| {
                let base = node
                    .label
                    .as_deref()
                    .map(|l| slug(l.trim()))
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| format!("node-{i}"));
                let mut name = base.clone();
                let mut n = 2;
                while !taken.insert(name.clone()) {
                    name = format!("{base}-{n}");
                    n += 1;
                }
                let location = match (node.lat, node.lon) {
                    (Some(lat), Some(lon)) => Some(GeoPoint { lat, lon }),
                    _ => None,
                };
                Router {
                    id: RouterId::at(i),
                    name,
                    label: node.label.clone(),
                    location,
                }
            })
            .collect();
        let mut no_speed = 0;
        let mut no_place = 0;
        let mut names: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        let links = topology
            .edges
            .iter()
            .enumerate()
            .map(|(i, edge)| {
                let (a, b) = (&routers[edge.source], &routers[edge.target]);
                let (latency, latency_origin) = match (a.location, b.location) {
                    (Some(pa), Some(pb)) => {
                        let km = pa.distance_km(pb);
                        (
                            fibre_latency(km, route_factor),
                            LatencyOrigin::Distance { km },
                        )
                    }
                    _ => {
                        no_place += 1;
                        (DEFAULT_LINK_LATENCY, LatencyOrigin::Default)
                    }
                };
                let bandwidth = edge
                    .bandwidth_bps
                    .filter(|&b| b > 0)
                    .map(Bandwidth)
                    .unwrap_or_else(|| {
                        no_speed += 1;
                        DEFAULT_LINK_BANDWIDTH
                    });
                let base = format!("{}-{}", a.name, b.name);
                let seen = names.entry(base.clone()).or_insert(0);
                *seen += 1;
                let name = if *seen == 1 {
                    base
                } else {
                    format!("{base}#{seen}")
                };
                Link {
                    id: LinkId::at(i),
                    name,
                    a: a.id,
                    b: b.id,
                    bandwidth,
                    latency,
                    latency_origin,
                    loss: Ratio::ZERO,
                    igp_metric: default_igp_metric(latency),
                    up: true,
                }
            })
            .collect();
        if no_speed > 0 {
            warnings.push(format!(
                "{no_speed} links state no speed; they were given {DEFAULT_LINK_BANDWIDTH}"
            ));
        }
        if no_place > 0 {
            warnings.push(format!("{no_place} links have an endpoint without coordinates; they were given a latency of {DEFAULT_LINK_LATENCY}"));
        }
        Imported {
            routers,
            links,
            warnings,
        }
    }
}

/// A router id from a place name: lowercase, words joined by `-`, only characters ids allow.
pub(crate) fn slug(label: &str) -> String {
    let mut out = String::new();
    for c in label.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() || c == '_' || c == '.' {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_matches('-');
    // Leave room for a `-NN` suffix under the 64-character limit of ids.
    out.chars()
        .take(56)
        .collect::<String>()
        .trim_end_matches('-')
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_valid_ids() {
        assert_eq!(slug("New York"), "new-york");
        assert_eq!(slug("  St. Louis (MO) "), "st.-louis-mo");
        assert_eq!(slug("北京"), "北京");
        assert_eq!(slug("São Paulo"), "são-paulo");
        assert_eq!(slug("---"), "");
    }
}
