#pragma once
// The pipeline of the checkpoint tests and of the crash child (tests/checkpoint/crash_child.cpp).

#include <algorithm>
#include <deque>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <rill/rill.hpp>

namespace rill_test {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

inline std::deque<std::vector<std::string>> lines(int batches) {
  std::deque<std::vector<std::string>> out;
  const std::vector<std::string> words = {"a", "b", "c", "d", "e"};
  for (int b = 0; b < batches; ++b) {
    std::vector<std::string> batch;
    for (int l = 0; l < b % 4; ++l) {
      batch.push_back(words[static_cast<std::size_t>((b + l) % 5)] + " " +
                      words[static_cast<std::size_t>((b * l) % 5)]);
    }
    out.push_back(std::move(batch));
  }
  return out;
}

/// Event-time input: (word, event time in ms). Batch b (batch time (b + 1) s) holds b % 3 events
/// around b s, up to 1.5 s early or 0.5 s late, and every 11th batch one event 6 s early, which a
/// 1 s watermark delay makes late.
using Event = std::pair<std::string, std::int64_t>;
inline std::deque<std::vector<Event>> events(int batches) {
  std::deque<std::vector<Event>> out;
  const std::vector<std::string> words = {"a", "b", "c", "d", "e"};
  for (int b = 0; b < batches; ++b) {
    std::vector<Event> batch;
    for (int l = 0; l < b % 3; ++l) {
      batch.emplace_back(words[static_cast<std::size_t>((b + l) % 5)],
                         std::int64_t{b} * 1000 + ((b * 7 + l * 3) % 5 - 3) * 500);
    }
    if (b % 11 == 5)
      batch.emplace_back(words[static_cast<std::size_t>(b % 5)], std::int64_t{b} * 1000 - 6000);
    out.push_back(std::move(batch));
  }
  return out;
}
inline rill::Time event_time(const Event& e) {
  return rill::Time{e.second};
}

template <class T>
inline auto sorted(const rill::DStream<T>& s) {
  return s.transform([](const rill::Batch<T>& b, rill::Time) {
    auto v = b.collect();
    std::sort(v.begin(), v.end());
    return v;
  });
}

struct Options {
  std::string state_name = "totals";
  bool long_state = false;  // changes the state's type
  // Small enough that 12 batches write snapshots and chains of deltas.
  std::size_t snapshot_interval = 4;
  std::size_t retained = 10;
};

/// Words of the generated lines counted four ways, each written sorted to text files: running
/// totals (update_state_by_key), sessions that end after 2 s without the word (map_with_state
/// with a timeout), sums over 3 s (incremental window) and the words in 2 s (plain window).
/// And words with event times (events()) counted per 3 s event-time window in append mode with
/// a 1 s watermark delay, with their late rows, and the first event of each word while the
/// watermark has not passed it (drop_duplicates). Exactly once: queue input, text-file outputs.
inline std::unique_ptr<rill::StreamingContext> pipeline(const fs::path& out,
                                                        std::shared_ptr<rill::ManualClock> clock,
                                                        Options options, int batches) {
  auto ctx = std::make_unique<rill::StreamingContext>(
      rill::Config{}
          .batch_interval(1s)
          .parallelism(2)
          .clock(clock)
          .delivery(rill::Delivery::exactly_once)
          .checkpoint_snapshot_interval(options.snapshot_interval)
          .checkpoints_retained(options.retained));
  auto words = ctx->queue_stream<std::string>(lines(batches))
                   .flat_map([](const std::string& l) { return rill::split_words(l); })
                   .map([](const std::string& w) {
                     return std::pair<std::string, int>{w, 1};
                   });
  if (options.long_state) {
    auto totals = words.update_state_by_key(
        [](const std::vector<int>& xs, std::optional<long> s) -> std::optional<long> {
          return s.value_or(0) + static_cast<long>(xs.size());
        });
    sorted(totals.name(options.state_name)).save_as_text_files((out / "totals").string());
  } else {
    auto totals = words.update_state_by_key(
        [](const std::vector<int>& xs, std::optional<int> s) -> std::optional<int> {
          return s.value_or(0) + static_cast<int>(xs.size());
        });
    sorted(totals.name(options.state_name)).save_as_text_files((out / "totals").string());
  }
  auto sessions = words.map_with_state(
      rill::state_spec<std::string, int, int>([](const std::string& w, std::optional<int> one,
                                                 rill::State<int>& st) {
        if (!one) return w + " ended at " + std::to_string(st.get());
        const int n = (st.exists() ? st.get() : 0) + *one;
        st.update(n);
        return w + " " + std::to_string(n);
      }).timeout(2s));
  sorted(sessions.name("sessions")).save_as_text_files((out / "sessions").string());
  auto recent = words.reduce_by_key_and_window([](int a, int b) { return a + b; },
                                               [](int a, int b) { return a - b; }, 3s, 1s);
  sorted(recent.name("recent")).save_as_text_files((out / "recent").string());
  words.map([](const auto& kv) { return kv.first; })
      .window(2s, 1s)
      .count()
      .save_as_text_files((out / "window_count").string());
  auto timed =
      ctx->queue_stream<Event>(events(batches)).with_watermark(&event_time, 1s).name("events");
  auto by_window = timed.aggregate_by_window(rill::tumbling(3s), &Event::first, rill::agg::count())
                       .name("event_counts");
  sorted(timed.drop_duplicates(&Event::first).name("first_events"))
      .save_as_text_files((out / "first_events").string());
  sorted(by_window).save_as_text_files((out / "event_counts").string());
  sorted(by_window.late_records()).save_as_text_files((out / "late_events").string());
  return ctx;
}

}  // namespace rill_test
