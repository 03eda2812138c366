// The status page: one HTML file, kept in the binary. Plain JavaScript and inline SVG; nothing is
// loaded from anywhere but this server's /progress and /context.
#include "ops/status_page.hpp"

namespace rill::ops::detail {
namespace {

constexpr std::string_view kPage = R"html(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>rill status</title>
<style>
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:#f5f6f8;color:#1d2330}
header{background:#1d2330;color:#fff;padding:10px 20px;display:flex;gap:24px;align-items:baseline}
header h1{font-size:18px;margin:0}
header span{opacity:.85}
main{padding:12px 20px;display:grid;grid-template-columns:repeat(auto-fill,minmax(380px,1fr));gap:12px}
section{background:#fff;border:1px solid #dde1e8;border-radius:6px;padding:10px 14px}
section.wide{grid-column:1/-1}
h2{font-size:14px;margin:0 0 6px;color:#3a4252}
.numbers{display:flex;flex-wrap:wrap;gap:8px 26px}
.numbers div{display:flex;flex-direction:column}
.numbers b{font-size:20px;font-weight:600}
.numbers small{color:#6b7385}
svg text{font-size:11px;fill:#6b7385}
.chart{width:100%;height:auto;display:block}
.chart text{font-size:17px}
.axis{stroke:#b8bfcc;stroke-width:1}
.series{fill:none;stroke-width:2}
.s0{stroke:#2f6fde}.s1{stroke:#e0652b}.s2{stroke:#1f9d6a}.s3{stroke:#9b4fd1}.s4{stroke:#c23a5a}.s5{stroke:#8a7a18}
.limit{stroke:#c23a5a;stroke-dasharray:5 4;stroke-width:1.5}
.node rect{fill:#eef3fd;stroke:#2f6fde;rx:4}
.node.source rect{fill:#e9f7f0;stroke:#1f9d6a}
.node.output rect{fill:#fdf0e9;stroke:#e0652b}
.node text{fill:#1d2330;font-size:12px}
.edge{fill:none;stroke:#8d96a8;stroke-width:1.3}
table{border-collapse:collapse;width:100%}
td,th{text-align:left;padding:3px 8px;border-bottom:1px solid #eceff3}
th{color:#6b7385;font-weight:500}
#status-line{color:#6b7385;padding:0 20px 12px}
.error{color:#c23a5a}
</style>
</head>
<body>
<header><h1>rill</h1><span>state: <b id="context-state">…</b></span>
<span>batch interval: <b id="batch-interval-ms">…</b> ms</span>
<span>batches: <b id="batches-total">…</b></span><span>records: <b id="records-total">…</b></span></header>
<main>
<section class="wide"><h2>Last batch</h2><div class="numbers">
<div><small>batch time (ms)</small><b id="last-batch-time">–</b></div>
<div><small>records</small><b id="last-records">–</b></div>
<div><small>input rate (records/s)</small><b id="last-input-rate">–</b></div>
<div><small>processing rate (records/s)</small><b id="last-processing-rate">–</b></div>
<div><small>scheduling delay (ms)</small><b id="last-scheduling-ms">–</b></div>
<div><small>processing time (ms)</small><b id="last-processing-ms">–</b></div>
<div><small>total delay (ms)</small><b id="last-total-ms">–</b></div>
<div><small>back-pressure</small><b id="last-back-pressure">–</b></div>
<div><small>watermark</small><b id="watermark">–</b></div>
</div></section>
<section><h2>Input rate (records/s)</h2><svg id="chart-input-rate" class="chart" viewBox="0 0 560 160"></svg></section>
<section><h2>Processing time against the batch interval (ms)</h2><svg id="chart-processing" class="chart" viewBox="0 0 560 160"></svg></section>
<section><h2>Scheduling delay (ms)</h2><svg id="chart-scheduling" class="chart" viewBox="0 0 560 160"></svg></section>
<section><h2>State size per operator (bytes)</h2><svg id="chart-state" class="chart" viewBox="0 0 560 160"></svg></section>
<section><h2>Watermark (event time)</h2><svg id="chart-watermark" class="chart" viewBox="0 0 560 160"></svg></section>
<section><h2>Checkpoint</h2><div class="numbers">
<div><small>last checkpoint (bytes)</small><b id="checkpoint-bytes">–</b></div>
<div><small>written in (µs)</small><b id="checkpoint-duration-us">–</b></div>
<div><small>kind</small><b id="checkpoint-kind">–</b></div>
<div><small>checkpoints written</small><b id="checkpoints-total">–</b></div>
<div><small>bytes written</small><b id="checkpoint-bytes-total">–</b></div>
</div>
<h2 style="margin-top:12px">Sources</h2>
<table><thead><tr><th>source</th><th>records</th><th>records/s</th><th>queue</th></tr></thead><tbody id="sources"></tbody></table>
</section>
<section class="wide"><h2>Operator graph</h2><svg id="operator-graph" width="560" height="60"></svg></section>
</main>
<div id="status-line">loading…</div>
<script>
"use strict";
const NS = "http://www.w3.org/2000/svg";
const $ = (id) => document.getElementById(id);
function el(name, attrs, parent, text) {
  const e = document.createElementNS(NS, name);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}
function setText(id, v) { $(id).textContent = String(v); }
function short(v) {
  const a = Math.abs(v);
  if (a >= 1e9) return (v / 1e9).toFixed(1) + "G";
  if (a >= 1e6) return (v / 1e6).toFixed(1) + "M";
  if (a >= 1e4) return (v / 1e3).toFixed(0) + "k";
  return String(Math.round(v * 100) / 100);
}
// One line chart: series [{name, values}] over the records' batch times; an optional dashed
// limit (the batch interval).
function chart(id, times, series, limit, yFormat) {
  const svg = $(id);
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  const W = 560, H = 160, L = 82, R = 10, T = 14, B = 28;
  let max = limit !== undefined ? limit : 0, min = Infinity;
  for (const s of series) for (const v of s.values) { if (v > max) max = v; if (v < min) min = v; }
  if (!isFinite(min) || yFormat === undefined) min = 0;
  if (max <= min) max = min + 1;
  const n = times.length;
  const x = (i) => L + (n <= 1 ? (W - L - R) / 2 : i * (W - L - R) / (n - 1));
  const y = (v) => T + (H - T - B) * (1 - (v - min) / (max - min));
  el("line", {class: "axis", x1: L, y1: H - B, x2: W - R, y2: H - B}, svg);
  el("line", {class: "axis", x1: L, y1: T, x2: L, y2: H - B}, svg);
  const fmt = yFormat || short;
  el("text", {x: L - 4, y: T + 8, "text-anchor": "end"}, svg, fmt(max));
  el("text", {x: L - 4, y: H - B, "text-anchor": "end"}, svg, fmt(min));
  if (n > 0) {
    el("text", {x: L, y: H - 6}, svg, times[0] + " ms");
    el("text", {x: W - R, y: H - 6, "text-anchor": "end"}, svg, times[n - 1] + " ms");
  }
  if (limit !== undefined) {
    el("line", {class: "limit", x1: L, y1: y(limit), x2: W - R, y2: y(limit)}, svg);
    const ly = y(limit) < T + 14 ? y(limit) + 13 : y(limit) - 4;
    el("text", {x: W - R, y: ly, "text-anchor": "end"}, svg, "interval " + limit + " ms");
  }
  series.forEach((s, k) => {
    if (s.values.length === 0) return;
    const pts = s.values.map((v, i) => x(i).toFixed(1) + "," + y(v).toFixed(1)).join(" ");
    el("polyline", {class: "series s" + (k % 6), points: pts, "data-name": s.name}, svg);
    if (series.length > 1) el("text", {x: L + 8 + 130 * k, y: T + 10, class: "s" + (k % 6)}, svg, s.name);
  });
  if (series.every((s) => s.values.length === 0)) {
    el("text", {x: W / 2, y: H / 2, "text-anchor": "middle"}, svg, "no data yet");
  }
}
// The operator graph: columns by depth (inputs first), outputs last; edges parent to child.
function drawGraph(c) {
  const svg = $("operator-graph");
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  const nodes = c.operators.map((o) => ({name: o.name, kind: o.kind, parents: o.parents,
                                          cls: o.parents.length === 0 ? "source" : ""}));
  for (const o of c.outputs) nodes.push({name: o.name, kind: "output", parents: [o.parent], cls: "output"});
  if (nodes.length === 0) {
    el("text", {x: 10, y: 30}, svg, c.state === "initialized" ? "the graph is fixed by start()" : "no operators");
    return;
  }
  const depth = {}, byName = {}, rows = [];
  let maxDepth = 0;
  for (const nd of nodes) {
    let d = 0;
    for (const p of nd.parents) if (depth[p] !== undefined) d = Math.max(d, depth[p] + 1);
    depth[nd.name] = d; maxDepth = Math.max(maxDepth, d);
    rows[d] = (rows[d] || 0);
    nd.col = d; nd.row = rows[d]++;
    byName[nd.name] = nd;
  }
  const CW = 180, RH = 44, BW = 156, BH = 30;
  let maxRows = 0;
  for (const r of rows) maxRows = Math.max(maxRows, r || 0);
  svg.setAttribute("width", 20 + (maxDepth + 1) * CW);
  svg.setAttribute("height", 16 + maxRows * RH);
  for (const nd of nodes) { nd.x = 10 + nd.col * CW; nd.y = 8 + nd.row * RH; }
  for (const nd of nodes) for (const p of nd.parents) {
    const a = byName[p]; if (!a) continue;
    const x1 = a.x + BW, y1 = a.y + BH / 2, x2 = nd.x, y2 = nd.y + BH / 2, m = (x1 + x2) / 2;
    el("path", {class: "edge", d: `M${x1},${y1} C${m},${y1} ${m},${y2} ${x2},${y2}`}, svg);
  }
  for (const nd of nodes) {
    const g = el("g", {class: "node " + nd.cls, "data-name": nd.name}, svg);
    el("title", {}, g, nd.name + " (" + nd.kind + ")");
    el("rect", {x: nd.x, y: nd.y, width: BW, height: BH, rx: 4}, g);
    const label = nd.name.length > 22 ? nd.name.slice(0, 21) + "…" : nd.name;
    el("text", {x: nd.x + 8, y: nd.y + 19}, g, label);
  }
}
function render(records, c) {
  setText("context-state", c.state);
  setText("batch-interval-ms", c.batch_interval_ms);
  setText("batches-total", c.totals.batches);
  setText("records-total", c.totals.records);
  setText("checkpoints-total", c.totals.checkpoints);
  setText("checkpoint-bytes-total", c.totals.checkpoint_bytes);
  const times = records.map((r) => r.batch_time_ms);
  const last = records.length ? records[records.length - 1] : null;
  if (last) {
    setText("last-batch-time", last.batch_time_ms);
    setText("last-records", last.num_records);
    setText("last-input-rate", last.input_rate_per_second);
    setText("last-processing-rate", last.processing_rate_per_second);
    setText("last-scheduling-ms", last.scheduling_delay_ms);
    setText("last-processing-ms", last.processing_delay_ms);
    setText("last-total-ms", last.total_delay_ms);
    setText("last-back-pressure", last.back_pressure ? "yes" : "no");
    setText("watermark", last.watermark_ms === null ? "none" : new Date(last.watermark_ms).toISOString());
    const cp = last.checkpoint;
    setText("checkpoint-bytes", cp ? cp.bytes : "none");
    setText("checkpoint-duration-us", cp ? cp.duration_us : "none");
    setText("checkpoint-kind", cp ? (cp.snapshot ? "snapshot" : "delta") : "no checkpoint directory");
    const tbody = $("sources");
    tbody.textContent = "";
    for (const s of last.sources) {
      const tr = document.createElement("tr");
      const q = s.queue ? s.queue.records + " / " + s.queue.capacity_records + (s.queue.blocked ? " (blocked)" : "") : "–";
      for (const v of [s.name, s.num_records, s.input_rate_per_second, q]) {
        const td = document.createElement("td"); td.textContent = String(v); tr.appendChild(td);
      }
      tbody.appendChild(tr);
    }
  }
  chart("chart-input-rate", times, [{name: "input", values: records.map((r) => r.input_rate_per_second)}]);
  chart("chart-processing", times, [{name: "processing", values: records.map((r) => r.processing_delay_ms)}],
        c.batch_interval_ms);
  chart("chart-scheduling", times, [{name: "scheduling", values: records.map((r) => r.scheduling_delay_ms)}]);
  const ops = [];
  for (const r of records) for (const s of r.state) if (!ops.includes(s.name)) ops.push(s.name);
  chart("chart-state", times, ops.map((name) => ({name, values: records.map((r) => {
    const s = r.state.find((e) => e.name === name); return s ? s.bytes : 0; })})));
  const wm = records.filter((r) => r.watermark_ms !== null);
  chart("chart-watermark", wm.map((r) => r.batch_time_ms),
        wm.length ? [{name: "watermark", values: wm.map((r) => r.watermark_ms)}] : [],
        undefined, (v) => new Date(v).toISOString().slice(11, 19));
  drawGraph(c);
}
async function poll() {
  try {
    const get = (path) => fetch(path, {cache: "no-store"}).then((r) => {
      if (!r.ok) throw new Error(path + ": HTTP " + r.status); return r.json(); });
    const [records, c] = await Promise.all([get("/progress"), get("/context")]);
    render(records, c);
    $("status-line").className = "";
    $("status-line").textContent = "updated " + new Date().toLocaleTimeString() + " · " + records.length + " batches shown";
  } catch (e) {
    $("status-line").className = "error";
    $("status-line").textContent = "cannot read the server: " + e.message;
  } finally {
    setTimeout(poll, 1000);
  }
}
poll();
</script>
</body>
</html>
)html";

}  // namespace

std::string_view status_page_html() noexcept {
  return kPage;
}

}  // namespace rill::ops::detail
