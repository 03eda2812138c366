// The status page in a real browser: a pipeline runs 40 batches under the manual clock (so that
// nothing changes while the browser looks), rill::ops serves it, and headless Chromium loads `/`,
// runs its JavaScript (which polls /progress and /context) and dumps the DOM. The test checks
// that the graphs were drawn (SVG polylines with one point per batch, the operator graph's
// boxes and edges) and that the numbers shown are last_progress()'s; then it saves a
// screenshot (docs/images/status-page.png is one). Exit 0: passed; 1: failed; 77: skipped,
// because `chromium` is not on PATH (scripts/install-deps installs it).
//
//   status_page_test [--screenshot FILE.png]

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <unistd.h>

#include <rill/ops.hpp>
#include <rill/testing.hpp>

using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

struct Reading {
  std::string sensor;
  rill::Time time;
  double celsius;
};

int failures = 0;

void check(bool ok, const std::string& what) {
  if (!ok) {
    ++failures;
    std::fprintf(stderr, "FAIL: %s\n", what.c_str());
  }
}

std::optional<fs::path> find_on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  if (!path) return std::nullopt;
  std::stringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    const fs::path candidate = fs::path(dir) / name;
    std::error_code ec;
    if (fs::is_regular_file(candidate, ec) && access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return std::nullopt;
}

/// Runs `command` through the shell and returns its standard output.
std::string run(const std::string& command) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return out;
  char buffer[65536];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0)
    out.append(buffer, n);
  pclose(pipe);
  return out;
}

/// The text of the element with id `id` (`<b id="x">text</b>`), if there is one.
std::optional<std::string> text_of(const std::string& dom, const std::string& id) {
  const std::regex re("id=\"" + id + "\"[^>]*>([^<]*)<");
  std::smatch m;
  if (!std::regex_search(dom, m, re)) return std::nullopt;
  return m[1].str();
}

/// The inner markup of `<svg id="id" ...>...</svg>`.
std::string svg_of(const std::string& dom, const std::string& id) {
  const auto start = dom.find("<svg id=\"" + id + "\"");
  if (start == std::string::npos) return {};
  const auto end = dom.find("</svg>", start);
  return dom.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

/// The number of points of every polyline in `svg`.
std::vector<std::size_t> polyline_points(const std::string& svg) {
  std::vector<std::size_t> out;
  const std::regex re("<polyline[^>]*points=\"([^\"]*)\"");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), re); it != std::sregex_iterator();
       ++it) {
    const std::string points = (*it)[1].str();
    const std::regex point(R"((-?[0-9.]+),(-?[0-9.]+))");
    out.push_back(static_cast<std::size_t>(std::distance(
        std::sregex_iterator(points.begin(), points.end(), point), std::sregex_iterator())));
  }
  return out;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1))
    ++n;
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  fs::path screenshot = fs::temp_directory_path() / "rill-status-page.png";
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--screenshot" && i + 1 < argc) {
      screenshot = argv[++i];
    } else {
      std::fprintf(stderr, "usage: %s [--screenshot FILE.png]\n", argv[0]);
      return 2;
    }
  }
  const auto chromium = find_on_path("chromium");
  if (!chromium) {
    std::printf(
        "SKIPPED: chromium is not on PATH (Debian's package `chromium`; scripts/install-deps "
        "installs it)\n");
    return 77;
  }

  // A pipeline with a bit of everything the page draws: two sources, a stateful operator, an
  // event-time window (the watermark), input that varies from batch to batch, and an output whose
  // processing time varies too.
  rill::testing::Harness h{rill::Config{}.batch_interval(100ms).parallelism(2).worker_threads(2)};
  constexpr int kBatches = 40;
  std::vector<std::vector<std::string>> words;
  std::vector<std::vector<Reading>> readings;
  const std::int64_t epoch = 1'700'000'000'000;
  for (int b = 0; b < kBatches; ++b) {
    std::vector<std::string> batch;
    const int n = 20 + (b * 37) % 60;
    for (int i = 0; i < n; ++i)
      batch.push_back(fmt::format("w{}", (b * 7 + i * 13) % (10 + 3 * b)));
    words.push_back(std::move(batch));
    std::vector<Reading> r;
    for (int i = 0; i < 5 + b % 4; ++i)
      r.push_back(
          Reading{fmt::format("s{}", i % 3), rill::Time{epoch + b * 1000 + i * 100}, 20.0 + i});
    readings.push_back(std::move(r));
  }
  auto counts =
      h.input<std::string>(words)
          .name("words")
          .map([](const std::string& w) {
            return std::pair{w, std::int64_t{1}};
          })
          .name("pairs")
          .update_state_by_key([](const std::vector<std::int64_t>& ones,
                                  std::optional<std::int64_t> n) -> std::optional<std::int64_t> {
            return n.value_or(0) + static_cast<std::int64_t>(ones.size());
          })
          .name("word_counts");
  int batch_number = 0;
  counts.foreach_batch(
      [&batch_number](const rill::Batch<std::pair<std::string, std::int64_t>>&, rill::Time) {
        // Processing time that varies, so the graph has a shape (5 to 44 ms of the 100 ms).
        std::this_thread::sleep_for(std::chrono::milliseconds(5 + (batch_number++ * 7) % 40));
      });
  h.input<Reading>(readings)
      .name("readings")
      .with_watermark(&Reading::time, 2s)
      .aggregate_by_window(rill::tumbling(5s), &Reading::sensor, rill::agg::mean(&Reading::celsius))
      .name("sensor_means")
      .foreach_batch([](const auto&, rill::Time) {});
  // Checkpointed, so that the page has a checkpoint to show.
  const fs::path checkpoints =
      fs::temp_directory_path() / fmt::format("rill-status-page-{}", ::getpid());
  fs::remove_all(checkpoints);
  h.context().checkpoint(checkpoints);
  h.run_batches(kBatches);

  auto server = rill::ops::serve(h.context());
  const auto url = fmt::format("http://127.0.0.1:{}/", server.port());
  const auto last = h.context().last_progress();
  if (!last) {
    std::fprintf(stderr, "FAIL: no batch completed\n");
    return 1;
  }

  // The page polls every second; 4 s of virtual time is four rounds, each waiting for its
  // fetches. `timeout` bounds a browser that hangs.
  const std::string browser = fmt::format(
      "timeout 60 '{}' --headless=new --no-sandbox --disable-gpu --no-first-run "
      "--disable-extensions --hide-scrollbars --virtual-time-budget=4000 --window-size=1280,900",
      chromium->string());
  const auto started = std::chrono::steady_clock::now();
  const std::string dom = run(browser + " --dump-dom '" + url + "' 2>/dev/null");
  check(dom.find("</html>") != std::string::npos, "chromium dumped no DOM for " + url);

  // The numbers shown are last_progress()'s.
  const auto expect_text = [&](const std::string& id, const std::string& expected) {
    const auto shown = text_of(dom, id);
    check(shown == expected, fmt::format("#{} shows '{}', last_progress() says '{}'", id,
                                         shown.value_or("(no such element)"), expected));
  };
  expect_text("context-state", "active");
  expect_text("batch-interval-ms", "100");
  expect_text("last-batch-time", std::to_string(last->batch_time.milliseconds()));
  expect_text("last-records", std::to_string(last->num_records));
  expect_text("last-processing-ms", std::to_string(last->processing_delay.count()));
  expect_text("last-scheduling-ms", std::to_string(last->scheduling_delay.count()));
  expect_text("last-total-ms", std::to_string(last->total_delay.count()));
  expect_text("last-back-pressure", last->back_pressure ? "yes" : "no");
  expect_text("batches-total", std::to_string(h.context().progress_totals().batches));
  expect_text("records-total", std::to_string(h.context().progress_totals().records));
  if (last->checkpoint) {
    expect_text("checkpoint-bytes", std::to_string(last->checkpoint->bytes));
    expect_text("checkpoint-duration-us", std::to_string(last->checkpoint->duration.count()));
    expect_text("checkpoint-kind", last->checkpoint->snapshot ? "snapshot" : "delta");
  } else {
    check(false, "the last batch wrote no checkpoint");
  }
  expect_text("checkpoints-total", std::to_string(h.context().progress_totals().checkpoints));
  check(last->watermark.has_value(), "the pipeline has a watermark");
  if (last->watermark) {
    const auto shown = text_of(dom, "watermark").value_or("");
    // The page prints it as an ISO time: 2023-11-14T22:13:..Z for this epoch.
    check(shown.rfind("2023-11-14T", 0) == 0, "#watermark shows '" + shown + "'");
  }

  // The graphs are drawn: one point per batch shown (recent_progress(): all 40 here).
  const auto shown_batches = h.context().recent_progress().size();
  for (const char* chart : {"chart-input-rate", "chart-processing", "chart-scheduling"}) {
    const auto points = polyline_points(svg_of(dom, chart));
    check(points.size() == 1 && points[0] == shown_batches,
          fmt::format("#{}: {} polylines, expected one with {} points", chart, points.size(),
                      shown_batches));
  }
  // Processing time is drawn against the interval (a dashed line).
  check(svg_of(dom, "chart-processing").find("class=\"limit\"") != std::string::npos,
        "#chart-processing has no interval line");
  // One line per stateful operator.
  const auto state_lines = polyline_points(svg_of(dom, "chart-state"));
  check(state_lines.size() == last->state.size() && !state_lines.empty(),
        fmt::format("#chart-state: {} polylines for {} stateful operators", state_lines.size(),
                    last->state.size()));
  const auto wm_lines = polyline_points(svg_of(dom, "chart-watermark"));
  check(wm_lines.size() == 1 && wm_lines[0] >= 2, "#chart-watermark has no line");
  // The operator graph: a box per operator and output, an edge per parent.
  const auto graph = h.context().operator_graph();
  const auto graph_svg = svg_of(dom, "operator-graph");
  std::size_t edges = graph.outputs.size();
  for (const auto& op : graph.operators) {
    edges += op.parents.size();
    check(graph_svg.find("data-name=\"" + op.name + "\"") != std::string::npos,
          "#operator-graph has no box for " + op.name);
  }
  check(count(graph_svg, "<g class=\"node") == graph.operators.size() + graph.outputs.size(),
        "#operator-graph: wrong number of boxes");
  check(count(graph_svg, "class=\"edge\"") == edges, "#operator-graph: wrong number of edges");
  check(text_of(dom, "status-line").value_or("").rfind("updated", 0) == 0,
        "#status-line does not say the page updated: " + text_of(dom, "status-line").value_or(""));

  // The screenshot.
  std::error_code ec;
  fs::remove(screenshot, ec);
  run(browser + " --screenshot='" + screenshot.string() + "' '" + url + "' >/dev/null 2>&1");
  std::ifstream png(screenshot, std::ios::binary);
  std::string magic(8, '\0');
  png.read(magic.data(), 8);
  check(png && magic == "\x89PNG\r\n\x1a\n", "no PNG screenshot at " + screenshot.string());

  server.stop();
  h.context().stop();
  fs::remove_all(checkpoints, ec);

  const auto seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (failures > 0) {
    std::fprintf(stderr, "%d check(s) failed; the DOM was:\n%s\n", failures, dom.c_str());
    return 1;
  }
  std::printf(
      "the status page drew every graph and showed last_progress() (browser: %.1f s); "
      "screenshot: %s\n",
      seconds, screenshot.c_str());
  return 0;
}
