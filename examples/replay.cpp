// replay: the Kappa architecture's replay. One job (page views per user per 10 s of event time,
// with a watermark, in append mode, into a file per batch) is run twice on the same directory:
//
// 1. live: a context on the system clock reads the directory while the files arrive (the program
//    moves its generated files in, one every 300 ms, as an upstream writer would), and is stopped
//    once the watermark has closed every window the input can close;
// 2. replay: the same job function, run again from the beginning with Trigger::available_now()
//    into a NEW output directory: it reads the files that are in the directory at start, one
//    file per batch (FileStreamOptions::max_files_per_batch), back to back, and stops by itself.
//
// It then compares the two outputs line by line (the files differ: other batch times; their
// lines do not) and prints the result. docs/guide/lambda-kappa.md explains when such a replay
// replaces a batch layer.
//
// The generated input (--seed): 14 files of page views `user,time_ms,page`, users skewed (u1 is
// most of the traffic), each file 4 s of event time, some views out of order within the
// watermark's 5 s delay, two views 30 s late (behind windows the watermark closed before they
// arrive, in both runs: they go to the late output) and a few malformed lines. Why the late
// views are late in both runs, and the others in neither: the live run sees each file in its own
// batch, at least two batches after the one before (300 ms apart, batches of 100 ms), so a file's
// rows are judged against a watermark that includes every earlier file; in the replay against
// one that includes every file but the one just before. The generator keeps each view either
// behind both bounds by a window or more, or ahead of both (docs/guide/lambda-kappa.md, "When the
// replay equals the live result").
//
// With --brokers BROKERS --topic TOPIC (or --mock: an in-process mock cluster), when rill::kafka
// is built, the same job reads a Kafka topic instead: the program produces each generated file as
// one record (its lines) into partition 0 of TOPIC, one every 300 ms; the live run reads it with
// rill::kafka::direct_stream from the earliest offsets (or, restarted, from its checkpoint in
// DIR/checkpoint), the replay again from the earliest offsets with Trigger::available_now() into
// a new output. One record per batch (SourceOptions::max_records_per_partition = 1) is the
// directory's one file per batch, so the same reasoning holds. DIR/input keeps a copy of the
// records as files.
#include <rill/rill.hpp>

#include <boost/describe/class.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "command_line.hpp"
#include "final_watermark.hpp"
#include "status_page.hpp"
#if RILL_EXAMPLES_WITH_KAFKA
#include "kafka_input.hpp"
#endif

using namespace std::chrono_literals;
namespace fs = std::filesystem;

/// One page view, one CSV line `user,time_ms,page`; its event time in ms since the epoch.
struct View {
  std::string user;
  std::int64_t time_ms = 0;
  std::string page;
};
BOOST_DESCRIBE_STRUCT(View, (), (user, time_ms, page))

namespace {

constexpr rill::Duration kDelay = 5s;        // the watermark delay
constexpr rill::Duration kWindow = 10s;      // tumbling windows
constexpr rill::Duration kInterval = 100ms;  // both runs' batch interval
constexpr int kFiles = 14;
constexpr std::int64_t kFileSpanMs = 4000;  // each file holds 4 s of event time

rill::Time event_time(const View& v) {
  return rill::Time{v.time_ms};
}

/// Where the job reads: the directory `dir`, or (when `kafka.on()`) the Kafka topic.
struct Input {
  fs::path dir;
#if RILL_EXAMPLES_WITH_KAFKA
  rill_examples::KafkaInput kafka;
#endif
};

/// The lines of `text` (a record may hold several lines).
std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in{text};
  for (std::string line; std::getline(in, line);)
    out.push_back(line);
  return out;
}

/// The job, the same for both runs: page views per user per 10 s window of event time, emitted
/// once final, into `output`/counts-<batch ms>; the views that came too late into
/// `output`/late-<batch ms>, the lines that do not parse into `output`/malformed-<batch ms>.
template <class Lines>
void views_per_user(Lines lines, const fs::path& output) {
  auto views = lines.template parse_csv<View>();
  views.malformed().save_as_text_files((output / "malformed").string());
  auto counts = views.name("views")
                    .with_watermark(&event_time, kDelay)
                    .aggregate_by_window(rill::tumbling(kWindow), &View::user, rill::agg::count())
                    .name("views per user");
  counts.save_as_text_files((output / "counts").string());
  counts.late_records()
      .map([](const View& v) { return rill::csv::format(v); })
      .save_as_text_files((output / "late").string());
}

/// The job on `input`: one file, or one Kafka record, per batch (from the earliest offsets, or
/// the checkpoint's).
void views_per_user(rill::StreamingContext& ctx, const Input& input, const fs::path& output) {
#if RILL_EXAMPLES_WITH_KAFKA
  if (input.kafka.on()) {
    views_per_user(rill::kafka::direct_stream(
                       ctx,
                       rill::kafka::SourceOptions{
                           .bootstrap_servers = input.kafka.brokers,
                           .topics = {input.kafka.topic},
                           .group_id = "",
                           .starting_offsets = rill::kafka::StartingOffsets::earliest,
                           .max_records_per_partition = 1,
                           .fail_on_data_loss = true,
                           .properties = {{"client.id", "replay"}, {"fetch.wait.max.ms", "20"}}})
                       .name("view records")
                       .flat_map([](const rill::kafka::Record& r) { return split_lines(r.value); }),
                   output);
    return;
  }
#endif
  views_per_user(ctx.text_file_stream(input.dir, rill::FileStreamOptions{.max_files_per_batch = 1})
                     .name("view files"),
                 output);
}

/// The generated files, in order: file i holds views with event times from i * 4 s (with a
/// share up to 3 s earlier: out of order, within the delay), and files 9 and 12 one view 30 s
/// behind (late in both runs); files 3 and 10 a malformed line.
std::vector<std::string> generate(std::uint32_t seed) {
  std::mt19937 random{seed};
  const char* users[] = {"u1", "u1", "u1", "u1", "u1", "u2", "u2", "u3", "u4", "u5"};  // skewed
  const char* pages[] = {"/", "/search", "/cart", "/checkout"};
  std::vector<std::string> files;
  for (int i = 0; i < kFiles; ++i) {
    std::ostringstream file;
    const std::int64_t from = i * kFileSpanMs;
    const int views = 15 + static_cast<int>(random() % 15);
    for (int v = 0; v < views; ++v) {
      std::int64_t time = from + static_cast<std::int64_t>(random() % kFileSpanMs);
      if (i > 0 && random() % 100 < 20)
        time = from - 1 - static_cast<std::int64_t>(random() % 3000);
      file << users[random() % std::size(users)] << ',' << time << ','
           << pages[random() % std::size(pages)] << '\n';
    }
    if (i == 9 || i == 12) file << "u3," << from - 30000 << ",/late\n";
    if (i == 3) file << "u2;1000;/\n";
    if (i == 10) file << "u9,soon,/cart\n";
    files.push_back(file.str());
  }
  return files;
}

/// Writes `text` as `dir`/`name`, in whole: under a temporary name, then renamed (a file stream
/// must see files complete).
void move_in(const fs::path& dir, const std::string& name, const std::string& text) {
  const fs::path tmp = dir / ("." + name + ".tmp");
  {
    std::ofstream out{tmp, std::ios::binary};
    out << text;
    if (!out.flush()) throw rill::IoError("cannot write '" + tmp.string() + "'");
  }
  fs::rename(tmp, dir / name);
}

/// Every line of the files of `dir` whose names start with `prefix`, sorted.
std::vector<std::string> lines_of(const fs::path& dir, const std::string& prefix) {
  std::vector<std::string> lines;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (!entry.path().filename().string().starts_with(prefix)) continue;
    std::ifstream in{entry.path()};
    for (std::string line; std::getline(in, line);)
      lines.push_back(line);
  }
  std::sort(lines.begin(), lines.end());
  return lines;
}

/// The live run: files moved into `input.dir` (or, on Kafka, produced into the topic and copied
/// into `input.dir`) one every 300 ms while the job runs on the system clock; stopped
/// (gracefully) once the watermark reached `final`. On Kafka the live run checkpoints into
/// `checkpoint`, as a live job would. Returns false on a timeout.
bool run_live(const Input& input, const fs::path& output, const fs::path& checkpoint,
              const std::vector<std::string>& files, rill::Time final,
              std::optional<std::uint16_t> status_port) {
  const auto make = [&] {
    auto ctx = std::make_unique<rill::StreamingContext>(rill::Config{}.batch_interval(kInterval));
    views_per_user(*ctx, input, output);
    return ctx;
  };
  std::unique_ptr<rill::StreamingContext> live;
#if RILL_EXAMPLES_WITH_KAFKA
  std::optional<rill_examples::Producer> producer;
  if (input.kafka.on()) {
    live = rill::StreamingContext::get_or_create(checkpoint, make);
    producer.emplace(input.kafka.brokers);
  }
#else
  (void)checkpoint;
#endif
  if (!live) live = make();
  auto listener = std::make_shared<rill_examples::FinalWatermark>(final);
  auto reached = listener->reached();
  live->add_listener(listener);
  [[maybe_unused]] const auto status = rill_examples::serve_status(*live, status_port);
  live->start();
  for (std::size_t i = 0; i < files.size(); ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "views-%02zu.csv", i);
#if RILL_EXAMPLES_WITH_KAFKA
    if (producer) {
      producer->send(input.kafka.topic, files[i], 0);  // one record, partition 0: kept in order
      producer->flush();
      std::ofstream{input.dir / name, std::ios::binary} << files[i];  // the copy for inspection
      std::printf("live: produced %s into %s\n", name, input.kafka.topic.c_str());
      std::fflush(stdout);
      std::this_thread::sleep_for(300ms);
      continue;
    }
#endif
    move_in(input.dir, name, files[i]);
    std::printf("live: moved in %s\n", name);
    std::fflush(stdout);
    std::this_thread::sleep_for(300ms);
  }
  const bool done = reached.wait_for(30s) == std::future_status::ready;
  live->stop();
  return done;
}

/// The replay: the same job from the beginning of `input`, into `output`, ending by itself.
void run_replay(const Input& input, const fs::path& output) {
  rill::StreamingContext replay{
      rill::Config{}.batch_interval(kInterval).trigger(rill::Trigger::available_now())};
  views_per_user(replay, input, output);
  replay.start();
  replay.await_termination();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "The Kappa architecture's replay: one job (page views per user per 10 s of event time, "
      "append mode, a file per batch) runs live on a directory while 14 generated files arrive "
      "(one every 300 ms), then runs again with Trigger::available_now() from the beginning of "
      "the directory into a new output, and the two outputs are compared line by line. Writes "
      "DIR/input, DIR/live and DIR/replay. With --mock or --brokers/--topic the job reads a Kafka "
      "topic the program produces the files into, one record each. Ends by itself (about 6 s).",
      "replay"};
  std::string dir = "rill-replay";
  app.add_option("--dir", dir, "Working directory (emptied and created)")
      ->type_name("DIR")
      ->capture_default_str()
      ->check(rill_examples::non_empty());
  std::uint32_t seed = 16;
  app.add_option("--seed", seed, "Seed of the generated page views")
      ->capture_default_str()
      ->transform(rill_examples::whole_number(0, 4294967295));
  Input input;
#if RILL_EXAMPLES_WITH_KAFKA
  rill_examples::add_kafka_options(
      app, input.kafka,
      "Existing empty topic to produce the generated views into (partition 0) and read them from",
      "views");
#endif
  std::optional<std::uint16_t> status_port;
  rill_examples::add_status_port(app, status_port);
  if (const auto code = rill_examples::parse(app, argc, argv)) return *code;

  try {
    const fs::path root{dir};
    fs::remove_all(root);
    for (const char* sub : {"input", "live", "replay"})
      fs::create_directories(root / sub);
    input.dir = root / "input";
#if RILL_EXAMPLES_WITH_KAFKA
    const auto cluster = rill_examples::start_mock(input.kafka);
    if (cluster) cluster->create_topic(input.kafka.topic, 1);
    if (input.kafka.on()) {
      if (const auto held =
              rill_examples::Producer{input.kafka.brokers}.records_in(input.kafka.topic, 0);
          held > 0) {
        std::fprintf(stderr,
                     "replay: topic '%s' already holds %lld records; give an empty topic "
                     "(the live run and the replay read it from its beginning)\n",
                     input.kafka.topic.c_str(), static_cast<long long>(held));
        return 1;
      }
    }
#endif
    const auto files = generate(seed);
    // The final watermark: the latest event time of the well-formed views, less the delay.
    std::int64_t latest = 0;
    for (const std::string& file : files) {
      std::istringstream in{file};
      for (std::string line; std::getline(in, line);) {
        try {
          latest = std::max(latest, rill::csv::parse<View>(line).time_ms);
        } catch (const rill::ParseError&) {  // malformed: the job skips it too
        }
      }
    }
    const rill::Time final = rill::Time{latest} - kDelay;

    if (!run_live(input, root / "live", root / "checkpoint", files, final, status_port)) {
      std::fprintf(stderr, "replay: the live run's watermark did not reach %lld ms in 30 s\n",
                   static_cast<long long>(final.milliseconds()));
      return 1;
    }
    std::printf("replay: running the same job with Trigger::available_now() into %s\n",
                (root / "replay").string().c_str());
    std::fflush(stdout);
    run_replay(input, root / "replay");

    bool same = true;
    for (const char* output : {"counts", "late", "malformed"}) {
      const auto live = lines_of(root / "live", output);
      const auto replayed = lines_of(root / "replay", output);
      same = same && live == replayed;
      std::printf("%s: live %zu lines, replay %zu lines, %s\n", output, live.size(),
                  replayed.size(), live == replayed ? "the same" : "DIFFERENT");
    }
    std::printf("%s\n", same ? "the replay gives the live run's results"
                             : "the replay differs from the live run");
    return same ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "replay: %s\n", e.what());
    return 1;
  }
}
