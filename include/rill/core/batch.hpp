#pragma once

#include <cstddef>
#include <iterator>
#include <span>
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

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] std::size_t num_partitions() const noexcept { return parts_.size(); }
  [[nodiscard]] std::span<const T> partition(std::size_t i) const { return parts_.at(i); }

  /// All elements, in partition order.
  [[nodiscard]] std::vector<T> collect() const {
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
    const_iterator(const Partitions* parts, std::size_t p, std::size_t i)
        : parts_(parts), p_(p), i_(i) {
      skip_empty();
    }
    reference operator*() const { return (*parts_)[p_][i_]; }
    pointer operator->() const { return &(*parts_)[p_][i_]; }
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
      while (parts_ != nullptr && p_ < parts_->size() && i_ >= (*parts_)[p_].size()) {
        ++p_;
        i_ = 0;
      }
    }
    const Partitions* parts_ = nullptr;
    std::size_t p_ = 0;
    std::size_t i_ = 0;
  };
  using iterator = const_iterator;

  [[nodiscard]] const_iterator begin() const { return const_iterator(&parts_, 0, 0); }
  [[nodiscard]] const_iterator end() const { return const_iterator(&parts_, parts_.size(), 0); }

  /// Internal: the partitions themselves.
  [[nodiscard]] const Partitions& partitions() const noexcept { return parts_; }

 private:
  Partitions parts_;
  std::size_t size_ = 0;
};

}  // namespace rill
