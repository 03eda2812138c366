#pragma once

#include <memory>
#include <string>
#include <utility>

#include "rill/dstream/detail/node.hpp"
#include "rill/sinks/sink.hpp"

namespace rill::detail {

/// An output operation as the engine runs it, type-independent (Spark's ForEachDStream): runs
/// at every batch time at which its stream is defined.
class OutputOperation {
 public:
  OutputOperation(std::string kind, std::shared_ptr<OperatorNode> parent)
      : kind_(std::move(kind)), parent_(std::move(parent)) {}
  virtual ~OutputOperation() = default;
  OutputOperation(const OutputOperation&) = delete;
  OutputOperation& operator=(const OutputOperation&) = delete;

  [[nodiscard]] const std::string& kind() const noexcept { return kind_; }
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  void set_name(std::string n) { name_ = std::move(n); }
  [[nodiscard]] OperatorNode& parent() const noexcept { return *parent_; }
  /// Runs the output for the batch of `ex` on the batch thread.
  virtual void run(Exec& ex) = 0;
  [[nodiscard]] virtual SinkProperties properties() const = 0;

 private:
  std::string kind_;
  std::string name_;
  std::shared_ptr<OperatorNode> parent_;
};

/// A Sink<T> reading a Node<T>.
template <class T>
class SinkOutput final : public OutputOperation {
 public:
  SinkOutput(std::shared_ptr<Node<T>> parent, std::shared_ptr<Sink<T>> sink)
      : OutputOperation(sink->kind(), parent), node_(std::move(parent)), sink_(std::move(sink)) {}
  void run(Exec& ex) override { sink_->write(BatchView<T>(*node_, ex)); }
  [[nodiscard]] SinkProperties properties() const override { return sink_->properties(); }

 private:
  std::shared_ptr<Node<T>> node_;
  std::shared_ptr<Sink<T>> sink_;
};

}  // namespace rill::detail
