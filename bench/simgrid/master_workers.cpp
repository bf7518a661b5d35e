// The master-worker models of `cargo bench -p cpn-sim --bench master_worker`, written for
// SimGrid's S4U API so that SimGrid runs the same simulation in the same benchmark run.
//
// The platform is a star: a master host behind a 10 Gbit/s link and `n` worker hosts each
// behind a 1 Gbit/s link, every link with zero latency. A transfer from the master to a
// worker crosses the master's link and the worker's link. Hosts compute at 1 Gflop/s, so a
// task's 1e6 flops take 1 ms. The network model is CM02 (SimGrid's max-min sharing without
// the LV08 correction factors) with cross traffic off: with zero latency and no factors,
// every transfer gets exactly its max-min fair share, as in cpn's `FlowNet`.
//
// Cases (`--case`):
//   pull      every worker pulls its next task when it has computed the last one: a blocking
//             transfer of 1 MB from the master, then 1 ms of computing; `--tasks` in all, and
//             the run goes on until the last one is computed.
//   inflight  every worker keeps `--slots` transfers outstanding: it starts that many at time
//             0, computes the tasks one at a time in the order their transfers end, and after
//             each task starts one more transfer. The j-th transfer of worker w (counting
//             from 0) carries 500,000 + ((j * n + w) * 7,919 mod 1,000,000) bytes, so that
//             transfers end one at a time. The run stops when `--tasks` tasks are computed,
//             with about n * slots transfers still sharing the master's link.
//
// Prints one line on standard output: `WALL_SECONDS SIMULATED_SECONDS TASKS`, where the wall
// clock covers building the platform, starting the actors and running the simulation (not
// the process start or the parsing of options). SimGrid's own options are accepted
// (`--cfg=...`, `--log=...`); `--cfg=network/model:...` and `--cfg=network/crosstraffic:...`
// replace the defaults set here.

#include <simgrid/s4u.hpp>
#include <xbt/log.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace sg4 = simgrid::s4u;

namespace {

constexpr double kMasterBps = 10e9 / 8;  // bytes per second
constexpr double kWorkerBps = 1e9 / 8;
constexpr double kHostFlops = 1e9;
constexpr double kTaskFlops = 1e6;  // 1 ms at kHostFlops
constexpr uint64_t kPullBytes = 1000000;

uint64_t inflight_bytes(uint64_t k) { return 500000 + (k * 7919) % 1000000; }

struct Options {
  std::string which = "pull";
  uint64_t workers = 100;
  uint64_t tasks = 1000;
  uint64_t slots = 1;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "master_workers: %s\nusage: master_workers --case pull|inflight --workers N --tasks T "
               "[--slots K] [--cfg=...]\n",
               why);
  std::exit(2);
}

void report(std::chrono::steady_clock::time_point start, uint64_t tasks) {
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%.6f %.9f %llu\n", wall, sg4::Engine::get_clock(), (unsigned long long)tasks);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value after " + a).c_str());
      return argv[++i];
    };
    if (a == "--case") {
      o.which = value();
    } else if (a == "--workers") {
      o.workers = std::strtoull(value().c_str(), nullptr, 10);
    } else if (a == "--tasks") {
      o.tasks = std::strtoull(value().c_str(), nullptr, 10);
    } else if (a == "--slots") {
      o.slots = std::strtoull(value().c_str(), nullptr, 10);
    } else {
      usage(("unknown argument " + a).c_str());
    }
  }
  if (o.which != "pull" && o.which != "inflight") usage("--case is pull or inflight");
  if (o.workers == 0 || o.slots == 0 || o.tasks == 0) usage("--workers, --tasks and --slots must be positive");
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  // Logging below critical costs nothing at run time; set it before the engine reads argv so
  // that a --log option given on the command line still wins.
  xbt_log_control_set("root.thres:critical");
  // Defaults that make SimGrid's model the one cpn simulates, unless the command line names
  // them (the engine consumes its options from argv, so look before it does).
  bool model_given = false;
  bool cross_given = false;
  for (int i = 1; i < argc; i++) {
    model_given |= std::strncmp(argv[i], "--cfg=network/model:", 20) == 0;
    cross_given |= std::strncmp(argv[i], "--cfg=network/crosstraffic:", 27) == 0;
  }
  sg4::Engine e(&argc, argv);
  if (!model_given) sg4::Engine::set_config("network/model:CM02");
  if (!cross_given) sg4::Engine::set_config("network/crosstraffic:0");
  Options o = parse(argc, argv);

  auto start = std::chrono::steady_clock::now();
  auto* zone = sg4::create_star_zone("star");
  auto attach = [zone](const std::string& name, double bps) {
    sg4::Host* host = zone->create_host(name, kHostFlops)->seal();
    const sg4::Link* link = zone->create_link(name + "-link", bps)->seal();
    // Symmetrical: the host's one link is on the way out and on the way in.
    zone->add_route(host->get_netpoint(), nullptr, nullptr, nullptr, {sg4::LinkInRoute(link)}, true);
    return host;
  };
  sg4::Host* master = attach("master", kMasterBps);
  std::vector<sg4::Host*> workers;
  workers.reserve(o.workers);
  for (uint64_t w = 0; w < o.workers; w++) {
    workers.push_back(attach("worker-" + std::to_string(w), kWorkerBps));
  }
  zone->seal();

  // Actors run one at a time in SimGrid's maestro loop, so a plain counter is safe.
  uint64_t issued = 0;
  uint64_t computed = 0;
  const uint64_t tasks = o.tasks;
  const uint64_t n = o.workers;
  for (uint64_t w = 0; w < n; w++) {
    sg4::Host* me = workers[w];
    if (o.which == "pull") {
      sg4::Actor::create("worker-" + std::to_string(w), me, [&issued, &computed, tasks, master, me]() {
        while (issued < tasks) {
          issued++;
          sg4::Comm::sendto(master, me, kPullBytes);
          sg4::this_actor::execute(kTaskFlops);
          computed++;
        }
      });
    } else {
      const uint64_t slots = o.slots;
      auto worker = [&computed, start, tasks, n, w, slots, master, me]() {
        std::vector<sg4::CommPtr> pending;
        uint64_t j = 0;
        for (; j < slots; j++) {
          pending.push_back(sg4::Comm::sendto_async(master, me, inflight_bytes(j * n + w)));
        }
        for (;;) {
          // Several transfers may have ended while the last task was computed; their tasks
          // are alike, so which of them is computed first changes nothing.
          ssize_t i = sg4::Comm::wait_any(pending);
          pending.erase(pending.begin() + i);
          sg4::this_actor::execute(kTaskFlops);
          if (++computed == tasks) {
            // The measured part ends here. Tearing down the transfers still in flight (killing
            // actors that hold them) makes SimGrid print a backtrace per transfer, so report
            // and leave at once; the teardown is not measured.
            report(start, tasks);
            std::fflush(stdout);
            std::_Exit(0);
          }
          pending.push_back(sg4::Comm::sendto_async(master, me, inflight_bytes(j * n + w)));
          j++;
        }
      };
      sg4::Actor::create("worker-" + std::to_string(w), me, worker);
    }
  }
  e.run();
  if (computed != tasks) {
    std::fprintf(stderr, "master_workers: computed %llu tasks of %llu\n", (unsigned long long)computed,
                 (unsigned long long)tasks);
    return 1;
  }
  report(start, tasks);
  return 0;
}
