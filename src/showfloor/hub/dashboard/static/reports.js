// showfloor hub Reports pages: draws each div[data-chart] with Apache ECharts (SVG
// renderer) from the JSON island #report-charts that the page's template writes. The
// numbers are the ones in the table beside each chart (a hidden cell, "< k", is a gap:
// null). The locale (EN or ZH) is #report's data-locale. No inline script: the dashboard's
// Content-Security-Policy stays "default-src 'self'".
"use strict";

(function () {
  function specs() {
    const island = document.getElementById("report-charts");
    if (!island) return {};
    try {
      return JSON.parse(island.textContent || "{}");
    } catch (err) {
      return {};
    }
  }

  function percent(v) {
    return v === null || v === undefined ? "—" : Math.round(v * 100) + " %";
  }

  const INK = "#1c2430";
  const MUTED = "#556070";
  const PALETTE = ["#1f5fa8", "#c0622b", "#2f8a57", "#7a4fa3", "#a4231d"];

  function axisName(name) {
    return { name: name, nameLocation: "middle", nameGap: 28, nameTextStyle: { color: MUTED } };
  }

  function option(s, printing) {
    const base = {
      animation: false,
      color: PALETTE,
      textStyle: { color: INK, fontFamily: "system-ui, sans-serif" },
      grid: { left: 56, right: 16, top: 28, bottom: 48, containLabel: false },
    };
    if (!printing) base.tooltip = { trigger: s.type === "heatmap" ? "item" : "axis" };
    if (s.type === "heatmap") {
      return Object.assign(base, {
        grid: { left: 48, right: 16, top: 8, bottom: 84 },
        xAxis: Object.assign({ type: "category", data: s.x, splitArea: { show: true } },
          axisName(s.xName), { nameGap: 24 }),
        yAxis: { type: "category", data: s.y, inverse: true, splitArea: { show: true } },
        visualMap: {
          min: 0, max: s.max || 1, calculable: false, orient: "horizontal",
          left: "center", bottom: 0, itemHeight: 120,
          inRange: { color: ["#eef3fa", "#1f5fa8"] },
        },
        series: [{
          type: "heatmap", name: "visits",
          data: s.cells.filter(function (c) { return c[2] !== null; }),
          label: { show: false },
        }],
      });
    }
    const valueAxis = Object.assign({ type: "value" }, axisName(s.yName), { nameGap: 40 });
    if (s.percent) {
      valueAxis.max = 1;
      valueAxis.axisLabel = { formatter: percent };
      if (base.tooltip) base.tooltip.valueFormatter = percent;
    }
    return Object.assign(base, {
      legend: s.series.length > 1 ? { top: 0, right: 0 } : { show: false },
      xAxis: Object.assign({ type: "category", data: s.x.map(String) }, axisName(s.xName)),
      yAxis: valueAxis,
      series: s.series.map(function (one) {
        return {
          type: s.type, name: one.name, data: one.data, connectNulls: false,
          showSymbol: s.type === "line", barMaxWidth: 36,
        };
      }),
    });
  }

  function draw() {
    const root = document.getElementById("report");
    const done = { drawn: 0, failed: [] };
    window.showfloorReports = done;
    if (!root) return;
    if (!window.echarts) {
      root.classList.add("nocharts");
      done.failed.push("echarts did not load");
      document.documentElement.dataset.charts = "none";
      return;
    }
    const locale = root.dataset.locale === "ZH" ? "ZH" : "EN";
    const printing = root.dataset.print === "1";
    const all = specs();
    const charts = [];
    root.querySelectorAll("[data-chart]").forEach(function (el) {
      const s = all[el.dataset.chart];
      if (!s) return;
      try {
        const chart = window.echarts.init(el, null, { renderer: "svg", locale: locale });
        chart.setOption(option(s, printing));
        charts.push(chart);
      } catch (err) {
        done.failed.push(el.dataset.chart + ": " + err);
      }
    });
    done.drawn = charts.length;
    let pending = 0;
    function resize() { charts.forEach(function (c) { c.resize(); }); }
    window.addEventListener("resize", function () {
      window.clearTimeout(pending);
      pending = window.setTimeout(resize, 100);
    });
    // printing from the browser lays the page out again at the paper's width
    window.addEventListener("beforeprint", resize);
    window.addEventListener("afterprint", resize);
    document.documentElement.dataset.charts = String(charts.length);
  }

  draw();
})();
