// rill's workloads (issue 5): each pipeline through the real engine against a hand-written,
// single-threaded loop over the same data, plus end-to-end latency and the cost of an empty batch.
//
//   W<n>_<name>/baseline  a straightforward loop honouring the same contract (same result)
//                         (W1-W5, and W7: W2's batches joined with a static table)
//   W<n>_<name>/rill/p1   the pipeline, parallelism 1, one worker thread
//   W<n>_<name>/rill/p2   the pipeline, parallelism 2, two worker threads
//
// A rill benchmark runs a rill::testing::Harness (a context on a manual clock): an iteration
// advances the clock (one interval, or one slide for W3) and returns when the batch's output has
// finished, so it is one batch's whole cost: sealing the queued input, cutting it into partitions,
// the operators, the output. Every batch is prepared in memory and queued before timing; that is
// why the iteration counts are fixed. Outputs are consumed by foreach_batch into a digest that is
// compared with the baseline's; a mismatch fails the program (exit status 1).
//
// Counters: items_per_second (records fed in); for rill, rill::StreamingContext::memory_usage()
// read after the first and after the last timed iteration (retained_bytes_*, state_bytes_*).
//
// Latency/socket: a real context (system clock, 10 ms batches, no checkpoint) reads
// socket_text_stream from a loopback server sending 200,000 lines/s, each carrying its send time;
// a foreach_batch output records, per line, the end of its batch's output minus the send time.
// Latency/socket_10ms_checkpoint: the same with a checkpoint directory (the write-ahead log
// fdatasyncs every block the socket stores; every batch writes a seal record and a checkpoint).
// EmptyBatch/*: process CPU time per batch of a context with one output and no data.
//
// RILL_BENCH_ITERATIONS=N sets the timed iterations of the workloads (default 20).
// RILL_BENCH_SMOKE=1 (ctest's benchmarks.smoke) runs 3 iterations over batches a tenth as large
// and a short latency run: it checks that everything still runs and agrees, it measures nothing.
#include <benchmark/benchmark.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <spdlog/logger.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <boost/unordered/unordered_flat_map.hpp>
#include <rill/testing.hpp>
#ifdef RILL_BENCH_KAFKA
#include <librdkafka/rdkafka.h>
#include <rill/kafka.hpp>

#include <array>
#include <cstdio>
#endif

// The progress record's history, private to the library (ProgressRecord/W2_keyed_sum).
#include "scheduler/progress_history.hpp"

#if RILL_BENCH_WITH_OPS
#include <rill/ops.hpp>
#endif

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

using namespace std::chrono_literals;

namespace {

// ---- common ----

bool smoke() {
  static const bool on = [] {
    const char* env = std::getenv("RILL_BENCH_SMOKE");
    return env != nullptr && std::strcmp(env, "1") == 0;
  }();
  return on;
}

/// Timed iterations of a workload: 20, 3 in smoke mode, or RILL_BENCH_ITERATIONS (for profiling:
/// more batches make the setup a smaller share of the samples).
std::int64_t iterations() {
  if (const char* env = std::getenv("RILL_BENCH_ITERATIONS"); env != nullptr && *env != '\0') {
    return std::max<std::int64_t>(1, std::atoll(env));
  }
  return smoke() ? 3 : 20;
}

/// A record count, divided by ten in smoke mode.
std::size_t scaled(std::size_t n) {
  return smoke() ? n / 10 : n;
}

std::atomic<bool> g_failed{false};

void fail(benchmark::State& state, const std::string& what) {
  g_failed = true;
  state.SkipWithError(what.c_str());
}

std::uint64_t splitmix64(std::uint64_t& s) {
  std::uint64_t z = (s += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

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

/// What results are compared by: how many records and an order-independent checksum of them.
struct Digest {
  std::int64_t records = 0;
  std::uint64_t checksum = 0;
  void add(std::uint64_t h) {
    ++records;
    checksum += mix1(h);
  }
  void add(std::uint64_t key, std::int64_t value) {
    add(mix1(key) ^ static_cast<std::uint64_t>(value));
  }
  bool operator==(const Digest&) const = default;
};

rill::Config config(std::size_t k) {
  return rill::Config{}.batch_interval(1s).parallelism(k).worker_threads(k);
}

std::size_t timed(const benchmark::State& state) {
  return static_cast<std::size_t>(state.max_iterations);
}

/// The process's minor page faults (first touches of fresh memory) from construction to report():
/// per iteration, as the counter `page_faults`. Memory returned to the kernel and taken again
/// costs a fault per 4 KiB page, which can be a large share of a batch on this VM.
class PageFaults {
 public:
  PageFaults() : start_(minor_faults()) {}
  void report(benchmark::State& state) const {
    state.counters["page_faults"] = benchmark::Counter(static_cast<double>(minor_faults() - start_),
                                                       benchmark::Counter::kAvgIterations);
  }

 private:
  static long minor_faults() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_minflt;
  }
  long start_;
};

/// Runs the timed loop of a rill benchmark: `step()` per iteration; reads memory_usage() after
/// the first and after the last iteration; sets items_per_second.
template <class Step>
void rill_loop(benchmark::State& state, rill::testing::Harness& h, std::int64_t items_per_iteration,
               Step&& step) {
  rill::MemoryUsage first;
  bool sampled = false;
  const PageFaults faults;
  for (auto _ : state) {
    step();
    if (!sampled) {
      first = h.context().memory_usage();
      sampled = true;
    }
  }
  const rill::MemoryUsage last = h.context().memory_usage();
  state.counters["retained_bytes_first"] = static_cast<double>(first.retained_bytes);
  state.counters["retained_bytes_last"] = static_cast<double>(last.retained_bytes);
  state.counters["state_bytes_first"] = static_cast<double>(first.state_bytes);
  state.counters["state_bytes_last"] = static_cast<double>(last.state_bytes);
  faults.report(state);
  state.SetItemsProcessed(state.iterations() * items_per_iteration);
}

/// Runs the timed loop of a baseline; sets items_per_second.
template <class Step>
void baseline_loop(benchmark::State& state, std::int64_t items_per_iteration, Step&& step) {
  const PageFaults faults;
  for (auto _ : state)
    step();
  faults.report(state);
  state.SetItemsProcessed(state.iterations() * items_per_iteration);
}

using KV = std::pair<std::uint64_t, std::int64_t>;

/// (key in [0, keys), int64 value) pairs, a pure function of the seed.
std::vector<KV> keyed_batch(std::size_t size, std::uint64_t keys, std::uint64_t key_offset,
                            std::uint64_t seed) {
  std::vector<KV> v(size);
  for (auto& [k, value] : v) {
    const std::uint64_t r = splitmix64(seed);
    k = key_offset + r % keys;
    value = static_cast<std::int64_t>(r >> 40) - (std::int64_t{1} << 23);
  }
  return v;
}

// ---- W1: word count ----

constexpr std::size_t kVocabulary = 10'000;
constexpr std::size_t kWordsPerLine = 10;

std::size_t w1_lines() {
  return scaled(100'000);
}

/// 10,000 distinct words of 3 to 12 characters: random letters, then the word's rank.
const std::vector<std::string>& vocabulary() {
  static const std::vector<std::string> words = [] {
    std::vector<std::string> v(kVocabulary);
    std::uint64_t seed = 3;
    for (std::size_t i = 0; i < v.size(); ++i) {
      const std::size_t letters = 2 + splitmix64(seed) % 6;
      for (std::size_t j = 0; j < letters; ++j)
        v[i] += static_cast<char>('a' + splitmix64(seed) % 26);
      v[i] += std::to_string(i);
    }
    return v;
  }();
  return words;
}

/// Lines of ten words drawn with a Zipf-like distribution (weight of rank r: 1 / (r + 1)).
const std::vector<std::string>& w1_batch() {
  static const std::vector<std::string> lines = [] {
    const auto& vocab = vocabulary();
    std::vector<double> cdf(kVocabulary);
    double total = 0;
    for (std::size_t r = 0; r < cdf.size(); ++r) {
      total += 1.0 / static_cast<double>(r + 1);
      cdf[r] = total;
    }
    std::vector<std::string> out(w1_lines());
    std::uint64_t seed = 11;
    for (auto& line : out) {
      for (std::size_t w = 0; w < kWordsPerLine; ++w) {
        const double u = static_cast<double>(splitmix64(seed) >> 11) * 0x1.0p-53 * total;
        const auto rank = std::min<std::size_t>(
            static_cast<std::size_t>(std::upper_bound(cdf.begin(), cdf.end(), u) - cdf.begin()),
            kVocabulary - 1);
        if (w > 0) line += ' ';
        line += vocab[rank];
      }
    }
    return out;
  }();
  return lines;
}

std::uint64_t word_hash(std::string_view w) {
  std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a
  for (const char c : w) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

/// The white space of rill::split_words.
constexpr bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

Digest word_count_by_hand(const std::vector<std::string>& lines) {
  boost::unordered_flat_map<std::string, std::int64_t> counts;
  for (const std::string& line : lines) {
    const std::size_t n = line.size();
    std::size_t i = 0;
    while (i < n) {
      while (i < n && is_space(line[i]))
        ++i;
      const std::size_t start = i;
      while (i < n && !is_space(line[i]))
        ++i;
      if (i > start) ++counts[line.substr(start, i - start)];
    }
  }
  Digest d;
  for (const auto& [w, c] : counts)
    d.add(word_hash(w), c);
  return d;
}

Digest w1_expected() {
  static const Digest expected = word_count_by_hand(w1_batch());
  return expected;
}

void w1_baseline(benchmark::State& state) {
  const auto& lines = w1_batch();
  Digest d;
  baseline_loop(state, static_cast<std::int64_t>(w1_lines() * kWordsPerLine), [&] {
    d = word_count_by_hand(lines);
    benchmark::DoNotOptimize(d);
  });
  if (!(d == w1_expected())) fail(state, "the baseline counted words differently");
}

void w1_rill(benchmark::State& state, std::size_t k) {
  rill::testing::Harness h{config(k)};
  auto in = h.input(std::vector<std::vector<std::string>>(timed(state) + 1, w1_batch()));
  Digest digest;  // written on the batch thread; read after run_batches() returned
  in.flat_map(rill::split_words)
      .map([](std::string w) {
        return std::pair<std::string, std::int64_t>{std::move(w), 1};
      })
      .reduce_by_key(std::plus<std::int64_t>{})
      .foreach_batch(
          [&digest](const rill::Batch<std::pair<std::string, std::int64_t>>& batch, rill::Time) {
            Digest d;
            for (const auto& [w, c] : batch)
              d.add(word_hash(w), c);
            digest = d;
          });
  h.run_batches(1);  // warm-up: starts the context
  if (!(digest == w1_expected())) return fail(state, "rill counted words differently (warm-up)");
  rill_loop(state, h, static_cast<std::int64_t>(w1_lines() * kWordsPerLine), [&] {
    digest = {};
    h.run_batches(1);
  });
  if (!(digest == w1_expected())) fail(state, "rill counted words differently");
}

// ---- W2: keyed sum ----

constexpr std::uint64_t kKeys = 100'000;

std::size_t batch_size() {
  return scaled(1'000'000);
}

const std::vector<KV>& w2_batch() {
  static const std::vector<KV> data = keyed_batch(batch_size(), kKeys, 0, 7);
  return data;
}

Digest keyed_sum_by_hand(const std::vector<KV>& data) {
  boost::unordered_flat_map<std::uint64_t, std::int64_t> sums;
  for (const auto& [k, v] : data)
    sums[k] += v;
  Digest d;
  for (const auto& [k, sum] : sums)
    d.add(k, sum);
  return d;
}

Digest w2_expected() {
  static const Digest expected = keyed_sum_by_hand(w2_batch());
  return expected;
}

void w2_baseline(benchmark::State& state) {
  const auto& data = w2_batch();
  Digest d;
  baseline_loop(state, static_cast<std::int64_t>(data.size()), [&] {
    d = keyed_sum_by_hand(data);
    benchmark::DoNotOptimize(d);
  });
  if (!(d == w2_expected())) fail(state, "the baseline summed differently");
}

/// W2's pipeline on `in`: sums per key, each batch's digest into `digest`.
void w2_pipeline(const rill::DStream<KV>& in, Digest& digest) {
  in.reduce_by_key(std::plus<std::int64_t>{})
      .foreach_batch([&digest](const rill::Batch<KV>& batch, rill::Time) {
        Digest d;
        for (const auto& [key, sum] : batch)
          d.add(key, sum);
        digest = d;
      });
}

void w2_rill(benchmark::State& state, std::size_t k) {
  rill::testing::Harness h{config(k)};
  auto in = h.input(std::vector<std::vector<KV>>(timed(state) + 1, w2_batch()));
  Digest digest;
  w2_pipeline(in, digest);
  h.run_batches(1);
  if (!(digest == w2_expected())) return fail(state, "rill summed differently (warm-up)");
  rill_loop(state, h, static_cast<std::int64_t>(batch_size()), [&] {
    digest = {};
    h.run_batches(1);
  });
  if (!(digest == w2_expected())) fail(state, "rill summed differently");
}

// ---- The progress record's cost on W2 ----

/// Progress records are always on (there is no switch to compare against), so this measures
/// what the engine does per batch for the record, beyond running the batch, against W2's batch
/// time in the same process: it runs W2 (p2) to get its per-batch wall time and the record of a
/// W2 batch as the engine built it (last_progress()), then repeats the record's work on that
/// shape: the tick's per-source vector (names copied), the batch runner's fields and clock
/// reads, one OutputProgress per output (name copied), the state entries, and the copy kept by
/// the real ProgressHistory (recent_progress(); the engine copies the record in only when a
/// listener hears it too, and moves it in otherwise). Not counted: emitting to listeners (W2
/// has none: one atomic load) and the progress log (off by default).
void progress_record_w2(benchmark::State& state) {
  using SteadyClock = std::chrono::steady_clock;
  const int batches = smoke() ? 3 : 10;
  rill::testing::Harness h{config(2)};
  auto in =
      h.input(std::vector<std::vector<KV>>(static_cast<std::size_t>(batches) + 1, w2_batch()));
  Digest digest;
  w2_pipeline(in, digest);
  h.run_batches(1);  // warm-up
  std::vector<double> batch_ns;
  for (int i = 0; i < batches; ++i) {
    const auto t0 = SteadyClock::now();
    h.run_batches(1);
    batch_ns.push_back(static_cast<double>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now() - t0).count()));
  }
  if (!(digest == w2_expected())) return fail(state, "rill summed differently");
  std::sort(batch_ns.begin(), batch_ns.end());
  const double w2_batch_ns = batch_ns[batch_ns.size() / 2];
  const auto shape = h.context().last_progress();
  if (!shape) return fail(state, "no progress record");

  rill::detail::ProgressHistory history;
  constexpr int kPerIteration = 1000;
  double record_ns_total = 0;
  std::int64_t records = 0;
  for (auto _ : state) {
    const auto t0 = SteadyClock::now();
    for (int r = 0; r < kPerIteration; ++r) {
      std::vector<rill::SourceProgress> sources;  // the tick (JobGenerator::tick)
      for (const auto& source : shape->sources) {
        sources.push_back(rill::SourceProgress{source.name, source.num_records, 0, std::nullopt,
                                               source.rate_limit});
        sources.back().input_rate = static_cast<double>(source.num_records) * 1000.0 / 1000.0;
      }
      rill::BatchInfo info;  // the batch runner (BatchRunner::run)
      const auto started = SteadyClock::now();
      info.batch_time = shape->batch_time;
      info.num_records = shape->num_records;
      info.held_back = shape->held_back;
      info.sources = std::move(sources);
      info.input_rate = shape->input_rate;
      info.sealing_duration = shape->sealing_duration;
      info.back_pressure = shape->back_pressure;
      info.scheduling_delay = std::chrono::duration_cast<rill::Duration>(started - t0);
      for (const auto& output : shape->outputs) {
        const auto op_started = SteadyClock::now();
        info.outputs.push_back(rill::OutputProgress{
            output.name, std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() -
                                                                               op_started)});
      }
      info.state = shape->state;
      const auto completed = SteadyClock::now();
      info.processing_delay = std::chrono::duration_cast<rill::Duration>(completed - started);
      info.total_delay = info.scheduling_delay + info.processing_delay;
      const auto us =
          std::chrono::duration_cast<std::chrono::microseconds>(completed - started).count();
      info.processing_rate =
          us > 0 ? static_cast<double>(info.num_records) * 1e6 / static_cast<double>(us) : 0.0;
      history.add(info);  // recent_progress() (Engine::batch_loop)
      benchmark::DoNotOptimize(info);
    }
    record_ns_total += static_cast<double>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now() - t0).count());
    records += kPerIteration;
  }
  const double record_ns =
      record_ns_total / static_cast<double>(std::max<std::int64_t>(records, 1));
  state.counters["record_ns"] = record_ns;
  state.counters["w2_batch_ms"] = w2_batch_ns / 1e6;
  state.counters["record_share_pct"] = 100.0 * record_ns / w2_batch_ns;
  if (record_ns >= 0.02 * w2_batch_ns)
    fail(state, "the progress record costs 2 % of W2's batch or more");
}

// ---- W3: sliding window ----

constexpr std::size_t kWindow = 10;  // intervals
constexpr std::size_t kSlide = 2;    // intervals
constexpr std::size_t kDistinctW3 = 12;

/// Batch i of the W3 timeline (W2's shape, a different seed per batch, cycling).
const std::vector<KV>& w3_batch(std::size_t i) {
  static const std::vector<std::vector<KV>> batches = [] {
    std::vector<std::vector<KV>> v;
    for (std::size_t j = 0; j < kDistinctW3; ++j)
      v.push_back(keyed_batch(batch_size(), kKeys, 0, 1000 + j));
    return v;
  }();
  return batches[i % kDistinctW3];
}

/// The hand-written incremental window: a ring of per-batch pre-aggregates (sum and record
/// count per key), and the window's per-key sums and counts, updated per batch that enters.
class SlidingSum {
 public:
  using Counted = std::pair<std::int64_t, std::int64_t>;  // sum, records
  using Table = boost::unordered_flat_map<std::uint64_t, Counted>;

  SlidingSum() : ring_(kWindow) {}

  /// Batch `i` enters the window; batch i - kWindow leaves it.
  void add(std::size_t i, const std::vector<KV>& data) {
    Table& slot = ring_[i % kWindow];
    for (const auto& [k, c] : slot) {  // the batch leaving, if any
      auto it = window_.find(k);
      if ((it->second.second -= c.second) == 0) {
        window_.erase(it);
      } else {
        it->second.first -= c.first;
      }
    }
    slot.clear();
    for (const auto& [k, v] : data) {
      auto& c = slot[k];
      c.first += v;
      ++c.second;
    }
    for (const auto& [k, c] : slot) {
      auto& w = window_[k];
      w.first += c.first;
      w.second += c.second;
    }
  }
  [[nodiscard]] Digest digest() const {
    Digest d;
    for (const auto& [k, c] : window_)
      d.add(k, c.first);
    return d;
  }
  /// Bytes of the pre-aggregates as rill counts them: (key, (value, count)) per key and batch.
  [[nodiscard]] std::size_t preaggregate_bytes() const {
    std::size_t keys = 0;
    for (const auto& slot : ring_)
      keys += slot.size();
    return keys * sizeof(std::pair<std::uint64_t, Counted>);
  }

 private:
  std::vector<Table> ring_;
  Table window_;
};

struct W3Result {
  Digest digest;
  std::size_t preaggregate_bytes = 0;
};

/// The window after the warm-up (kWindow batches) and `slides` slides.
W3Result w3_expected(std::size_t slides) {
  static std::mutex mutex;
  static std::map<std::size_t, W3Result> cache;
  std::lock_guard lock(mutex);
  if (auto it = cache.find(slides); it != cache.end()) return it->second;
  SlidingSum sum;
  for (std::size_t i = 0; i < kWindow + kSlide * slides; ++i)
    sum.add(i, w3_batch(i));
  return cache[slides] = W3Result{sum.digest(), sum.preaggregate_bytes()};
}

void w3_baseline(benchmark::State& state) {
  const W3Result expected = w3_expected(timed(state));
  SlidingSum sum;
  std::size_t next = 0;
  for (; next < kWindow; ++next)  // warm-up: the window fills
    sum.add(next, w3_batch(next));
  Digest d;
  baseline_loop(state, static_cast<std::int64_t>(kSlide * batch_size()), [&] {
    for (std::size_t s = 0; s < kSlide; ++s, ++next)
      sum.add(next, w3_batch(next));
    d = sum.digest();
    benchmark::DoNotOptimize(d);
  });
  if (!(d == expected.digest)) fail(state, "the baseline windowed differently");
  state.counters["preaggregate_bytes"] = static_cast<double>(sum.preaggregate_bytes());
}

void w3_rill(benchmark::State& state, std::size_t k) {
  const W3Result expected = w3_expected(timed(state));
  rill::testing::Harness h{config(k)};
  std::vector<std::vector<KV>> batches;
  for (std::size_t i = 0; i < kWindow + kSlide * timed(state); ++i)
    batches.push_back(w3_batch(i));
  auto in = h.input(std::move(batches));
  Digest digest;
  in.reduce_by_key_and_window(std::plus<std::int64_t>{}, std::minus<std::int64_t>{},
                              std::chrono::seconds(kWindow), std::chrono::seconds(kSlide))
      .foreach_batch([&digest](const rill::Batch<KV>& batch, rill::Time) {
        Digest d;
        for (const auto& [key, sum] : batch)
          d.add(key, sum);
        digest = d;
      });
  h.run_batches(kWindow);  // warm-up: the window fills
  if (!(digest == w3_expected(0).digest)) return fail(state, "rill windowed differently (warm-up)");
  rill_loop(state, h, static_cast<std::int64_t>(kSlide * batch_size()), [&] {
    digest = {};
    h.run_batches(kSlide);
  });
  if (!(digest == expected.digest)) fail(state, "rill windowed differently");
  state.counters["preaggregate_bytes"] = static_cast<double>(expected.preaggregate_bytes);
}

// ---- W4: session state ----

constexpr std::size_t kSlices = 10;

std::size_t state_keys() {
  return scaled(1'000'000);
}
std::size_t slice_keys() {
  return state_keys() / kSlices;
}

/// Batch i: records over key slice i mod 10.
const std::vector<KV>& w4_batch(std::size_t i) {
  static const std::vector<std::vector<KV>> batches = [] {
    std::vector<std::vector<KV>> v;
    for (std::size_t s = 0; s < kSlices; ++s) {
      auto b = keyed_batch(batch_size(), slice_keys(), s * slice_keys(), 2000 + s);
      for (auto& kv : b)
        kv.second = kv.second & 1023;
      v.push_back(std::move(b));
    }
    return v;
  }();
  return batches[i % kSlices];
}

std::vector<KV> w4_initial_state() {
  std::vector<KV> v(state_keys());
  for (std::size_t k = 0; k < v.size(); ++k)
    v[k] = {k, static_cast<std::int64_t>(k % 7)};
  return v;
}

/// The hand-written session state: one table, every record adds to its key's state and emits it.
class SessionState {
 public:
  SessionState() {
    for (const auto& [k, s] : w4_initial_state())
      state_.emplace(k, s);
  }
  /// Emits every record's new state; returns their digest.
  Digest run(const std::vector<KV>& data) {
    out_.clear();
    for (const auto& [k, v] : data) {
      auto& s = state_[k];
      s += v;
      out_.push_back(s);
    }
    Digest d;
    for (const std::int64_t x : out_)
      d.add(static_cast<std::uint64_t>(x));
    return d;
  }

 private:
  boost::unordered_flat_map<std::uint64_t, std::int64_t> state_;
  std::vector<std::int64_t> out_;
};

/// The digest of batch 1 + iterations (after a warm-up batch 0).
Digest w4_expected(std::size_t iterations) {
  static std::mutex mutex;
  static std::map<std::size_t, Digest> cache;
  std::lock_guard lock(mutex);
  if (auto it = cache.find(iterations); it != cache.end()) return it->second;
  SessionState s;
  Digest d;
  for (std::size_t i = 0; i <= iterations; ++i)
    d = s.run(w4_batch(i));
  return cache[iterations] = d;
}

void w4_baseline(benchmark::State& state) {
  const Digest expected = w4_expected(timed(state));
  SessionState s;
  Digest d = s.run(w4_batch(0));  // warm-up
  std::size_t next = 1;
  baseline_loop(state, static_cast<std::int64_t>(batch_size()), [&] {
    d = s.run(w4_batch(next++));
    benchmark::DoNotOptimize(d);
  });
  if (!(d == expected)) fail(state, "the baseline kept state differently");
}

void w4_rill(benchmark::State& state, std::size_t k) {
  const Digest expected = w4_expected(timed(state));
  rill::testing::Harness h{config(k)};
  std::vector<std::vector<KV>> batches;
  for (std::size_t i = 0; i <= timed(state); ++i)
    batches.push_back(w4_batch(i));
  auto in = h.input(std::move(batches));
  Digest digest;
  auto spec =
      rill::state_spec<std::uint64_t, std::int64_t, std::int64_t>(
          [](const std::uint64_t&, std::optional<std::int64_t> v, rill::State<std::int64_t>& st) {
            const std::int64_t s = (st.exists() ? st.get() : 0) + v.value_or(0);
            st.update(s);
            return s;
          })
          .initial_state(w4_initial_state());
  in.map_with_state(spec).foreach_batch(
      [&digest](const rill::Batch<std::int64_t>& batch, rill::Time) {
        Digest d;
        for (const std::int64_t x : batch)
          d.add(static_cast<std::uint64_t>(x));
        digest = d;
      });
  h.run_batches(1);
  if (!(digest == w4_expected(0))) return fail(state, "rill kept state differently (warm-up)");
  rill_loop(state, h, static_cast<std::int64_t>(batch_size()), [&] {
    digest = {};
    h.run_batches(1);
  });
  if (!(digest == expected)) fail(state, "rill kept state differently");
}

// ---- W5: narrow chain ----

const std::vector<std::uint64_t>& w5_batch() {
  static const std::vector<std::uint64_t> data = [] {
    std::vector<std::uint64_t> v(batch_size());
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

std::int64_t w5_expected() {
  static const std::int64_t expected = narrow_chain_by_hand(w5_batch());
  return expected;
}

void w5_baseline(benchmark::State& state) {
  const auto& data = w5_batch();
  std::int64_t count = 0;
  baseline_loop(state, static_cast<std::int64_t>(data.size()), [&] {
    count = narrow_chain_by_hand(data);
    benchmark::DoNotOptimize(count);
  });
  if (count != w5_expected()) fail(state, "the baseline counted differently");
}

void w5_rill(benchmark::State& state, std::size_t k) {
  rill::testing::Harness h{config(k)};
  auto in = h.input(std::vector<std::vector<std::uint64_t>>(timed(state) + 1, w5_batch()));
  std::int64_t count = -1;
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
  h.run_batches(1);
  if (count != w5_expected()) return fail(state, "rill counted differently (warm-up)");
  rill_loop(state, h, static_cast<std::int64_t>(batch_size()), [&] {
    count = -1;
    h.run_batches(1);
  });
  if (count != w5_expected()) fail(state, "rill counted differently");
}

// ---- W6: event-time sliding window ----

constexpr std::int64_t kW6SizeMs = 10'000;
constexpr std::int64_t kW6SlideMs = 2'000;  // also the pane: gcd(size, slide)
constexpr std::int64_t kW6DelayMs = 3'000;
constexpr std::int64_t kW6DisorderMs = 2'000;
constexpr std::size_t kW6BatchesPerIteration = 2;  // one slide of event time
/// Batches before timing: the window (10 s), the delay (3 s) and the disorder (2 s) fill; from
/// then on every pane that is evicted is replaced by a new one.
constexpr std::size_t kW6WarmUp = 16;

/// A W6 record: W2's key and value, and an event time (ms).
struct EventRow {
  std::uint64_t key;
  std::int64_t value;
  rill::Time time;
};

/// Batch i of the W6 timeline: W2's shape (a seed per batch); event times in
/// [i s + 10 s - 2 s, i s + 10 s + 1 s): the batch's own second, minus up to 2 s of disorder.
std::vector<EventRow> w6_batch(std::size_t i) {
  std::vector<EventRow> v(batch_size());
  std::uint64_t seed = 3000 + i;
  const std::int64_t second = (static_cast<std::int64_t>(i) + 10) * 1000;
  for (auto& row : v) {
    const std::uint64_t r = splitmix64(seed);
    const std::uint64_t s = splitmix64(seed);
    row.key = r % kKeys;
    row.value = static_cast<std::int64_t>(r >> 40) - (std::int64_t{1} << 23);
    row.time = rill::Time{second + static_cast<std::int64_t>(s % 1000) -
                          static_cast<std::int64_t>((s >> 32) % (kW6DisorderMs + 1))};
  }
  return v;
}

std::vector<std::vector<EventRow>> w6_batches(std::size_t n) {
  std::vector<std::vector<EventRow>> v;
  v.reserve(n);
  for (std::size_t i = 0; i < n; ++i)
    v.push_back(w6_batch(i));
  return v;
}

/// What a W6 result is digested by: the window's start mixed into the key, and the sum.
void w6_digest(Digest& d, rill::Time window_start, std::uint64_t key, std::int64_t sum) {
  d.add(mix2(static_cast<std::uint64_t>(window_start.milliseconds())) ^ key, sum);
}

/// The hand-written event-time window, append mode: per pane (2 s of event time, the slide) a
/// table of per-key sums, the panes in a deque by start. Batch t, as rill (Spark >= 3.4) runs
/// it: a row whose last window ended by the previous batch's watermark is late and dropped; the
/// others add to their pane's table; then each window with `emitted < end <= watermark` is
/// emitted, its five panes merged per key, and the panes whose last window ended are dropped.
/// The watermark in force in a batch is the largest event time of the batches before it minus
/// 3 s.
class EventWindowSum {
 public:
  using Table = boost::unordered_flat_map<std::uint64_t, std::int64_t>;

  /// One batch; adds the windows it emits to `out`.
  void run(const std::vector<EventRow>& data, Digest& out) {
    const std::optional<std::int64_t> late_bound = previous_;  // wm(t - interval)
    const std::optional<std::int64_t> wm = current_;           // wm(t)
    std::int64_t max_time = std::numeric_limits<std::int64_t>::min();
    for (const EventRow& row : data) {
      const std::int64_t t = row.time.milliseconds();
      max_time = std::max(max_time, t);
      const std::int64_t pane = t - floor_mod(t, kW6SlideMs);
      if (late_bound && pane + kW6SizeMs <= *late_bound) {
        ++late_;
        continue;
      }
      pane_table(pane)[row.key] += row.value;
    }
    if (wm) {
      emit(*wm, out);
      while (!panes_.empty() && first_pane_ + kW6SizeMs <= *wm) {
        panes_.pop_front();
        first_pane_ += kW6SlideMs;
      }
      if (!emitted_ || *wm > *emitted_) emitted_ = wm;
    }
    previous_ = current_;
    if (!data.empty()) {
      const std::int64_t next = max_time - kW6DelayMs;
      if (!current_ || next > *current_) current_ = next;
    }
  }
  [[nodiscard]] std::int64_t late() const { return late_; }

 private:
  static std::int64_t floor_mod(std::int64_t a, std::int64_t m) {
    const std::int64_t r = a % m;
    return r < 0 ? r + m : r;
  }

  Table& pane_table(std::int64_t pane) {
    if (panes_.empty()) {
      first_pane_ = pane;
      panes_.emplace_back();
    }
    while (pane < first_pane_) {
      panes_.emplace_front();
      first_pane_ -= kW6SlideMs;
    }
    auto i = static_cast<std::size_t>((pane - first_pane_) / kW6SlideMs);
    while (i >= panes_.size())
      panes_.emplace_back();
    return panes_[i];
  }

  /// Emits the windows with `emitted_ < end <= wm` that hold a pane, each key once.
  void emit(std::int64_t wm, Digest& out) {
    if (panes_.empty()) return;
    const std::int64_t last_pane =
        first_pane_ + static_cast<std::int64_t>(panes_.size() - 1) * kW6SlideMs;
    // Window ends lie on the slide grid; the windows holding a pane end in
    // (pane, pane + size].
    std::int64_t end = first_pane_ + kW6SlideMs;
    if (emitted_ && *emitted_ >= end)
      end = *emitted_ - floor_mod(*emitted_, kW6SlideMs) + kW6SlideMs;
    for (; end <= wm && end - kW6SizeMs <= last_pane; end += kW6SlideMs) {
      merged_.clear();
      for (std::int64_t pane = std::max(end - kW6SizeMs, first_pane_);
           pane < end && pane <= last_pane; pane += kW6SlideMs) {
        for (const auto& [k, sum] :
             panes_[static_cast<std::size_t>((pane - first_pane_) / kW6SlideMs)])
          merged_[k] += sum;
      }
      for (const auto& [k, sum] : merged_)
        w6_digest(out, rill::Time{end - kW6SizeMs}, k, sum);
    }
  }

  std::deque<Table> panes_;
  std::int64_t first_pane_ = 0;  // start of panes_.front()
  Table merged_;
  std::optional<std::int64_t> previous_;  // wm(t - interval) for the next batch
  std::optional<std::int64_t> current_;   // wm(t) for the next batch
  std::optional<std::int64_t> emitted_;   // the watermark of the last emission
  std::int64_t late_ = 0;
};

/// The windows emitted over the first `batches` batches, by the hand-written loop.
Digest w6_expected(std::size_t batches) {
  static std::mutex mutex;
  static std::map<std::size_t, Digest> cache;
  std::lock_guard lock(mutex);
  if (auto it = cache.find(batches); it != cache.end()) return it->second;
  EventWindowSum sum;
  Digest d;
  for (std::size_t i = 0; i < batches; ++i)
    sum.run(w6_batch(i), d);
  return cache[batches] = d;
}

std::size_t w6_batch_count(const benchmark::State& state) {
  return kW6WarmUp + kW6BatchesPerIteration * timed(state);
}

void w6_baseline(benchmark::State& state) {
  const Digest expected = w6_expected(w6_batch_count(state));
  const auto batches = w6_batches(w6_batch_count(state));
  EventWindowSum sum;
  Digest d;
  std::size_t next = 0;
  for (; next < kW6WarmUp; ++next)
    sum.run(batches[next], d);
  baseline_loop(state, static_cast<std::int64_t>(kW6BatchesPerIteration * batch_size()), [&] {
    for (std::size_t b = 0; b < kW6BatchesPerIteration; ++b, ++next)
      sum.run(batches[next], d);
    benchmark::DoNotOptimize(d);
  });
  if (!(d == expected)) fail(state, "the baseline windowed differently");
  if (sum.late() != 0) fail(state, "the baseline dropped rows as late");
}

/// Records the aggregation's StateInfo after every batch.
class StateProbe final : public rill::StreamingListener {
 public:
  void on_batch_completed(const rill::BatchInfo& info) override {
    std::lock_guard lock(mutex_);
    for (const rill::StateInfo& s : info.state) {
      bytes_.push_back(s.bytes);
      entries_.push_back(s.keys);
      late_ += s.late_records;
    }
  }
  /// The bytes and (window, key) entries after each batch from batch `from` on: min and max.
  void report(benchmark::State& state, std::size_t from) const {
    std::lock_guard lock(mutex_);
    if (bytes_.size() <= from) return;
    const auto [bmin, bmax] =
        std::minmax_element(bytes_.begin() + static_cast<std::ptrdiff_t>(from), bytes_.end());
    const auto [emin, emax] =
        std::minmax_element(entries_.begin() + static_cast<std::ptrdiff_t>(from), entries_.end());
    state.counters["state_bytes_min"] = static_cast<double>(*bmin);
    state.counters["state_bytes_max"] = static_cast<double>(*bmax);
    state.counters["window_entries_min"] = static_cast<double>(*emin);
    state.counters["window_entries_max"] = static_cast<double>(*emax);
  }
  [[nodiscard]] std::int64_t late() const {
    std::lock_guard lock(mutex_);
    return late_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::int64_t> bytes_;
  std::vector<std::int64_t> entries_;
  std::int64_t late_ = 0;
};

void w6_rill(benchmark::State& state, std::size_t k) {
  const Digest expected = w6_expected(w6_batch_count(state));
  rill::testing::Harness h{config(k)};
  auto in = h.input(w6_batches(w6_batch_count(state)));
  auto probe = std::make_shared<StateProbe>();
  h.context().add_listener(probe);
  Digest digest;  // every window emitted so far; written on the batch thread
  using Out = rill::Windowed<std::uint64_t, std::int64_t>;
  in.with_watermark(&EventRow::time, std::chrono::milliseconds(kW6DelayMs))
      .aggregate_by_window(rill::sliding(std::chrono::milliseconds(kW6SizeMs),
                                         std::chrono::milliseconds(kW6SlideMs)),
                           &EventRow::key, rill::agg::sum(&EventRow::value))
      .foreach_batch([&digest](const rill::Batch<Out>& batch, rill::Time) {
        for (const Out& w : batch)
          w6_digest(digest, w.window.start, w.key, w.value);
      });
  h.run_batches(kW6WarmUp);  // warm-up: the window fills
  if (!(digest == w6_expected(kW6WarmUp))) {
    return fail(state, "rill windowed differently (warm-up)");
  }
  rill_loop(state, h, static_cast<std::int64_t>(kW6BatchesPerIteration * batch_size()),
            [&] { h.run_batches(kW6BatchesPerIteration); });
  if (!(digest == expected)) fail(state, "rill windowed differently");
  if (probe->late() != 0) fail(state, "rill dropped rows as late");
  probe->report(state, kW6WarmUp);
}

// ---- W7: static join ----

/// The static table: one row per key of W2's key space, (key, weight in [1, 7]).
const std::vector<KV>& w7_table_rows() {
  static const std::vector<KV> rows = [] {
    std::vector<KV> v(kKeys);
    for (std::uint64_t k = 0; k < kKeys; ++k)
      v[k] = {k, static_cast<std::int64_t>(mix1(k) % 7) + 1};
    return v;
  }();
  return rows;
}

/// The look-up and the sum by hand: the table in a flat map, one probe per record, the
/// weighted value summed per key.
class WeightedSum {
 public:
  WeightedSum() {
    for (const auto& [k, w] : w7_table_rows())
      table_.emplace(k, w);
  }
  [[nodiscard]] Digest run(const std::vector<KV>& data) const {
    boost::unordered_flat_map<std::uint64_t, std::int64_t> sums;
    for (const auto& [k, v] : data) {
      if (auto it = table_.find(k); it != table_.end()) sums[k] += v * it->second;
    }
    Digest d;
    for (const auto& [k, sum] : sums)
      d.add(k, sum);
    return d;
  }

 private:
  boost::unordered_flat_map<std::uint64_t, std::int64_t> table_;
};

Digest w7_expected() {
  static const Digest expected = WeightedSum{}.run(w2_batch());
  return expected;
}

void w7_baseline(benchmark::State& state) {
  const auto& data = w2_batch();
  const WeightedSum by_hand;
  Digest d;
  baseline_loop(state, static_cast<std::int64_t>(data.size()), [&] {
    d = by_hand.run(data);
    benchmark::DoNotOptimize(d);
  });
  if (!(d == w7_expected())) fail(state, "the baseline joined differently");
}

void w7_rill(benchmark::State& state, std::size_t k) {
  rill::testing::Harness h{config(k)};
  auto in = h.input(std::vector<std::vector<KV>>(timed(state) + 1, w2_batch()));
  const auto weights = rill::StaticTable<std::uint64_t, std::int64_t>::of(w7_table_rows());
  Digest digest;
  in.join(weights)
      .map_values(
          [](const std::pair<std::int64_t, std::int64_t>& vw) { return vw.first * vw.second; })
      .reduce_by_key(std::plus<std::int64_t>{})
      .foreach_batch([&digest](const rill::Batch<KV>& batch, rill::Time) {
        Digest d;
        for (const auto& [key, sum] : batch)
          d.add(key, sum);
        digest = d;
      });
  h.run_batches(1);
  if (!(digest == w7_expected())) return fail(state, "rill joined differently (warm-up)");
  rill_loop(state, h, static_cast<std::int64_t>(batch_size()), [&] {
    digest = {};
    h.run_batches(1);
  });
  if (!(digest == w7_expected())) fail(state, "rill joined differently");
}

// ---- latency through the socket source ----

std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

/// A loopback TCP server that accepts one client and sends it `rate` lines per second, each
/// line the steady_clock time at which it is written, in nanoseconds.
class LineServer {
 public:
  explicit LineServer(std::int64_t rate) : rate_(rate) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listener_, 1) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error("LineServer: cannot listen on 127.0.0.1");
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~LineServer() {
    stop_sending();
    {
      std::lock_guard lock(mutex_);
      closing_ = true;
    }
    closing_cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    ::close(listener_);
  }
  LineServer(const LineServer&) = delete;
  LineServer& operator=(const LineServer&) = delete;

  [[nodiscard]] std::uint16_t port() const { return port_; }
  void stop_sending() { stop_ = true; }
  [[nodiscard]] std::int64_t sent() const { return sent_.load(); }

 private:
  void serve() {
    pollfd pfd{listener_, POLLIN, 0};
    while (!stop_ && ::poll(&pfd, 1, 50) == 0) {
    }
    if (stop_) return;
    const int client = ::accept(listener_, nullptr, nullptr);
    if (client < 0) return;
    const int one = 1;  // no Nagle: each write leaves at once
    ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    const auto start = std::chrono::steady_clock::now();
    std::int64_t sent = 0;
    std::string buf;
    char num[32];
    while (!stop_) {
      const auto elapsed = std::chrono::steady_clock::now() - start;
      const std::int64_t due =
          rate_ * std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count() /
          1'000'000;
      buf.clear();
      for (; sent < due; ++sent) {
        const auto [end, ec] = std::to_chars(num, num + sizeof num, steady_ns());
        buf.append(num, end);
        buf += '\n';
      }
      for (std::size_t off = 0; off < buf.size();) {
        const ssize_t n = ::send(client, buf.data() + off, buf.size() - off, MSG_NOSIGNAL);
        if (n <= 0) {
          stop_ = true;
          break;
        }
        off += static_cast<std::size_t>(n);
      }
      sent_ = sent;
      std::this_thread::sleep_for(200us);
    }
    // The connection stays open until the context has stopped: no reconnect noise at the end.
    std::unique_lock lock(mutex_);
    closing_cv_.wait(lock, [this] { return closing_; });
    ::close(client);
  }

  std::int64_t rate_;
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<std::int64_t> sent_{0};
  std::mutex mutex_;
  std::condition_variable closing_cv_;
  bool closing_ = false;
  std::thread thread_;
};

/// With `checkpoint`, the context checkpoints into a temporary directory: the socket's blocks go
/// through the write-ahead log (fdatasync per block) and every batch writes a seal record and a
/// checkpoint.
void latency_socket(benchmark::State& state, bool checkpoint) {
  constexpr std::int64_t kRate = 200'000;
  const auto run_for = smoke() ? 400ms : 3000ms;
  const auto warm_up = smoke() ? 100ms : 500ms;  // lines sent before it are not measured
  std::vector<std::int64_t> latencies;
  std::int64_t received = 0;
  std::int64_t sent = 0;
  std::int64_t batches = 0;
  std::vector<std::int64_t> ends_behind;  // µs
  for (auto _ : state) {
    LineServer server(kRate);
    rill::StreamingContext ctx{rill::Config{}.batch_interval(10ms)};  // system clock
    const auto dir =
        std::filesystem::temp_directory_path() / fmt::format("rill-bench-latency-{}", ::getpid());
    std::filesystem::remove_all(dir);
    if (checkpoint) ctx.checkpoint(dir);
    std::mutex mutex;
    std::int64_t measure_from = std::numeric_limits<std::int64_t>::max();
    ctx.socket_text_stream("127.0.0.1", server.port())
        .foreach_batch([&](const rill::Batch<std::string>& batch, rill::Time t) {
          std::vector<std::int64_t> sends;
          sends.reserve(batch.size());
          for (const std::string& line : batch) {
            std::int64_t ns = 0;
            std::from_chars(line.data(), line.data() + line.size(), ns);
            sends.push_back(ns);
          }
          const std::int64_t end = steady_ns();  // the end of this batch's output
          // How long after its nominal time (on the system clock) the batch's output ended.
          const auto behind = std::chrono::system_clock::now().time_since_epoch() -
                              std::chrono::milliseconds(t.milliseconds());
          std::lock_guard lock(mutex);
          if (end >= measure_from) {
            ends_behind.push_back(
                std::chrono::duration_cast<std::chrono::microseconds>(behind).count());
          }
          ++batches;
          received += static_cast<std::int64_t>(sends.size());
          for (const std::int64_t s : sends) {
            if (s >= measure_from) latencies.push_back(end - s);
          }
        });
    {
      std::lock_guard lock(mutex);
      measure_from = steady_ns() + std::chrono::nanoseconds(warm_up).count();
    }
    ctx.start();
    std::this_thread::sleep_for(run_for);
    server.stop_sending();
    std::this_thread::sleep_for(50ms);  // what is in flight arrives
    ctx.stop();
    sent = server.sent();
    std::filesystem::remove_all(dir);
  }
  if (latencies.empty()) return fail(state, "no line came through the socket source");
  std::sort(latencies.begin(), latencies.end());
  auto at = [&](double q) {
    const auto i = static_cast<std::size_t>(q * static_cast<double>(latencies.size() - 1));
    return static_cast<double>(latencies[i]) * 1e-6;  // ms
  };
  state.counters["p50_ms"] = at(0.50);
  state.counters["p99_ms"] = at(0.99);
  state.counters["max_ms"] = static_cast<double>(latencies.back()) * 1e-6;
  std::sort(ends_behind.begin(), ends_behind.end());
  if (!ends_behind.empty()) {
    state.counters["batch_end_behind_p50_ms"] =
        static_cast<double>(ends_behind[ends_behind.size() / 2]) * 1e-3;
    state.counters["batch_end_behind_max_ms"] = static_cast<double>(ends_behind.back()) * 1e-3;
  }
  state.counters["lines_sent"] = static_cast<double>(sent);
  state.counters["lines_received"] = static_cast<double>(received);
  state.counters["batches"] = static_cast<double>(batches);
  state.SetItemsProcessed(received);
}

// ---- the cost of an empty batch ----

/// A harness context with one output and no data, one batch per iteration.
void empty_batch_manual(benchmark::State& state, std::size_t k) {
  rill::testing::Harness h{rill::Config{}.batch_interval(10ms).parallelism(k).worker_threads(k)};
  std::int64_t records = 0;
  h.input<std::int64_t>({}).foreach_batch(
      [&records](const rill::Batch<std::int64_t>& batch, rill::Time) {
        records += static_cast<std::int64_t>(batch.size());
      });
  h.run_batches(1);
  const double cpu0 = process_cpu_seconds();
  for (auto _ : state)
    h.run_batches(1);
  const double cpu = process_cpu_seconds() - cpu0;
  if (records != 0) return fail(state, "an empty queue produced records");
  state.counters["cpu_us_per_batch"] = cpu * 1e6 / static_cast<double>(state.iterations());
  state.SetItemsProcessed(state.iterations());  // batches
}

/// A real context (system clock, 10 ms batches) with one output and no data, for a while.
/// The empty-batch benchmarks' steady state: from 100 ms after the start, for 2 s (0.2 s in the
/// smoke run), the process's CPU time and how many `events` happened; then reported per event.
struct SteadyCpu {
  double cpu = 0;
  std::int64_t events = 0;

  void measure(const std::atomic<std::int64_t>& counter) {
    std::this_thread::sleep_for(100ms);
    const double cpu0 = process_cpu_seconds();
    const std::int64_t events0 = counter.load();
    std::this_thread::sleep_for(smoke() ? 200ms : 2000ms);
    cpu = process_cpu_seconds() - cpu0;
    events = counter.load() - events0;
  }
  void report(benchmark::State& state) const {
    if (events == 0) return fail(state, "nothing happened while measured");
    state.counters["cpu_us_per_batch"] = cpu * 1e6 / static_cast<double>(events);
    state.counters["batches"] = static_cast<double>(events);
    state.SetItemsProcessed(events);
  }
};

void empty_batch_system_clock(benchmark::State& state) {
  std::atomic<std::int64_t> batches{0};
  SteadyCpu steady;
  for (auto _ : state) {
    rill::StreamingContext ctx{rill::Config{}.batch_interval(10ms)};
    ctx.queue_stream<std::int64_t>({}).foreach_batch(
        [&batches](const rill::Batch<std::int64_t>&, rill::Time) { ++batches; });
    ctx.start();
    // Steady state only: starting and stopping the context's threads is not a batch's cost.
    steady.measure(batches);
    ctx.stop();
  }
  steady.report(state);
}

#if RILL_BENCH_WITH_OPS
/// EmptyBatch/system_clock_10ms with rill::ops serving the context, idle (no client): what the
/// server costs the batches while no one reads it (its thread sleeps in epoll).
void empty_batch_system_clock_ops_idle(benchmark::State& state) {
  std::atomic<std::int64_t> batches{0};
  SteadyCpu steady;
  for (auto _ : state) {
    rill::StreamingContext ctx{rill::Config{}.batch_interval(10ms)};
    ctx.queue_stream<std::int64_t>({}).foreach_batch(
        [&batches](const rill::Batch<std::int64_t>&, rill::Time) { ++batches; });
    auto server = rill::ops::serve(ctx);
    ctx.start();
    steady.measure(batches);
    ctx.stop();
  }
  steady.report(state);
}
#endif

/// The platform's floor under EmptyBatch/system_clock_10ms, without rill: one thread that waits
/// on a condition variable until each 10 ms grid time (a timed futex wait, as rill's idle batch
/// thread makes). Its CPU per wake-up is what any timer-driven batch costs on this machine.
void empty_batch_bare_wakeup(benchmark::State& state) {
  SteadyCpu steady;
  for (auto _ : state) {
    std::mutex mutex;
    std::condition_variable cv;
    std::atomic<std::int64_t> woken{0};
    bool stop = false;  // under mutex
    std::thread waker([&] {
      auto next = std::chrono::system_clock::now();
      std::unique_lock lock(mutex);
      while (!stop) {
        next += 10ms;
        cv.wait_until(lock, next, [&] { return stop; });
        ++woken;
      }
    });
    steady.measure(woken);
    {
      std::lock_guard lock(mutex);
      stop = true;
    }
    cv.notify_all();
    waker.join();
  }
  steady.report(state);
}

// ---- W8: Kafka ingest (built with the kafka component) ----
//
// W8_kafka_ingest: records (key "k000".."k999", an 8-byte value) in an 8-partition topic of an
// in-process mock cluster (rill::kafka::MockCluster), produced once per process, read from the
// start and counted per key. The baseline is a plain librdkafka consumer loop (assign every
// partition at the beginning, poll, count); baseline_batched, a reference, takes the messages
// 1,024 at a time as the source does; rill is direct_stream -> map to (key, 1) ->
// reduce_by_key -> foreach_batch, run under Trigger::available_now (batches back to back until
// the end offsets read at start()), at most kW8PerPartitionBatch records per partition a batch
// (10,000: a batch's memory stays below glibc's mmap threshold and is reused, docs/performance.md).
// An iteration reads the whole topic with a new consumer (or context). Both read the same
// zstd-compressed message sets (librdkafka 2.0's mock keeps about 5 MB per partition and drops
// the oldest beyond it: compression keeps 10 million records in it; the producer checks).
#ifdef RILL_BENCH_KAFKA

constexpr int kW8Partitions = 8;
constexpr std::int64_t kW8PerPartitionBatch = 10'000;
const char* const kW8Topic = "w8";

/// 10,000,000 records; 100,000 in the smoke run (producing 10 million takes about 20 s).
std::int64_t w8_records() {
  return smoke() ? 100'000 : 10'000'000;
}

std::string w8_key(std::int64_t i) {
  char key[8];
  std::snprintf(key, sizeof key, "k%03d", static_cast<int>(i / kW8Partitions % 1000));
  return key;
}

/// Consumer properties both sides use: quick fetches, large fetch responses.
const std::map<std::string, std::string>& w8_consumer_properties() {
  static const std::map<std::string, std::string> p{{"fetch.wait.max.ms", "10"},
                                                    {"log_level", "3"}};
  return p;
}

/// The cluster with the topic filled, and the expected counts.
struct W8Topic {
  std::unique_ptr<rill::kafka::MockCluster> cluster;
  Digest expected;
};

/// Produces the topic once per process (zstd, large batches), checks that the mock kept every
/// record, and computes the expected digest.
const W8Topic& w8_topic() {
  static const W8Topic topic = [] {
    W8Topic out;
    out.cluster = std::make_unique<rill::kafka::MockCluster>(1);
    out.cluster->create_topic(kW8Topic, kW8Partitions);
    std::array<char, 512> err{};
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    for (const auto& [name, value] :
         std::map<std::string, std::string>{{"bootstrap.servers", out.cluster->bootstrap_servers()},
                                            {"compression.type", "zstd"},
                                            {"linger.ms", "50"},
                                            {"batch.size", "1000000"},
                                            {"batch.num.messages", "100000"},
                                            {"queue.buffering.max.messages", "2000000"},
                                            {"queue.buffering.max.kbytes", "1000000"},
                                            {"log_level", "3"}}) {
      if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), err.data(), err.size()) !=
          RD_KAFKA_CONF_OK)
        throw std::runtime_error(err.data());
    }
    rd_kafka_t* producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err.data(), err.size());
    if (producer == nullptr) throw std::runtime_error(err.data());
    boost::unordered_flat_map<std::string, std::int64_t> counts;
    const std::int64_t n = w8_records();
    for (std::int64_t i = 0; i < n; ++i) {
      const std::string key = w8_key(i);
      ++counts[key];
      char value[9];
      std::snprintf(value, sizeof value, "v%07d", static_cast<int>(i / kW8Partitions % 16));
      const auto partition = static_cast<std::int32_t>(i % kW8Partitions);
      for (;;) {
        const auto e =
            rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(kW8Topic), RD_KAFKA_V_PARTITION(partition),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                              RD_KAFKA_V_KEY(const_cast<char*>(key.data()), key.size()),
                              RD_KAFKA_V_VALUE(value, std::size_t{8}), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
          rd_kafka_poll(producer, 10);
          continue;
        }
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR) throw std::runtime_error(rd_kafka_err2str(e));
        break;
      }
    }
    if (rd_kafka_flush(producer, 600'000) != RD_KAFKA_RESP_ERR_NO_ERROR)
      throw std::runtime_error("W8: the records were not acknowledged within 10 minutes");
    for (int p = 0; p < kW8Partitions; ++p) {
      std::int64_t low = -1;
      std::int64_t high = -1;
      rd_kafka_query_watermark_offsets(producer, kW8Topic, p, &low, &high, 10'000);
      if (low != 0 || high != n / kW8Partitions)
        throw std::runtime_error(fmt::format(
            "W8: partition {} holds offsets {}..{}, not 0..{}: the mock dropped records", p, low,
            high, n / kW8Partitions));
    }
    rd_kafka_destroy(producer);
    for (const auto& [key, c] : counts)
      out.expected.add(word_hash(key), c);
    return out;
  }();
  return topic;
}

/// The baseline: one plain consumer reads every partition from its start to its end offset and
/// counts per key.
Digest w8_read_by_hand(const std::string& bootstrap, int run, bool batched) {
  std::array<char, 512> err{};
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  auto properties = w8_consumer_properties();
  properties.emplace("bootstrap.servers", bootstrap);
  properties.emplace("group.id", fmt::format("w8-baseline-{}", run));
  properties.emplace("enable.auto.commit", "false");
  for (const auto& [name, value] : properties)
    rd_kafka_conf_set(conf, name.c_str(), value.c_str(), err.data(), err.size());
  rd_kafka_t* consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err.data(), err.size());
  if (consumer == nullptr) throw std::runtime_error(err.data());
  rd_kafka_poll_set_consumer(consumer);
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(kW8Partitions);
  for (int p = 0; p < kW8Partitions; ++p)
    rd_kafka_topic_partition_list_add(list, kW8Topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_assign(consumer, list);
  rd_kafka_topic_partition_list_destroy(list);
  boost::unordered_flat_map<std::string, std::int64_t> counts;
  std::int64_t left = w8_records();
  const auto take = [&](rd_kafka_message_t* m) {
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      ++counts[std::string(static_cast<const char*>(m->key), m->key_len)];
      --left;
    }
    rd_kafka_message_destroy(m);
  };
  rd_kafka_queue_t* queue = rd_kafka_queue_get_consumer(consumer);
  std::array<rd_kafka_message_t*, 1024> messages{};
  while (left > 0) {
    if (batched) {
      // As the source reads: what is queued, up to 1,024 at a time, else wait for one.
      const ssize_t n = rd_kafka_consume_batch_queue(queue, 0, messages.data(), messages.size());
      for (ssize_t i = 0; i < n; ++i)
        take(messages[static_cast<std::size_t>(i)]);
      if (n > 0) continue;
    }
    if (rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer, 1000)) take(m);
  }
  rd_kafka_queue_destroy(queue);
  rd_kafka_consumer_close(consumer);
  rd_kafka_destroy(consumer);
  Digest d;
  for (const auto& [key, c] : counts)
    d.add(word_hash(key), c);
  return d;
}

/// `batched`: W8_kafka_ingest/baseline_batched, a reference (not the target's baseline): the
/// same loop taking messages as the source does, up to 1,024 per rd_kafka_consume_batch_queue.
void w8_baseline(benchmark::State& state, bool batched) {
  const W8Topic& topic = w8_topic();
  Digest d;
  int run = 0;
  baseline_loop(state, w8_records(),
                [&] { d = w8_read_by_hand(topic.cluster->bootstrap_servers(), run++, batched); });
  if (!(d == topic.expected)) fail(state, "the baseline counted differently");
}

void w8_rill(benchmark::State& state, std::size_t k) {
  const W8Topic& topic = w8_topic();
  Digest digest;
  const PageFaults faults;
  for (auto _ : state) {
    rill::StreamingContext ctx{config(k).trigger(rill::Trigger::available_now())};
    auto totals = std::make_shared<boost::unordered_flat_map<std::string, std::int64_t>>();
    rill::kafka::direct_stream(
        ctx, rill::kafka::SourceOptions{.bootstrap_servers = topic.cluster->bootstrap_servers(),
                                        .topics = {kW8Topic},
                                        // Every partition read here (assign); a group_id
                                        // would make this process a group member, which
                                        // Trigger::available_now refuses.
                                        .group_id = "",
                                        .starting_offsets = rill::kafka::StartingOffsets::earliest,
                                        .max_records_per_partition = kW8PerPartitionBatch,
                                        .fail_on_data_loss = true,
                                        .properties = w8_consumer_properties()})
        .map([](const rill::kafka::Record& r) {
          return std::pair<std::string, std::int64_t>{r.key.value_or(""), 1};
        })
        .reduce_by_key(std::plus<std::int64_t>{})
        .foreach_batch(
            [totals](const rill::Batch<std::pair<std::string, std::int64_t>>& batch, rill::Time) {
              for (const auto& [key, c] : batch)
                (*totals)[key] += c;
            });
    ctx.start();
    ctx.await_termination();
    digest = {};
    for (const auto& [key, c] : *totals)
      digest.add(word_hash(key), c);
  }
  faults.report(state);
  state.SetItemsProcessed(state.iterations() * w8_records());
  if (!(digest == topic.expected)) fail(state, "rill counted differently");
}

#endif  // RILL_BENCH_KAFKA

// ---- registration ----

benchmark::internal::Benchmark* configure(benchmark::internal::Benchmark* b,
                                          std::int64_t iterations,
                                          benchmark::TimeUnit unit = benchmark::kMillisecond) {
  return b->Iterations(iterations)->UseRealTime()->MeasureProcessCPUTime()->Unit(unit);
}

template <class Baseline, class Rill>
void register_workload(const std::string& name, Baseline baseline, Rill rill) {
  configure(benchmark::RegisterBenchmark((name + "/baseline").c_str(), baseline), iterations());
  configure(benchmark::RegisterBenchmark((name + "/rill/p1").c_str(), rill, std::size_t{1}),
            iterations());
  configure(benchmark::RegisterBenchmark((name + "/rill/p2").c_str(), rill, std::size_t{2}),
            iterations());
}

}  // namespace

int main(int argc, char** argv) {
  rill::get_logger()->set_level(spdlog::level::warn);  // keep the report readable
  register_workload("W1_word_count", w1_baseline, w1_rill);
  register_workload("W2_keyed_sum", w2_baseline, w2_rill);
  register_workload("W3_sliding_window", w3_baseline, w3_rill);
  register_workload("W4_session_state", w4_baseline, w4_rill);
  register_workload("W5_narrow_chain", w5_baseline, w5_rill);
  register_workload("W6_event_window", w6_baseline, w6_rill);
  register_workload("W7_static_join", w7_baseline, w7_rill);
  configure(benchmark::RegisterBenchmark("ProgressRecord/W2_keyed_sum", progress_record_w2), 20);
  configure(benchmark::RegisterBenchmark("Latency/socket_10ms", latency_socket, false), 1);
  configure(benchmark::RegisterBenchmark("Latency/socket_10ms_checkpoint", latency_socket, true),
            1);
  const std::int64_t ticks = smoke() ? 100 : 2000;
  configure(benchmark::RegisterBenchmark("EmptyBatch/manual_clock/p1", empty_batch_manual,
                                         std::size_t{1}),
            ticks, benchmark::kMicrosecond);
  configure(benchmark::RegisterBenchmark("EmptyBatch/manual_clock/p2", empty_batch_manual,
                                         std::size_t{2}),
            ticks, benchmark::kMicrosecond);
  configure(benchmark::RegisterBenchmark("EmptyBatch/system_clock_10ms", empty_batch_system_clock),
            1, benchmark::kMicrosecond);
  configure(benchmark::RegisterBenchmark("EmptyBatch/bare_wakeup_10ms", empty_batch_bare_wakeup), 1,
            benchmark::kMicrosecond);
#if RILL_BENCH_WITH_OPS
  configure(benchmark::RegisterBenchmark("EmptyBatch/system_clock_10ms_ops_idle",
                                         empty_batch_system_clock_ops_idle),
            1, benchmark::kMicrosecond);
#endif

#ifdef RILL_BENCH_KAFKA
  // Few iterations: one reads the whole topic (10 million records, a few seconds).
  const std::int64_t w8_iterations = smoke() ? 2 : 3;
  configure(benchmark::RegisterBenchmark("W8_kafka_ingest/baseline", w8_baseline, false),
            w8_iterations);
  configure(benchmark::RegisterBenchmark("W8_kafka_ingest/baseline_batched", w8_baseline, true),
            w8_iterations);
  configure(benchmark::RegisterBenchmark("W8_kafka_ingest/rill/p1", w8_rill, std::size_t{1}),
            w8_iterations);
  configure(benchmark::RegisterBenchmark("W8_kafka_ingest/rill/p2", w8_rill, std::size_t{2}),
            w8_iterations);
#endif
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return g_failed ? 1 : 0;
}
