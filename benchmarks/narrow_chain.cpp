// rill against a hand-written loop on the same data, in one binary.
//
// W5_narrow_chain: batches of 1,000,000 uint64 through map, filter (keeps about half), map, map to
// a pair, map_values and count. W2_keyed_sum: 1,000,000 (key in [0, 100000), int64 value) pairs
// summed per key with reduce_by_key, against boost::unordered_flat_map.
//
// A rill benchmark runs a rill::testing::Harness (a context on a manual clock): every iteration
// advances the clock one interval and returns when that batch's output finished, so an iteration
// is one batch's whole cost (sealing the queued input, cutting it into partitions, the operators,
// the output), with no timer in it. The batches are queued before timing, one per iteration plus
// one untimed warm-up batch that starts the context; hence a fixed iteration count. Each result is
// checked against the baseline's; a mismatch fails the program.
//
// RILL_BENCH_SMOKE=1 runs 3 iterations instead of 20 (ctest's benchmarks.smoke).
#include <benchmark/benchmark.h>

#include <spdlog/logger.h>
#include <boost/unordered/unordered_flat_map.hpp>
#include <rill/testing.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <utility>
#include <vector>

using namespace std::chrono_literals;

namespace {

constexpr std::size_t kBatchSize = 1'000'000;
constexpr std::uint64_t kKeys = 100'000;

std::atomic<bool> g_failed{false};

void fail(benchmark::State& state, const std::string& what) {
  g_failed = true;
  state.SkipWithError(what.c_str());
}

/// Timed iterations: 20, or 3 with RILL_BENCH_SMOKE=1.
std::int64_t iterations() {
  const char* smoke = std::getenv("RILL_BENCH_SMOKE");
  return smoke != nullptr && std::strcmp(smoke, "1") == 0 ? 3 : 20;
}

std::uint64_t splitmix64(std::uint64_t& s) {
  std::uint64_t z = (s += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// ---- W5: the narrow chain ----

std::uint64_t mix1(std::uint64_t x) {
  return (x * 0x9E3779B97F4A7C15ULL) ^ (x >> 29);
}
bool keep(std::uint64_t x) {
  return ((x >> 17) & 1) == 0;
}
std::uint64_t mix2(std::uint64_t x) {
  return (x ^ (x >> 31)) * 0xBF58476D1CE4E5B9ULL;
}
std::uint64_t mix3(std::uint64_t x) {
  return (x * 0x94D049BB133111EBULL) ^ (x >> 27);
}

const std::vector<std::uint64_t>& narrow_input() {
  static const std::vector<std::uint64_t> data = [] {
    std::vector<std::uint64_t> v(kBatchSize);
    std::uint64_t seed = 42;
    for (auto& x : v)
      x = splitmix64(seed);
    return v;
  }();
  return data;
}

/// The chain by hand. DoNotOptimize keeps each pair, as rill materializes each record.
std::int64_t narrow_chain_by_hand(const std::vector<std::uint64_t>& data) {
  std::int64_t count = 0;
  for (const std::uint64_t x : data) {
    const std::uint64_t a = mix1(x);
    if (!keep(a)) continue;
    const std::uint64_t b = mix2(a);
    std::pair<std::uint64_t, std::uint64_t> kv{b, mix3(b & 1023)};
    benchmark::DoNotOptimize(kv);
    ++count;
  }
  return count;
}

std::int64_t narrow_expected() {
  static const std::int64_t expected = narrow_chain_by_hand(narrow_input());
  return expected;
}

void narrow_baseline(benchmark::State& state) {
  const auto& data = narrow_input();
  const std::int64_t expected = narrow_expected();
  std::int64_t count = 0;
  for (auto _ : state) {
    count = narrow_chain_by_hand(data);
    benchmark::DoNotOptimize(count);
  }
  if (count != expected) fail(state, "the baseline counted differently");
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kBatchSize));
}

void narrow_rill(benchmark::State& state, std::size_t k) {
  const std::int64_t expected = narrow_expected();
  rill::testing::Harness h{
      rill::Config{}.batch_interval(1s).parallelism(k).worker_threads(k)};  // on a manual clock
  auto in = h.input(std::vector<std::vector<std::uint64_t>>(
      static_cast<std::size_t>(state.max_iterations) + 1, narrow_input()));
  std::atomic<std::int64_t> count{-1};
  in.map([](std::uint64_t x) { return mix1(x); })
      .filter([](std::uint64_t x) { return keep(x); })
      .map([](std::uint64_t x) { return mix2(x); })
      .map([](std::uint64_t x) {
        return std::pair<std::uint64_t, std::uint64_t>{x, x & 1023};
      })
      .map_values([](std::uint64_t v) { return mix3(v); })
      .count()
      .foreach_batch([&count](const rill::Batch<std::int64_t>& batch, rill::Time) {
        for (const std::int64_t c : batch)
          count = c;
      });
  h.run_batches(1);  // warm-up: starts the context
  if (count != expected) return fail(state, "rill counted differently in the warm-up batch");

  for (auto _ : state) {
    count = -1;
    h.run_batches(1);
  }
  if (count != expected) fail(state, "rill counted differently");
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kBatchSize));
}

// ---- W2: a keyed sum ----

using KV = std::pair<std::uint64_t, std::int64_t>;

const std::vector<KV>& keyed_input() {
  static const std::vector<KV> data = [] {
    std::vector<KV> v(kBatchSize);
    std::uint64_t seed = 7;
    for (auto& [k, value] : v) {
      const std::uint64_t r = splitmix64(seed);
      k = r % kKeys;
      value = static_cast<std::int64_t>(r >> 40) - (std::int64_t{1} << 23);
    }
    return v;
  }();
  return data;
}

/// What both sides' results are compared by: the key count and a checksum of (key, sum).
struct KeyedDigest {
  std::int64_t keys = 0;
  std::uint64_t checksum = 0;
  void add(std::uint64_t key, std::int64_t sum) {
    ++keys;
    checksum += mix1(key) ^ static_cast<std::uint64_t>(sum);
  }
  bool operator==(const KeyedDigest&) const = default;
};

KeyedDigest keyed_sum_by_hand(const std::vector<KV>& data) {
  boost::unordered_flat_map<std::uint64_t, std::int64_t> sums;
  for (const auto& [k, v] : data)
    sums[k] += v;
  KeyedDigest digest;
  for (const auto& [k, sum] : sums)
    digest.add(k, sum);
  return digest;
}

KeyedDigest keyed_expected() {
  static const KeyedDigest expected = keyed_sum_by_hand(keyed_input());
  return expected;
}

void keyed_baseline(benchmark::State& state) {
  const auto& data = keyed_input();
  const KeyedDigest expected = keyed_expected();
  KeyedDigest digest;
  for (auto _ : state) {
    digest = keyed_sum_by_hand(data);
    benchmark::DoNotOptimize(digest);
  }
  if (!(digest == expected)) fail(state, "the baseline summed differently");
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kBatchSize));
}

void keyed_rill(benchmark::State& state, std::size_t k) {
  const KeyedDigest expected = keyed_expected();
  rill::testing::Harness h{rill::Config{}.batch_interval(1s).parallelism(k).worker_threads(k)};
  auto in = h.input(std::vector<std::vector<KV>>(static_cast<std::size_t>(state.max_iterations) + 1,
                                                 keyed_input()));
  KeyedDigest digest;  // written on the batch thread; read after run_batches() returned
  in.reduce_by_key(std::plus<std::int64_t>{})
      .foreach_batch([&digest](const rill::Batch<KV>& batch, rill::Time) {
        KeyedDigest d;
        for (const auto& [key, sum] : batch)
          d.add(key, sum);
        digest = d;
      });
  h.run_batches(1);  // warm-up: starts the context
  if (!(digest == expected)) return fail(state, "rill summed differently in the warm-up batch");

  for (auto _ : state) {
    digest = {};
    h.run_batches(1);
  }
  if (!(digest == expected)) fail(state, "rill summed differently");
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kBatchSize));
}

void configure(benchmark::internal::Benchmark* b) {
  b->Iterations(iterations())
      ->UseRealTime()
      ->MeasureProcessCPUTime()
      ->Unit(benchmark::kMillisecond);
}

}  // namespace

int main(int argc, char** argv) {
  rill::get_logger()->set_level(spdlog::level::warn);  // keep the report readable
  configure(benchmark::RegisterBenchmark("W5_narrow_chain/baseline", narrow_baseline));
  configure(benchmark::RegisterBenchmark("W5_narrow_chain/rill/p1", narrow_rill, 1));
  configure(benchmark::RegisterBenchmark("W5_narrow_chain/rill/p2", narrow_rill, 2));
  configure(benchmark::RegisterBenchmark("W2_keyed_sum/baseline", keyed_baseline));
  configure(benchmark::RegisterBenchmark("W2_keyed_sum/rill/p1", keyed_rill, 1));
  configure(benchmark::RegisterBenchmark("W2_keyed_sum/rill/p2", keyed_rill, 2));

  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return g_failed ? 1 : 0;
}
