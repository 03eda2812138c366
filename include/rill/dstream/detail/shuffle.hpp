#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/container_hash/hash.hpp>
#include <boost/unordered/hash_traits.hpp>
#include <boost/unordered/unordered_flat_map.hpp>

#include "rill/dstream/detail/node.hpp"

/// Keyed operators: hash-partition by key with a map-side combine, then merge per output
/// partition in source-partition order. Output order within a partition is the order in which
/// keys first appear (source partition, then position): deterministic, with no seeded hash.
namespace rill::detail {

/// The output partition of a key whose boost::hash is `hash`, mixed.
inline std::size_t partition_of_hash(std::size_t hash, std::size_t n) noexcept {
  std::uint64_t h = hash;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb3fe1a85ec53ULL;
  h ^= h >> 33;
  // The high word of h * n: uniform over [0, n) for a uniform h, and a multiply, not a divide.
  __extension__ using Wide = unsigned __int128;
  return static_cast<std::size_t>((static_cast<Wide>(h) * n) >> 64);
}

/// The output partition of a key: boost::hash (unseeded, stable across runs), mixed.
template <class K>
std::size_t partition_of(const K& key, std::size_t n) noexcept {
  return partition_of_hash(boost::hash<K>{}(key), n);
}

/// A key with its boost::hash, computed once: looked up without hashing it again.
template <class K>
struct Prehashed {
  const K& key;
  std::size_t hash;
};

/// Whether a key's hash is worth computing once only: not for integers and the like, whose
/// boost::hash is the value itself (a transparent hasher costs their lookups a little).
template <class K>
inline constexpr bool kPrehash = !std::is_arithmetic_v<K> && !std::is_enum_v<K>;

/// Marks KeyHash as avalanching when boost::hash<K> is (strings): the table then does not mix.
template <class K, bool = boost::unordered::hash_is_avalanching<boost::hash<K>>::value>
struct Avalanching {};
template <class K>
struct Avalanching<K, true> {
  using is_avalanching = void;
};

/// boost::hash, and the hash a Prehashed key carries.
template <class K>
struct KeyHash : Avalanching<K> {
  using is_transparent = void;
  std::size_t operator()(const K& key) const noexcept(noexcept(boost::hash<K>{}(key))) {
    return boost::hash<K>{}(key);
  }
  std::size_t operator()(const Prehashed<K>& key) const noexcept { return key.hash; }
};

template <class K>
struct KeyEqual {
  using is_transparent = void;
  bool operator()(const K& a, const K& b) const { return a == b; }
  bool operator()(const Prehashed<K>& a, const K& b) const { return a.key == b; }
  bool operator()(const K& a, const Prehashed<K>& b) const { return a == b.key; }
};

/// Keys with their combined values. The hash table holds each key once, with its combiner and
/// its first-appearance rank, so combining a record is one lookup. entries() lists them in
/// first-appearance order: the order depends on the input only, never on the table's capacity
/// (reserve hints come from earlier batches; replays must give the same output).
template <class K, class C>
class KeyTable {
  /// Builds the combiner in place, only when the key is new.
  template <class Create, class VV>
  struct Make {
    Create& create;
    VV&& value;
  };
  struct Slot {
    template <class Create, class VV>
    Slot(Make<Create, VV> make, std::uint32_t rank)
        : combiner(make.create(std::forward<VV>(make.value))), rank(rank) {}
    C combiner;
    std::uint32_t rank;
  };

 public:
  /// Combines (key, value) in: `create(v) -> C` for a new key, `merge(C&, v)` otherwise.
  template <class KK, class VV, class Create, class Merge>
  void add(KK&& key, VV&& value, Create& create, Merge& merge) {
    const auto rank = static_cast<std::uint32_t>(map_.size());
    auto [it, inserted] = map_.try_emplace(std::forward<KK>(key),
                                           Make<Create, VV>{create, std::forward<VV>(value)}, rank);
    if (!inserted) merge(it->second.combiner, std::forward<VV>(value));
  }
  /// add(), for a key whose boost::hash is `hash`: a key already in the table is not hashed
  /// again (a new one is).
  template <class KK, class VV, class Create, class Merge>
  void add_hashed(std::size_t hash, KK&& key, VV&& value, Create& create, Merge& merge) {
    if constexpr (kPrehash<K>) {
      if (auto it = map_.find(Prehashed<K>{key, hash}); it != map_.end()) {
        merge(it->second.combiner, std::forward<VV>(value));
        return;
      }
    }
    add(std::forward<KK>(key), std::forward<VV>(value), create, merge);
  }
  /// The keys and their combiners in first-appearance order. The first call moves the combiners
  /// out of the table (keys are copied: contains() still answers); add() must not follow.
  [[nodiscard]] std::vector<std::pair<K, C>>& entries() {
    if (!listed_) {
      listed_ = true;
      std::vector<std::pair<const K, Slot>*> order(map_.size());
      for (auto& kv : map_)
        order[kv.second.rank] = &kv;
      entries_.reserve(order.size());
      for (auto* kv : order)
        entries_.emplace_back(kv->first, std::move(kv->second.combiner));
    }
    return entries_;
  }
  [[nodiscard]] std::size_t size() const noexcept { return map_.size(); }
  [[nodiscard]] bool contains(const K& key) const { return map_.contains(key); }
  void reserve(std::size_t n) { map_.reserve(n); }

 private:
  using Hash = std::conditional_t<kPrehash<K>, KeyHash<K>, boost::hash<K>>;
  using Equal = std::conditional_t<kPrehash<K>, KeyEqual<K>, std::equal_to<K>>;
  boost::unordered_flat_map<K, Slot, Hash, Equal> map_;
  std::vector<std::pair<K, C>> entries_;
  bool listed_ = false;
};

/// A combine policy: how values become combiners and combiners merge (Spark's combineByKey).
/// reduce_by_key, group_by_key and combine_by_key are policies of one shuffle node.
template <class V, class C, class Create, class MergeValue, class MergeCombiners>
struct CombinePolicy {
  Create create_fn;
  MergeValue merge_value_fn;
  MergeCombiners merge_combiners_fn;

  template <class VV>
  C create(VV&& v) {
    return std::invoke(create_fn, std::forward<VV>(v));
  }
  template <class VV>
  void merge_value(C& c, VV&& v) {
    c = std::invoke(merge_value_fn, std::move(c), std::forward<VV>(v));
  }
  void merge_combiners(C& a, C&& b) {
    a = std::invoke(merge_combiners_fn, std::move(a), std::move(b));
  }
};

template <class V, class F>
struct ReducePolicy {
  F f;
  template <class VV>
  V create(VV&& v) {
    return V(std::forward<VV>(v));
  }
  template <class VV>
  void merge_value(V& c, VV&& v) {
    c = std::invoke(f, std::move(c), std::forward<VV>(v));
  }
  void merge_combiners(V& a, V&& b) { a = std::invoke(f, std::move(a), std::move(b)); }
};

template <class V>
struct GroupPolicy {
  template <class VV>
  std::vector<V> create(VV&& v) {
    std::vector<V> c;
    c.emplace_back(std::forward<VV>(v));
    return c;
  }
  template <class VV>
  void merge_value(std::vector<V>& c, VV&& v) {
    c.emplace_back(std::forward<VV>(v));
  }
  void merge_combiners(std::vector<V>& a, std::vector<V>&& b) {
    a.insert(a.end(), std::make_move_iterator(b.begin()), std::make_move_iterator(b.end()));
  }
};

/// Records a source partition combines before it decides whether combining pays (below).
inline constexpr std::size_t kCombineProbe = 4096;

/// Map side of a shuffle: routes each record of one source partition to its output partition.
/// With one output partition it always combines into the table. With several, it combines the
/// first kCombineProbe records; if more than three in four of them had a key of their own, the
/// combine saves little, and the rest of the partition is only routed (appended to its output
/// partition's buffer, combined once on the reduce side, in shuffle_write). The choice depends on
/// the batch's input only; the first-appearance order of keys is the same either way.
/// (Records arrive a chunk at a time even from a fused chain: a chunk of pairs, then a tight
/// table loop, measured faster than the chain calling the table per record.)
template <class K, class V, class C, class Policy>
class ShuffleWriteSink final : public ChunkSink<std::pair<K, V>> {
 public:
  ShuffleWriteSink(std::vector<KeyTable<K, C>>& tables,
                   std::vector<std::vector<std::pair<K, V>>>& routed, Policy& policy)
      : tables_(tables), routed_(routed), policy_(policy) {}
  void push(std::span<const std::pair<K, V>> items) override {
    chunk_ = items.size();
    for (const auto& [k, v] : items)
      add(k, v);
  }
  void push_owned(std::span<std::pair<K, V>> items) override {
    chunk_ = items.size();
    for (auto& kv : items)
      add(std::move(kv.first), std::move(kv.second));
  }

 private:
  template <class KK, class VV>
  void add(KK&& k, VV&& v) {
    auto create = [this](auto&& x) { return policy_.create(std::forward<decltype(x)>(x)); };
    auto merge = [this](C& c, auto&& x) { policy_.merge_value(c, std::forward<decltype(x)>(x)); };
    if (tables_.size() == 1) {
      tables_[0].add(std::forward<KK>(k), std::forward<VV>(v), create, merge);
      return;
    }
    // The key's hash picks its partition and finds it in the table: it is computed once.
    const std::size_t hash = boost::hash<K>{}(k);
    const std::size_t q = partition_of_hash(hash, tables_.size());
    if (!combining_) {
      routed_[q].emplace_back(std::forward<KK>(k), std::forward<VV>(v));
      return;
    }
    tables_[q].add_hashed(hash, std::forward<KK>(k), std::forward<VV>(v), create, merge);
    if (++seen_ == kCombineProbe) {
      std::size_t keys = 0;
      for (const auto& table : tables_)
        keys += table.size();
      combining_ = keys * 4 <= seen_ * 3;
      // From now on records are appended: room for this chunk's rest (an input partition
      // comes as one chunk), so that the buffers do not grow by copying.
      if (!combining_ && chunk_ > seen_) {
        for (auto& buffer : routed_)
          buffer.reserve(buffer.size() + (chunk_ - seen_) / routed_.size() * 5 / 4);
      }
    }
  }
  std::vector<KeyTable<K, C>>& tables_;
  std::vector<std::vector<std::pair<K, V>>>& routed_;
  Policy& policy_;
  std::size_t seen_ = 0;
  std::size_t chunk_ = 0;  // records of the chunk being pushed
  bool combining_ = true;
};

/// Runs the map side of a shuffle over every partition of `parent` at t: result[p][q] is the
/// table of source partition p for output partition q. With several output partitions, each
/// output partition's records are then combined into result[0][q] (the other tables are left
/// empty), one output partition per task, in source-partition order. `reserve` is a hint of the
/// keys of one output partition (e.g. from the previous batch; it changes no output).
template <class K, class V, class C, class Policy>
std::vector<std::vector<KeyTable<K, C>>> shuffle_write(Node<std::pair<K, V>>& parent, Time t,
                                                       Exec& ex, std::size_t n,
                                                       const Policy& policy,
                                                       std::size_t reserve = 0) {
  parent.prepare(t, ex);
  const std::size_t sources = parent.num_partitions();
  std::vector<std::vector<KeyTable<K, C>>> tables(sources);
  std::vector<std::vector<std::vector<std::pair<K, V>>>> routed(sources);
  ex.parallel_for(sources, [&](std::size_t p) {
    tables[p].resize(n);
    routed[p].resize(n);
    if (n == 1 && reserve > 0) tables[p][0].reserve(reserve);
    Policy local = policy;
    ShuffleWriteSink<K, V, C, Policy> sink(tables[p], routed[p], local);
    parent.stream(t, p, sink);
  });
  if (n == 1 || sources == 0) return tables;
  ex.parallel_for(n, [&](std::size_t q) {
    Policy local = policy;
    auto keep = [](C&& c) { return std::move(c); };
    auto merge = [&local](C& a, C&& b) { local.merge_combiners(a, std::move(b)); };
    auto create = [&local](V&& v) { return local.create(std::move(v)); };
    auto merge_value = [&local](C& c, V&& v) { local.merge_value(c, std::move(v)); };
    KeyTable<K, C> acc = std::move(tables[0][q]);
    tables[0][q] = KeyTable<K, C>{};
    if (reserve > 0) acc.reserve(reserve);
    for (std::size_t p = 0; p < sources; ++p) {
      if (p > 0) {
        for (auto& [k, c] : tables[p][q].entries())
          acc.add(std::move(k), std::move(c), keep, merge);
        tables[p][q] = KeyTable<K, C>{};
      }
      for (auto& [k, v] : routed[p][q])
        acc.add(std::move(k), std::move(v), create, merge_value);
      routed[p][q] = {};
    }
    tables[0][q] = std::move(acc);
  });
  return tables;
}

/// Merges the tables of output partition q in source-partition order.
template <class K, class C, class MergeFn>
KeyTable<K, C> shuffle_merge(std::vector<std::vector<KeyTable<K, C>>>& tables, std::size_t q,
                             MergeFn& merge) {
  KeyTable<K, C> acc;
  if (tables.empty()) return acc;
  acc = std::move(tables[0][q]);
  auto keep = [](C&& c) { return std::move(c); };
  for (std::size_t p = 1; p < tables.size(); ++p) {
    for (auto& [k, c] : tables[p][q].entries())
      acc.add(std::move(k), std::move(c), keep, merge);
    tables[p][q] = KeyTable<K, C>{};
  }
  return acc;
}

/// combine_by_key, reduce_by_key and group_by_key: one shuffle with a map-side combine.
template <class K, class V, class C, class Policy>
class CombineByKeyNode final : public Node<std::pair<K, C>> {
 public:
  CombineByKeyNode(std::string kind, std::shared_ptr<Node<std::pair<K, V>>> parent, Policy policy,
                   std::size_t partitions)
      : Node<std::pair<K, C>>(std::move(kind), {parent}, parent->slide(), partitions),
        parent_(std::move(parent)),
        policy_(std::move(policy)) {}

 protected:
  std::shared_ptr<const Batch<std::pair<K, C>>> compute(Time t, Exec& ex) override {
    const std::size_t n = this->num_partitions();
    // Each output partition's table is sized for what it held last batch: no rehashing.
    auto tables = shuffle_write<K, V, C>(*parent_, t, ex, n, policy_,
                                         last_keys_.load(std::memory_order_relaxed) / n);
    typename Batch<std::pair<K, C>>::Partitions parts(n);
    ex.parallel_for(n, [&](std::size_t q) {
      Policy local = policy_;
      auto merge = [&local](C& a, C&& b) { local.merge_combiners(a, std::move(b)); };
      parts[q] = std::move(shuffle_merge(tables, q, merge).entries());
    });
    auto batch = std::make_shared<const Batch<std::pair<K, C>>>(std::move(parts));
    last_keys_.store(batch->size(), std::memory_order_relaxed);
    return batch;
  }

 private:
  std::shared_ptr<Node<std::pair<K, V>>> parent_;
  Policy policy_;
  std::atomic<std::size_t> last_keys_{0};
};

/// cogroup: for every key in either stream, its values from each, in input order.
template <class K, class V, class W>
class CoGroupNode final : public Node<std::pair<K, std::pair<std::vector<V>, std::vector<W>>>> {
 public:
  using Out = std::pair<K, std::pair<std::vector<V>, std::vector<W>>>;

  CoGroupNode(std::shared_ptr<Node<std::pair<K, V>>> a, std::shared_ptr<Node<std::pair<K, W>>> b,
              std::size_t partitions)
      : Node<Out>("cogroup", {a, b}, a->slide(), partitions), a_(std::move(a)), b_(std::move(b)) {}

 protected:
  std::shared_ptr<const Batch<Out>> compute(Time t, Exec& ex) override {
    const std::size_t n = this->num_partitions();
    auto left = shuffle_write<K, V, std::vector<V>>(*a_, t, ex, n, GroupPolicy<V>{});
    auto right = shuffle_write<K, W, std::vector<W>>(*b_, t, ex, n, GroupPolicy<W>{});
    typename Batch<Out>::Partitions parts(n);
    ex.parallel_for(n, [&](std::size_t q) {
      using Both = std::pair<std::vector<V>, std::vector<W>>;
      KeyTable<K, Both> acc;
      auto from_left = [](std::vector<V>&& vs) { return Both{std::move(vs), {}}; };
      auto add_left = [](Both& both, std::vector<V>&& vs) {
        both.first.insert(both.first.end(), std::make_move_iterator(vs.begin()),
                          std::make_move_iterator(vs.end()));
      };
      auto from_right = [](std::vector<W>&& ws) { return Both{{}, std::move(ws)}; };
      auto add_right = [](Both& both, std::vector<W>&& ws) {
        both.second.insert(both.second.end(), std::make_move_iterator(ws.begin()),
                           std::make_move_iterator(ws.end()));
      };
      for (auto& row : left) {
        for (auto& [k, vs] : row[q].entries())
          acc.add(std::move(k), std::move(vs), from_left, add_left);
        row[q] = {};
      }
      for (auto& row : right) {
        for (auto& [k, ws] : row[q].entries()) {
          acc.add(std::move(k), std::move(ws), from_right, add_right);
        }
        row[q] = {};
      }
      parts[q] = std::move(acc.entries());
    });
    return std::make_shared<const Batch<Out>>(std::move(parts));
  }

 private:
  std::shared_ptr<Node<std::pair<K, V>>> a_;
  std::shared_ptr<Node<std::pair<K, W>>> b_;
};

}  // namespace rill::detail
