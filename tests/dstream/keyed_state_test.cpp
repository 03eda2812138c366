// KeyedStateStore, and the checkpoint bytes of the keyed stateful nodes built on it. The layouts
// below are those the nodes wrote at commit ed6ab39, before the store: a checkpoint written then
// must restore now, and what is written now must read as those layouts (decoded with the old
// types and encoded again, it gives the same bytes: nothing more, nothing less).
#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <rill/rill.hpp>

#include "rill/dstream/detail/keyed_state.hpp"
#include "rill/dstream/detail/stateful.hpp"
#include "rill/dstream/detail/window.hpp"

using namespace std::chrono_literals;
using rill::Time;
using rill::detail::from_bytes;
using rill::detail::partition_of;
using rill::detail::to_bytes;

namespace {

using KV = std::pair<std::string, int>;

/// A parent node with fixed batches: batches[t in ms], one slide of 1 s, `partitions` partitions.
template <class T>
class FixedNode final : public rill::detail::Node<T> {
 public:
  FixedNode(std::size_t partitions, std::map<std::int64_t, std::vector<std::vector<T>>> batches)
      : rill::detail::Node<T>("fixed", {}, 1s, partitions), batches_(std::move(batches)) {}

 protected:
  std::shared_ptr<const rill::Batch<T>> compute(Time t, rill::detail::Exec& /*ex*/) override {
    typename rill::Batch<T>::Partitions parts(this->num_partitions());
    if (auto it = batches_.find(t.milliseconds()); it != batches_.end()) parts = it->second;
    return std::make_shared<const rill::Batch<T>>(std::move(parts));
  }

 private:
  std::map<std::int64_t, std::vector<std::vector<T>>> batches_;
};

/// Runs a batch's tasks one after the other; the zero time is 0.
class SerialExec final : public rill::detail::Exec {
 public:
  SerialExec() : Exec(rill::detail::BatchContext{}) {}
  void parallel_for(std::size_t n, const std::function<void(std::size_t)>& fn) override {
    for (std::size_t i = 0; i < n; ++i)
      fn(i);
  }
};

/// Batch t of `node`, as on_batch(t) computes it.
template <class Out, class NodeT>
std::vector<Out> batch_of(NodeT& node, std::int64_t t) {
  SerialExec ex;
  node.on_batch(Time{t}, ex);
  auto batch = node.cached(Time{t});
  EXPECT_TRUE(batch != nullptr) << "no batch at " << t;
  return batch ? batch->collect() : std::vector<Out>{};
}

/// The same, sorted.
template <class Out, class NodeT>
std::vector<Out> run(NodeT& node, std::int64_t t) {
  auto out = batch_of<Out>(node, t);
  std::sort(out.begin(), out.end());
  return out;
}

/// `bytes` decoded as Ts, encoded again: exactly `bytes` when they are a whole encoding of Ts.
template <class... Ts>
std::tuple<Ts...> decode_exactly(const std::string& bytes) {
  std::tuple<Ts...> values;
  std::apply([&](auto&... v) { from_bytes(bytes, v...); }, values);
  EXPECT_EQ(std::apply([](const auto&... v) { return to_bytes(v...); }, values), bytes);
  return values;
}

template <class T>
std::vector<T> sorted(std::vector<T> v) {
  std::sort(v.begin(), v.end());
  return v;
}

template <class Row>
std::vector<Row> flatten(const std::vector<std::vector<Row>>& parts) {
  std::vector<Row> all;
  for (const auto& part : parts)
    all.insert(all.end(), part.begin(), part.end());
  return sorted(std::move(all));
}

/// Per-partition rows of (key, value), each key in partition_of(key, n) (as the nodes wrote).
template <class V>
std::vector<std::vector<std::pair<std::string, V>>> by_partition(
    const std::vector<std::pair<std::string, V>>& rows, std::size_t n) {
  std::vector<std::vector<std::pair<std::string, V>>> parts(n);
  for (const auto& row : rows)
    parts[partition_of(row.first, n)].push_back(row);
  return parts;
}

/// A type cereal cannot write.
struct Opaque {
  int n = 0;
  friend bool operator==(const Opaque&, const Opaque&) = default;
};

}  // namespace

// ---- the store ----

TEST(KeyedStateStore, PlacesKeysByPartitionAndTracksChangesOnlyWhenAsked) {
  rill::detail::KeyedStateStore<std::string, int> store(4);
  for (const char* k : {"a", "b", "c", "d", "e", "f"})
    store.assign(k, 1);
  store.assign("a", 2);  // replaces
  EXPECT_EQ(store.keys(), 6);
  for (std::size_t q = 0; q < 4; ++q) {
    for (const auto& [k, v] : store.table(q))
      EXPECT_EQ(partition_of(k, 4), q) << k;
  }
  EXPECT_EQ(store.table(partition_of(std::string("a"), 4)).at("a"), 2);
  const auto info = store.info("s");
  EXPECT_EQ(info.name, "s");
  EXPECT_EQ(info.keys, 6);
  EXPECT_EQ(info.bytes, 6 * static_cast<std::int64_t>(sizeof(std::string) + sizeof(int)));

  // Not tracking: mark() records nothing and there is no delta.
  store.mark(0, "a");
  EXPECT_FALSE(store.tracking());
  EXPECT_EQ(store.save_delta(), std::nullopt);

  store.track_changes();
  EXPECT_TRUE(store.tracking());
  const std::size_t qa = partition_of(std::string("a"), 4);
  const std::size_t qz = partition_of(std::string("z"), 4);
  store.table(qa)["a"] = 5;
  store.mark(qa, "a");
  store.mark(qz, "z");  // changed, then removed: written as removed
  auto [delta] =
      decode_exactly<std::vector<std::pair<std::string, std::optional<int>>>>(*store.save_delta());
  EXPECT_EQ(sorted(delta), (std::vector<std::pair<std::string, std::optional<int>>>{
                               {"a", 5}, {"z", std::nullopt}}));

  store.mark_all();
  EXPECT_EQ(store.save_delta(), std::nullopt);
  store.state_saved();
  auto [empty] =
      decode_exactly<std::vector<std::pair<std::string, std::optional<int>>>>(*store.save_delta());
  EXPECT_TRUE(empty.empty());
}

TEST(KeyedStateStore, SnapshotAndDeltaRoundTrip) {
  rill::detail::KeyedStateStore<std::string, int> a(3);
  for (int i = 0; i < 50; ++i)
    a.assign("k" + std::to_string(i), i);
  a.track_changes();
  const std::string snapshot = a.save();

  rill::detail::KeyedStateStore<std::string, int> b(3);
  b.assign("stale", 1);  // load() replaces everything
  b.load(snapshot);
  EXPECT_EQ(b.keys(), 50);
  EXPECT_EQ(flatten(b.snapshot()), flatten(a.snapshot()));

  // A delta applied to the snapshot gives the state it was taken of.
  a.table(partition_of(std::string("k1"), 3)).erase("k1");
  a.mark(partition_of(std::string("k1"), 3), "k1");
  a.table(partition_of(std::string("k2"), 3))["k2"] = 200;
  a.mark(partition_of(std::string("k2"), 3), "k2");
  a.table(partition_of(std::string("new"), 3))["new"] = 7;
  a.mark(partition_of(std::string("new"), 3), "new");
  b.load_delta(*a.save_delta());
  EXPECT_EQ(flatten(b.snapshot()), flatten(a.snapshot()));

  // Bytes written with another partition count load into this one, by key.
  rill::detail::KeyedStateStore<std::string, int> c(5);
  c.load(a.save());
  EXPECT_EQ(flatten(c.snapshot()), flatten(a.snapshot()));
  for (std::size_t q = 0; q < 5; ++q) {
    for (const auto& [k, v] : c.table(q))
      EXPECT_EQ(partition_of(k, 5), q) << k;
  }

  EXPECT_THROW(c.load(std::string("\x05", 1)), cereal::Exception);
}

TEST(KeyedStateStore, NotSerializableWritesNothingAndWorks) {
  using Store = rill::detail::KeyedStateStore<std::string, Opaque>;
  static_assert(!Store::serializable);
  // cereal calls any pair serializable; the window's store asks about V itself.
  static_assert(!rill::detail::KeyedWindowStore<std::string, Opaque>::serializable);
  static_assert(rill::detail::KeyedWindowStore<std::string, int>::serializable);
  static_assert(!rill::detail::TimedStateStore<std::string, Opaque, int>::serializable);
  Store store(2);
  store.assign("a", Opaque{1});
  store.track_changes();
  store.mark(0, "a");
  EXPECT_EQ(store.save(), "");
  EXPECT_EQ(store.save_delta(), std::nullopt);
  store.load("not cereal");
  store.load_delta("not cereal");
  EXPECT_EQ(store.keys(), 1);
}

TEST(KeyedStateStore, FlatLayoutIsTheTupleRowsOfMapWithState) {
  // map_with_state wrote vector<tuple<K, S, Time>>; the flat store writes pair<K, pair<S, Time>>.
  const std::vector<std::tuple<std::string, int, Time>> tuples = {{"a", 1, Time{1000}},
                                                                  {"bb", -7, Time{3000}}};
  const std::vector<std::pair<std::string, std::pair<int, Time>>> pairs = {
      {"a", {1, Time{1000}}}, {"bb", {-7, Time{3000}}}};
  EXPECT_EQ(to_bytes(tuples, true), to_bytes(pairs, true));
}

// ---- update_state_by_key ----

namespace {

/// Sums values into the state; a sum of 0 removes the key.
struct Sum {
  std::optional<int> operator()(const std::vector<int>& xs, std::optional<int> s) const {
    int sum = s.value_or(0);
    for (int x : xs)
      sum += x;
    if (sum == 0) return std::nullopt;
    return sum;
  }
};

using UpdateNode = rill::detail::UpdateStateNode<std::string, int, int, Sum>;
// ed6ab39: save_state wrote to_bytes(vector<vector<pair<K, S>>>), one list per partition;
// save_delta to_bytes(vector<pair<K, optional<S>>>).
using OldUpdateSnapshot = std::vector<std::vector<std::pair<std::string, int>>>;
using OldUpdateDelta = std::vector<std::pair<std::string, std::optional<int>>>;

std::shared_ptr<UpdateNode> update_node(std::map<std::int64_t, std::vector<std::vector<KV>>> in,
                                        std::vector<KV> initial = {}) {
  auto parent = std::make_shared<FixedNode<KV>>(2, std::move(in));
  return std::make_shared<UpdateNode>(parent, Sum{}, std::move(initial), 3);
}

}  // namespace

TEST(KeyedStateCompatibility, UpdateStateByKeyRestoresAndWritesTheOldLayout) {
  const std::vector<KV> rows = {{"a", 1}, {"b", 2}, {"c", 3}, {"d", 4}};
  const std::string old = to_bytes(OldUpdateSnapshot(by_partition(rows, 3)));

  auto node = update_node({{1000, {{{"a", 10}}, {{"e", 5}, {"b", -2}}}}}, {{"stale", 9}});
  node->load_state(old);
  EXPECT_EQ(node->state_info()->keys, 4);
  EXPECT_EQ(run<KV>(*node, 1000), (std::vector<KV>{{"a", 11}, {"c", 3}, {"d", 4}, {"e", 5}}));

  auto [saved] = decode_exactly<OldUpdateSnapshot>(node->save_state(Time{1000}));
  ASSERT_EQ(saved.size(), 3u);
  for (std::size_t q = 0; q < 3; ++q) {
    for (const auto& [k, s] : saved[q])
      EXPECT_EQ(partition_of(k, 3), q) << k;
  }
  EXPECT_EQ(flatten(saved), (std::vector<KV>{{"a", 11}, {"c", 3}, {"d", 4}, {"e", 5}}));
}

TEST(KeyedStateCompatibility, UpdateStateByKeyDeltas) {
  const std::string old = to_bytes(OldUpdateSnapshot(by_partition<int>({{"a", 1}, {"b", 2}}, 3)));

  // Written: the keys with values (a changed, b removed, e new); idle c keeps its state.
  auto node = update_node({{1000, {{{"a", 10}}, {{"e", 5}, {"b", -2}}}}});
  node->track_changes();
  node->load_state(
      to_bytes(OldUpdateSnapshot(by_partition<int>({{"a", 1}, {"b", 2}, {"c", 3}}, 3))));
  node->state_saved(Time{0});
  (void)run<KV>(*node, 1000);
  auto [delta] = decode_exactly<OldUpdateDelta>(*node->save_delta(Time{1000}));
  EXPECT_EQ(sorted(delta), (OldUpdateDelta{{"a", 11}, {"b", std::nullopt}, {"e", 5}}));
  node->state_saved(Time{1000});
  auto [none] = decode_exactly<OldUpdateDelta>(*node->save_delta(Time{1000}));
  EXPECT_TRUE(none.empty());

  // Read: an old delta on an old snapshot.
  auto restored = update_node({});
  restored->load_state(old);
  restored->load_delta(to_bytes(OldUpdateDelta{{"a", 7}, {"b", std::nullopt}, {"z", 9}}));
  auto [state] = decode_exactly<OldUpdateSnapshot>(restored->save_state(Time{0}));
  EXPECT_EQ(flatten(state), (std::vector<KV>{{"a", 7}, {"z", 9}}));
}

TEST(KeyedStateCompatibility, UpdateStateByKeyWithoutSerializableStateRuns) {
  auto parent = std::make_shared<FixedNode<KV>>(
      1, std::map<std::int64_t, std::vector<std::vector<KV>>>{{1000, {{{"a", 1}, {"a", 2}}}}});
  auto fn = [](const std::vector<int>& xs, std::optional<Opaque> s) -> std::optional<Opaque> {
    return Opaque{s.value_or(Opaque{}).n + static_cast<int>(xs.size())};
  };
  rill::detail::UpdateStateNode<std::string, int, Opaque, decltype(fn)> node(parent, fn, {}, 2);
  EXPECT_FALSE(node.state_descriptor()->serializable);
  node.track_changes();
  auto out = batch_of<std::pair<std::string, Opaque>>(node, 1000);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].second.n, 2);
  EXPECT_EQ(node.save_state(Time{1000}), "");
  EXPECT_EQ(node.save_delta(Time{1000}), std::nullopt);
  node.load_state("x");
  node.load_delta("x");
  EXPECT_EQ(node.state_info()->keys, 1);
}

// ---- map_with_state ----

namespace {

/// Counts a key's values; a timed-out key reports its count.
struct Session {
  std::string operator()(const std::string& k, std::optional<int> v, rill::State<int>& st) const {
    if (!v) return k + " ended " + std::to_string(st.get());
    const int n = (st.exists() ? st.get() : 0) + *v;
    st.update(n);
    return k + " " + std::to_string(n);
  }
};

using MapNode = rill::detail::MapWithStateNode<std::string, int, int, std::string, Session>;
// ed6ab39: save_state wrote to_bytes(vector<tuple<K, S, Time>>, initial_pending), every key in
// one list; save_delta to_bytes(vector<pair<K, optional<pair<S, Time>>>>).
using OldMapRows = std::vector<std::tuple<std::string, int, Time>>;
using OldMapDelta = std::vector<std::pair<std::string, std::optional<std::pair<int, Time>>>>;

std::shared_ptr<MapNode> map_node(std::map<std::int64_t, std::vector<std::vector<KV>>> in,
                                  std::vector<KV> initial = {}) {
  auto parent = std::make_shared<FixedNode<KV>>(2, std::move(in));
  auto spec = rill::state_spec<std::string, int, int>(Session{}).timeout(2s);
  spec.initial_state(std::move(initial));
  return std::make_shared<MapNode>(parent, spec, 2);
}

}  // namespace

TEST(KeyedStateCompatibility, MapWithStateRestoresAndWritesTheOldLayout) {
  const std::string old = to_bytes(OldMapRows{{"a", 5, Time{1000}}, {"b", 7, Time{3000}}}, false);
  auto node = map_node({{4000, {{{"b", 1}}, {{"c", 2}}}}});
  node->load_state(old);
  EXPECT_EQ(node->state_info()->keys, 2);
  // a: idle since 1000 + 2 s < 4000, times out.
  EXPECT_EQ(run<std::string>(*node, 4000), (std::vector<std::string>{"a ended 5", "b 8", "c 2"}));
  auto [rows, pending] = decode_exactly<OldMapRows, bool>(node->save_state(Time{4000}));
  EXPECT_FALSE(pending);
  EXPECT_EQ(sorted(rows), (OldMapRows{{"b", 8, Time{4000}}, {"c", 2, Time{4000}}}));
}

TEST(KeyedStateCompatibility, MapWithStateInitialStatePending) {
  // Before the first batch the initial state's timeouts have not started: written as pending.
  auto fresh = map_node({}, {{"x", 1}});
  auto [rows, pending] = decode_exactly<OldMapRows, bool>(fresh->save_state(Time{0}));
  EXPECT_TRUE(pending);
  EXPECT_EQ(rows, (OldMapRows{{"x", 1, Time{0}}}));

  // Restored pending: the first batch (1000) starts them, as Spark stamps its initial state with
  // the first batch time, and writes no delta.
  auto node = map_node({});
  node->track_changes();
  node->load_state(to_bytes(OldMapRows{{"x", 1, Time{0}}}, true));
  EXPECT_EQ(node->save_delta(Time{0}), std::nullopt);
  EXPECT_TRUE(run<std::string>(*node, 1000).empty());
  EXPECT_EQ(node->save_delta(Time{1000}), std::nullopt);  // every key changed
  node->state_saved(Time{1000});
  auto [rows1000, pending1000] = decode_exactly<OldMapRows, bool>(node->save_state(Time{1000}));
  EXPECT_FALSE(pending1000);
  EXPECT_EQ(rows1000, (OldMapRows{{"x", 1, Time{1000}}}));
  for (std::int64_t t : {2000, 3000}) {
    EXPECT_TRUE(run<std::string>(*node, t).empty()) << t;  // 1000 + 2 s is not before 3000
  }
  auto [quiet] = decode_exactly<OldMapDelta>(*node->save_delta(Time{3000}));
  EXPECT_TRUE(quiet.empty());
  EXPECT_EQ(run<std::string>(*node, 4000), (std::vector<std::string>{"x ended 1"}));
  auto [delta] = decode_exactly<OldMapDelta>(*node->save_delta(Time{4000}));
  EXPECT_EQ(delta, (OldMapDelta{{"x", std::nullopt}}));
}

TEST(KeyedStateCompatibility, MapWithStateInitialKeysStampedWithTheZeroTimeByOlderRill) {
  // Before rill followed Spark, the first batch stamped the initial keys with the zero time (0
  // here), which no record can have: a checkpoint holding such a stamp gets the first batch time
  // (1000), so that the key times out at 4000 as it does now, and the next delta holds it.
  auto node = map_node({{2000, {{{"z", 1}}, {}}}});
  node->track_changes();
  node->load_state(to_bytes(OldMapRows{{"x", 1, Time{0}}, {"y", 2, Time{1000}}}, false));
  node->state_saved(Time{1000});
  EXPECT_EQ(run<std::string>(*node, 2000), (std::vector<std::string>{"z 1"}));
  auto [delta] = decode_exactly<OldMapDelta>(*node->save_delta(Time{2000}));
  EXPECT_EQ(sorted(delta),
            (OldMapDelta{{"x", std::pair(1, Time{1000})}, {"z", std::pair(1, Time{2000})}}));
  EXPECT_EQ(run<std::string>(*node, 3000), (std::vector<std::string>{}));
  EXPECT_EQ(run<std::string>(*node, 4000), (std::vector<std::string>{"x ended 1", "y ended 2"}));
  EXPECT_EQ(run<std::string>(*node, 5000), (std::vector<std::string>{"z ended 1"}));
}

TEST(KeyedStateCompatibility, MapWithStateDeltas) {
  auto node = map_node({{4000, {{{"b", 1}}, {}}}});
  node->track_changes();
  node->load_state(to_bytes(
      OldMapRows{{"a", 5, Time{1000}}, {"b", 7, Time{3000}}, {"c", 1, Time{3500}}}, false));
  node->state_saved(Time{3000});
  (void)run<std::string>(*node, 4000);
  auto [delta] = decode_exactly<OldMapDelta>(*node->save_delta(Time{4000}));
  EXPECT_EQ(sorted(delta), (OldMapDelta{{"a", std::nullopt}, {"b", std::pair(8, Time{4000})}}));

  auto restored = map_node({});
  restored->load_state(to_bytes(OldMapRows{{"a", 5, Time{1000}}, {"b", 7, Time{3000}}}, false));
  restored->load_delta(to_bytes(OldMapDelta{
      {"a", std::pair(9, Time{5000})}, {"b", std::nullopt}, {"n", std::pair(1, Time{5000})}}));
  auto [rows, pending] = decode_exactly<OldMapRows, bool>(restored->save_state(Time{5000}));
  EXPECT_FALSE(pending);
  EXPECT_EQ(sorted(rows), (OldMapRows{{"a", 9, Time{5000}}, {"n", 1, Time{5000}}}));
  // state_snapshots() reads the same tables.
  std::vector<KV> snapshot;
  for (const auto& table : restored->tables()) {
    for (const auto& [k, e] : table)
      snapshot.emplace_back(k, e.value);
  }
  EXPECT_EQ(sorted(snapshot), (std::vector<KV>{{"a", 9}, {"n", 1}}));
}

// ---- reduce_by_key_and_window ----

namespace {

using Filter = bool (*)(const KV&);
using WindowNode =
    rill::detail::KeyedWindowNode<std::string, int, std::plus<int>, std::minus<int>, Filter>;
using Counted = std::pair<int, std::int64_t>;
// ed6ab39: save_state wrote to_bytes(ledger, vector<vector<pair<K, (V, count)>>>), the ledger
// being to_bytes(map<Time, Pre> waiting, map<Time, Pre> inside) with Pre the per-partition
// pre-aggregate vector<vector<pair<K, (V, count)>>>; save_delta wrote to_bytes(ledger delta,
// key delta), the ledger delta to_bytes(vector<Time> waiting, vector<Time> inside,
// map<Time, Pre> added), the key delta to_bytes(vector<pair<K, optional<(V, count)>>>).
using Pre = std::vector<std::vector<std::pair<std::string, Counted>>>;
using Ledger = std::map<Time, Pre>;
using OldWindowDelta = std::vector<std::pair<std::string, std::optional<Counted>>>;

std::shared_ptr<WindowNode> window_node(std::map<std::int64_t, std::vector<std::vector<KV>>> in) {
  auto parent = std::make_shared<FixedNode<KV>>(1, std::move(in));
  return std::make_shared<WindowNode>(parent, std::plus<int>{}, std::minus<int>{}, std::nullopt, 2s,
                                      1s, 2);
}

/// The old checkpoint of a 2 s window after batch 2000: batches 1000 (a 1) and 2000 (a 2, b 5).
std::string old_window_checkpoint() {
  const Ledger inside = {{Time{1000}, by_partition<Counted>({{"a", {1, 1}}}, 2)},
                         {Time{2000}, by_partition<Counted>({{"a", {2, 1}}, {"b", {5, 1}}}, 2)}};
  const std::string ledger = to_bytes(Ledger{}, inside);
  return to_bytes(ledger, Pre(by_partition<Counted>({{"a", {3, 2}}, {"b", {5, 1}}}, 2)));
}

}  // namespace

TEST(KeyedStateCompatibility, ReduceByKeyAndWindowRestoresAndWritesTheOldLayout) {
  auto node = window_node({{3000, {{{"b", 1}, {"c", 4}}}}});
  node->load_state(old_window_checkpoint());
  EXPECT_EQ(node->state_info()->keys, 2);
  // Batch 1000 leaves (a 3 - 1, one record left), 3000 enters.
  EXPECT_EQ(run<KV>(*node, 3000), (std::vector<KV>{{"a", 2}, {"b", 6}, {"c", 4}}));

  auto [ledger, state] = decode_exactly<std::string, Pre>(node->save_state(Time{3000}));
  auto [waiting, inside] = decode_exactly<Ledger, Ledger>(ledger);
  EXPECT_TRUE(waiting.empty());
  ASSERT_EQ(inside.size(), 2u);
  EXPECT_EQ(inside.begin()->first, Time{2000});
  EXPECT_EQ(flatten(inside.at(Time{3000})),
            (std::vector<std::pair<std::string, Counted>>{{"b", {1, 1}}, {"c", {4, 1}}}));
  EXPECT_EQ(flatten(state), (std::vector<std::pair<std::string, Counted>>{
                                {"a", {2, 1}}, {"b", {6, 2}}, {"c", {4, 1}}}));
  for (std::size_t q = 0; q < state.size(); ++q) {
    for (const auto& [k, c] : state[q])
      EXPECT_EQ(partition_of(k, 2), q) << k;
  }
}

TEST(KeyedStateCompatibility, ReduceByKeyAndWindowDeltas) {
  auto node = window_node({{3000, {{{"b", 1}, {"c", 4}}}}});
  node->track_changes();
  node->load_state(old_window_checkpoint());
  node->state_saved(Time{2000});
  (void)run<KV>(*node, 3000);
  auto [ledger_delta, keys] =
      decode_exactly<std::string, std::string>(*node->save_delta(Time{3000}));
  auto [waiting, inside, added] =
      decode_exactly<std::vector<Time>, std::vector<Time>, Ledger>(ledger_delta);
  EXPECT_TRUE(waiting.empty());
  EXPECT_EQ(inside, (std::vector<Time>{Time{2000}, Time{3000}}));
  ASSERT_EQ(added.size(), 1u);
  EXPECT_EQ(added.begin()->first, Time{3000});
  auto [key_delta] = decode_exactly<OldWindowDelta>(keys);
  EXPECT_EQ(sorted(key_delta),
            (OldWindowDelta{{"a", Counted{2, 1}}, {"b", Counted{6, 2}}, {"c", Counted{4, 1}}}));

  // Read: the old delta of batch 3000 on the old checkpoint of 2000, then batch 4000.
  auto restored = window_node({});
  restored->load_state(old_window_checkpoint());
  const Ledger entered = {{Time{3000}, by_partition<Counted>({{"b", {1, 1}}, {"c", {4, 1}}}, 2)}};
  restored->load_delta(to_bytes(
      to_bytes(std::vector<Time>{}, std::vector<Time>{Time{2000}, Time{3000}}, entered),
      to_bytes(OldWindowDelta{{"a", Counted{2, 1}}, {"b", Counted{6, 2}}, {"c", Counted{4, 1}}})));
  // Batch 2000 leaves: a's last record goes, b keeps 1.
  EXPECT_EQ(run<KV>(*restored, 4000), (std::vector<KV>{{"b", 1}, {"c", 4}}));
}

TEST(KeyedStateCompatibility, ReduceByKeyAndWindowWithoutSerializableValueRuns) {
  using OKV = std::pair<std::string, Opaque>;
  auto parent = std::make_shared<FixedNode<OKV>>(
      1, std::map<std::int64_t, std::vector<std::vector<OKV>>>{{1000, {{{"a", Opaque{2}}}}}});
  auto f = [](Opaque a, const Opaque& b) { return Opaque{a.n + b.n}; };
  auto inv = [](Opaque a, const Opaque& b) { return Opaque{a.n - b.n}; };
  using OpaqueWindow = rill::detail::KeyedWindowNode<std::string, Opaque, decltype(f),
                                                     decltype(inv), bool (*)(const OKV&)>;
  OpaqueWindow node(parent, f, inv, std::nullopt, 2s, 1s, 2);
  EXPECT_FALSE(node.state_descriptor()->serializable);
  node.track_changes();
  auto out = batch_of<OKV>(node, 1000);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].second.n, 2);
  EXPECT_EQ(node.save_state(Time{1000}), "");
  EXPECT_EQ(node.save_delta(Time{1000}), std::nullopt);
  node.load_state("x");
  node.load_delta("x");
  node.state_saved(Time{1000});
}
