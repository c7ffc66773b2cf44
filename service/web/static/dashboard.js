// The trends dashboard: draws Chart.js charts from the JSON the page carries
// (<script type="application/json" id="trend-data">). No inline script: CSP allows none.
(function () {
  "use strict";
  var node = document.getElementById("trend-data");
  if (!node || typeof Chart === "undefined") { return; }
  var report = JSON.parse(node.textContent);
  var ink = "#1f2430", muted = "#5f6675", grid = "#e3e6ec";
  var blue = "#2456c9", red = "#b3261e", green = "#1e7b34", amber = "#c98a00";

  Chart.defaults.font.family = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
  Chart.defaults.color = muted;
  Chart.defaults.borderColor = grid;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.animation = false;  // a dashboard of a million reviews should not dance

  var labels = report.buckets.map(function (b) { return b.bucket; });
  var many = labels.length > 40;
  var xAxis = { ticks: { autoSkip: true, maxTicksLimit: 12, maxRotation: 0 }, grid: { display: false } };
  function pct(v) { return v === null ? null : Math.round(v * 1000) / 10; }

  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (canvas) { new Chart(canvas, config); }
  }

  draw("chart-volume", {
    type: "bar",
    data: { labels: labels, datasets: [
      { label: "reviews", data: report.buckets.map(function (b) { return b.reviews; }), backgroundColor: blue + "b3", yAxisID: "y" },
      { label: "negative %", type: "line", data: report.buckets.map(function (b) { return pct(b.negative_share); }),
        borderColor: red, backgroundColor: red, pointRadius: many ? 0 : 3, spanGaps: true, yAxisID: "share" }
    ] },
    options: { interaction: { mode: "index", intersect: false },
      scales: { x: xAxis, y: { beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: "reviews" } },
                share: { position: "right", min: 0, max: 100, grid: { drawOnChartArea: false }, title: { display: true, text: "negative %" } } } }
  });

  draw("chart-rating", {
    type: "line",
    data: { labels: labels, datasets: [
      { label: "mean rating", data: report.buckets.map(function (b) { return b.mean_rating; }), borderColor: amber,
        backgroundColor: amber, pointRadius: many ? 0 : 3, spanGaps: true, yAxisID: "y" },
      { label: "responded %", data: report.buckets.map(function (b) { return pct(b.response_rate); }), borderColor: green,
        backgroundColor: green, pointRadius: many ? 0 : 3, spanGaps: true, yAxisID: "share" }
    ] },
    options: { interaction: { mode: "index", intersect: false },
      scales: { x: xAxis, y: { min: 1, max: 5, title: { display: true, text: "stars" } },
                share: { position: "right", min: 0, max: 100, grid: { drawOnChartArea: false }, title: { display: true, text: "responded %" } } } }
  });

  var stars = ["1", "2", "3", "4", "5", "none"];
  draw("chart-stars", {
    type: "bar",
    data: { labels: stars.map(function (s) { return s === "none" ? "no rating" : s + " ★"; }), datasets: [
      { label: "this period", data: stars.map(function (s) { return report.ratings[s] || 0; }), backgroundColor: amber },
      { label: "previous period", data: stars.map(function (s) { return report.previous_ratings[s] || 0; }), backgroundColor: grid }
    ] },
    options: { scales: { x: { grid: { display: false } }, y: { beginAtZero: true, ticks: { precision: 0 } } } }
  });

  draw("chart-topics", {
    type: "bar",
    data: { labels: report.topics.map(function (t) { return t.topic; }), datasets: [
      { label: "negative reviews", data: report.topics.map(function (t) { return t.reviews; }), backgroundColor: red + "b3" },
      { label: "previous period", data: report.topics.map(function (t) { return t.previous; }), backgroundColor: grid }
    ] },
    options: { indexAxis: "y", scales: { x: { beginAtZero: true, ticks: { precision: 0 } }, y: { grid: { display: false } } } }
  });

  function groups(id, key, rows) {
    draw(id, {
      type: "bar",
      data: { labels: rows.map(function (g) { return g[key] === null ? "(none)" : g[key]; }), datasets: [
        { label: "reviews", data: rows.map(function (g) { return g.reviews; }), backgroundColor: blue + "b3", yAxisID: "y" },
        { label: "negative %", data: rows.map(function (g) { return pct(g.negative_share); }), backgroundColor: red + "b3", yAxisID: "share" }
      ] },
      options: { scales: { x: { grid: { display: false }, ticks: { autoSkip: true, maxRotation: 0 } },
                           y: { beginAtZero: true, ticks: { precision: 0 } },
                           share: { position: "right", min: 0, max: 100, grid: { drawOnChartArea: false } } } }
    });
  }
  groups("chart-sources", "source", report.by_source);
  groups("chart-locations", "location", report.by_location);
}());
