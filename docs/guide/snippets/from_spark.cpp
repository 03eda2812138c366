// Spark Streaming's keyed, stateful and windowed operators under their rill names, on one input.
#include <optional>
#include <string>
#include <utility>

#include <rill/testing.hpp>

#include "guide.hpp"

using namespace std::chrono_literals;

int main() {
  // [operators]
  rill::testing::Harness h{1s};
  using Pair = std::pair<std::string, int>;
  auto pairs = h.input<Pair>({{{"a", 1}, {"b", 2}, {"a", 3}}, {{"b", 4}}});  // then empty
  auto names = h.input<std::pair<std::string, std::string>>({{{"a", "x"}}, {{"b", "y"}}});
  auto plus = [](int x, int y) { return x + y; };
  auto minus = [](int x, int y) { return x - y; };

  guide::show(pairs.reduce_by_key(plus), "reduceByKey");
  guide::show(pairs.reduce_by_key_and_window(plus, minus, 2s, 1s), "reduceByKeyAndWindow");
  guide::show(pairs.count_by_window(2s, 1s), "countByWindow");
  guide::show(pairs.update_state_by_key([](const std::vector<int>& values, std::optional<int> sum) {
    for (int v : values)
      sum = sum.value_or(0) + v;
    return sum;
  }),
              "updateStateByKey");
  auto spec =
      rill::state_spec<std::string, int, int>([](const std::string& key, std::optional<int> value,
                                                 rill::State<int>& sum) {
        if (sum.is_timing_out()) return key + " timed out";
        sum.update(sum.get_option().value_or(0) + *value);
        return key + "=" + std::to_string(sum.get());
      }).timeout(2s);  // idle for more than 2 s of batch time
  guide::show(pairs.map_with_state(spec), "mapWithState");
  guide::show(pairs.join(names), "join");
  guide::show(pairs.left_outer_join(names), "leftOuterJoin");
  h.run_batches(5);
  // [/operators]
}

// Expected output:
// > reduceByKey @1000 ms: (a,4)
// > reduceByKey @1000 ms: (b,2)
// > reduceByKeyAndWindow @1000 ms: (a,4)
// > reduceByKeyAndWindow @1000 ms: (b,2)
// > countByWindow @1000 ms: 3
// > updateStateByKey @1000 ms: (a,4)
// > updateStateByKey @1000 ms: (b,2)
// > mapWithState @1000 ms: a=1
// > mapWithState @1000 ms: a=4
// > mapWithState @1000 ms: b=2
// > join @1000 ms: (a,(1,x))
// > join @1000 ms: (a,(3,x))
// > leftOuterJoin @1000 ms: (a,(1,Some(x)))
// > leftOuterJoin @1000 ms: (a,(3,Some(x)))
// > leftOuterJoin @1000 ms: (b,(2,None))
// > reduceByKey @2000 ms: (b,4)
// > reduceByKeyAndWindow @2000 ms: (a,4)
// > reduceByKeyAndWindow @2000 ms: (b,6)
// > countByWindow @2000 ms: 4
// > updateStateByKey @2000 ms: (a,4)
// > updateStateByKey @2000 ms: (b,6)
// > mapWithState @2000 ms: b=6
// > join @2000 ms: (b,(4,y))
// > leftOuterJoin @2000 ms: (b,(4,Some(y)))
// > reduceByKeyAndWindow @3000 ms: (b,4)
// > countByWindow @3000 ms: 1
// > updateStateByKey @3000 ms: (a,4)
// > updateStateByKey @3000 ms: (b,6)
// > countByWindow @4000 ms: 0
// > updateStateByKey @4000 ms: (a,4)
// > updateStateByKey @4000 ms: (b,6)
// > mapWithState @4000 ms: a timed out
// > countByWindow @5000 ms: 0
// > updateStateByKey @5000 ms: (a,4)
// > updateStateByKey @5000 ms: (b,6)
// > mapWithState @5000 ms: b timed out
