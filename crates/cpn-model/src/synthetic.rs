//! Larger networks grown from a real one, for benchmarks and the simulator: a scenario's
//! routers, sites and services are kept, and metro routers and edge and end sites are added
//! around its cities until the requested sizes are reached. Deterministic for a seed.
//!
//! The rule, so that results can be compared across runs and machines:
//! - each new router is a metro PoP of a base router (chosen round-robin), placed 5 to 50 km
//!   away, linked to its base router at 100 Gbps and to one other router of the same metro
//!   area (or a random base router for the first of an area) at 40 Gbps;
//! - each new site attaches to a random router; 80 % are edge sites (50 to 500 TFLOPS), 20 %
//!   end-device pools (5 to 50 TFLOPS); carbon, PUE and price are copied from a random base
//!   site of the same tier (or any base site);
//! - each new site joins each base service that already runs on its tier with probability
//!   1/10, as a CATS service is deployed on some sites, not all.

use std::fmt::Write;

use crate::network::Tier;
use crate::scenario::{NoImports, Scenario, ScenarioErrors};

/// SplitMix64 (Steele, Lea and Flood 2014): a 64-bit state advanced by a constant, then
/// mixed. Small, fast, fully specified, and easy to write again in another language to check
/// our output; enough for reproducible test data, not for secrets.
#[derive(Debug, Clone)]
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// A value in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// `base` grown to `routers` routers and `sites` sites (no smaller than it already is).
pub fn scaled(
    base: &Scenario,
    routers: usize,
    sites: usize,
    seed: u64,
) -> Result<Scenario, ScenarioErrors> {
    let mut rng = SplitMix64(seed);
    let mut text = base.to_toml_without_services();
    let n_base = base.routers.len().max(1);
    let mut names: Vec<String> = base.routers.iter().map(|r| r.name.clone()).collect();
    let mut last_of_area: Vec<Option<usize>> = vec![None; n_base];
    for k in 0..routers.saturating_sub(base.routers.len()) {
        let parent = k % n_base;
        let p = &base.routers[parent];
        let (lat, lon) = p.location.map_or((0.0, 0.0), |g| (g.lat, g.lon));
        let km = 5.0 + 45.0 * rng.unit();
        let angle = rng.unit() * std::f64::consts::TAU;
        let lat2 = (lat + km / 111.0 * angle.sin()).clamp(-89.0, 89.0);
        let lon2 = (lon + km / (111.0 * lat.to_radians().cos().max(0.1)) * angle.cos())
            .clamp(-179.0, 179.0);
        let name = format!("{}-m{k}", p.name);
        let _ = write!(
            text,
            "\n[[router]]\nid = \"{name}\"\nlat = {lat2:?}\nlon = {lon2:?}\n"
        );
        let _ = write!(
            text,
            "\n[[link]]\na = \"{name}\"\nb = \"{}\"\nbandwidth = \"100 Gbps\"\n",
            p.name
        );
        let other = match last_of_area[parent] {
            Some(i) => names[i].clone(),
            None => names[rng.below(n_base as u64) as usize].clone(),
        };
        if other != name && other != p.name {
            let _ = write!(
                text,
                "\n[[link]]\na = \"{name}\"\nb = \"{other}\"\nbandwidth = \"40 Gbps\"\n"
            );
        }
        last_of_area[parent] = Some(names.len());
        names.push(name);
    }
    // The new sites each service joins.
    let mut joined: Vec<Vec<String>> = vec![Vec::new(); base.services.len()];
    for k in 0..sites.saturating_sub(base.sites.len()) {
        let tier = if rng.below(5) < 4 {
            Tier::Edge
        } else {
            Tier::End
        };
        let tflops = match tier {
            Tier::Edge => 50 + rng.below(451),
            _ => 5 + rng.below(46),
        };
        let router = &names[rng.below(names.len() as u64) as usize];
        let same_tier: Vec<_> = base.sites.iter().filter(|s| s.tier == tier).collect();
        let pool: Vec<_> = if same_tier.is_empty() {
            base.sites.iter().collect()
        } else {
            same_tier
        };
        let like = pool.get(rng.below(pool.len() as u64) as usize);
        let name = format!("{tier}-{k}");
        let _ = write!(
            text,
            "\n[[site]]\nid = \"{name}\"\nrouter = \"{router}\"\ntier = \"{tier}\"\ncpu_cores = {}\ncompute = \"{tflops} TFLOPS\"\n",
            tflops * 25
        );
        if let Some(like) = like {
            if let Some(price) = like.price {
                let _ = writeln!(text, "price = {price}");
            }
            if let Some(carbon) = like.carbon {
                let _ = writeln!(text, "carbon = \"{carbon}\"");
            }
            let _ = writeln!(text, "pue = {}", like.pue);
        }
        for (svc, list) in base.services.iter().zip(&mut joined) {
            let runs_on_tier = svc
                .sites
                .iter()
                .any(|id| base.sites[id.index()].tier == tier);
            if runs_on_tier && rng.below(10) == 0 {
                list.push(name.clone());
            }
        }
    }
    text.push_str(&base.services_toml(&joined));
    let name = format!("{}-{routers}r-{sites}s", base.name);
    // The export begins with the base's name; the grown network is another one.
    let text = match text.split_once('\n') {
        Some((_, rest)) => format!("name = \"{name}\"\n{rest}"),
        None => text,
    };
    Scenario::parse(&name, &text, &mut NoImports)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_to_the_requested_size_deterministically() {
        let base = crate::built_in("national").expect("exists").expect("valid");
        let a = scaled(&base, 200, 500, 7).expect("valid");
        let b = scaled(&base, 200, 500, 7).expect("valid");
        assert_eq!((a.routers.len(), a.sites.len()), (200, 500));
        assert_eq!(a, b);
        assert_eq!(a.services.len(), base.services.len());
        assert!(
            a.services.iter().map(|s| s.sites.len()).sum::<usize>()
                > base.services.iter().map(|s| s.sites.len()).sum::<usize>()
        );
    }
}
