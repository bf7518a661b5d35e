//! Bad input never panics an importer: random bytes, and valid files with random bytes
//! spliced in, give `Ok` or `Err`, and every row error carries a line within the input.

use cpn_trace::*;
use proptest::prelude::*;

/// A valid file of each format, to be mutated.
const SEEDS: [&str; 7] = [
    "TIMESTAMP,ContextTokens,GeneratedTokens\r\n2023-11-16 18:15:46.6805900,374,44\r\n2023-11-16 18:15:50.9951690,396,109",
    "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time\nopenb-pod-0000,12000,16384,1,1000,,LS,Running,0,12537496,0\np,1,1,1,460,V100M16|V100M32,BE,Pending,9,,\n",
    "sn,cpu_milli,memory_mib,gpu,model\nopenb-node-0000,32000,262144,0,\nopenb-node-0001,64000,262144,2,P100\n",
    "timestamp,cpu_usage,assigned_mem\n0,6135515.87712279,2002296.0\n300,6126975.265552814,2002722.0",
    "cpu_util_percent,mem_util_percent,net_in,net_out,disk_io_percent\n16.1,87.1,34.8,27.6,4.0\n",
    "SITE_ID,LATITUDE,LONGITUDE,NAME,STATE,LICENSING_AREA_ID,POSTCODE,SITE_PRECISION,ELEVATION,HCIS_L2\r\n10003026,-37.81517,144.97476,Spring,VIC,2,,Within 10 meters,28.0,KX3P\r\n",
    ",index,latitude,longitude,address,id\n0,0,31.237872,121.470259,31.237872-121.470259,0\n",
];

/// Runs every importer on `input`, checking that each error names a line of the input.
fn run_all(input: &[u8]) {
    let lines = input.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    let check = |r: Result<(), TraceError>| {
        if let Err(e) = r {
            let _ = e.to_string();
            if let Some(line) = e.line() {
                assert!((1..=lines).contains(&line), "{e}");
            }
        }
    };
    check(read_azure_llm(input, "f").map(|_| ()));
    check(read_openb_tasks(input, "f").map(|_| ()));
    check(read_openb_nodes(input, "f").map(|_| ()));
    check(read_usage(input, "f").map(|_| ()));
    check(read_eua_sites(input, "f").map(|_| ()));
    check(read_eua_users(input, "f").map(|_| ()));
    check(read_shanghai_base_stations(input, "f").map(|_| ()));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes_never_panic(input in proptest::collection::vec(any::<u8>(), 0..400)) {
        run_all(&input);
    }

    #[test]
    fn mutated_files_never_panic(
        seed in 0..SEEDS.len(),
        at in any::<prop::sample::Index>(),
        cut in 0usize..8,
        insert in proptest::collection::vec(
            prop_oneof![Just(b','), Just(b'\n'), Just(b'\r'), Just(b'"'), Just(b'.'), Just(b'-'), any::<u8>()],
            0..6,
        ),
    ) {
        let mut bytes = SEEDS[seed].as_bytes().to_vec();
        let pos = at.index(bytes.len() + 1);
        let end = (pos + cut).min(bytes.len());
        bytes.splice(pos..end, insert);
        run_all(&bytes);
    }
}

#[test]
fn the_seeds_are_valid() {
    assert!(read_azure_llm(SEEDS[0].as_bytes(), "f").is_ok());
    assert!(read_openb_tasks(SEEDS[1].as_bytes(), "f").is_ok());
    assert!(read_openb_nodes(SEEDS[2].as_bytes(), "f").is_ok());
    assert!(read_usage(SEEDS[3].as_bytes(), "f").is_ok());
    assert!(read_usage(SEEDS[4].as_bytes(), "f").is_ok());
    assert!(read_eua_sites(SEEDS[5].as_bytes(), "f").is_ok());
    assert!(read_shanghai_base_stations(SEEDS[6].as_bytes(), "f").is_ok());
}
