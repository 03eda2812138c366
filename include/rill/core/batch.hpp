#pragma once

#include <cstddef>
#include <iterator>
#include <span>
#include <stdexcept>
#include <utility>
#include <vector>

namespace rill {

/// One interval's data of one stream: immutable and partitioned. Batches are shared between the
/// operators that read them (through std::shared_ptr<const Batch<T>>), never copied.
/// Thread-safe for concurrent reads.
template <class T>
class Batch {
 public:
  using value_type = T;
  using Partitions = std::vector<std::vector<T>>;

  Batch() = default;
  explicit Batch(Partitions parts) : parts_(std::move(parts)) {
    for (const auto& p : parts_)
      size_ += p.size();
  }
  /// `all` cut into n contiguous partitions in order (Spark's parallelize slicing), without
  /// copying: the partitions are ranges of one buffer.
  static Batch contiguous(std::vector<T> all, std::size_t n) {
    Batch b;
    b.size_ = all.size();
    b.flat_ = std::move(all);
    b.bounds_.resize(n + 1);
    for (std::size_t i = 0; i <= n; ++i)
      b.bounds_[i] = n == 0 ? 0 : i * b.size_ / n;
    return b;
  }

  /// `all` cut into n partitions in order whose first ones have the given `sizes`, without
  /// copying: the partitions after them are empty, sizes beyond n join the last partition. When
  /// the sizes do not add up to `all.size()` (or n is 0), cuts as contiguous() does.
  static Batch sized(std::vector<T> all, const std::vector<std::size_t>& sizes, std::size_t n) {
    std::size_t total = 0;
    for (std::size_t s : sizes)
      total += s;
    if (total != all.size() || n == 0) return contiguous(std::move(all), n);
    Batch b;
    b.size_ = all.size();
    b.flat_ = std::move(all);
    b.bounds_.assign(n + 1, b.size_);
    b.bounds_[0] = 0;
    std::size_t at = 0;
    for (std::size_t i = 0; i + 1 < n && i < sizes.size(); ++i) {
      at += sizes[i];
      b.bounds_[i + 1] = at;
    }
    return b;
  }

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] std::size_t num_partitions() const noexcept {
    return bounds_.empty() ? parts_.size() : bounds_.size() - 1;
  }
  [[nodiscard]] std::span<const T> partition(std::size_t i) const {
    if (bounds_.empty()) return parts_.at(i);
    if (i + 1 >= bounds_.size())
      throw std::out_of_range("rill::Batch::partition: no such partition");
    return std::span<const T>(flat_.data() + bounds_[i], bounds_[i + 1] - bounds_[i]);
  }

  /// All elements, in partition order.
  [[nodiscard]] std::vector<T> collect() const {
    if (!bounds_.empty()) return flat_;
    std::vector<T> out;
    out.reserve(size_);
    for (const auto& p : parts_)
      out.insert(out.end(), p.begin(), p.end());
    return out;
  }

  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using pointer = const T*;
    using reference = const T&;

    const_iterator() = default;
    const_iterator(const Batch* batch, std::size_t p, std::size_t i) : batch_(batch), p_(p), i_(i) {
      if (batch_ != nullptr && p_ < batch_->num_partitions()) part_ = batch_->partition(p_);
      skip_empty();
    }
    reference operator*() const { return part_[i_]; }
    pointer operator->() const { return &part_[i_]; }
    const_iterator& operator++() {
      ++i_;
      skip_empty();
      return *this;
    }
    const_iterator operator++(int) {
      auto old = *this;
      ++*this;
      return old;
    }
    friend bool operator==(const const_iterator& a, const const_iterator& b) {
      return a.p_ == b.p_ && a.i_ == b.i_;
    }

   private:
    void skip_empty() {
      if (batch_ == nullptr) return;
      const std::size_t n = batch_->num_partitions();
      while (p_ < n && i_ >= part_.size()) {
        ++p_;
        i_ = 0;
        part_ = p_ < n ? batch_->partition(p_) : std::span<const T>();
      }
    }
    const Batch* batch_ = nullptr;
    std::span<const T> part_;
    std::size_t p_ = 0;
    std::size_t i_ = 0;
  };
  using iterator = const_iterator;

  [[nodiscard]] const_iterator begin() const { return const_iterator(this, 0, 0); }
  [[nodiscard]] const_iterator end() const { return const_iterator(this, num_partitions(), 0); }

  /// Internal: a copy of the partitions (checkpoints).
  [[nodiscard]] Partitions partitions() const {
    if (bounds_.empty()) return parts_;
    Partitions out(num_partitions());
    for (std::size_t i = 0; i < out.size(); ++i) {
      auto part = partition(i);
      out[i].assign(part.begin(), part.end());
    }
    return out;
  }

 private:
  Partitions parts_;
  // Contiguous batches: one buffer, partition i is [bounds_[i], bounds_[i + 1]).
  std::vector<T> flat_;
  std::vector<std::size_t> bounds_;
  std::size_t size_ = 0;
};

}  // namespace rill
