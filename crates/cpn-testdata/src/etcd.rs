//! A real three-member etcd cluster on loopback for tests (Debian's `etcd-server`), with the
//! transaction limits the controller needs (`--max-txn-ops 10000 --max-request-bytes 32 MiB`).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

/// Where Debian installs etcd.
pub const ETCD: &str = "/usr/bin/etcd";

/// Whether etcd is here to test against. Without it: a loud SKIPPED outside CI, a failure
/// under CI (CI must run the etcd tests).
pub fn have_etcd() -> bool {
    if Path::new(ETCD).exists() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "etcd not installed (apt-get install etcd-server): CI must run the etcd tests"
    );
    eprintln!("SKIPPED: etcd not installed (apt-get install etcd-server)");
    false
}

/// `n` distinct free TCP ports on loopback.
pub fn free_ports(n: usize) -> Vec<u16> {
    // Hold every listener until all are chosen, so the ports are distinct.
    let listeners: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("bind"))
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().expect("addr").port())
        .collect()
}

/// One etcd process, run under a shell that kills it with SIGKILL and removes its data when
/// our end of its stdin closes: on [`EtcdCluster::kill_member`], on drop, and when the test
/// binary exits without dropping (a cluster shared through a static).
#[derive(Debug)]
struct Member {
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Member {
    fn kill(&mut self) {
        self.stdin = None;
        let _ = self.child.wait();
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Three etcd members on loopback, healthy once [`EtcdCluster::start`] returns.
#[derive(Debug)]
pub struct EtcdCluster {
    members: Vec<Member>,
    endpoints: Vec<String>,
}

fn fresh_dir(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let dir = std::env::temp_dir().join(format!("cpn-etcd-{tag}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    dir
}

impl EtcdCluster {
    /// Starts three members and waits until every one is healthy.
    pub fn start() -> EtcdCluster {
        let ports = free_ports(6);
        let peer = |i: usize| format!("http://127.0.0.1:{}", ports[3 + i]);
        let initial: Vec<String> = (0..3).map(|i| format!("m{i}={}", peer(i))).collect();
        let initial = initial.join(",");
        let mut members = Vec::new();
        let mut endpoints = Vec::new();
        for (i, port) in ports.iter().take(3).enumerate() {
            let client = format!("http://127.0.0.1:{port}");
            let dir = fresh_dir(&format!("m{i}"));
            let mut child = Command::new("sh")
                .args([
                    "-c",
                    r#"dir=$1; shift; "$@" 2>"$dir/log" & pid=$!; cat >/dev/null; kill -9 $pid; wait $pid; rm -rf "$dir""#,
                    "etcd-member",
                ])
                .arg(&dir)
                .arg(ETCD)
                .args(["--name", &format!("m{i}")])
                .arg("--data-dir")
                .arg(dir.join("data"))
                .args(["--listen-client-urls", &client])
                .args(["--advertise-client-urls", &client])
                .args(["--listen-peer-urls", &peer(i)])
                .args(["--initial-advertise-peer-urls", &peer(i)])
                .args(["--initial-cluster", &initial])
                .args(["--initial-cluster-state", "new"])
                .args(["--initial-cluster-token", &format!("cpn-test-{}", ports[0])])
                .args(["--heartbeat-interval", "50", "--election-timeout", "500"])
                .args(["--max-txn-ops", "10000", "--max-request-bytes", "33554432"])
                .args(["--logger", "zap", "--log-outputs", "stderr"])
                .stdin(Stdio::piped())
                // The shell's own "Killed" notice; etcd's log goes to the file.
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn etcd");
            let stdin = child.stdin.take();
            members.push(Member { child, stdin });
            endpoints.push(format!("127.0.0.1:{port}"));
            println!("etcd m{i} at {client}, log in {}", dir.display());
        }
        let cluster = EtcdCluster { members, endpoints };
        cluster.wait_healthy();
        cluster
    }

    /// `host:port` of each member's client URL.
    pub fn endpoints(&self) -> &[String] {
        &self.endpoints
    }

    /// The controller's `--store` address of the cluster: `etcd://a,b,c`.
    pub fn address(&self) -> String {
        format!("etcd://{}", self.endpoints.join(","))
    }

    /// Kills one member with SIGKILL.
    pub fn kill_member(&mut self, i: usize) {
        self.members[i].kill();
    }

    fn wait_healthy(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        for endpoint in &self.endpoints {
            while !healthy(endpoint) {
                assert!(Instant::now() < deadline, "etcd at {endpoint} not healthy");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

/// etcd's `/health` says `"health":"true"`.
fn healthy(endpoint: &str) -> bool {
    let Ok(mut s) = TcpStream::connect(endpoint) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
    let request = format!("GET /health HTTP/1.0\r\nHost: {endpoint}\r\n\r\n");
    let mut reply = String::new();
    s.write_all(request.as_bytes()).is_ok()
        && s.read_to_string(&mut reply).is_ok()
        && reply.contains(r#""health":"true""#)
}
