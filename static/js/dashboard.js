/* Metrics dashboard: draws the charts from the JSON embedded with json_script (Chart.js from static/vendor). */
(function () {
  "use strict";
  var source = document.getElementById("dashboard-data");
  if (!source || typeof Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var series = data.series || [];
  var labels = series.map(function (row) { return row.period_start; });

  function num(value) { return value === null || value === undefined ? null : Number(value); }
  function column(name) { return series.map(function (row) { return num(row[name]); }); }
  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (canvas) { config.options = Object.assign({ responsive: true, maintainAspectRatio: false }, config.options || {}); new Chart(canvas, config); }
  }

  draw("chart-feedback", {
    type: "line",
    data: { labels: labels, datasets: [
      { label: "NPS", data: column("nps"), spanGaps: true },
      { label: "CSAT %", data: column("csat"), spanGaps: true }
    ] },
    options: { plugins: { title: { display: true, text: "NPS and CSAT" } } }
  });
  draw("chart-revenue", {
    type: "bar",
    data: { labels: labels, datasets: [
      { label: "Revenue", data: column("revenue"), yAxisID: "y" },
      { label: "AOV", data: column("aov"), type: "line", yAxisID: "y1" }
    ] },
    options: { plugins: { title: { display: true, text: "Revenue and average order value" } },
      scales: { y: { position: "left" }, y1: { position: "right", grid: { drawOnChartArea: false } } } }
  });
  var liability = data.liability || {};
  draw("chart-points", {
    type: "bar",
    data: { labels: labels, datasets: [
      { label: "Issued", data: column("points_issued") },
      { label: "Redeemed", data: column("points_redeemed") },
      { label: "Expired", data: column("points_expired") }
    ] },
    options: { plugins: { title: { display: true, text: "Points (outstanding " + (liability.points_outstanding ?? "—") +
      ", liability " + (liability.liability ?? "—") + ")" } } }
  });
  var tiers = data.tiers || [];
  draw("chart-tiers", {
    type: "doughnut",
    data: { labels: tiers.map(function (t) { return t.tier; }),
      datasets: [{ label: "Members", data: tiers.map(function (t) { return t.members; }),
        backgroundColor: tiers.map(function (t) { return t.colour || "#999999"; }) }] },
    options: { plugins: { title: { display: true, text: "Tier distribution" } } }
  });
  var segments = data.segments || [];
  draw("chart-segments", {
    type: "bar",
    data: { labels: segments.map(function (s) { return s.label; }),
      datasets: [{ label: "Members", data: segments.map(function (s) { return s.members; }) }] },
    options: { indexAxis: "y", plugins: { title: { display: true, text: "RFM segments" }, legend: { display: false } } }
  });
  var clv = data.clv || [];
  draw("chart-clv", {
    type: "bar",
    data: { labels: clv.map(function (c) { return c.bucket; }),
      datasets: [{ label: "Customers", data: clv.map(function (c) { return c.members; }) }] },
    options: { plugins: { title: { display: true, text: "Historic CLV distribution" }, legend: { display: false } } }
  });
}());
