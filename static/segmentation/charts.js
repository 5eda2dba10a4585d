/* Draws every <canvas data-chart="type" data-source="json-script-id"> with the vendored Chart.js. */
(function () {
  "use strict";
  var palette = ["#2563eb", "#16a34a", "#d97706", "#dc2626", "#7c3aed", "#0891b2", "#64748b"];
  function draw(canvas) {
    var source = document.getElementById(canvas.dataset.source);
    if (!source || typeof Chart === "undefined") { return; }
    var spec = JSON.parse(source.textContent);
    var type = canvas.dataset.chart;
    var datasets = spec.datasets || [{ label: canvas.dataset.label || "", data: spec.data }];
    datasets.forEach(function (ds, i) {
      var color = palette[i % palette.length];
      if (type === "doughnut" || type === "bar" && !spec.datasets) {
        ds.backgroundColor = spec.labels.map(function (_, j) { return palette[j % palette.length]; });
      } else {
        ds.borderColor = color; ds.backgroundColor = color; ds.fill = false; ds.tension = 0.2;
      }
    });
    new Chart(canvas, {
      type: type,
      data: { labels: spec.labels, datasets: datasets },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        plugins: { legend: { display: type !== "bar" || !!spec.datasets } }
      }
    });
    canvas.dataset.drawn = "1";
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
  });
})();
