#include "rill/detail/graph.hpp"

#include <algorithm>
#include <functional>
#include <set>
#include <string>
#include <string_view>

#include "rill/core/errors.hpp"

namespace rill::detail {

Graph::Graph(Config config)
    : config_(std::move(config)),
      parallelism_(config_.parallelism()),
      watermarks_(std::make_shared<WatermarkTracker>(config_.watermark_policy())) {}

void Graph::check_open(std::string_view what) const {
  std::lock_guard lock(mutex_);
  if (closed_) {
    throw IllegalState(fmt::format(
        "{}: the StreamingContext of this stream was destroyed; build streams from a live context",
        what));
  }
  if (frozen_) {
    throw IllegalState(fmt::format(
        "{}: operators and outputs must be added before StreamingContext::start()", what));
  }
}

namespace {

/// Throws when two parents of `node` slide differently (see Graph::add_node).
void check_same_slide(const OperatorNode& node, std::string_view call) {
  const auto& parents = node.parents();
  for (std::size_t i = 1; i < parents.size(); ++i) {
    const Duration first = parents.front()->slide();
    const Duration other = parents[i]->slide();
    if (other == first) continue;
    const std::string what =
        call.empty() ? fmt::format("DStream::{}", node.kind()) : std::string(call);
    throw InvalidArgument(fmt::format(
        "{}: the streams have different slide durations ({} ms and {} ms); window both to the "
        "same slide",
        what, first.count(), other.count()));
  }
}

}  // namespace

void Graph::add_node(const std::shared_ptr<OperatorNode>& node, std::string_view call) {
  check_same_slide(*node, call);
  std::lock_guard lock(mutex_);
  auto& n = kind_counts_[node->kind()];
  ++n;
  std::string name = fmt::format("{}#{}", node->kind(), n);
  while (names_.contains(name) || table_names_.contains(name))
    name += "'";
  node->set_name(name);
  names_.emplace(node->name(), node.get());
}

void Graph::add_input(const std::shared_ptr<OperatorNode>& node, InputSource& source) {
  add_node(node);
  std::lock_guard lock(mutex_);
  inputs_.push_back(node);
  sources_.push_back(&source);
}

void Graph::add_output(const std::shared_ptr<OutputOperation>& op) {
  std::lock_guard lock(mutex_);
  auto& n = kind_counts_[op->kind()];
  ++n;
  op->set_name(fmt::format("{}#{}", op->kind(), n));
  outputs_.push_back(op);
}

void Graph::add_table(const std::shared_ptr<TableVersions>& table) {
  std::lock_guard lock(mutex_);
  auto& n = kind_counts_["static_table"];
  ++n;
  std::string name = fmt::format("static_table#{}", n);
  while (names_.contains(name) || table_names_.contains(name))
    name += "'";
  table->set_name(name);
  table_names_.emplace(table->name(), table.get());
  tables_.push_back(table);
}

void Graph::rename_table(TableVersions& table, std::string name) {
  if (name.empty()) throw InvalidArgument("StaticTable::name: the name must not be empty");
  std::lock_guard lock(mutex_);
  if (frozen_ || closed_) {
    throw IllegalState(
        fmt::format("StaticTable::name(\"{}\"): tables must be named before start()", name));
  }
  if (name == table.name()) return;
  if (names_.contains(name) || table_names_.contains(name)) {
    throw InvalidArgument(fmt::format(
        "StaticTable::name(\"{}\"): the name is already used by another stream or table; names "
        "must be unique",
        name));
  }
  table_names_.erase(table.name());
  table.set_name(name);
  table_names_.emplace(table.name(), &table);
}

std::vector<TableVersions*> Graph::tables() const {
  std::lock_guard lock(mutex_);
  std::vector<TableVersions*> out;
  for (const auto& table : tables_)
    out.push_back(table.get());
  return out;
}

void Graph::rename(OperatorNode& node, std::string name) {
  if (name.empty()) throw InvalidArgument("DStream::name: the name must not be empty");
  std::lock_guard lock(mutex_);
  if (frozen_ || closed_) {
    throw IllegalState(
        fmt::format("DStream::name(\"{}\"): streams must be named before start()", name));
  }
  if (name == node.name()) return;
  if (names_.contains(name) || table_names_.contains(name)) {
    throw InvalidArgument(fmt::format(
        "DStream::name(\"{}\"): the name is already used by another stream or table; names "
        "must be unique",
        name));
  }
  names_.erase(node.name());
  node.set_name(name);
  names_.emplace(node.name(), &node);
}

void Graph::freeze(Duration user_remember) {
  std::lock_guard lock(mutex_);
  frozen_ = true;
  live_.clear();
  std::set<OperatorNode*> seen;
  // Post-order from every output: parents land before children.
  std::function<void(OperatorNode*)> visit = [&](OperatorNode* node) {
    if (!seen.insert(node).second) return;
    node->reset_consumers();
    for (const auto& parent : node->parents())
      visit(parent.get());
    live_.push_back(node);
  };
  for (const auto& op : outputs_)
    visit(&op->parent());
  for (OperatorNode* node : live_) {
    for (const auto& parent : node->parents())
      parent->add_consumer();
    if (user_remember.count() > 0) node->require_remember(user_remember);
  }
  for (const auto& op : outputs_)
    op->parent().add_consumer();
  // Children first, so that a window's remember reaches through the windows it reads.
  for (auto it = live_.rbegin(); it != live_.rend(); ++it)
    (*it)->on_freeze();
}

void Graph::close() {
  std::lock_guard lock(mutex_);
  closed_ = true;
}

bool Graph::frozen() const {
  std::lock_guard lock(mutex_);
  return frozen_;
}

void Graph::set_zero_time(Time zero) {
  std::lock_guard lock(mutex_);
  zero_ = zero;
}

std::optional<Time> Graph::zero_time() const {
  std::lock_guard lock(mutex_);
  return zero_;
}

std::vector<CheckpointedState*> Graph::stateful_nodes() const {
  std::vector<CheckpointedState*> out;
  auto add = [&](OperatorNode* node) {
    auto* state = dynamic_cast<CheckpointedState*>(node);
    if (state == nullptr || !state->state_descriptor()) return;
    if (std::find(out.begin(), out.end(), state) == out.end()) out.push_back(state);
  };
  for (const auto& input : inputs_)
    add(input.get());
  if (watermarks_->state_descriptor()) out.push_back(watermarks_.get());
  for (OperatorNode* node : live_)
    add(node);
  return out;
}

}  // namespace rill::detail
