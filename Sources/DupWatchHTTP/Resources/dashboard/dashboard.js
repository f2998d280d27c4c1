// SuperMart · duplicate analytics: reads GET /v1/stats (the document `dupwatch report --json`
// prints) and draws it as plain SVG, no library and no build step. The API key (read scope)
// comes from the URL fragment (#key=KEY) or the key field, and is kept for this tab only.
"use strict";

(() => {
  const SVG = "http://www.w3.org/2000/svg";
  const $ = (id) => document.getElementById(id);
  const state = { key: "", timer: null };
  const REFRESH_MS = 30000;

  const fragment = new URLSearchParams(location.hash.replace(/^#/, ""));
  state.key = fragment.get("key") || sessionStorage.getItem("dupwatch.key") || "";
  if (fragment.get("range")) $("range").value = fragment.get("range");
  $("api-key").value = state.key;

  const number = (n) => n.toLocaleString("en-GB");
  const percent = (share) => (share === null || share === undefined ? "–" : `${(share * 100).toFixed(1)}%`);

  function setStatus(text, isError) {
    $("status").textContent = text;
    $("status").dataset.state = isError ? "error" : "ok";
  }

  async function load() {
    if (!state.key) {
      setStatus("No API key: open this page as /dashboard#key=YOUR_KEY or paste a key with the read scope above.", true);
      return;
    }
    const range = $("range").value;
    try {
      const response = await fetch(`/v1/stats?since=${encodeURIComponent(range)}`, {
        headers: { Accept: "application/json", Authorization: `Bearer ${state.key}` },
      });
      const body = await response.json();
      if (!response.ok) {
        setStatus(`The server refused: ${body.message || response.status}`, true);
        return;
      }
      render(body);
      setStatus(`Updated ${new Date().toLocaleTimeString("en-GB")} · ${body.since.slice(0, 16)}Z to ${body.until.slice(0, 16)}Z`, false);
    } catch (error) {
      setStatus(`Cannot reach the server: ${error.message}`, true);
    }
  }

  function render(report) {
    const t = report.totals;
    $("kpi-alerts").textContent = number(t.alerts);
    $("kpi-alerts-detail").textContent =
      `${number(t.alerts_order_order)} on orders · ${number(t.alerts_cart_order + t.alerts_cart_cart)} in carts`;
    $("kpi-orders").textContent = number(t.orders_placed);
    $("kpi-orders-detail").textContent = `${number(t.orders_flagged)} flagged (${percent(report.shares.flagged_of_orders)})`;
    $("kpi-cancelled-share").textContent = percent(report.shares.flagged_of_cancelled);
    $("kpi-cancelled-detail").textContent = `${number(t.cancelled_flagged)} of ${number(t.orders_cancelled)} cancelled orders`;
    $("kpi-removed-share").textContent = percent(report.shares.removed_of_cart_flagged);
    $("kpi-removed-detail").textContent = `${number(t.cart_flagged_removed)} of ${number(t.cart_flagged)} cart warnings`;
    $("period").textContent = report.period;
    $("partitions").textContent = report.partitions;
    drawSeries($("chart-series"), report.series, report.period);
    drawBars($("chart-skus"), report.top_skus.slice(0, 12).map((s) => ({ label: s.sku, value: s.alerts })),
      "bar-sku", "No duplicated product in this range.");
    drawBars($("chart-outcomes"), [
      { label: "kept both", value: t.feedback_kept_both },
      { label: "removed item", value: t.feedback_removed_item },
      { label: "cancelled order", value: t.feedback_cancelled_order },
      { label: "dismissed", value: t.feedback_dismissed },
    ], "bar-orders", null);
  }

  function node(name, attributes, text) {
    const element = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, value);
    if (text !== undefined) element.textContent = text;
    return element;
  }

  function svg(width, height, label) {
    const root = node("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label });
    root.appendChild(node("title", {}, label));
    return root;
  }

  /// Grouped bars per period: orders placed, alerts, orders cancelled.
  function drawSeries(container, series, period) {
    container.replaceChildren();
    const width = 1000, height = 260, left = 44, bottom = 28, top = 10;
    const keys = [["orders_placed", "bar-orders"], ["alerts", "bar-alerts"], ["orders_cancelled", "bar-cancelled"]];
    const points = series.map((p) => ({
      start: p.start,
      orders_placed: p.orders_placed,
      alerts: p.alerts_cart_cart + p.alerts_cart_order + p.alerts_order_order,
      orders_cancelled: p.orders_cancelled,
    }));
    // Four whole-numbered steps up to the largest bar (counts are whole, so are the ticks).
    const step = Math.max(1, Math.ceil(Math.max(0, ...points.flatMap((p) => keys.map(([k]) => p[k]))) / 4));
    const max = step * 4;
    const root = svg(width, height, `Orders placed, alerts and cancellations by ${period}`);
    const plotHeight = height - top - bottom;
    for (let i = 0; i <= 4; i++) {
      const y = top + plotHeight - (plotHeight * i) / 4;
      root.appendChild(node("line", { x1: left, x2: width, y1: y, y2: y, class: "grid" }));
      root.appendChild(node("text", { x: left - 6, y: y + 4, "text-anchor": "end" }, number(step * i)));
    }
    const slot = (width - left) / Math.max(1, points.length);
    const barWidth = Math.max(1, (slot * 0.8) / keys.length);
    const labelEvery = Math.ceil(points.length / 12);
    points.forEach((p, index) => {
      keys.forEach(([key, css], k) => {
        const h = (plotHeight * p[key]) / max;
        const bar = node("rect", {
          x: left + index * slot + slot * 0.1 + k * barWidth, y: top + plotHeight - h, width: barWidth, height: h,
          class: `${css} series-bar`, "data-start": p.start, "data-key": key, "data-value": p[key],
        });
        bar.appendChild(node("title", {}, `${p.start}: ${p[key]} ${key.replace("_", " ")}`));
        root.appendChild(bar);
      });
      if (index % labelEvery === 0) {
        const text = period === "hour" ? p.start.slice(5).replace("T", " ") + "h" : p.start.slice(5);
        root.appendChild(node("text", { x: left + index * slot + slot / 2, y: height - 8, "text-anchor": "middle" }, text));
      }
    });
    container.appendChild(root);
  }

  /// Horizontal bars with their label and value; `empty` when every value is 0 (or null to draw zeros).
  function drawBars(container, rows, css, empty) {
    container.replaceChildren();
    if (empty !== null && rows.every((r) => r.value === 0)) {
      container.appendChild(Object.assign(document.createElement("p"), { className: "empty", textContent: empty }));
      return;
    }
    const rowHeight = 24, labelWidth = 150, width = 560, height = rows.length * rowHeight + 4;
    const max = Math.max(1, ...rows.map((r) => r.value));
    const root = svg(width, height, rows.map((r) => `${r.label}: ${r.value}`).join(", "));
    rows.forEach((row, index) => {
      const y = index * rowHeight + 2;
      root.appendChild(node("text", { x: labelWidth - 8, y: y + 15, "text-anchor": "end", class: "label" }, row.label));
      const w = ((width - labelWidth - 60) * row.value) / max;
      root.appendChild(node("rect", { x: labelWidth, y: y + 3, width: Math.max(w, row.value > 0 ? 2 : 0), height: rowHeight - 8,
        class: `${css} bar-row`, "data-label": row.label, "data-value": row.value }));
      root.appendChild(node("text", { x: labelWidth + w + 6, y: y + 15 }, number(row.value)));
    });
    container.appendChild(root);
  }

  $("controls").addEventListener("submit", (event) => {
    event.preventDefault();
    state.key = $("api-key").value.trim();
    sessionStorage.setItem("dupwatch.key", state.key);
    load();
  });
  $("range").addEventListener("change", load);
  load();
  state.timer = setInterval(load, REFRESH_MS);
})();
