// Batch vs stream: one word count, run once over the files of a directory (a bounded job that
// ends by itself) and as a stream of micro-batches with a running total.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <rill/testing.hpp>

#include "guide.hpp"

using namespace std::chrono_literals;

// [word-counts]
// The pipeline, written once: lines in, (word, count) pairs out, per batch.
rill::DStream<std::pair<std::string, long>> word_counts(const rill::DStream<std::string>& lines) {
  return lines.flat_map(rill::split_words)
      .map([](const std::string& w) {
        return std::pair{w, 1L};
      })
      .reduce_by_key([](long a, long b) { return a + b; });
}
// [/word-counts]

int main() {
  guide::TempDir dir;
  guide::move_in(dir.path(), "a.txt", "to be or\nnot to be\n");
  guide::move_in(dir.path(), "b.txt", "to do\n");
  {
    // [batch]
    // Batch: what the directory holds now, then stop. One batch takes every file here.
    rill::StreamingContext job{rill::Config{}
                                   .batch_interval(1s)
                                   .clock(rill::ManualClock::create())
                                   .trigger(rill::Trigger::available_now())};
    guide::show(word_counts(job.text_file_stream(dir.path())), "batch");
    job.start();
    job.await_termination();  // returns by itself once every file is read
    // [/batch]
  }
  {
    // [stream]
    // Stream: the same function on batches that keep coming (a queue stands in for them here).
    rill::testing::Harness h{1s};
    auto lines = h.input<std::string>({{"to be or", "not to be"}, {"to do"}});
    auto counts = word_counts(lines);
    guide::show(counts, "per batch");
    auto totals = counts.update_state_by_key(
        [](const std::vector<long>& news, std::optional<long> total) -> std::optional<long> {
          for (long c : news)
            total = total.value_or(0) + c;
          return total;
        });
    guide::show(totals, "running");
    h.run_batches(2);
    // [/stream]
  }
}

// Expected output:
// > batch @1000 ms: (be,2)
// > batch @1000 ms: (do,1)
// > batch @1000 ms: (not,1)
// > batch @1000 ms: (or,1)
// > batch @1000 ms: (to,3)
// > per batch @1000 ms: (be,2)
// > per batch @1000 ms: (not,1)
// > per batch @1000 ms: (or,1)
// > per batch @1000 ms: (to,2)
// > running @1000 ms: (be,2)
// > running @1000 ms: (not,1)
// > running @1000 ms: (or,1)
// > running @1000 ms: (to,2)
// > per batch @2000 ms: (do,1)
// > per batch @2000 ms: (to,1)
// > running @2000 ms: (be,2)
// > running @2000 ms: (do,1)
// > running @2000 ms: (not,1)
// > running @2000 ms: (or,1)
// > running @2000 ms: (to,3)
