#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "rill/sources/options.hpp"
#include "rill/sources/source.hpp"
#include "sources/log_limiter.hpp"

namespace rill::detail {

/// text_file_stream: lines of the files newly visible in a directory (Spark's FileInputDStream
/// rules, with the context's clock). New files are listed when batch t is sealed and queued in
/// name order; batch t reads whole lines from that queue up to max_bytes_per_batch bytes, so a
/// large file is split over consecutive batches. Its seal record names the byte range of each
/// file it took; its position is the names remembered (with the time each was first listed),
/// the queue of files not yet read to their end (with the offset reached), and the time before
/// which forgotten files were listed. With a checkpoint directory, a delta checkpoint holds only
/// what changed since the last durable checkpoint: the names added and forgotten, and the queue's
/// change. See docs/checkpoint-format.md for the layouts.
///
/// Under Trigger::available_now the directory is listed once, at start(): the input is the
/// files listed then that were not processed (by this run or, after a restore, an earlier one);
/// the first batch queues them and no batch lists again, so files arriving later wait for a
/// later run. new_files_only and the remember window's age test do not apply to that listing;
/// files whose names a checkpoint forgot (listed before forget_before_) stay ignored.
class FileSource final : public Source<std::string> {
 public:
  FileSource(std::filesystem::path dir, FileStreamOptions options);

  [[nodiscard]] std::string kind() const override { return "text_file_stream"; }
  [[nodiscard]] SourceProperties properties() const override {
    return SourceProperties{
        .delivery = Delivery::exactly_once, .replayable = true, .available_now = true};
  }
  void start(SourceContext& ctx) override;
  Sealed<std::string> seal(Time t, bool take_buffered) override;
  std::vector<std::string> replay(Time t, std::string_view record) override;
  void release(Time t) override;
  /// A graceful stop at the clock's reading now: the batches up to it still list the directory
  /// (also those back-pressure sealed late), later ones list nothing; the files already queued
  /// are still read. As Spark's graceful stop generates the batches up to its stop time.
  void stop() override {
    if (clock_ != nullptr) stop_at_ = clock_->now().milliseconds();
  }
  /// True while listed files are not yet read to their end.
  [[nodiscard]] bool has_buffered_input() const override;
  /// Under Trigger::available_now: files listed at start() not processed yet, or files queued
  /// and not read to their end.
  [[nodiscard]] bool has_available_input() const override;

  /// The type fingerprint of the first layout (the set of names) is kept, so that checkpoints
  /// written before the layout was versioned still restore; the payload says its version.
  [[nodiscard]] std::optional<PositionType> position() const override {
    return position_type<std::set<std::string>>();
  }
  [[nodiscard]] std::string save_position(Time t) const override;
  void load_position(std::string_view bytes) override;
  void track_position_changes() override;
  /// The names added and forgotten and the queue's change since the position_saved() one, as
  /// of the end of batch t; nullopt before the first position_saved() (or without
  /// track_position_changes()).
  [[nodiscard]] std::optional<std::string> save_position_delta(Time t) const override;
  /// Throws CheckpointError when the bytes are not a position delta this build reads, or do not
  /// apply to the position restored so far.
  void load_position_delta(std::string_view bytes) override;
  void position_saved(Time t) override;
  [[nodiscard]] SourceCounts counts() const override {
    return SourceCounts{skipped_.load(), errors_.load()};
  }

  /// A listed file not yet read to its end, from `offset` (a line start).
  struct Pending {
    std::string name;
    std::uint64_t offset = 0;
    template <class Archive>
    void serialize(Archive& ar) {
      ar(name, offset);
    }
  };
  /// The bytes [begin, end) of a file one batch took: whole lines.
  struct Taken {
    std::string name;
    std::uint64_t begin = 0;
    std::uint64_t end = 0;
    template <class Archive>
    void serialize(Archive& ar) {
      ar(name, begin, end);
    }
  };

 private:
  /// The position as of the end of a batch: what save_position() writes.
  struct Position {
    Time forget_before{std::numeric_limits<std::int64_t>::min()};
    std::map<std::string, Time> names;  // name -> clock time first listed
    std::vector<Pending> queue;
  };
  /// A Position of a batch against that of an earlier one: what save_position_delta() writes.
  struct PositionDelta {
    std::int64_t forget_before_ms = 0;
    std::vector<std::pair<std::string, std::int64_t>> added;  // new, or listed again: (name, ms)
    std::vector<std::string> forgotten;
    // The queue: `queue_dropped` entries leave its front, the next `queue_kept` stay (the first
    // of them now at `front_offset`), then `queue_added` follow.
    std::uint64_t queue_dropped = 0;
    std::uint64_t queue_kept = 0;
    std::uint64_t front_offset = 0;
    std::vector<Pending> queue_added;
  };
  [[nodiscard]] static PositionDelta diff(const Position& from, const Position& to);

  struct Listed {
    std::string name;  // the file name, without the directory
  };
  /// An entry of the available_now listing at start(), with its modification time (system
  /// clock only).
  struct Available {
    Listed entry;
    std::optional<Time> modified;
    bool regular = true;  // or a link that cannot be followed (then unreadable when read)
  };

  /// The candidate entries now in the directory (of any type), sorted by name; nullopt when it
  /// cannot be listed (logged once per change of the error, and counted).
  std::optional<std::vector<Listed>> list();
  /// A newly listed entry, first listed by batch t: queued to be read, or skipped (counted), or
  /// ignored as forgotten.
  void admit(const Listed& entry, Time now, Time t);
  /// Under available_now, the first seal: queues the files of the start() listing not seen yet.
  void admit_available(Time now, Time t);
  /// True when the start() listing's entry would be read: a regular file, not seen, not
  /// forgotten. Holds files_mutex_.
  bool still_available(const Available& file) const;
  /// Reads the queue's files up to the batch's byte and file limits.
  void read_queued(std::vector<std::string>& lines, std::vector<Taken>& taken);
  /// The range of one file again (replay), and the queue as it was after; true when the name
  /// was not remembered yet.
  bool replay_range(const Taken& range, std::vector<std::string>& lines);
  void count_too_long(const std::string& name, std::int64_t n);
  void count_unreadable(const std::string& name);
  /// Under the system clock: forgets names listed before the remember window, which their
  /// modification time keeps from being taken again. Under a manual clock: forgets names no
  /// longer in `listing`. Never the queued files. Holds files_mutex_.
  void forget_old(Time now);
  void forget_absent(const std::vector<Listed>& listing);
  /// The position as of the end of batch t (see save_position()). Holds files_mutex_.
  [[nodiscard]] Position position_at(Time t) const;
  /// Keeps the position of batch t just encoded, for position_saved(t).
  void keep_written(Time t, Position position) const;

  std::filesystem::path dir_;
  FileStreamOptions options_;
  std::string name_;        // the stream's, once started
  Clock* clock_ = nullptr;  // the context's, once started
  bool checkpointing_ = false;
  bool available_now_ = false;  // Trigger::available_now, once started
  // The stop's clock reading (ms): batches after it list nothing.
  std::atomic<std::int64_t> stop_at_{std::numeric_limits<std::int64_t>::max()};
  std::optional<std::error_code> list_error_;  // the listing error last logged
  std::atomic<std::int64_t> skipped_{0};
  std::atomic<std::int64_t> errors_{0};
  LogLimiter unreadable_log_;
  LogLimiter not_regular_log_;
  LogLimiter too_old_log_;
  LogLimiter too_long_log_;

  mutable std::mutex files_mutex_;                    // guards what follows
  std::map<std::string, Time> seen_;                  // name -> clock time first listed
  std::map<Time, std::vector<std::string>> seen_in_;  // batch -> names first listed
  std::deque<Pending> queue_;                         // files not read to their end, in order
  std::map<Time, std::vector<Pending>> queue_after_;  // batch -> the queue after it
  std::vector<Pending> queue_before_;                 // the queue before the oldest of those
  Time forget_before_{std::numeric_limits<std::int64_t>::min()};  // see forget_old()

  // Incremental positions, on the batch thread (a mutex of their own, so that the diff does not
  // hold up seal()): the position of the last durable checkpoint, and the one last encoded (the
  // checkpoint being written) with its batch time.
  std::atomic<bool> tracking_{false};
  mutable std::mutex written_mutex_;
  std::optional<Position> saved_;
  mutable std::optional<std::pair<Time, Position>> written_;
  // available_now: the listing at start(), until the first seal queues what is left of it.
  std::vector<Available> start_listing_;
};

}  // namespace rill::detail
