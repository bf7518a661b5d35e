//! Where things are and how long light takes between them. Link latency, when a scenario does
//! not state it, is derived from the great-circle distance between the two routers:
//! `latency = distance_km × 5 µs/km × route_factor`. Light in fibre travels at about two
//! thirds of its speed in vacuum, 5 µs per km; fibre routes are longer than the great circle,
//! and the route factor (default 1.5) stands for that detour.

use cpn_units::Nanos;
use serde::Serialize;

/// Mean Earth radius in km (IUGG), the usual choice for haversine distances.
const EARTH_RADIUS_KM: f64 = 6_371.008_8;

/// One-way propagation delay of light in fibre per km, in ns.
pub const FIBRE_NS_PER_KM: f64 = 5_000.0;

/// The fibre route length over the great-circle distance, unless a scenario says otherwise.
pub const DEFAULT_ROUTE_FACTOR: f64 = 1.5;

/// A point on Earth in degrees (WGS-84).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GeoPoint {
    pub lat: f64,
    pub lon: f64,
}

impl GeoPoint {
    /// Great-circle distance in km (haversine).
    pub fn distance_km(self, other: GeoPoint) -> f64 {
        let (lat1, lat2) = (self.lat.to_radians(), other.lat.to_radians());
        let dlat = lat2 - lat1;
        let dlon = (other.lon - self.lon).to_radians();
        let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
    }
}

/// The one-way latency of a fibre of `km` great-circle km, rounded to the nanosecond.
pub fn fibre_latency(km: f64, route_factor: f64) -> Nanos {
    let ns = (km * FIBRE_NS_PER_KM * route_factor).round();
    // Distances on Earth are below 20 040 km, so this is far inside u64.
    Nanos(if ns.is_finite() && ns > 0.0 {
        ns as u64
    } else {
        0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beijing_to_shanghai_is_about_1070_km() {
        let beijing = GeoPoint {
            lat: 39.9042,
            lon: 116.4074,
        };
        let shanghai = GeoPoint {
            lat: 31.2304,
            lon: 121.4737,
        };
        let km = beijing.distance_km(shanghai);
        assert!((km - 1067.0).abs() < 5.0, "{km}");
        // 1067 km × 5 µs × 1.5 ≈ 8.0 ms one way.
        let latency = fibre_latency(km, DEFAULT_ROUTE_FACTOR);
        assert!((7_950_000..8_050_000).contains(&latency.0), "{latency}");
    }

    #[test]
    fn antipodes_and_same_point() {
        let p = GeoPoint {
            lat: 10.0,
            lon: 20.0,
        };
        assert_eq!(p.distance_km(p), 0.0);
        let q = GeoPoint {
            lat: -10.0,
            lon: -160.0,
        };
        let half = std::f64::consts::PI * EARTH_RADIUS_KM;
        assert!(
            (p.distance_km(q) - half).abs() < 1e-3,
            "{}",
            p.distance_km(q)
        );
    }
}
