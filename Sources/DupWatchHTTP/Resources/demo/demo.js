// SuperMart · DupWatch demo: a tiny storefront that talks to the DupWatch HTTP API.
//
// It sends cart events and orders stamped with a simulated shop clock (DupWatch's cart rule only
// looks items up after a pause, 4 h by default, so "Come back N days later" moves the clock), shows
// what DupWatch stores (GET cart, GET orders, GET alerts), and opens the customer's live alerts
// (Server-Sent Events). Each alert opens the "Are you sure?" dialog; the answer goes back as
// feedback. The API key comes from the URL fragment (#key=KEY) or the key field; an optional
// &api=ORIGIN points the page at a DupWatch server on another origin (CORS).
(() => {
  "use strict";

  const CATALOG = [
    { sku: "MILK-1L", title: "Organic Milk 1L", price: "1.49", hue: 205, art: "MI" },
    { sku: "EGGS-12", title: "Free-range Eggs (12)", price: "3.29", hue: 40, art: "EG" },
    { sku: "BREAD-SOUR", title: "Sourdough Bread", price: "2.80", hue: 28, art: "BR" },
    { sku: "COFFEE-500", title: "Espresso Beans 500 g", price: "7.90", hue: 18, art: "CO" },
    { sku: "BANANA-6", title: "Bananas (6)", price: "1.99", hue: 52, art: "BA" },
    { sku: "OLIVE-OIL", title: "Olive Oil 750 ml", price: "6.45", hue: 90, art: "OL" },
  ];
  const MINUTE = 60 * 1000;
  const DAY = 24 * 60 * MINUTE;
  const FALLBACK_POLL_MS = 4000;   // look for alerts the live stream may have missed
  const LOG_LIMIT = 40;

  const fragment = new URLSearchParams(location.hash.replace(/^#/, ""));
  const state = {
    apiBase: (fragment.get("api") || location.origin).replace(/\/+$/, ""),
    key: fragment.get("key") || "",
    suffix: randomHex(4),            // fresh customers per page load
    customer: null,                  // e.g. "demo-alice-7f3a"
    clock: Math.floor(Date.now() / MINUTE) * MINUTE,
    cart: new Map(),                 // sku -> { sku, title, qty }: the shop's own cart
    eventCounter: 0,
    orderCounter: 0,
    live: null,                      // EventSource
    seenAlerts: new Set(),
    queue: [],                       // alerts waiting for the dialog
    current: null,                   // the alert in the dialog
    pageLoadedAt: Date.now(),
    timers: [],
  };

  const $ = (id) => document.getElementById(id);

  // MARK: - Helpers

  function randomHex(n) {
    const bytes = new Uint8Array(Math.ceil(n / 2));
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("").slice(0, n);
  }

  /** ISO-8601 in UTC without milliseconds: what the events carry as ts. */
  function iso(ms) {
    return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
  }

  /** "2026-11-20" from an ISO time (UTC, as DupWatch's messages date things). */
  function day(isoText) {
    return typeof isoText === "string" ? isoText.slice(0, 10) : "";
  }

  /** "2026-11-20 18:30 UTC" from an ISO time. */
  function when(isoText) {
    return typeof isoText === "string" ? `${isoText.slice(0, 10)} ${isoText.slice(11, 16)} UTC` : "";
  }

  function clockText(ms) {
    const d = new Date(ms);
    const weekday = d.toLocaleDateString("en-GB", { weekday: "short", timeZone: "UTC" });
    return `${weekday} ${iso(ms).slice(0, 10)} ${iso(ms).slice(11, 16)} UTC`;
  }

  function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(props)) {
      if (k === "class") node.className = v;
      else if (k === "dataset") Object.assign(node.dataset, v);
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (v !== undefined && v !== null) node.setAttribute(k, v);
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  function productTitle(sku) {
    return CATALOG.find((p) => p.sku === sku)?.title || sku;
  }

  function notify(text) {
    const box = $("notice");
    box.textContent = text;
    box.hidden = false;
    clearTimeout(notify.timer);
    notify.timer = setTimeout(() => { box.hidden = true; }, 6000);
  }

  function log(text, kind = "") {
    const list = $("event-log");
    const item = el("li", { class: kind }, el("span", { class: "when" }, iso(state.clock).slice(5, 16).replace("T", " ")), text);
    list.prepend(item);
    while (list.children.length > LOG_LIMIT) list.lastChild.remove();
  }

  /** Advances the shop clock by a minute (so events are a little apart) and returns its ISO time. */
  function tick() {
    state.clock += MINUTE;
    renderClock();
    return iso(state.clock);
  }

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  /** One API call with the key; resolves to the JSON answer, rejects with an ApiError. */
  async function api(method, path, body) {
    const headers = { Accept: "application/json", Authorization: `Bearer ${state.key}` };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(state.apiBase + path, {
        method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store",
      });
    } catch (error) {
      throw new ApiError(0, "network", `cannot reach DupWatch (${error.message})`);
    }
    let answer = null;
    const text = await response.text();
    if (text) {
      try { answer = JSON.parse(text); } catch { answer = null; }
    }
    if (!response.ok) {
      const code = answer?.error || `http_${response.status}`;
      const message = answer?.message || response.statusText || "request failed";
      throw new ApiError(response.status, code, message);
    }
    return answer;
  }

  /** A write: logs what was sent and what came back. */
  async function send(path, body, label) {
    try {
      const answer = await api("POST", path, body);
      log(`POST ${path.replace(/\/customers\/[^/]+/, "/customers/…")} ${label} → 202 ${answer?.entry_id ?? ""}`);
      return answer;
    } catch (error) {
      log(`POST ${path} ${label} → ${error.status || "failed"} ${error.code}: ${error.message}`, "error");
      if (error.status === 401) notify("DupWatch refused the API key (unauthorized). Paste a valid key above.");
      else if (error.status === 403) notify("This API key lacks a scope the demo needs (read and ingest).");
      else notify(`${error.code}: ${error.message}`);
      throw error;
    }
  }

  function customerPath(suffix) {
    return `/v1/customers/${encodeURIComponent(state.customer)}${suffix}`;
  }

  /** Runs fn after each delay; used to catch up with the worker, which processes asynchronously. */
  function later(fn, ...delays) {
    const customer = state.customer;
    for (const delay of delays) {
      state.timers.push(setTimeout(() => { if (state.customer === customer) fn(); }, delay));
    }
  }

  // MARK: - Rendering

  function renderClock() {
    const time = $("clock");
    time.textContent = clockText(state.clock);
    time.dateTime = iso(state.clock);
    time.dataset.ts = iso(state.clock);
  }

  function renderCatalog() {
    const list = $("catalog");
    list.replaceChildren(...CATALOG.map((p) => el("li", { class: "product", id: `product-${p.sku}`, dataset: { sku: p.sku } },
      el("div", { class: "product-art", style: `--hue: ${p.hue}`, "aria-hidden": "true" }, p.art),
      el("div", { class: "product-title" }, p.title),
      el("div", { class: "product-meta" }, el("span", {}, p.sku), el("span", {}, `€${p.price}`)),
      el("div", { class: "product-actions" },
        el("input", { id: `qty-${p.sku}`, type: "number", min: "1", max: "99", value: "1", "aria-label": `Quantity of ${p.title}` }),
        el("button", { id: `add-${p.sku}`, type: "button", class: "button primary", "data-sku": p.sku, disabled: "",
                       onclick: () => addToCart(p) }, "Add to cart")))));
  }

  function renderCart() {
    const lines = [...state.cart.values()];
    $("cart-lines").replaceChildren(...lines.map((line) => el("li", { dataset: { sku: line.sku, qty: String(line.qty) } },
      el("span", {}, el("span", { class: "qty" }, `${line.qty} ×`), line.title),
      el("button", { type: "button", class: "line-remove", id: `remove-line-${line.sku}`, onclick: () => removeLine(line.sku),
                     "aria-label": `Remove ${line.title} from the cart` }, "remove"))));
    const units = lines.reduce((sum, line) => sum + line.qty, 0);
    $("cart-count").textContent = `${units} item${units === 1 ? "" : "s"}`;
    $("cart-empty").hidden = lines.length > 0;
    $("place-order").disabled = lines.length === 0 || !state.customer;
  }

  function renderDupWatchCart(cart) {
    $("dw-cart-meta").textContent = cart.last_cart_event_at
      ? `Last cart event ${when(cart.last_cart_event_at)}`
      : "No cart events yet.";
    $("dw-cart-lines").replaceChildren(...cart.lines.map((line) => el("li", { dataset: { sku: line.sku } },
      el("span", {}, el("span", { class: "qty" }, `${line.quantity} ×`), line.title || productTitle(line.sku)),
      el("span", { class: "hint" }, `since ${day(line.added_at)}`))));
  }

  function renderOrders(answer) {
    const rows = answer.orders.map((order) => el("tr", { dataset: { orderId: order.order_id, orderDate: order.order_date, status: order.status } },
      el("td", {}, order.order_id),
      el("td", {}, day(order.order_date)),
      el("td", { class: "items" }, order.items.map((item) => `${item.qty} × ${item.title || productTitle(item.sku)}`).join("\n")),
      el("td", {}, el("span", { class: `status ${order.status}` }, order.status))));
    $("order-history").replaceChildren(...rows);
    $("orders-empty").hidden = rows.length > 0;
    document.querySelector("table.orders").hidden = rows.length === 0;
  }

  function renderAlertList() {
    const items = [...state.seenAlerts.values()];
    $("alerts-empty").hidden = items.length > 0;
  }

  function addAlertToList(alert) {
    const message = el("span");
    setMessage(message, alert.message);
    $("alert-list").prepend(el("li", { dataset: { alertId: alert.alert_id } },
      message,
      el("span", { class: "alert-meta" }, `${alert.trigger} ${alert.trigger_id} · matches ${alert.match}` +
        (alert.detected_at ? ` · detected ${when(alert.detected_at)}` : ""))));
    renderAlertList();
  }

  function setLive(stateName, text) {
    $("live-status").dataset.state = stateName;
    $("live-status-text").textContent = text;
  }

  function setFeedback(stateName, text) {
    const node = $("feedback-status");
    node.dataset.state = stateName;
    node.textContent = text;
  }

  function updateControls() {
    const hasKey = state.key.length > 0;
    $("key-missing").hidden = hasKey;
    for (const button of document.querySelectorAll(".customer")) {
      button.disabled = !hasKey;
      button.setAttribute("aria-pressed", String(state.customer === `demo-${button.dataset.customer}-${state.suffix}`));
    }
    const ready = hasKey && state.customer !== null;
    for (const button of document.querySelectorAll("#catalog button")) button.disabled = !ready;
    $("advance-clock").disabled = !ready;
    $("refresh").disabled = !ready;
    renderCart();
  }

  // MARK: - Reading what DupWatch knows

  async function refreshCart() {
    if (!state.customer) return;
    try { renderDupWatchCart(await api("GET", customerPath("/cart"))); }
    catch (error) { $("dw-cart-meta").textContent = `Cannot read the cart: ${error.code}: ${error.message}`; }
  }

  async function refreshOrders() {
    if (!state.customer) return;
    try { renderOrders(await api("GET", customerPath("/orders?limit=10"))); }
    catch (error) { log(`GET orders → ${error.status || "failed"} ${error.code}: ${error.message}`, "error"); }
  }

  /** The alerts route: catches any alert the live stream missed (shown once, by alert_id). */
  async function pollAlerts() {
    if (!state.customer) return;
    try {
      const since = state.pageLoadedAt - 60 * 1000;
      const answer = await api("GET", customerPath(`/alerts?since=${since}&limit=20`));
      for (const alert of [...answer.alerts].reverse()) handleAlert(alert, "poll");
    } catch (error) {
      log(`GET alerts → ${error.status || "failed"} ${error.code}: ${error.message}`, "error");
    }
  }

  function refreshAll() {
    refreshCart();
    refreshOrders();
  }

  // MARK: - Live alerts

  function openLive() {
    closeLive();
    const customer = state.customer;
    const url = `${state.apiBase}${customerPath("/alerts/live")}?access_token=${encodeURIComponent(state.key)}`;
    setLive("connecting", "Live alerts: connecting…");
    const source = new EventSource(url);
    state.live = source;
    source.addEventListener("open", () => {
      if (state.live === source) setLive("open", `Live alerts: on for ${customer}`);
    });
    source.addEventListener("alert", (event) => {
      if (state.live !== source) return;
      let alert;
      try { alert = JSON.parse(event.data); } catch { log(`live: an alert that is not JSON: ${event.data}`, "error"); return; }
      alert._entry_id = event.lastEventId;
      handleAlert(alert, "live");
    });
    source.addEventListener("error", () => {
      if (state.live !== source) return;
      if (source.readyState === EventSource.CLOSED) {
        setLive("error", "Live alerts: refused (check the API key and its read scope)");
      } else {
        setLive("connecting", "Live alerts: reconnecting…");
      }
    });
  }

  function closeLive() {
    if (state.live) state.live.close();
    state.live = null;
  }

  function handleAlert(alert, source) {
    if (!alert || alert.customer_id !== state.customer || state.seenAlerts.has(alert.alert_id)) return;
    state.seenAlerts.add(alert.alert_id);
    alert._source = source;
    addAlertToList(alert);
    log(`alert (${source}): ${alert.message}`, "note");
    state.queue.push(alert);
    showNextAlert();
  }

  // MARK: - The dialog

  function showNextAlert() {
    const dialog = $("duplicate-dialog");
    if (state.current || state.queue.length === 0) return;
    const alert = state.queue.shift();
    state.current = alert;
    const isOrder = alert.match === "order";
    dialog.dataset.match = alert.match;
    dialog.dataset.source = alert._source;
    dialog.dataset.alertId = alert.alert_id;
    dialog.dataset.sku = alert.sku;
    $("duplicate-title").textContent = isOrder ? "Already ordered?" : "Already in your cart?";
    setMessage($("duplicate-message"), alert.message);
    $("dup-product").textContent = alert.title || productTitle(alert.sku);
    $("dup-date-label").textContent = isOrder ? "Ordered on" : "In your cart since";
    $("dup-date").textContent = day(isOrder ? alert.order_date : alert.added_at);
    $("dup-quantity").textContent = String(alert.quantity);
    $("dup-status").textContent = isOrder ? alert.order_status : "";
    $("dup-status-row").hidden = !isOrder;
    $("dup-order-id").textContent = isOrder ? alert.order_id : "";
    $("dup-order-row").hidden = !isOrder;
    $("keep-both").disabled = false;
    $("remove-item").disabled = false;
    dialog.showModal();
    $("keep-both").focus();
  }

  /** The alert's sentence, with its dates kept on one line. */
  function setMessage(node, text) {
    const parts = String(text ?? "").split(/(\d{4}-\d{2}-\d{2})/);
    node.replaceChildren(...parts.map((part, i) => (i % 2 === 1 ? el("span", { class: "nowrap" }, part) : part)));
  }

  function closeDialog() {
    const dialog = $("duplicate-dialog");
    if (dialog.open) dialog.close();
    state.current = null;
    setTimeout(showNextAlert, 250);
  }

  async function answerAlert(action) {
    const alert = state.current;
    if (!alert) return;
    $("keep-both").disabled = true;
    $("remove-item").disabled = true;
    closeDialog();
    setFeedback("sending", "Sending your answer to DupWatch…");
    try {
      if (action === "removed_item") {
        await send("/v1/cart-events", {
          type: "remove", customer_id: alert.customer_id, sku: alert.sku, ts: tick(), event_id: nextEventID(),
        }, `remove ${alert.sku}`);
        state.cart.delete(alert.sku);
        renderCart();
      }
      const answer = await send(`/v1/alerts/${encodeURIComponent(alert.alert_id)}/feedback`,
        { customer_id: alert.customer_id, action }, `feedback ${action}`);
      setFeedback("sent", `Feedback sent: ${action.replace("_", " ")} (entry ${answer?.entry_id ?? "?"}).`);
      $("feedback-status").dataset.action = action;
      $("feedback-status").dataset.entryId = answer?.entry_id ?? "";
      later(refreshAll, 300, 1200);
    } catch (error) {
      setFeedback("error", `Could not send the feedback: ${error.code}: ${error.message}`);
    }
  }

  // MARK: - Shopping

  function nextEventID() {
    state.eventCounter += 1;
    return `web-${state.suffix}-${state.eventCounter}`;
  }

  async function addToCart(product) {
    const input = $(`qty-${product.sku}`);
    const qty = Math.max(1, Math.min(99, parseInt(input.value, 10) || 1));
    input.value = String(qty);
    const body = {
      type: "add", customer_id: state.customer, sku: product.sku, qty, title: product.title, ts: tick(), event_id: nextEventID(),
    };
    const line = state.cart.get(product.sku) || { sku: product.sku, title: product.title, qty: 0 };
    line.qty += qty;
    state.cart.set(product.sku, line);
    renderCart();
    try {
      await send("/v1/cart-events", body, `add ${product.sku} ×${qty}`);
    } catch {
      line.qty -= qty;
      if (line.qty <= 0) state.cart.delete(product.sku);
      renderCart();
      return;
    }
    later(refreshCart, 300, 1200);
    later(pollAlerts, FALLBACK_POLL_MS);
  }

  async function removeLine(sku) {
    const line = state.cart.get(sku);
    if (!line) return;
    state.cart.delete(sku);
    renderCart();
    try {
      await send("/v1/cart-events", { type: "remove", customer_id: state.customer, sku, ts: tick(), event_id: nextEventID() }, `remove ${sku}`);
    } catch {
      state.cart.set(sku, line);
      renderCart();
      return;
    }
    later(refreshCart, 300, 1200);
  }

  async function placeOrder() {
    const lines = [...state.cart.values()];
    if (lines.length === 0) return;
    state.orderCounter += 1;
    const orderID = `O-${state.customer.replace(/^demo-/, "")}-${state.orderCounter}`;
    const ts = tick();
    const body = {
      order_id: orderID, customer_id: state.customer, status: "processing", ts,
      items: lines.map((line) => ({ sku: line.sku, qty: line.qty, title: line.title })),
    };
    $("place-order").disabled = true;
    try {
      await send("/v1/orders", body, `${orderID} (${lines.length} line${lines.length === 1 ? "" : "s"})`);
    } catch {
      renderCart();
      return;
    }
    state.cart.clear();   // DupWatch takes an order's SKUs out of its cart too
    renderCart();
    const last = $("last-order");
    last.textContent = `Order ${orderID} placed on ${day(ts)}.`;
    last.dataset.orderId = orderID;
    last.dataset.orderTs = ts;
    later(refreshAll, 300, 1200, 3000);
    later(pollAlerts, FALLBACK_POLL_MS);
  }

  function advanceClock() {
    const days = Math.max(1, Math.min(365, parseInt($("advance-days").value, 10) || 1));
    state.clock += days * DAY;
    renderClock();
    const clock = document.querySelector(".clock");
    clock.classList.remove("ticked");
    void clock.offsetWidth;   // restart the animation
    clock.classList.add("ticked");
    log(`… ${days} day${days === 1 ? "" : "s"} later: the clock says ${iso(state.clock)}`, "note");
  }

  function pickCustomer(name) {
    for (const timer of state.timers) clearTimeout(timer);
    state.timers = [];
    state.customer = `demo-${name}-${state.suffix}`;
    state.cart.clear();
    state.queue = [];
    state.seenAlerts.clear();
    $("alert-list").replaceChildren();
    renderAlertList();
    if ($("duplicate-dialog").open) $("duplicate-dialog").close();
    state.current = null;
    const who = $("customer-id");
    who.textContent = state.customer;
    who.dataset.customerId = state.customer;
    $("last-order").textContent = "";
    setFeedback("none", "");
    log(`shopping as ${state.customer}`, "note");
    updateControls();
    openLive();
    refreshAll();
  }

  function useKey(key) {
    state.key = key.trim();
    updateControls();
    if (state.customer) { openLive(); refreshAll(); }
  }

  // MARK: - Start

  function start() {
    renderCatalog();
    renderClock();
    renderCart();
    renderAlertList();
    renderOrders({ orders: [] });
    $("api-key").value = state.key;
    $("api-key-form").addEventListener("submit", (event) => { event.preventDefault(); useKey($("api-key").value); });
    for (const button of document.querySelectorAll(".customer")) {
      button.addEventListener("click", () => pickCustomer(button.dataset.customer));
    }
    $("place-order").addEventListener("click", placeOrder);
    $("advance-clock").addEventListener("click", advanceClock);
    $("advance-days").addEventListener("input", () => {
      const days = Math.max(1, parseInt($("advance-days").value, 10) || 1);
      $("advance-label").textContent = `${days} day${days === 1 ? "" : "s"}`;
    });
    $("refresh").addEventListener("click", () => { refreshAll(); pollAlerts(); });
    $("keep-both").addEventListener("click", () => answerAlert("kept_both"));
    $("remove-item").addEventListener("click", () => answerAlert("removed_item"));
    // Escape closes a modal dialog: the customer dismissed the question.
    $("duplicate-dialog").addEventListener("cancel", (event) => { event.preventDefault(); answerAlert("dismissed"); });
    updateControls();
    document.body.dataset.ready = "true";
  }

  start();
})();
