// Analytics dashboard charts; clicking a bar or funnel step opens the customers behind it.
document.addEventListener("DOMContentLoaded", () => {
  const dataEl = document.getElementById("chart-data");
  if (!dataEl || typeof echarts === "undefined") return;
  const d = JSON.parse(dataEl.textContent);
  const charts = [];
  const make = (id, option, onClick) => {
    const el = document.getElementById(id);
    if (!el) return null;
    const c = echarts.init(el);
    c.setOption(option);
    if (onClick) c.on("click", onClick);
    charts.push(c);
    return el;
  };
  const go = (params) => { window.location = `${d.segment_url}?${new URLSearchParams(params)}`; };
  const cls = document.getElementById("chart-classes");
  make("chart-classes", {
    tooltip: { trigger: "axis" }, legend: {}, grid: { left: 50, right: 50, bottom: 80 },
    xAxis: { type: "category", data: d.classes.labels, axisLabel: { rotate: 30 } },
    yAxis: [{ type: "value" }, { type: "value" }],
    series: [
      { name: cls && cls.dataset.count, type: "bar", data: d.classes.counts },
      { name: cls && cls.dataset.value, type: "line", yAxisIndex: 1, data: d.classes.values },
    ],
  }, (p) => go({ rfm_class: d.classes.codes[p.dataIndex] }));
  const par = document.getElementById("chart-pareto");
  make("chart-pareto", {
    tooltip: { trigger: "axis" },
    xAxis: { type: "value", max: 100, name: par && par.dataset.x },
    yAxis: { type: "value", max: 100, name: par && par.dataset.y },
    series: [{ type: "line", data: d.pareto, areaStyle: {} },
             { type: "line", data: [[0, 0], [100, 100]], lineStyle: { type: "dashed" }, symbol: "none" }],
  });
  make("chart-funnel", {
    tooltip: { trigger: "item" },
    series: [{ type: "funnel", sort: "none", data: d.funnel.map((s) => ({ name: s.name, value: s.value, code: s.code })) }],
  }, (p) => go({ lifecycle_stage: p.data.code }));
  make("chart-clv", {
    tooltip: { trigger: "axis" },
    xAxis: { type: "category", data: d.clv.edges.slice(0, -1).map((e, i) => `${e}–${d.clv.edges[i + 1]}`) },
    yAxis: { type: "value" },
    series: [{ type: "bar", data: d.clv.counts }],
  });
  if (d.migration && d.migration.length) {
    const nodes = new Set();
    d.migration.forEach((m) => { nodes.add(m.source); nodes.add(m.target); });
    make("chart-migration", {
      tooltip: {}, series: [{ type: "sankey", data: [...nodes].map((n) => ({ name: n })), links: d.migration }],
    });
  }
  window.addEventListener("resize", () => charts.forEach((c) => c.resize()));
});
