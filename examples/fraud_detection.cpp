// fraud_detection: card payments (JSON lines) checked against card-holder profiles, with alerts
// written exactly once. Two rules, as a card issuer's real-time screening runs them:
//
// - limits: a card's spend or number of payments over a sliding event-time window (10 minutes,
//   sliding by 5) exceeds the limits of its holder's profile. Structured Streaming's
//   `groupBy(window(time, "10 minutes", "5 minutes"), card).agg(sum, count)` in append mode,
//   joined with a static table (Spark's stream-static join) loaded from a CSV file and reloaded
//   every 10 s of batch time, so that edits to the profiles take effect while it runs;
// - travel: two payments of one card, at most 5 minutes apart in event time, from countries more
//   than 2000 km apart (an interval self-join: `tl <= tr <= tl + 5 min`).
//
// The watermark trails the latest payment by 2 minutes. Payments that arrive late (at or below
// the watermark) are written to their own files (`late-<ms>.json`: the join's
// left_late_records(), each marked with the rules that ignored it, the windows' late_records()
// telling whether the limits did too); lines that are not payments go to `malformed-<ms>.txt`
// (parse_json's malformed()). Alerts go to `alerts-<ms>.json`, one JSON object a line, sorted, one
// file per batch, atomic and exactly once: with --checkpoint DIR, killing the program at any moment
// and starting it again with the same arguments gives the same files as a run never interrupted.
//
// Input: the JSON-lines files of --input (default `payments`), one file per batch, read in name
// order under Trigger::available_now (the program ends by itself once they are processed). When
// the directory does not exist, the program generates it: --minutes files (default 60), one per
// minute of payments from 2026-01-01T00:00Z, seeded (--seed), with skewed cards, out-of-order
// payments, some late ones (4 and 25 minutes), a few malformed lines, bursts that exceed limits, a
// card used in France and then, three minutes later, in the United States, and a busy card used
// once in Japan. The profiles CSV (--profiles, default `profiles.csv`) is written too when absent.
//
// Kafka (when rill::kafka is built): with --brokers BROKERS --topic TOPIC, or --mock (an
// in-process mock cluster, topic `payments`), the payments are read from TOPIC with
// rill::kafka::direct_stream, from the earliest offsets (or the checkpoint's), one record per
// partition per batch, each record holding one or more JSON lines. When partition 0 of TOPIC is
// empty the program first produces the files of --input (generated when absent) into it, one
// record per file in name order, as an upstream service would; so the batches, and the files
// written, are those of the file mode. With --alerts-topic ALERTS the alerts also go to that
// topic through rill::kafka::write with a transactional id (each batch one transaction: exactly
// once for read_committed consumers, across restarts with --checkpoint), and at the end the
// program reads back, with read_committed, what this run committed there into
// `kafka-alerts.txt` in the output directory (`<batch ms> <alert JSON>` a line).
//
// Batch times: the program replays files, so it runs on a manual clock at 0 (batch times 1000,
// 2000, ... ms, whatever the wall clock says): output file names and table reloads are a pure
// function of the input, which is what makes an interrupted run comparable with an uninterrupted
// one byte for byte.
#include <rill/rill.hpp>

#include <boost/describe/class.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "command_line.hpp"
#include "status_page.hpp"
#if RILL_EXAMPLES_WITH_KAFKA
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <map>
#include <sstream>

#include "kafka_input.hpp"
#endif

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// ---- records ----

/// One card payment, a line of the input: `{"id":"p00001","card":"c05","amount_cents":1250,
/// "country":"FR","time":1767225600000}` (time: event time, ms since the epoch).
struct Payment {
  std::string id;
  std::string card;
  std::int64_t amount_cents = 0;
  std::string country;
  std::int64_t time = 0;

  template <class Archive>
  void serialize(Archive& ar) {
    ar(id, card, amount_cents, country, time);
  }
};
BOOST_DESCRIBE_STRUCT(Payment, (), (id, card, amount_cents, country, time))

/// A card holder's profile, a row of the profiles CSV (with a header line).
struct Profile {
  std::string card;
  std::string holder;
  std::string home_country;
  std::int64_t max_spend_cents = 0;  // per window
  std::int64_t max_count = 0;        // payments per window
};
BOOST_DESCRIBE_STRUCT(Profile, (), (card, holder, home_country, max_spend_cents, max_count))

/// An alert, a line of the alert files. `kind` is `limit` (the window fields and the profile's
/// limits are set) or `travel` (the two payments' fields and their distance are set); the fields
/// of the other kind are absent.
struct Alert {
  std::string kind;
  std::string card;
  std::optional<std::int64_t> window_start;
  std::optional<std::int64_t> window_end;
  std::optional<std::int64_t> spend_cents;
  std::optional<std::int64_t> count;
  std::optional<std::int64_t> max_spend_cents;
  std::optional<std::int64_t> max_count;
  std::optional<std::string> first_payment;
  std::optional<std::string> first_country;
  std::optional<std::int64_t> first_time;
  std::optional<std::string> second_payment;
  std::optional<std::string> second_country;
  std::optional<std::int64_t> second_time;
  std::optional<std::int64_t> km;
};
BOOST_DESCRIBE_STRUCT(Alert, (),
                      (kind, card, window_start, window_end, spend_cents, count, max_spend_cents,
                       max_count, first_payment, first_country, first_time, second_payment,
                       second_country, second_time, km))

/// A late payment, a line of the late files: the payment's fields and the rules that ignored it,
/// `["travel"]` (older than the watermark: the travel join dropped it, but a window of it was
/// still open and counted it) or `["limits","travel"]` (too late for every window as well).
struct LatePayment {
  std::string id;
  std::string card;
  std::int64_t amount_cents = 0;
  std::string country;
  std::int64_t time = 0;
  std::vector<std::string> ignored_by;
};
BOOST_DESCRIBE_STRUCT(LatePayment, (), (id, card, amount_cents, country, time, ignored_by))

namespace {

using CardPayment = std::pair<std::string, Payment>;
using Totals = std::tuple<std::int64_t, std::int64_t>;  // spend (cents), payments

constexpr rill::Duration kInterval = 1s;         // one input file per batch
constexpr rill::Duration kDelay = 2min;          // watermark delay
constexpr rill::Duration kWindow = 10min;        // limits: sliding window size ...
constexpr rill::Duration kSlide = 5min;          // ... and slide
constexpr rill::Duration kTravelWithin = 5min;   // travel: second payment at most this later
constexpr std::int64_t kDistantKm = 2000;        // travel: more than this apart
constexpr rill::Duration kProfileRefresh = 10s;  // profiles reloaded every 10 batches
constexpr std::int64_t kStart = 1767225600000;   // 2026-01-01T00:00:00Z, ms
constexpr int kCards = 40;

rill::Time payment_time(const CardPayment& p) {
  return rill::Time{p.second.time};
}

// ---- countries ----

struct Country {
  const char* code;
  double lat;
  double lon;  // of the capital, degrees
};
// The first six are the cards' home countries.
constexpr std::array<Country, 10> kCountries{{{"FR", 48.8566, 2.3522},
                                              {"DE", 52.5200, 13.4050},
                                              {"ES", 40.4168, -3.7038},
                                              {"IT", 41.9028, 12.4964},
                                              {"GB", 51.5074, -0.1278},
                                              {"NL", 52.3676, 4.9041},
                                              {"US", 40.7128, -74.0060},
                                              {"BR", -23.5505, -46.6333},
                                              {"JP", 35.6762, 139.6503},
                                              {"AU", -33.8688, 151.2093}}};

/// Great-circle distance between the capitals of two countries, in whole km (haversine, earth
/// radius 6371 km); nullopt when either code is unknown.
std::optional<std::int64_t> distance_km(std::string_view a, std::string_view b) {
  const Country* ca = nullptr;
  const Country* cb = nullptr;
  for (const Country& c : kCountries) {
    if (a == c.code) ca = &c;
    if (b == c.code) cb = &c;
  }
  if (ca == nullptr || cb == nullptr) return std::nullopt;
  constexpr double kRad = 3.14159265358979323846 / 180.0;
  const double dlat = (cb->lat - ca->lat) * kRad;
  const double dlon = (cb->lon - ca->lon) * kRad;
  const double h =
      std::sin(dlat / 2) * std::sin(dlat / 2) +
      std::cos(ca->lat * kRad) * std::cos(cb->lat * kRad) * std::sin(dlon / 2) * std::sin(dlon / 2);
  return std::llround(2 * 6371.0 * std::asin(std::sqrt(h)));
}

// ---- the generator ----

std::string card_name(int i) {
  return fmt::format("c{:02}", i);
}

/// The profiles: cards c00..c39, home countries the six European ones in turn, limits that the
/// skewed traffic of the busiest cards stays within (so that alerts mean something).
std::vector<Profile> bundled_profiles() {
  std::vector<Profile> out;
  for (int i = 0; i < kCards; ++i) {
    const std::int64_t spend = i == 0 ? 400000 : i < 4 ? 200000 : 100000;
    const std::int64_t count = i == 0 ? 45 : i == 1 ? 25 : i == 2 ? 20 : i == 3 ? 16 : 12;
    out.push_back(Profile{card_name(i), fmt::format("holder {:02}", i),
                          kCountries[static_cast<std::size_t>(i % 6)].code, spend, count});
  }
  return out;
}

/// A deterministic generator: std::mt19937_64 (its sequence is fixed by the standard) and
/// arithmetic of our own on it (the standard distributions are not portable).
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}
  std::int64_t below(std::int64_t n) {
    return static_cast<std::int64_t>(engine_() % static_cast<std::uint64_t>(n));
  }
  double unit() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

 private:
  std::mt19937_64 engine_;
};

/// The payments of `minutes` input files, each file's lines in arrival order.
std::vector<std::vector<std::string>> generate(std::uint64_t seed, int minutes) {
  Rng rng{seed};
  std::vector<std::vector<std::string>> files(static_cast<std::size_t>(minutes));
  int next_id = 0;
  auto pay = [&](int file, int card, std::int64_t cents, std::string_view country,
                 std::int64_t time) {
    files[static_cast<std::size_t>(file)].push_back(rill::json::format(Payment{
        fmt::format("p{:05}", next_id++), card_name(card), cents, std::string(country), time}));
  };
  auto home = [](int card) { return kCountries[static_cast<std::size_t>(card % 6)].code; };
  for (int m = 0; m < minutes; ++m) {
    const std::int64_t minute = kStart + std::int64_t{m} * 60000;
    const std::int64_t n = 12 + rng.below(10);
    for (std::int64_t k = 0; k < n; ++k) {
      const double u = rng.unit();
      const int card = static_cast<int>(kCards * u * u);  // skewed: c00 is the busiest
      std::int64_t time = minute + rng.below(60000);
      if (rng.below(5) == 0) time -= rng.below(90000);  // out of order, within the delay
      const std::int64_t cents = 500 + rng.below(15000);
      const bool abroad = rng.below(100) == 0;  // to a neighbouring country
      pay(m, card, cents,
          abroad ? kCountries[static_cast<std::size_t>(rng.below(6))].code : home(card), time);
    }
    // Within their minute, as every on-time payment: a payment dated after its file's minute
    // would move the watermark ahead and make the next minute's out-of-order payments late.
    if (m == 20) {  // c05 spends far above its limit in a minute
      for (int k = 0; k < 8; ++k)
        pay(m, 5, 40000 + rng.below(50000), home(5), minute + k * 7000);
    }
    if (m == 35) {  // c12 pays 14 times in a minute: too many payments
      for (int k = 0; k < 14; ++k)
        pay(m, 12, 300 + rng.below(700), home(12), minute + k * 4000);
    }
    if (m == 45) pay(m, 2, 15000, "JP", minute + 30000);  // c02, a busy card, in Japan
    if (m == 30) pay(m, 21, 4200, "FR", minute + 10000);  // c21 in France ...
    if (m == 33) pay(m, 21, 9900, "US", minute + 5000);   // ... and in the US 2:55 later
    if (m % 16 == 15) pay(m, 7 + m % 5, 2500, home(7 + m % 5), minute - 25 * 60000);  // late
    // Four minutes late: past the watermark (the travel join drops it), but its newest window is
    // still open (the limits count it).
    if (m % 13 == 6) pay(m, 30 + m % 7, 1800, home(30 + m % 7), minute - 4 * 60000);
    if (m % 17 == 9) {  // lines that are not payments
      files[static_cast<std::size_t>(m)].push_back(R"({"id":"p99999","card":"c01","amount_ce)");
      files[static_cast<std::size_t>(m)].push_back(
          R"({"id":"p99998","card":"c01","amount_cents":"12","country":"FR","time":1})");
      files[static_cast<std::size_t>(m)].push_back("payment of 12 EUR");
    }
  }
  return files;
}

/// Writes `text` to `path` atomically (a temporary name, then a rename).
void write_file(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.parent_path() / ("." + path.filename().string() + ".tmp");
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) throw rill::IoError(fmt::format("cannot write {}", tmp.string()));
  }
  fs::rename(tmp, path);
}

/// Generates the input directory (as a whole: written beside it, then renamed) when absent.
void ensure_input(const fs::path& dir, std::uint64_t seed, int minutes) {
  if (fs::exists(dir)) return;
  const fs::path tmp = dir.string() + ".generating";
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  const auto files = generate(seed, minutes);
  for (std::size_t m = 0; m < files.size(); ++m) {
    std::string text;
    for (const std::string& line : files[m])
      text += line + "\n";
    write_file(tmp / fmt::format("payments-{:04}.jsonl", m), text);
  }
  fs::rename(tmp, dir);
}

void ensure_profiles(const fs::path& path) {
  if (fs::exists(path)) return;
  std::string text = rill::csv::header<Profile>() + "\n";
  for (const Profile& p : bundled_profiles())
    text += rill::csv::format(p) + "\n";
  write_file(path, text);
}

/// The profiles table's loader: every row of the CSV file but its header, keyed by card.
/// Throws rill::IoError when the file cannot be read, rill::ParseError (with the line number)
/// for a bad row: at start() that fails the run; on a reload rill logs it and keeps the previous
/// version.
std::vector<std::pair<std::string, Profile>> load_profiles(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw rill::IoError(fmt::format("cannot read the profiles file {}", path.string()));
  std::vector<std::pair<std::string, Profile>> rows;
  const std::string header = rill::csv::header<Profile>();
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line == header) continue;
    try {
      Profile p = rill::csv::parse<Profile>(line);
      std::string card = p.card;
      rows.emplace_back(std::move(card), std::move(p));
    } catch (const rill::ParseError& e) {
      throw rill::ParseError(fmt::format("{} line {}: {}", path.string(), number, e.what()));
    }
  }
  return rows;
}

/// A batch's records sorted by their JSON text: the files of a batch are the same, whatever the
/// partitioning and the order in which keyed operators emit.
template <class T>
rill::DStream<T> sorted_by_json(const rill::DStream<T>& s) {
  return s.transform([](const rill::Batch<T>& batch, rill::Time) {
    std::vector<std::pair<std::string, T>> keyed;
    for (const T& r : batch)
      keyed.emplace_back(rill::json::format(r), r);
    std::sort(keyed.begin(), keyed.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<T> out;
    out.reserve(keyed.size());
    for (auto& kv : keyed)
      out.push_back(std::move(kv.second));
    return out;
  });
}

struct Paths {
  fs::path input;
  fs::path profiles;
  fs::path output;
};

#if RILL_EXAMPLES_WITH_KAFKA
/// The Kafka side of a run: where the payments are read from (when `input.on()`) and the topic
/// the alerts also go to (empty: files only).
struct KafkaIo {
  rill_examples::KafkaInput input;
  std::string alerts_topic;
};

/// The lines of a record's value, split as the file source splits a file: at `\n`, a trailing
/// `\r` dropped, no line after a final `\n`.
std::vector<std::string> record_lines(const rill::kafka::Record& record) {
  std::vector<std::string> out;
  std::string_view rest = record.value;
  while (!rest.empty()) {
    const auto end = rest.find('\n');
    std::string_view line = rest.substr(0, end);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    out.emplace_back(line);
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end + 1);
  }
  return out;
}

/// The alerts' transactional id: one per alerts topic, the same across restarts (docs/kafka.md:
/// unique per sink, stable across restarts of that sink).
std::string transactional_id(const std::string& alerts_topic) {
  return "fraud_detection." + alerts_topic;
}

/// When partition 0 of the payments topic is empty: produces the files of `dir` (generated when
/// absent), one record each, in name order, into partition 0 (one partition keeps them in
/// order). Returns the number of records produced (0: the topic already held payments, which
/// are read as they are). Throws rill::InvalidArgument when the topic does not exist.
std::size_t produce_input(const KafkaIo& kafka, const fs::path& dir, std::uint64_t seed,
                          int minutes) {
  rill_examples::Producer producer{kafka.input.brokers};
  if (producer.records_in(kafka.input.topic, 0) > 0) return 0;
  ensure_input(dir, seed, minutes);
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && !name.starts_with('.') && !name.starts_with('_'))
      files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const fs::path& file : files) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in && !in.eof()) throw rill::IoError(fmt::format("cannot read {}", file.string()));
    producer.send(kafka.input.topic, text.str(), 0);
  }
  producer.flush();
  return files.size();
}

/// A read_committed consumer of one topic (librdkafka), with which the program reads back the
/// alerts it committed. Not thread-safe: one thread uses it. Errors are rill::IoError (brokers
/// that do not answer within 10 s) or rill::InvalidArgument (a topic that does not exist).
class CommittedReader {
 public:
  CommittedReader(const std::string& brokers, std::string topic) : topic_(std::move(topic)) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    char error[512];
    for (const auto& [name, value] :
         {std::pair{"bootstrap.servers", brokers.c_str()},
          std::pair{"group.id", "fraud_detection.read-back"},
          std::pair{"isolation.level", "read_committed"}, std::pair{"enable.auto.commit", "false"},
          std::pair{"enable.partition.eof", "true"}, std::pair{"fetch.wait.max.ms", "20"}}) {
      if (rd_kafka_conf_set(conf, name, value, error, sizeof error) != RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        throw rill::InvalidArgument(std::string("Kafka consumer: ") + error);
      }
    }
    handle_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof error);
    if (handle_ == nullptr) {  // rd_kafka_new frees conf only on success
      rd_kafka_conf_destroy(conf);
      throw rill::InvalidArgument(std::string("Kafka consumer: ") + error);
    }
  }
  CommittedReader(const CommittedReader&) = delete;
  CommittedReader& operator=(const CommittedReader&) = delete;
  ~CommittedReader() {
    rd_kafka_consumer_close(handle_);
    rd_kafka_destroy(handle_);
  }

  /// Each partition's end offset (the offset the next record will get), by partition number.
  std::vector<std::int64_t> end_offsets() {
    rd_kafka_topic_t* topic = rd_kafka_topic_new(handle_, topic_.c_str(), nullptr);
    const rd_kafka_metadata_t* metadata = nullptr;
    const rd_kafka_resp_err_t err = rd_kafka_metadata(handle_, 0, topic, &metadata, 10000);
    rd_kafka_topic_destroy(topic);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
      throw rill::IoError(fmt::format("Kafka: no metadata for '{}': {} (are the brokers up?)",
                                      topic_, rd_kafka_err2str(err)));
    int partitions = 0;
    rd_kafka_resp_err_t topic_err = RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
    if (metadata->topic_cnt == 1) {
      partitions = metadata->topics[0].partition_cnt;
      topic_err = metadata->topics[0].err;
    }
    rd_kafka_metadata_destroy(metadata);
    if (topic_err != RD_KAFKA_RESP_ERR_NO_ERROR || partitions == 0)
      throw rill::InvalidArgument(fmt::format(
          "Kafka: the topic '{}' does not exist; create it first (kafka-topics.sh --create "
          "--topic {} ...)",
          topic_, topic_));
    std::vector<std::int64_t> ends;
    for (std::int32_t p = 0; p < partitions; ++p) {
      std::int64_t low = 0, high = 0;
      const rd_kafka_resp_err_t e =
          rd_kafka_query_watermark_offsets(handle_, topic_.c_str(), p, &low, &high, 10000);
      if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
        throw rill::IoError(fmt::format("Kafka: cannot read the offsets of '{}' [{}]: {}", topic_,
                                        p, rd_kafka_err2str(e)));
      ends.push_back(high);
    }
    return ends;
  }

  /// The committed records of every partition p from offset `from[p]` to its end (30 s at most),
  /// partition after partition, each in offset order: (the record's last `rill.batch` header,
  /// its value).
  std::vector<std::pair<std::string, std::string>> read_from(
      const std::vector<std::int64_t>& from) {
    rd_kafka_topic_partition_list_t* list =
        rd_kafka_topic_partition_list_new(static_cast<int>(from.size()));
    for (std::size_t p = 0; p < from.size(); ++p)
      rd_kafka_topic_partition_list_add(list, topic_.c_str(), static_cast<std::int32_t>(p))
          ->offset = from[p];
    const rd_kafka_resp_err_t assigned = rd_kafka_assign(handle_, list);
    rd_kafka_topic_partition_list_destroy(list);
    if (assigned != RD_KAFKA_RESP_ERR_NO_ERROR)
      throw rill::IoError(
          fmt::format("Kafka: cannot assign '{}': {}", topic_, rd_kafka_err2str(assigned)));
    std::map<std::int32_t, std::vector<std::pair<std::string, std::string>>> by_partition;
    std::set<std::int32_t> at_end;
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (at_end.size() < from.size()) {
      if (std::chrono::steady_clock::now() > deadline)
        throw rill::IoError(
            fmt::format("Kafka: reading '{}' back did not reach its end within 30 s", topic_));
      rd_kafka_message_t* m = rd_kafka_consumer_poll(handle_, 100);
      if (m == nullptr) continue;
      if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        at_end.insert(m->partition);
      } else if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        const std::string reason = rd_kafka_message_errstr(m);
        rd_kafka_message_destroy(m);
        throw rill::IoError(fmt::format("Kafka: reading '{}' back: {}", topic_, reason));
      } else {
        std::string batch;
        rd_kafka_headers_t* headers = nullptr;
        const void* value = nullptr;
        std::size_t size = 0;
        if (rd_kafka_message_headers(m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR &&
            rd_kafka_header_get_last(headers, "rill.batch", &value, &size) ==
                RD_KAFKA_RESP_ERR_NO_ERROR &&
            value != nullptr)
          batch.assign(static_cast<const char*>(value), size);
        by_partition[m->partition].emplace_back(
            std::move(batch), std::string(static_cast<const char*>(m->payload), m->len));
      }
      rd_kafka_message_destroy(m);
    }
    std::vector<std::pair<std::string, std::string>> out;
    for (auto& [partition, records] : by_partition)
      for (auto& record : records)
        out.push_back(std::move(record));
    return out;
  }

 private:
  std::string topic_;
  rd_kafka_t* handle_ = nullptr;
};
#else
struct KafkaIo {};
#endif

/// One line on stdout per completed batch, flushed, so that a user sees the job advance (the
/// results are in the output files). A listener, not an output operation: it takes no part in
/// the exactly-once check, and after a restart the batches run again are printed again.
class BatchLog final : public rill::StreamingListener {
 public:
  void on_batch_completed(const rill::BatchInfo& info) override {
    std::printf("batch %lld ms: %lld line(s) in, processed in %lld ms\n",
                static_cast<long long>(info.batch_time.milliseconds()),
                static_cast<long long>(info.num_records),
                static_cast<long long>(info.processing_delay.count()));
    std::fflush(stdout);
  }
};

/// The pipeline (get_or_create's factory).
/// `loads` counts the profile table's loads (the one at start() and the reloads).
/// `kafka`: where the payments come from and the alerts also go, when rill::kafka is built.
std::unique_ptr<rill::StreamingContext> build(const Paths& paths,
                                              [[maybe_unused]] const KafkaIo& kafka,
                                              bool checkpointed,
                                              std::shared_ptr<std::atomic<int>> loads) {
  rill::Config config = rill::Config{}
                            .batch_interval(kInterval)
                            .parallelism(2)
                            .worker_threads(2)
                            .trigger(rill::Trigger::available_now())
                            .clock(rill::ManualClock::create());
  if (checkpointed) config.delivery(rill::Delivery::exactly_once);
  auto ctx = std::make_unique<rill::StreamingContext>(config);

  auto profiles = ctx->static_table<std::string, Profile>(
                         [path = paths.profiles, loads] {
                           auto rows = load_profiles(path);
                           ++*loads;
                           return rows;
                         },
                         kProfileRefresh)
                      .name("profiles");
  std::optional<rill::DStream<std::string>> from_kafka;
#if RILL_EXAMPLES_WITH_KAFKA
  // One record per partition per batch: a record of the generated input is one file, so the
  // batches are the file mode's.
  if (kafka.input.on())
    from_kafka =
        rill::kafka::direct_stream(
            *ctx,
            rill::kafka::SourceOptions{
                .bootstrap_servers = kafka.input.brokers,
                .topics = {kafka.input.topic},
                .group_id = "",
                .starting_offsets = rill::kafka::StartingOffsets::earliest,
                .max_records_per_partition = 1,
                .fail_on_data_loss = true,
                .properties = {{"client.id", "fraud_detection"}, {"fetch.wait.max.ms", "20"}}})
            .name("payment records")
            .flat_map(&record_lines)
            .name("payment lines");
#endif
  auto lines = from_kafka ? *from_kafka
                          : ctx->text_file_stream(paths.input,
                                                  rill::FileStreamOptions{.new_files_only = false,
                                                                          .max_files_per_batch = 1})
                                .name("payment lines");
  auto parsed = lines.parse_json<Payment>();
  parsed.malformed().save_as_text_files((paths.output / "malformed").string(), "txt");

  auto payments = parsed.map([](const Payment& p) {
                          return CardPayment{p.card, p};
                        })
                      .with_watermark(&payment_time, kDelay)
                      .name("payments");

  // Limits: per card and sliding window, spend and count, joined with the profile.
  auto windows =
      payments
          .aggregate_by_window(
              rill::sliding(kWindow, kSlide), [](const CardPayment& p) { return p.first; },
              rill::agg::all(
                  rill::agg::sum([](const CardPayment& p) { return p.second.amount_cents; }),
                  rill::agg::count()))
          .name("card windows");
  auto limit_alerts =
      windows.map([](const rill::Windowed<std::string, Totals>& w) {
               return std::pair{w.key, w};
             })
          .join(profiles)
          .flat_map([](const auto& kv) {
            const auto& [w, profile] = kv.second;
            const auto [spend, count] = w.value;
            std::vector<Alert> out;
            if (spend > profile.max_spend_cents || count > profile.max_count) {
              Alert a;
              a.kind = "limit";
              a.card = kv.first;
              a.window_start = w.window.start.milliseconds();
              a.window_end = w.window.end.milliseconds();
              a.spend_cents = spend;
              a.count = count;
              a.max_spend_cents = profile.max_spend_cents;
              a.max_count = profile.max_count;
              out.push_back(std::move(a));
            }
            return out;
          });

  // Travel: two payments of a card within minutes from distant countries.
  auto travel = payments.interval_join(payments, 0ms, kTravelWithin).name("travel join");
  auto travel_alerts =
      travel.flat_map([](const std::pair<std::string, std::pair<Payment, Payment>>& kv) {
        const auto& [a, b] = kv.second;
        std::vector<Alert> out;
        // Each unordered pair once: a self-join matches (a, b) and, at equal times, (b, a).
        if (a.time == b.time && a.id >= b.id) return out;
        const auto km = distance_km(a.country, b.country);
        if (km && *km > kDistantKm) {
          Alert alert;
          alert.kind = "travel";
          alert.card = kv.first;
          alert.first_payment = a.id;
          alert.first_country = a.country;
          alert.first_time = a.time;
          alert.second_payment = b.id;
          alert.second_country = b.country;
          alert.second_time = b.time;
          alert.km = *km;
          out.push_back(std::move(alert));
        }
        return out;
      });

  auto alerts = sorted_by_json(limit_alerts.union_with(travel_alerts));
  alerts.save_as_json_files((paths.output / "alerts").string(), "json");
#if RILL_EXAMPLES_WITH_KAFKA
  // The alerts topic: each batch one transaction, keyed by card (a card's alerts stay in order).
  if (!kafka.alerts_topic.empty())
    rill::kafka::write(
        alerts,
        rill::kafka::SinkOptions{.bootstrap_servers = kafka.input.brokers,
                                 .topic = kafka.alerts_topic,
                                 .transactional_id = transactional_id(kafka.alerts_topic),
                                 .properties = {{"client.id", "fraud_detection"}}},
        [](const Alert& a) {
          return rill::kafka::ProducerRecord{.key = a.card,
                                             .value = rill::json::format(a),
                                             .partition = std::nullopt,
                                             .headers = {{"kind", a.kind}}};
        });
#endif
  // Late payments: those the join dropped (at or below the previous batch's watermark), marked
  // with whether the windows dropped them too. A payment late for every window is late for the
  // join as well (its newest window ends after it); window-late rows are still checked, so that
  // no late payment can vanish. A self-join's left and right late rows are the same rows.
  auto late = travel.left_late_records().transform_with(
      windows.late_records(), [](const rill::Batch<CardPayment>& join_late,
                                 const rill::Batch<CardPayment>& window_late, rill::Time) {
        std::set<std::string> too_late_for_windows;
        for (const CardPayment& p : window_late)
          too_late_for_windows.insert(p.second.id);
        std::vector<LatePayment> out;
        auto add = [&](const Payment& p, std::vector<std::string> ignored_by) {
          out.push_back(
              LatePayment{p.id, p.card, p.amount_cents, p.country, p.time, std::move(ignored_by)});
        };
        std::set<std::string> seen;
        for (const CardPayment& p : join_late) {
          seen.insert(p.second.id);
          if (too_late_for_windows.contains(p.second.id)) {
            add(p.second, {"limits", "travel"});
          } else {
            add(p.second, {"travel"});
          }
        }
        for (const CardPayment& p : window_late) {
          if (!seen.contains(p.second.id)) add(p.second, {"limits"});
        }
        return out;
      });
  sorted_by_json(late).save_as_json_files((paths.output / "late").string(), "json");
  return ctx;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Screens card payments (JSON lines, one input file per batch) for fraud: a card whose "
      "spend or number of payments over a 10-minute event-time window sliding by 5 minutes "
      "exceeds its profile's limits (profiles: a CSV file, reloaded every 10 batches), and two "
      "payments of a card from countries over 2000 km apart within 5 minutes. Writes "
      "alerts-<ms>.json, late-<ms>.json (payments at or below the watermark, with the rules "
      "that ignored them) and "
      "malformed-<ms>.txt into the output directory, one file per batch, exactly once. Generates "
      "the input directory and the profiles file when they are absent, processes the input and "
      "ends by itself. With --checkpoint, a killed run started again with the same arguments "
      "finishes with the same files. With --mock or --brokers/--topic the payments are read from "
      "a Kafka topic (the input files are produced into it first when it is empty), and with "
      "--alerts-topic the alerts also go to a topic, exactly once (transactions); the program "
      "reads them back into kafka-alerts.txt at the end.",
      "fraud_detection"};
  Paths paths{"payments", "profiles.csv", "fraud-out"};
  std::string checkpoint;
  std::int64_t seed = 16;
  std::int64_t minutes = 60;
  app.add_option("--input", paths.input,
                 "directory of JSON-lines payment files, read in name order (generated when "
                 "absent)")
      ->check(rill_examples::non_empty());
  app.add_option("--profiles", paths.profiles, "card-holder profiles CSV (written when absent)")
      ->check(rill_examples::non_empty());
  app.add_option("--output", paths.output, "directory of the alert, late and malformed files")
      ->check(rill_examples::non_empty());
  auto* checkpoint_option =
      app.add_option("--checkpoint", checkpoint,
                     "checkpoint directory: exactly-once output across kills and restarts")
          ->check(rill_examples::non_empty());
  app.add_option("--seed", seed, "seed of the generated input")
      ->transform(rill_examples::whole_number(0, INT64_MAX));
  app.add_option("--minutes", minutes, "minutes of generated payments (one file each)")
      ->transform(rill_examples::whole_number(1, 100000));
  KafkaIo kafka;
#if RILL_EXAMPLES_WITH_KAFKA
  rill_examples::add_kafka_options(app, kafka.input,
                                   "Kafka topic of the payments (JSON lines, one or more a "
                                   "record); the input files are produced into it when its "
                                   "partition 0 is empty",
                                   "payments",
                                   "topic 'payments', and the --alerts-topic; no --checkpoint: "
                                   "the mock dies with the program");
  // A restart needs the topics and their offsets, which an in-process mock loses.
  app.get_option("--mock")->excludes(checkpoint_option);
  app.add_option("--alerts-topic", kafka.alerts_topic,
                 "Also write the alerts to this existing Kafka topic, one transaction per batch "
                 "(exactly once for read_committed consumers), and read them back into "
                 "kafka-alerts.txt at the end; needs --mock or --brokers")
      ->type_name("TOPIC")
      ->check(rill_examples::non_empty());
#else
  (void)checkpoint_option;
#endif
  std::optional<std::uint16_t> status_port;
  rill_examples::add_status_port(app, status_port);
  if (const auto code = rill_examples::parse(app, argc, argv)) return *code;
#if RILL_EXAMPLES_WITH_KAFKA
  if (!kafka.alerts_topic.empty() && !kafka.input.on()) {
    std::fprintf(stderr,
                 "fraud_detection: --alerts-topic needs --mock or --brokers BROKERS --topic "
                 "TOPIC\nRun with --help for more information.\n");
    return rill_examples::kUsageError;
  }
#endif

  try {
#if RILL_EXAMPLES_WITH_KAFKA
    const auto cluster = rill_examples::start_mock(kafka.input);
    if (cluster) {
      cluster->create_topic(kafka.input.topic, 1);
      if (!kafka.alerts_topic.empty()) cluster->create_topic(kafka.alerts_topic, 1);
    }
    std::optional<CommittedReader> alerts_reader;
    std::vector<std::int64_t> alerts_from;  // the alerts topic's end offsets before this run
    if (!kafka.alerts_topic.empty()) {
      alerts_reader.emplace(kafka.input.brokers, kafka.alerts_topic);
      alerts_from = alerts_reader->end_offsets();  // also: the topic must exist
    }
    if (kafka.input.on()) {
      const std::size_t produced = produce_input(
          kafka, paths.input, static_cast<std::uint64_t>(seed), static_cast<int>(minutes));
      if (produced > 0)
        std::printf("fraud_detection: produced the %zu files of %s into topic '%s'\n", produced,
                    paths.input.string().c_str(), kafka.input.topic.c_str());
      else
        std::printf("fraud_detection: topic '%s' holds payments: reading them\n",
                    kafka.input.topic.c_str());
      std::fflush(stdout);
    } else {
      ensure_input(paths.input, static_cast<std::uint64_t>(seed), static_cast<int>(minutes));
    }
#else
    ensure_input(paths.input, static_cast<std::uint64_t>(seed), static_cast<int>(minutes));
#endif
    ensure_profiles(paths.profiles);
    fs::create_directories(paths.output);
    auto loads = std::make_shared<std::atomic<int>>(0);
    std::unique_ptr<rill::StreamingContext> ctx;
    if (checkpoint.empty()) {
      ctx = build(paths, kafka, false, loads);
    } else {
      ctx = rill::StreamingContext::get_or_create(checkpoint,
                                                  [&] { return build(paths, kafka, true, loads); });
    }
    ctx->add_listener(std::make_shared<BatchLog>());
    [[maybe_unused]] const auto status = rill_examples::serve_status(*ctx, status_port);
    // Ctrl-C (SIGINT) or SIGTERM stops gracefully: batches already sealed still run.
    const auto on_signals = rill::stop_on_signals(*ctx);
    ctx->start();
    ctx->await_termination();
    std::printf("fraud_detection: done; profiles loaded %d times; files in %s\n", loads->load(),
                paths.output.string().c_str());
#if RILL_EXAMPLES_WITH_KAFKA
    if (alerts_reader) {
      // What this run committed to the alerts topic, read as a read_committed consumer would.
      std::string text;
      const auto records = alerts_reader->read_from(alerts_from);
      for (const auto& [batch, value] : records)
        text += batch + " " + value + "\n";
      write_file(paths.output / "kafka-alerts.txt", text);
      std::printf("fraud_detection: read %zu committed alerts back from topic '%s' into %s\n",
                  records.size(), kafka.alerts_topic.c_str(),
                  (paths.output / "kafka-alerts.txt").string().c_str());
    }
#endif
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fraud_detection: %s\n", e.what());
    return 1;
  }
  return 0;
}
