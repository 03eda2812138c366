#pragma once

#include <cstddef>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "rill/core/errors.hpp"
#include "rill/core/time.hpp"

namespace rill {

/// The state of one key inside a map_with_state function (Spark's State). Valid only during the
/// call it is passed to.
template <class S>
class State {
 public:
  /// Internal: the key's current state (nullptr when it has none).
  explicit State(S* current, bool timing_out = false) noexcept
      : current_(current), timing_out_(timing_out) {}

  [[nodiscard]] bool exists() const noexcept {
    return !removed_ && (updated_.has_value() || current_ != nullptr);
  }
  /// The state; throws rill::IllegalState when there is none.
  [[nodiscard]] const S& get() const {
    if (updated_) return *updated_;
    if (removed_ || current_ == nullptr) {
      throw IllegalState("State::get: the key has no state; check exists() or use get_option()");
    }
    return *current_;
  }
  [[nodiscard]] std::optional<S> get_option() const {
    return exists() ? std::optional<S>(get()) : std::nullopt;
  }
  /// Replaces the state; throws rill::IllegalState while the key is timing out.
  void update(S value) {
    if (timing_out_) {
      throw IllegalState(
          "State::update: the key is timing out; its state is removed after this call");
    }
    updated_ = std::move(value);
    removed_ = false;
  }
  /// Removes the key's state; throws rill::IllegalState while the key is timing out.
  void remove() {
    if (timing_out_) {
      throw IllegalState(
          "State::remove: the key is timing out; its state is removed after this call");
    }
    updated_.reset();
    removed_ = true;
  }
  /// True in the one call a key gets when it times out.
  [[nodiscard]] bool is_timing_out() const noexcept { return timing_out_; }

  /// Internal: what the call did.
  [[nodiscard]] bool removed() const noexcept { return removed_; }
  [[nodiscard]] std::optional<S>& updated() noexcept { return updated_; }

 private:
  S* current_;
  bool timing_out_;
  bool removed_ = false;
  std::optional<S> updated_;
};

/// What map_with_state needs: the function, and optionally a timeout, an initial state and a
/// partition count. Written fluently: `rill::state_spec<K, V, S>(fn).timeout(30s)`.
template <class K, class V, class S, class F>
class StateSpec {
 public:
  using key_type = K;
  using value_type = V;
  using state_type = S;
  using function_type = F;

  explicit StateSpec(F fn) : fn_(std::move(fn)) {}

  /// A key with no record for longer than d gets one last call with std::nullopt, then goes.
  StateSpec& timeout(Duration d) {
    if (d.count() <= 0) {
      throw InvalidArgument(
          fmt::format("StateSpec::timeout: the timeout must be positive, got {} ms", d.count()));
    }
    timeout_ = d;
    return *this;
  }
  StateSpec& initial_state(std::vector<std::pair<K, S>> initial) {
    initial_ = std::move(initial);
    return *this;
  }
  StateSpec& num_partitions(std::size_t n) {
    if (n == 0) throw InvalidArgument("StateSpec::num_partitions: must be at least 1");
    partitions_ = n;
    return *this;
  }

  [[nodiscard]] const F& function() const noexcept { return fn_; }
  [[nodiscard]] std::optional<Duration> timeout() const noexcept { return timeout_; }
  [[nodiscard]] const std::vector<std::pair<K, S>>& initial_state() const noexcept {
    return initial_;
  }
  [[nodiscard]] std::size_t num_partitions() const noexcept { return partitions_; }

 private:
  F fn_;
  std::optional<Duration> timeout_;
  std::vector<std::pair<K, S>> initial_;
  std::size_t partitions_ = 0;
};

/// Spark's StateSpec.function: `fn(const K&, std::optional<V>, rill::State<S>&) -> M`.
template <class K, class V, class S, class F>
requires std::invocable < F&, const K&, std::optional<V>, State<S>
& > StateSpec<K, V, S, F> state_spec(F fn) {
  return StateSpec<K, V, S, F>(std::move(fn));
}

}  // namespace rill
