#include "rill/streaming_context.hpp"

#include <algorithm>

#include "rill/core/logging.hpp"
#include "scheduler/engine.hpp"
#include "sources/file_source.hpp"
#include "sources/rate_source.hpp"
#include "sources/socket_receiver.hpp"

namespace rill {

namespace {
Config with_clock(Config config, std::shared_ptr<Clock>& clock) {
  if (!config.has_batch_interval()) {
    throw InvalidArgument(
        "StreamingContext: the Config has no batch interval; set Config{}.batch_interval(...)");
  }
  clock = config.clock();
  config.clock(clock);
  return config;
}
}  // namespace

StreamingContext::StreamingContext(Duration batch_interval)
    : StreamingContext(Config{}.batch_interval(batch_interval)) {}

StreamingContext::StreamingContext(Config config)
    : graph_(std::make_shared<detail::Graph>(with_clock(std::move(config), clock_))),
      engine_(std::make_unique<detail::Engine>(graph_->config())) {}

StreamingContext::~StreamingContext() {
  try {
    if (!engine_->stop(StopOptions{.graceful = false})) {
      // A batch is stuck in user code: its threads still use the engine, so it is left alive.
      (void)engine_.release();
    }
  } catch (...) {
  }
  graph_->close();
}

DStream<std::string> StreamingContext::socket_text_stream(std::string host, std::uint16_t port,
                                                          SocketOptions options) {
  if (host.empty())
    throw InvalidArgument("StreamingContext::socket_text_stream: the host is empty");
  if (port == 0) throw InvalidArgument("StreamingContext::socket_text_stream: the port is 0");
  if (options.max_line_bytes == 0) {
    throw InvalidArgument("StreamingContext::socket_text_stream: max_line_bytes must be positive");
  }
  if (options.reconnect_backoff.count() <= 0 ||
      options.max_reconnect_backoff < options.reconnect_backoff) {
    throw InvalidArgument(fmt::format(
        "StreamingContext::socket_text_stream: reconnect_backoff ({} ms) must be positive and "
        "not above max_reconnect_backoff ({} ms)",
        options.reconnect_backoff.count(), options.max_reconnect_backoff.count()));
  }
  auto receiver = std::make_shared<detail::SocketReceiver>(std::move(host), port, options);
  // A socket cannot acknowledge what it read: what the kernel held is lost, at most once.
  return add_source<std::string>(std::make_shared<detail::ReceiverSource<std::string>>(
      "socket_text_stream", std::move(receiver),
      detail::QueueBounds{graph_->config().receiver_queue_capacity(),
                          graph_->config().receiver_queue_bytes()},
      SourceProperties{.delivery = Delivery::at_most_once, .replayable = true}));
}

DStream<std::string> StreamingContext::text_file_stream(std::filesystem::path dir,
                                                        FileStreamOptions options) {
  if (dir.empty())
    throw InvalidArgument("StreamingContext::text_file_stream: the directory is empty");
  if (options.remember.count() <= 0) {
    throw InvalidArgument(
        fmt::format("StreamingContext::text_file_stream: remember must be positive, got {} ms",
                    options.remember.count()));
  }
  if (options.max_line_bytes == 0 || options.max_bytes_per_batch == 0) {
    throw InvalidArgument(
        "StreamingContext::text_file_stream: max_line_bytes and max_bytes_per_batch must be "
        "positive");
  }
  if (options.max_files_per_batch && *options.max_files_per_batch == 0) {
    throw InvalidArgument(
        "StreamingContext::text_file_stream: max_files_per_batch must be positive; leave it "
        "unset (std::nullopt) for no limit");
  }
  return add_source<std::string>(std::make_shared<detail::FileSource>(std::move(dir), options));
}

DStream<RateRow> StreamingContext::rate_stream(RateOptions options) {
  if (options.rows_per_second <= 0) {
    throw InvalidArgument(
        fmt::format("StreamingContext::rate_stream: rows_per_second must be positive, got {}",
                    options.rows_per_second));
  }
  if (options.ramp_up.count() < 0) {
    throw InvalidArgument(
        fmt::format("StreamingContext::rate_stream: ramp_up must not be negative, got {} ms",
                    options.ramp_up.count()));
  }
  return add_source<RateRow>(std::make_shared<detail::RateSource>(options, graph_->interval()));
}

void StreamingContext::start() {
  engine_->check_can_start();
  if (graph_->outputs().empty()) {
    throw IllegalState(
        "StreamingContext::start: no output operation is registered; add print(), "
        "foreach_batch() or save_as_text_files() to a stream before start()");
  }
  graph_->check_open("StreamingContext::start");
  graph_->freeze(remember_);
  detail::Plan plan;
  plan.live = graph_->live_nodes();
  plan.inputs = graph_->inputs();
  for (const auto& op : graph_->outputs())
    plan.outputs.push_back(op.get());
  plan.stateful = graph_->stateful_nodes();
  plan.tables = graph_->tables();
  if (graph_->watermarks()->active()) plan.watermarks = graph_->watermarks().get();
  engine_->start(std::move(plan));
  graph_->set_zero_time(engine_->zero());
}

void StreamingContext::stop() {
  stop(StopOptions{});
}

void StreamingContext::stop(StopOptions options) {
  if (options.timeout.count() < 0) {
    throw InvalidArgument(
        fmt::format("StreamingContext::stop: the timeout must not be negative, got {} ms",
                    options.timeout.count()));
  }
  // A batch stuck in user code keeps using the engine; the destructor tries again, and leaves
  // the engine alive if it is still stuck.
  (void)engine_->stop(options);
}

void StreamingContext::await_termination() {
  engine_->await_termination();
}

bool StreamingContext::await_termination_for(Duration d) {
  return engine_->await_termination_for(d);
}

ContextState StreamingContext::state() const {
  return engine_->state();
}

void StreamingContext::add_listener(std::shared_ptr<StreamingListener> listener) {
  engine_->add_listener(std::move(listener));
}

void StreamingContext::checkpoint(std::filesystem::path dir) {
  if (dir.empty()) throw InvalidArgument("StreamingContext::checkpoint: the directory is empty");
  graph_->check_open("StreamingContext::checkpoint");
  checkpoint_dir_ = std::move(dir);
  engine_->set_checkpoint(checkpoint_dir_, recover_, start_fresh_);
}

std::unique_ptr<StreamingContext> StreamingContext::get_or_create(
    const std::filesystem::path& dir,
    const std::function<std::unique_ptr<StreamingContext>()>& factory,
    bool start_fresh_if_unreadable) {
  if (dir.empty()) throw InvalidArgument("StreamingContext::get_or_create: the directory is empty");
  if (!factory) throw InvalidArgument("StreamingContext::get_or_create: the factory is empty");
  auto ctx = factory();
  if (!ctx) throw InvalidArgument("StreamingContext::get_or_create: the factory returned null");
  if (!ctx->checkpoint_dir_.empty() && std::filesystem::weakly_canonical(ctx->checkpoint_dir_) !=
                                           std::filesystem::weakly_canonical(dir)) {
    throw InvalidArgument(
        fmt::format("StreamingContext::get_or_create: the factory checkpoints into '{}', not '{}'",
                    ctx->checkpoint_dir_.string(), dir.string()));
  }
  ctx->recover_ = true;
  ctx->start_fresh_ = start_fresh_if_unreadable;
  ctx->checkpoint(dir);
  return ctx;
}

void StreamingContext::remember(Duration d) {
  if (d.count() < 0) {
    throw InvalidArgument(fmt::format(
        "StreamingContext::remember: the duration must not be negative, got {} ms", d.count()));
  }
  graph_->check_open("StreamingContext::remember");
  remember_ = d;
}

Time StreamingContext::zero_time() const {
  return engine_->zero();
}

std::vector<StateDescriptor> StreamingContext::state_descriptors() const {
  if (!graph_->frozen()) {
    throw IllegalState("StreamingContext::state_descriptors: the graph is only fixed by start()");
  }
  std::vector<StateDescriptor> out;
  for (const auto* node : graph_->stateful_nodes())
    out.push_back(*node->state_descriptor());
  return out;
}

MemoryUsage StreamingContext::memory_usage() const {
  MemoryUsage usage;
  if (!graph_->frozen()) return usage;
  for (const auto* node : graph_->live_nodes()) {
    usage.retained_bytes += static_cast<std::int64_t>(node->retained_bytes());
    if (auto state = node->state_info()) usage.state_bytes += state->bytes;
  }
  return usage;
}

std::vector<SourceStats> StreamingContext::source_stats() const {
  return engine_->source_stats();
}

std::optional<BatchInfo> StreamingContext::last_progress() const {
  return engine_->last_progress();
}

std::vector<BatchInfo> StreamingContext::recent_progress() const {
  return engine_->recent_progress();
}

ProgressTotals StreamingContext::progress_totals() const {
  return engine_->progress_totals();
}

OperatorGraph StreamingContext::operator_graph() const {
  // frozen() is read under the graph's mutex, which freeze() held while it built the live list:
  // once true, the list and the names are fixed and safe to read from any thread.
  if (!graph_->frozen()) {
    throw IllegalState("StreamingContext::operator_graph: the graph is only fixed by start()");
  }
  OperatorGraph out;
  for (const detail::OperatorNode* node : graph_->live_nodes()) {
    OperatorGraphNode entry{.name = node->name(), .kind = node->kind(), .parents = {}};
    for (const auto& parent : node->parents())
      entry.parents.push_back(parent->name());
    out.operators.push_back(std::move(entry));
  }
  for (const auto& op : graph_->outputs())
    out.outputs.push_back(OperatorGraphOutput{.name = op->name(), .parent = op->parent().name()});
  return out;
}

}  // namespace rill
