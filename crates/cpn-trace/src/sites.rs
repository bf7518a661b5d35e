//! Site sets that become edge sites and demand sources: the EUA data set's Optus base
//! stations and users in Melbourne (`PhuLai/eua-dataset`), and the Shanghai Telecom base
//! stations (`GeminiLight/edge-server-placement`). None of these files has a capacity
//! column; capacities are the scenario's to state.

use std::io::Read;
use std::path::Path;

use crate::TraceError;
use crate::table::{Row, Table};

/// A WGS-84 position in degrees, latitude within -90..=90 and longitude within -180..=180.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatLon {
    pub lat: f64,
    pub lon: f64,
}

fn lat_lon(row: &Row<'_>, lat: usize, lon: usize) -> Result<LatLon, TraceError> {
    Ok(LatLon {
        lat: row.float(lat, -90.0, 90.0, "a latitude in degrees (-90 to 90)")?,
        lon: row.float(lon, -180.0, 180.0, "a longitude in degrees (-180 to 180)")?,
    })
}

/// An Australian postcode, written `3000` or (in `users-aus.csv`) `3000.0`.
fn postcode(row: &Row<'_>, col: usize) -> Result<Option<u16>, TraceError> {
    let s = row.text(col)?;
    if s.is_empty() {
        return Ok(None);
    }
    let digits = s.strip_suffix(".0").unwrap_or(s);
    match digits.parse::<u16>() {
        Ok(v) if v <= 9999 && digits.bytes().all(|b| b.is_ascii_digit()) => Ok(Some(v)),
        _ => Err(row.error(col, "a postcode (0 to 9999)", s)),
    }
}

/// A base station of `site-optus-melbCBD.csv` (ACMA register of radiocommunications
/// licences, via the EUA data set).
#[derive(Debug, Clone, PartialEq)]
pub struct EuaSite {
    /// ACMA site id.
    pub site_id: u64,
    pub position: LatLon,
    pub name: String,
    pub state: String,
    pub licensing_area_id: u32,
    pub postcode: Option<u16>,
    /// As written, such as `Within 10 meters`.
    pub precision: String,
    /// Metres above sea level, where given (written `28.0`).
    pub elevation_m: Option<f64>,
    pub hcis_l2: String,
}

/// Reads the EUA base stations (`SITE_ID,LATITUDE,LONGITUDE,NAME,STATE,LICENSING_AREA_ID,
/// POSTCODE,SITE_PRECISION,ELEVATION,HCIS_L2`).
pub fn read_eua_sites(reader: impl Read, origin: &str) -> Result<Vec<EuaSite>, TraceError> {
    let mut table = Table::open(reader, origin)?;
    let id = table.column("SITE_ID")?;
    let lat = table.column("LATITUDE")?;
    let lon = table.column("LONGITUDE")?;
    let name = table.column("NAME")?;
    let state = table.column("STATE")?;
    let area = table.column("LICENSING_AREA_ID")?;
    let post = table.column("POSTCODE")?;
    let precision = table.column("SITE_PRECISION")?;
    let elevation = table.column("ELEVATION")?;
    let hcis = table.column("HCIS_L2")?;
    let mut out = Vec::new();
    while let Some(row) = table.next_row()? {
        out.push(EuaSite {
            site_id: row.int(id, "a site id (an integer)")?,
            position: lat_lon(&row, lat, lon)?,
            name: row.text(name)?.to_string(),
            state: row.text(state)?.to_string(),
            licensing_area_id: row.int(area, "a licensing area id (an integer)")?,
            postcode: postcode(&row, post)?,
            precision: row.text(precision)?.to_string(),
            elevation_m: row.opt_float(
                elevation,
                -500.0,
                9000.0,
                "an elevation in metres (-500 to 9000)",
            )?,
            hcis_l2: row.text(hcis)?.to_string(),
        });
    }
    Ok(out)
}

/// Reads the EUA base stations from a file, named in errors by its path.
pub fn load_eua_sites(path: impl AsRef<Path>) -> Result<Vec<EuaSite>, TraceError> {
    crate::load(path.as_ref(), read_eua_sites)
}

/// A user (a demand source) of the EUA data set.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EuaUserInfo {
    /// The first address of the geolocated IP block.
    pub ip: Option<String>,
    pub postcode: Option<u16>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub country: Option<String>,
}

/// A user position, with what `users-aus.csv` adds (all `None` for
/// `users-melbcbd-generated.csv`, which holds positions only).
#[derive(Debug, Clone, PartialEq)]
pub struct EuaUser {
    pub position: LatLon,
    pub info: EuaUserInfo,
}

/// Reads EUA users: `Latitude,Longitude` and, where present, `IP`, `PostCode`, `City`,
/// `State`, `Country`.
pub fn read_eua_users(reader: impl Read, origin: &str) -> Result<Vec<EuaUser>, TraceError> {
    let mut table = Table::open(reader, origin)?;
    let lat = table.column("Latitude")?;
    let lon = table.column("Longitude")?;
    let optional =
        |t: &Table<_>, name: &str| t.has_column(name).then(|| t.column(name)).transpose();
    let ip = optional(&table, "IP")?;
    let post = optional(&table, "PostCode")?;
    let city = optional(&table, "City")?;
    let state = optional(&table, "State")?;
    let country = optional(&table, "Country")?;
    let mut out = Vec::new();
    while let Some(row) = table.next_row()? {
        let text = |col: Option<usize>| col.map_or(Ok(None), |c| row.opt_string(c));
        out.push(EuaUser {
            position: lat_lon(&row, lat, lon)?,
            info: EuaUserInfo {
                ip: text(ip)?,
                postcode: post.map_or(Ok(None), |c| postcode(&row, c))?,
                city: text(city)?,
                state: text(state)?,
                country: text(country)?,
            },
        });
    }
    Ok(out)
}

/// Reads EUA users from a file, named in errors by its path.
pub fn load_eua_users(path: impl AsRef<Path>) -> Result<Vec<EuaUser>, TraceError> {
    crate::load(path.as_ref(), read_eua_users)
}

/// A Shanghai Telecom base station.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BaseStation {
    /// The file's dense `id`, 0 to 3041.
    pub id: u32,
    pub position: LatLon,
}

impl BaseStation {
    /// Whether the station lies in the Shanghai box 30.6–31.95 N, 120.8–122.2 E; 33 of the
    /// 3,042 published points are outliers far outside it (see the data set's SOURCE.md).
    pub fn in_shanghai(&self) -> bool {
        (30.6..=31.95).contains(&self.position.lat) && (120.8..=122.2).contains(&self.position.lon)
    }
}

/// Reads `base_stations_all.csv` (`,index,latitude,longitude,address,id`; the two leading
/// pandas indexes and the `address` key are ignored).
pub fn read_shanghai_base_stations(
    reader: impl Read,
    origin: &str,
) -> Result<Vec<BaseStation>, TraceError> {
    let mut table = Table::open(reader, origin)?;
    let lat = table.column("latitude")?;
    let lon = table.column("longitude")?;
    let id = table.column("id")?;
    let mut out = Vec::new();
    while let Some(row) = table.next_row()? {
        out.push(BaseStation {
            position: lat_lon(&row, lat, lon)?,
            id: row.int(id, "a station id (an integer)")?,
        });
    }
    Ok(out)
}

/// Reads the Shanghai Telecom base stations from a file, named in errors by its path.
pub fn load_shanghai_base_stations(path: impl AsRef<Path>) -> Result<Vec<BaseStation>, TraceError> {
    crate::load(path.as_ref(), read_shanghai_base_stations)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SITE_HEADER: &str = "SITE_ID,LATITUDE,LONGITUDE,NAME,STATE,LICENSING_AREA_ID,POSTCODE,SITE_PRECISION,ELEVATION,HCIS_L2\r\n";

    fn err<T: std::fmt::Debug>(r: Result<T, TraceError>) -> String {
        match r {
            Ok(v) => panic!("expected an error, got {v:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn reads_eua_sites() {
        let body = "10003026,-37.81517,144.97476,Spring and Flinders ucell,VIC,2,,Within 10 meters,,KX3P\r\n\
                    11571,-37.8,144.9,\"Corner Spencer, Lonsdale\",VIC,2,3000,Within 10 meters,28,KX3P\r\n";
        let r = read_eua_sites(format!("{SITE_HEADER}{body}").as_bytes(), "s.csv").expect("reads");
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].site_id, 10003026);
        assert_eq!(
            r[0].position,
            LatLon {
                lat: -37.81517,
                lon: 144.97476
            }
        );
        assert_eq!((r[0].postcode, r[0].elevation_m), (None, None));
        assert_eq!(r[1].name, "Corner Spencer, Lonsdale");
        assert_eq!((r[1].postcode, r[1].elevation_m), (Some(3000), Some(28.0)));
    }

    #[test]
    fn rejects_bad_eua_sites() {
        let ok = "1,-37.8,144.9,n,VIC,2,,p,,K\r\n";
        let read =
            |body: &str| read_eua_sites(format!("{SITE_HEADER}{body}").as_bytes(), "site.csv");
        assert_eq!(
            err(read(&format!("{ok}2,-97.8,144.9,n,VIC,2,,p,,K\r\n"))),
            "site.csv:3: LATITUDE: expected a latitude in degrees (-90 to 90), got \"-97.8\""
        );
        assert_eq!(
            err(read("2,-37.8,190,n,VIC,2,,p,,K\r\n")),
            "site.csv:2: LONGITUDE: expected a longitude in degrees (-180 to 180), got \"190\""
        );
        assert_eq!(
            err(read("x2,-37.8,144.9,n,VIC,2,,p,,K\r\n")),
            "site.csv:2: SITE_ID: expected a site id (an integer), got \"x2\""
        );
        assert_eq!(
            err(read("2,-37.8,144.9,n,VIC,2,30000,p,,K\r\n")),
            "site.csv:2: POSTCODE: expected a postcode (0 to 9999), got \"30000\""
        );
        assert_eq!(
            err(read("2,-37.8,144.9,n,VIC,2,3000,p,ten,K\r\n")),
            "site.csv:2: ELEVATION: expected an elevation in metres (-500 to 9000), got \"ten\""
        );
        assert_eq!(
            err(read(&format!("{ok}{ok}2,-37.8,144.9\r\n"))),
            "site.csv:4: NAME: expected 10 fields (SITE_ID,LATITUDE,LONGITUDE,NAME,STATE,LICENSING_AREA_ID,POSTCODE,SITE_PRECISION,ELEVATION,HCIS_L2), got 3"
        );
    }

    #[test]
    fn reads_both_kinds_of_eua_users() {
        let aus = "IP,Latitude,Longitude,PostCode,City,State,Country\r\n1.120.0.1,-30.5083,151.6712,2350.0,Armidale,NSW,AU\r\n1.2.3.4,-30,150,,Winnellie (58),,AU\r\n";
        let r = read_eua_users(aus.as_bytes(), "u.csv").expect("reads");
        assert_eq!(
            r[0].position,
            LatLon {
                lat: -30.5083,
                lon: 151.6712
            }
        );
        assert_eq!(r[0].info.postcode, Some(2350));
        assert_eq!(r[0].info.ip.as_deref(), Some("1.120.0.1"));
        assert_eq!(
            (r[1].info.postcode, r[1].info.state.as_deref()),
            (None, None)
        );
        let generated = "Latitude,Longitude\r\n-37.8146,144.9744\r\n";
        let r = read_eua_users(generated.as_bytes(), "g.csv").expect("reads");
        assert_eq!(
            r,
            vec![EuaUser {
                position: LatLon {
                    lat: -37.8146,
                    lon: 144.9744
                },
                info: EuaUserInfo::default()
            }]
        );
        assert_eq!(
            err(read_eua_users(
                "Latitude,Longitude\r\n-37.8,144.9\r\n-37.8,x\r\n".as_bytes(),
                "g.csv"
            )),
            "g.csv:3: Longitude: expected a longitude in degrees (-180 to 180), got \"x\""
        );
        assert_eq!(
            err(read_eua_users("Lat,Longitude\r\n".as_bytes(), "g.csv")),
            "g.csv:1: header: expected a column named Latitude, got \"Lat,Longitude\""
        );
    }

    #[test]
    fn reads_and_rejects_shanghai_stations() {
        let h = ",index,latitude,longitude,address,id\n";
        let good =
            format!("{h}0,0,31.237872,121.470259,31.237872-121.470259,0\n1,14,47.4,131.8,x,1\n");
        let r = read_shanghai_base_stations(good.as_bytes(), "bs.csv").expect("reads");
        assert_eq!(
            r[0],
            BaseStation {
                id: 0,
                position: LatLon {
                    lat: 31.237872,
                    lon: 121.470259
                }
            }
        );
        assert!(r[0].in_shanghai());
        assert!(!r[1].in_shanghai());
        let read =
            |body: &str| read_shanghai_base_stations(format!("{h}{body}").as_bytes(), "bs.csv");
        assert_eq!(
            err(read("0,0,91,121.4,a,0\n")),
            "bs.csv:2: latitude: expected a latitude in degrees (-90 to 90), got \"91\""
        );
        assert_eq!(
            err(read("0,0,31.2,121.4,a,-1\n")),
            "bs.csv:2: id: expected a station id (an integer), got \"-1\""
        );
        assert_eq!(
            err(read("0,0,31.2\n")),
            "bs.csv:2: longitude: expected 6 fields (,index,latitude,longitude,address,id), got 3"
        );
    }
}
