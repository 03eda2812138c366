// delivery_semantics: one pipeline (payment files in, one output line per payment out) run three
// times, with Config::delivery(at_most_once), (at_least_once) and (exactly_once), while it is
// killed (SIGKILL) at random moments and started again; then each run's output is compared with
// its input and the program prints what each lost and what each repeated.
//
// The program is its own supervisor: it starts itself as the pipeline's process (`--child MODE`,
// a hidden option), moves the generated payment files into the input directory one every 60 ms
// as an upstream writer would, kills the child at random points (half of the kills right after
// the child's output grew, the moment between a batch's output and its checkpoint; the others
// after a random delay), moves the next file in while the child is down, and starts it again.
// After the last file it stops the child with SIGTERM (a graceful stop: what it has listed still
// runs). The same input (--seed) goes to the three runs.
//
// What differs between the three runs is what the delivery guarantee needs:
// - at_most_once: no checkpoint directory; a restart starts afresh from the files that arrive
//   after it (FileStreamOptions::new_files_only), as a consumer that always starts at the latest
//   offset: the batch in flight at a kill and the files that arrived while the process was down
//   are lost; nothing is written twice. The output appends each batch's lines to one file.
// - at_least_once: a checkpoint directory (StreamingContext::get_or_create), so a restart runs
//   again the batches after the last checkpoint, with their recorded input; the output appends
//   each batch's lines to one file (a plain foreach_batch): a batch whose lines were appended
//   before the kill, but not yet checkpointed, is appended again. Nothing is lost.
// - exactly_once: the checkpoint directory and save_as_text_files, which commits a batch's file
//   by a rename and finds it again when the batch is replayed: nothing lost, nothing repeated.
//   Config::delivery(exactly_once) is checked at start() (the other two are declarations).
//
// With --brokers BROKERS --topic TOPIC (or --mock: an in-process mock cluster), when rill::kafka
// is built, the input is a Kafka topic per run, TOPIC-<mode>: the supervisor produces each
// payment line as one record (and keeps a copy of each file in DIR/<mode>/in), and the child
// reads it with rill::kafka::direct_stream. at_most_once has no checkpoint and starts at the
// latest offsets (what was produced while it was down is lost); at_least_once and exactly_once
// start at the earliest offsets and, after a restart, at their checkpoint's, replaying the
// batches sealed but not checkpointed with the same offset ranges.
#include <rill/rill.hpp>

#include <boost/describe/class.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "command_line.hpp"
#include "status_page.hpp"
#if RILL_EXAMPLES_WITH_KAFKA
#include "kafka_input.hpp"
#endif

extern char** environ;

using namespace std::chrono_literals;
namespace fs = std::filesystem;

/// One payment, one CSV line `id,account,cents`.
struct Payment {
  std::int64_t id = 0;
  std::string account;
  std::int64_t cents = 0;
};
BOOST_DESCRIBE_STRUCT(Payment, (), (id, account, cents))

namespace {

constexpr rill::Duration kInterval = 100ms;

const char* name_of(rill::Delivery d) {
  switch (d) {
    case rill::Delivery::at_most_once:
      return "at_most_once";
    case rill::Delivery::at_least_once:
      return "at_least_once";
    case rill::Delivery::exactly_once:
      return "exactly_once";
  }
  return "?";
}

// ---- the pipeline (the child) ----

/// Appends each batch's lines to one file, in one write, then fsyncs: not idempotent (a batch
/// run again after a crash is appended again), so at least once.
class AppendToFile {
 public:
  explicit AppendToFile(fs::path path) : path_(std::move(path)) {}
  void operator()(const rill::Batch<std::string>& lines, rill::Time) const {
    if (lines.empty()) return;
    std::string text;
    for (const std::string& line : lines)
      text.append(line).push_back('\n');
    const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
      throw rill::IoError("cannot open '" + path_.string() + "': " + std::strerror(errno));
    const ssize_t written = ::write(fd, text.data(), text.size());
    const bool ok = written == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) throw rill::IoError("cannot append to '" + path_.string() + "'");
  }

 private:
  fs::path path_;
};

/// Where the pipeline reads: the files of `base`/in, or (when `kafka.on()`) a Kafka topic.
struct Input {
  fs::path base;
#if RILL_EXAMPLES_WITH_KAFKA
  rill_examples::KafkaInput kafka;
#endif
};

/// The rest of the pipeline on `input_lines`: parsed (malformed lines skipped), one line each
/// into `base`/out.
template <class Lines>
void payments_out(Lines input_lines, rill::Delivery delivery, const fs::path& base) {
  auto lines = input_lines.template parse_csv<Payment>().name("payments").map([](const Payment& p) {
    return rill::csv::format(p);
  });
  if (delivery == rill::Delivery::exactly_once)
    lines.save_as_text_files((base / "out" / "payments").string());
  else
    lines.foreach_batch(AppendToFile{base / "out" / "payments.csv"});
}

/// The pipeline, the same in the three runs but for its output and, on Kafka, its starting
/// offsets: the payments of `input`, one line each into `base`/out.
std::unique_ptr<rill::StreamingContext> pipeline(rill::Delivery delivery, const Input& input) {
  auto ctx = std::make_unique<rill::StreamingContext>(
      rill::Config{}.batch_interval(kInterval).parallelism(2).delivery(delivery));
#if RILL_EXAMPLES_WITH_KAFKA
  if (input.kafka.on()) {
    payments_out(
        rill::kafka::direct_stream(
            *ctx,
            rill::kafka::SourceOptions{
                .bootstrap_servers = input.kafka.brokers,
                .topics = {input.kafka.topic},
                .group_id = "",
                // at most once: a restart starts at the end, as a consumer without state
                .starting_offsets = delivery == rill::Delivery::at_most_once
                                        ? rill::kafka::StartingOffsets::latest
                                        : rill::kafka::StartingOffsets::earliest,
                .max_records_per_partition = 0,
                .fail_on_data_loss = true,
                .properties = {{"client.id", "delivery_semantics"}, {"fetch.wait.max.ms", "20"}}})
            .name("payment records")
            .map([](const rill::kafka::Record& r) { return r.value; }),
        delivery, input.base);
    return ctx;
  }
#endif
  payments_out(ctx->text_file_stream(input.base / "in").name("payment files"), delivery,
               input.base);
  return ctx;
}

/// The child: runs the pipeline (from its checkpoint, unless at most once) until SIGTERM;
/// writes `base`/ready once started.
int run_child(rill::Delivery delivery, const Input& input,
              std::optional<std::uint16_t> status_port) {
  const fs::path& base = input.base;
  auto ctx = delivery == rill::Delivery::at_most_once
                 ? pipeline(delivery, input)
                 : rill::StreamingContext::get_or_create(base / "checkpoint",
                                                         [&] { return pipeline(delivery, input); });
  [[maybe_unused]] const auto status = rill_examples::serve_status(*ctx, status_port);
  const auto on_signals = rill::stop_on_signals(*ctx);
  ctx->start();
  std::ofstream{base / "ready"} << ::getpid() << '\n';
  ctx->await_termination();
  return 0;
}

// ---- the supervisor ----

/// The generated input: `files` files of 20 payments each, ids from 0, accounts skewed (acct-1
/// takes half), and a malformed line in every fifth file.
std::vector<std::string> generate(std::uint32_t seed, int files) {
  std::mt19937 random{seed};
  std::vector<std::string> out;
  std::int64_t id = 0;
  for (int f = 0; f < files; ++f) {
    std::ostringstream text;
    for (int i = 0; i < 20; ++i) {
      const auto r = random() % 16;
      const int account = r < 8 ? 1 : r < 12 ? 2 : r < 14 ? 3 : static_cast<int>(4 + r % 2);
      text << id++ << ",acct-" << account << ',' << 100 + random() % 100000 << '\n';
    }
    if (f % 5 == 4) text << "refund;acct-2;-500\n";
    out.push_back(text.str());
  }
  return out;
}

/// The pipeline's process, started as `self --child MODE --dir BASE [--brokers B --topic T]`.
class Child {
 public:
  Child(const std::string& self, rill::Delivery delivery, const Input& input,
        std::optional<std::uint16_t> status_port) {
    const fs::path& base = input.base;
    std::error_code ec;
    fs::remove(base / "ready", ec);
    std::vector<std::string> args{self, "--child", name_of(delivery), "--dir", base.string()};
#if RILL_EXAMPLES_WITH_KAFKA
    if (input.kafka.on()) {  // the mock's brokers too: they listen on 127.0.0.1
      for (const std::string& a : {std::string("--brokers"), input.kafka.brokers,
                                   std::string("--topic"), input.kafka.topic})
        args.push_back(a);
    }
#endif
    if (status_port) {  // each incarnation of the pipeline serves the status page
      args.emplace_back("--status-port");
      args.push_back(std::to_string(*status_port));
    }
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    if (::posix_spawn(&pid_, self.c_str(), nullptr, nullptr, argv.data(), environ) != 0)
      throw rill::IoError("cannot start '" + self + "'");
    // Ready once its context started (its file stream has listed the directory).
    for (int i = 0; i < 1000 && !fs::exists(base / "ready"); ++i) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = 0;
        throw rill::IllegalState("the pipeline's process ended before it started");
      }
      std::this_thread::sleep_for(10ms);
    }
    if (!fs::exists(base / "ready")) throw rill::IllegalState("the pipeline did not start in 10 s");
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (pid_ != 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  /// Sends `signal` and waits; returns whether the child was killed by it (rather than exiting)
  /// and its exit status otherwise.
  std::pair<bool, int> end(int signal) {
    ::kill(pid_, signal);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = 0;
    if (WIFSIGNALED(status)) return {true, WTERMSIG(status)};
    return {false, WEXITSTATUS(status)};
  }

 private:
  pid_t pid_ = 0;
};

/// Bytes of the child's output so far: the append file, or the number of committed batch files.
std::uintmax_t output_size(const fs::path& out) {
  std::uintmax_t size = 0;
  for (const auto& entry : fs::directory_iterator(out)) {
    if (entry.path().filename().string().starts_with(".")) continue;
    size += entry.path().filename() == "payments.csv" ? entry.file_size() : 1;
  }
  return size;
}

/// Ids of the well-formed lines of `text`, each once per line.
void count_ids(const std::string& text, std::map<std::int64_t, int>& ids, int& malformed) {
  std::istringstream in{text};
  for (std::string line; std::getline(in, line);) {
    try {
      ++ids[rill::csv::parse<Payment>(line).id];
    } catch (const rill::ParseError&) {
      ++malformed;
    }
  }
}

std::string read_file(const fs::path& path) {
  std::ifstream in{path, std::ios::binary};
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

struct Result {
  int kills = 0;
  int kills_after_output = 0;
  std::int64_t in = 0, written = 0, lost = 0, repeated = 0, unknown = 0, torn = 0;
};

/// One run: feeds `files` into `base`/in while killing and restarting the child at `kill_at`
/// (file indices; true: right after the output grew), then stops it and counts. The children
/// get `--status-port` when it is given: each of them serves the status page in turn.
Result run(const std::string& self, rill::Delivery delivery, const Input& input,
           const std::vector<std::string>& files, const std::map<int, bool>& kill_at,
           std::mt19937& random, std::optional<std::uint16_t> status_port) {
  const fs::path& base = input.base;
  fs::remove_all(base);
  fs::create_directories(base / "in");
  fs::create_directories(base / "out");
#if RILL_EXAMPLES_WITH_KAFKA
  std::optional<rill_examples::Producer> producer;
  if (input.kafka.on()) producer.emplace(input.kafka.brokers);
#endif
  Result result;
  auto child = std::make_unique<Child>(self, delivery, input, status_port);
  for (int i = 0; i < static_cast<int>(files.size()); ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "payments-%03d.csv", i);
    const fs::path tmp = base / "in" / (std::string(".") + name);
    std::ofstream{tmp, std::ios::binary} << files[static_cast<std::size_t>(i)];
#if RILL_EXAMPLES_WITH_KAFKA
    if (producer) {  // a record per line; the file stays out of `in` (hidden), as the copy
      std::istringstream lines{files[static_cast<std::size_t>(i)]};
      for (std::string line; std::getline(lines, line);)
        producer->send(input.kafka.topic, line);
      producer->flush();
    }
#endif
    fs::rename(tmp, base / "in" / name);
    if (!child)
      child = std::make_unique<Child>(self, delivery, input, status_port);  // down while it arrived
    const auto kill = kill_at.find(i);
    if (kill == kill_at.end()) {
      std::this_thread::sleep_for(60ms);
      continue;
    }
    if (kill->second) {  // right after the output grew: between a batch's output and checkpoint
      const auto before = output_size(base / "out");
      for (int wait = 0; wait < 2000 && output_size(base / "out") == before; ++wait)
        std::this_thread::sleep_for(500us);
      ++result.kills_after_output;
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(random() % 150));
    }
    const auto [killed, code] = child->end(SIGKILL);
    child.reset();
    if (!killed) throw rill::IllegalState("the pipeline exited " + std::to_string(code));
    ++result.kills;
  }
  if (!child) child = std::make_unique<Child>(self, delivery, input, status_port);
  std::this_thread::sleep_for(300ms);  // let it list the last file
  const auto [killed, code] = child->end(SIGTERM);
  if (killed || code != 0) throw rill::IllegalState("the pipeline did not stop cleanly on SIGTERM");

  std::map<std::int64_t, int> in_ids, out_ids;
  int malformed_in = 0;
  for (const std::string& file : files)
    count_ids(file, in_ids, malformed_in);
  int torn = 0;
  for (const auto& entry : fs::directory_iterator(base / "out")) {
    if (!entry.path().filename().string().starts_with("."))
      count_ids(read_file(entry.path()), out_ids, torn);
  }
  result.in = static_cast<std::int64_t>(in_ids.size());
  result.torn = torn;
  for (const auto& [id, n] : out_ids) {
    result.written += n;
    if (!in_ids.contains(id)) result.unknown += n;
    if (n > 1) result.repeated += n - 1;
  }
  for (const auto& [id, n] : in_ids) {
    if (!out_ids.contains(id)) ++result.lost;
  }
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Runs one pipeline (payment files in, a line per payment out) with at_most_once, "
      "at_least_once and exactly_once delivery while killing it (SIGKILL) at random and starting "
      "it again, then prints, for each, how many payments its output lost and how many it "
      "repeated. Starts itself as the pipeline's process. Writes DIR/<mode>/{in,out,checkpoint}. "
      "With --mock or --brokers/--topic the payments go through Kafka topics. "
      "Ends by itself (about 10 s).",
      "delivery_semantics"};
  std::string dir = "rill-delivery";
  app.add_option("--dir", dir, "Working directory (its three subdirectories are emptied)")
      ->type_name("DIR")
      ->capture_default_str()
      ->check(rill_examples::non_empty());
  std::uint32_t seed = 16;
  app.add_option("--seed", seed, "Seed of the payments and of the kill points")
      ->capture_default_str()
      ->transform(rill_examples::whole_number(0, 4294967295));
  int files = 20;
  app.add_option("--files", files, "Payment files (20 payments each)")
      ->capture_default_str()
      ->transform(rill_examples::whole_number(4, 1000));
  int kills = 4;
  app.add_option("--kills", kills, "Kills per run (at most one file in four)")
      ->capture_default_str()
      ->transform(rill_examples::whole_number(0, 250));
  std::string child_mode;
  app.add_option("--child", child_mode, "Run as the pipeline's process (used by the program)")
      ->check(CLI::IsMember({"at_most_once", "at_least_once", "exactly_once"}))
      ->group("");
  Input input;
#if RILL_EXAMPLES_WITH_KAFKA
  rill_examples::add_kafka_options(
      app, input.kafka,
      "Topic prefix: each run produces its payments into TOPIC-<mode> (existing, empty) and reads "
      "them there",
      "payments", "topics 'payments-<mode>'");
#endif
  std::optional<std::uint16_t> status_port;
  rill_examples::add_status_port(app, status_port);
  if (const auto code = rill_examples::parse(app, argc, argv)) return *code;
  if (kills > files / 4) {
    std::fprintf(stderr, "--kills: at most %d with --files %d (one file in four)\n", files / 4,
                 files);
    return rill_examples::kUsageError;
  }
  const rill::Delivery modes[] = {rill::Delivery::at_most_once, rill::Delivery::at_least_once,
                                  rill::Delivery::exactly_once};

  try {
    if (!child_mode.empty()) {
      input.base = dir;
      for (const rill::Delivery d : modes) {
        if (child_mode == name_of(d)) return run_child(d, input, status_port);
      }
    }
#if RILL_EXAMPLES_WITH_KAFKA
    const std::string prefix = input.kafka.topic;
    const auto cluster = rill_examples::start_mock(input.kafka);
    if (input.kafka.on()) {
      rill_examples::Producer check{input.kafka.brokers};
      for (const rill::Delivery d : modes) {
        const std::string topic = prefix + "-" + name_of(d);
        if (cluster) cluster->create_topic(topic, 3);
        if (const auto held = check.records_in(topic, 0); held > 0) {
          std::fprintf(
              stderr,
              "delivery_semantics: topic '%s' already holds records; give a --topic "
              "prefix whose topics are empty (each run reads its topic from the beginning)\n",
              topic.c_str());
          return 1;
        }
      }
    }
#endif
    const std::string self = fs::read_symlink("/proc/self/exe").string();
    const auto payments = generate(seed, files);
    std::mt19937 random{seed};
    bool ok = true;
    for (const rill::Delivery d : modes) {
      // Kill points: distinct files, not the first nor the last, not two in a row.
      std::map<int, bool> kill_at;
      while (static_cast<int>(kill_at.size()) < kills) {
        const int at = 1 + static_cast<int>(random() % static_cast<unsigned>(files - 2));
        if (!kill_at.contains(at) && !kill_at.contains(at - 1) && !kill_at.contains(at + 1))
          kill_at.emplace(at, kill_at.size() % 2 == 0);
      }
      input.base = fs::path{dir} / name_of(d);
#if RILL_EXAMPLES_WITH_KAFKA
      if (input.kafka.on()) input.kafka.topic = prefix + "-" + name_of(d);
#endif
      const Result r = run(self, d, input, payments, kill_at, random, status_port);
      std::printf(
          "%-13s %lld payments in, %d kills (%d right after an output write): %lld lines "
          "written, %lld lost, %lld repeated\n",
          name_of(d), static_cast<long long>(r.in), r.kills, r.kills_after_output,
          static_cast<long long>(r.written), static_cast<long long>(r.lost),
          static_cast<long long>(r.repeated));
      std::fflush(stdout);
      if (r.unknown != 0 || r.torn != 0) {
        std::fprintf(stderr, "%s: %lld lines of unknown payments, %lld torn lines\n", name_of(d),
                     static_cast<long long>(r.unknown), static_cast<long long>(r.torn));
        ok = false;
      }
    }
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "delivery_semantics: %s\n", e.what());
    return 1;
  }
}
