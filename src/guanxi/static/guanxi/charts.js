// Charts read their data from a JSON <script> (no inline code: the CSP forbids it).
document.addEventListener("DOMContentLoaded", () => {
  const dataEl = document.getElementById("chart-data");
  if (!dataEl || typeof echarts === "undefined") return;
  const data = JSON.parse(dataEl.textContent);
  const charts = [];
  const make = (id, option, onClick) => {
    const el = document.getElementById(id);
    if (!el) return;
    const chart = echarts.init(el);
    chart.setOption(option);
    if (onClick) chart.on("click", onClick);
    charts.push(chart);
  };
  if (data.stages) {
    const el = document.getElementById("chart-stages");
    make("chart-stages", {
      tooltip: { trigger: "axis" }, legend: {},
      xAxis: { type: "category", data: data.stages.labels },
      yAxis: { type: "value" },
      series: [
        { name: el && el.dataset.seriesAmount, type: "bar", data: data.stages.amount },
        { name: el && el.dataset.seriesWeighted, type: "bar", data: data.stages.weighted },
      ],
    }, (p) => { const url = data.stages.links[p.dataIndex]; if (url) window.location = url; });
  }
  if (data.forecast) {
    const el = document.getElementById("chart-forecast");
    make("chart-forecast", {
      tooltip: { trigger: "axis" }, legend: {},
      xAxis: { type: "category", data: data.forecast.labels },
      yAxis: { type: "value" },
      series: [
        { name: el && el.dataset.seriesWeighted, type: "bar", data: data.forecast.weighted },
        { name: el && el.dataset.seriesWon, type: "bar", data: data.forecast.won },
        { name: el && el.dataset.seriesTarget, type: "line", data: data.forecast.target },
      ],
    });
  }
  if (data.activities && data.activities.labels.length) {
    make("chart-activities", {
      tooltip: {}, xAxis: { type: "value" },
      yAxis: { type: "category", data: data.activities.labels },
      series: [{ type: "bar", data: data.activities.counts }],
    });
  }
  window.addEventListener("resize", () => charts.forEach((c) => c.resize()));
});
