// The console's script: reads the admin key from the page's fragment (#key=..., never sent to the
// server) or a form, keeps it for the tab's session, and draws the views from the admin API. Flows are
// drawn as a virtual list (only the visible rows exist), so ten thousand cost what thirty do.
"use strict";
const ROW = 24;
const state = { key: null, flows: [], query: "", live: null, drawPending: false };
const $ = (id) => document.getElementById(id);
const esc = (text) => String(text ?? "").replace(/[&<>"']/g,
  (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" })[c]);
const peer = (p) => p.kind + ":" + (p.namespace ? p.namespace + "/" : "") + p.name;
const hit = (h) => (h.direction ? h.direction + " " : "") + h.policy.tier + "|" +
  (h.policy.namespace ? h.policy.namespace + "/" : "") + h.policy.name +
  (h.endOfTier ? " (end of tier)" : (h.ruleIndex != null ? "#" + h.ruleIndex : "")) + "|" + h.action;
const dollars = (text) => parseFloat(text || "0") || 0;

function setStatus(text) { $("status").textContent = text; }

function readKey() {
  const match = location.hash.match(/key=([^&]+)/);
  if (match) {
    sessionStorage.setItem("gatehouse-key", decodeURIComponent(match[1]));
    history.replaceState(null, "", location.pathname + location.search);
  }
  return sessionStorage.getItem("gatehouse-key");
}

async function api(path) {
  const response = await fetch(path, { headers: { authorization: "Bearer " + state.key } });
  if (response.status === 401) throw new Error("the admin key was refused");
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error ? body.error.message : response.statusText);
  return body;
}

// Flows: a virtual list, newest first.
function rowHTML(flow, index) {
  const c = flow.counters || {};
  let count = String(c.requests ?? 0);
  if ((c.tokensIn || 0) + (c.tokensOut || 0) > 0) count += " " + c.tokensIn + "+" + c.tokensOut + "tok";
  const enforced = (flow.policies && flow.policies.enforced) || [];
  const last = enforced.filter((h) => h.action.toLowerCase() === flow.action).pop() || enforced[enforced.length - 1];
  const target = flow.route || (flow.port != null ? flow.protocol + "/" + flow.port : flow.protocol);
  return '<div class="flow-row ' + (flow.action === "deny" ? "deny" : "") + '" data-index="' + index + '">' +
    "<span>" + esc((flow.end || "").replace("T", " ").replace("Z", "")) + "</span>" +
    "<span>" + esc(peer(flow.source)) + "</span><span>" + esc(peer(flow.destination)) + "</span>" +
    "<span>" + esc(target) + '</span><span class="verdict-' + esc(flow.action) + '">' + esc(flow.action) + "</span>" +
    "<span>" + esc(flow.reason || "") + "</span><span>" + esc(count) + "</span>" +
    "<span>" + esc(last ? hit(last) : "-") + "</span></div>";
}

function drawFlows() {
  state.drawPending = false;
  const scroll = $("flow-scroll");
  const first = Math.max(0, Math.floor(scroll.scrollTop / ROW) - 10);
  const visible = Math.ceil((scroll.clientHeight || 600) / ROW) + 20;
  const rows = [];
  for (let i = first; i < Math.min(state.flows.length, first + visible); i++) rows.push(rowHTML(state.flows[i], i));
  $("flow-spacer").style.height = state.flows.length * ROW + "px";
  $("flow-rows").style.top = first * ROW + "px";
  $("flow-rows").innerHTML = rows.join("");
  $("count").textContent = state.flows.length + " flows";
}

function scheduleDraw() {
  if (state.drawPending) return;
  state.drawPending = true;
  requestAnimationFrame(() => { drawFlows(); drawGraph(); drawUsage(); });
}

function showTrace(index) {
  const flow = state.flows[index];
  if (!flow) return;
  const policies = flow.policies || {};
  let text = peer(flow.source) + " -> " + peer(flow.destination) + "  " + flow.action +
    (flow.reason ? " (" + flow.reason + ")" : "") + "\nenforced:\n";
  text += ((policies.enforced || []).map((h) => "  " + hit(h)).join("\n") || "  (no policy applied)");
  if (policies.pending) text += "\npending (staged):\n" + (policies.pending.map((h) => "  " + hit(h)).join("\n") || "  -");
  $("trace").textContent = text;
}

// Who talks to what: sources on the left, destinations on the right.
function drawGraph() {
  const svg = $("graph-svg");
  const edges = new Map();
  for (const flow of state.flows) {
    const key = peer(flow.source) + "\u0000" + peer(flow.destination);
    const edge = edges.get(key) || { from: peer(flow.source), to: peer(flow.destination), count: 0, denied: 0 };
    const requests = (flow.counters && flow.counters.requests) || 1;
    edge.count += requests;
    if (flow.action === "deny") edge.denied += requests;
    edges.set(key, edge);
  }
  const sources = [...new Set([...edges.values()].map((e) => e.from))].slice(0, 60);
  const targets = [...new Set([...edges.values()].map((e) => e.to))].slice(0, 60);
  const height = Math.max(sources.length, targets.length) * 28 + 40;
  const y = (list, name) => 30 + list.indexOf(name) * 28;
  let out = "";
  for (const edge of edges.values()) {
    if (!sources.includes(edge.from) || !targets.includes(edge.to)) continue;
    const color = edge.denied === edge.count ? "#b3261e" : (edge.denied > 0 ? "#e07a00" : "#1b7f3b");
    const width = 1 + Math.min(6, Math.log10(edge.count + 1) * 2);
    out += '<line class="edge" x1="260" y1="' + y(sources, edge.from) + '" x2="640" y2="' + y(targets, edge.to) +
      '" stroke="' + color + '" stroke-width="' + width.toFixed(1) + '"><title>' + esc(edge.from + " -> " + edge.to +
      ": " + edge.count + " (" + edge.denied + " denied)") + "</title></line>";
  }
  sources.forEach((name) => { out += '<circle class="node" cx="260" cy="' + y(sources, name) + '" r="5"/>' +
    '<text x="250" y="' + (y(sources, name) + 4) + '" text-anchor="end">' + esc(name) + "</text>"; });
  targets.forEach((name) => { out += '<circle class="node" cx="640" cy="' + y(targets, name) + '" r="5"/>' +
    '<text x="650" y="' + (y(targets, name) + 4) + '">' + esc(name) + "</text>"; });
  svg.setAttribute("viewBox", "0 0 900 " + height);
  svg.setAttribute("width", "900");
  svg.setAttribute("height", String(height));
  svg.innerHTML = out;
}

// Usage: per identity, tokens per minute (bars) and spend so far (a line), from the gateway's flows.
function drawUsage() {
  const series = new Map();
  for (const flow of state.flows) {
    if (flow.source.kind !== "identity") continue;
    const minute = (flow.start || "").slice(0, 16);
    const points = series.get(flow.source.name) || new Map();
    const point = points.get(minute) || { cost: 0, tokens: 0 };
    point.cost += dollars(flow.counters.cost);
    point.tokens += (flow.counters.tokensIn || 0) + (flow.counters.tokensOut || 0);
    points.set(minute, point);
    series.set(flow.source.name, points);
  }
  let out = "";
  for (const [identity, points] of [...series.entries()].sort()) {
    const minutes = [...points.keys()].sort().slice(-30);
    const max = Math.max(...minutes.map((m) => points.get(m).tokens), 1);
    const total = minutes.reduce((sum, m) => sum + points.get(m).cost, 0);
    const tokens = minutes.reduce((sum, m) => sum + points.get(m).tokens, 0);
    let bars = "";
    let spent = 0;
    const line = [];
    minutes.forEach((m, i) => {
      const h = Math.round(points.get(m).tokens / max * 100);
      spent += points.get(m).cost;
      line.push((i * 12 + 9) + "," + (110 - Math.round(total > 0 ? spent / total * 100 : 0)));
      bars += '<rect class="bar" x="' + (i * 12 + 4) + '" y="' + (110 - h) + '" width="10" height="' + h +
        '" fill="#3a6ea5"><title>' + esc(m + ": " + points.get(m).tokens + " tokens, $" +
        points.get(m).cost.toFixed(6)) + "</title></rect>";
    });
    const spend = '<polyline class="spend" fill="none" stroke="#fca311" stroke-width="2" points="' + line.join(" ") +
      '"><title>spend so far: $' + total.toFixed(6) + "</title></polyline>";
    out += '<div class="chart" data-identity="' + esc(identity) + '"><h3>' + esc(identity) + ": " + tokens +
      " tokens (bars), $" + total.toFixed(6) + ' spent (line)</h3><svg width="370" height="120">' + bars + spend +
      "</svg></div>";
  }
  $("charts").innerHTML = out || "<p>No gateway requests among the flows shown.</p>";
}

// Budgets: a table, and a bar each (spent, reserved, and what is left of the limit).
function drawBudgets(items) {
  $("budgets").tBodies[0].innerHTML = items.map((b) => "<tr><td>" + esc(b.scope) + "</td><td>" + esc(b.period) +
    "</td><td>$" + esc(b.limit) + "</td><td>$" + esc(b.spent) + "</td><td>$" + esc(b.reserved) + "</td><td>$" +
    esc(b.remaining) + "</td></tr>").join("") || '<tr><td colspan="6">No budgets.</td></tr>';
  $("budget-bars").innerHTML = items.map((b) => {
    const limit = Math.max(dollars(b.limit), 1e-12);
    const spentWidth = Math.min(300, dollars(b.spent) / limit * 300);
    const reservedWidth = Math.min(300 - spentWidth, dollars(b.reserved) / limit * 300);
    return '<div class="chart budget" data-budget="' + esc(b.scope) + '"><h3>' + esc(b.scope) + " (" + esc(b.period) +
      "): $" + esc(b.spent) + " of $" + esc(b.limit) + '</h3><svg width="310" height="24">' +
      '<rect x="0" y="2" width="300" height="20" fill="#e5e8ee"/>' +
      '<rect class="spent" x="0" y="2" width="' + spentWidth.toFixed(1) + '" height="20" fill="#3a6ea5"/>' +
      '<rect class="reserved" x="' + spentWidth.toFixed(1) + '" y="2" width="' + reservedWidth.toFixed(1) +
      '" height="20" fill="#fca311"/></svg></div>';
  }).join("");
}

function drawPolicies(items) {
  $("policy-list").innerHTML = items.map((p) => '<div class="policy"><h3>' + esc(p.tier) + " / " + esc(p.name) +
    (p.order != null ? " (order " + p.order + ")" : "") + "</h3><div>callers: <code>" + esc(p.selector) +
    "</code></div><ul>" + p.rules.map((r) => "<li>" + esc(r.action) + " " +
    (r.modelNames ? "names " + esc(r.modelNames.join(", ")) : "") + (r.modelSelector ? " selector " +
    esc(r.modelSelector) : "") + (!r.modelNames && !r.modelSelector ? "every model" : "") + " &rarr; " +
    esc(r.matches.join(", ") || "no configured model") + "</li>").join("") + "</ul></div>").join("") ||
    "<p>No access policies.</p>";
}

async function follow() {
  if (state.live) state.live.abort();
  if (!$("live").checked) return;
  const controller = new AbortController();
  state.live = controller;
  try {
    const response = await fetch("/v1/flows?follow=true&last=0" + (state.query ? "&" + state.query : ""),
      { headers: { authorization: "Bearer " + state.key }, signal: controller.signal });
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (!event.startsWith("data: ")) continue;
        state.flows.unshift(JSON.parse(event.slice(6)));
        scheduleDraw();
      }
    }
  } catch (error) {
    if (error.name !== "AbortError") setStatus("live stream ended: " + error.message);
  }
}

async function load() {
  setStatus("loading");
  try {
    const [flows, budgets, policies] = await Promise.all([
      api("/v1/flows?last=10000" + (state.query ? "&" + state.query : "")), api("/v1/budgets"), api("/v1/policies"),
    ]);
    state.flows = flows.items.reverse();
    drawFlows(); drawGraph(); drawUsage(); drawBudgets(budgets.items); drawPolicies(policies.items);
    setStatus("connected: " + state.flows.length + " flows");
    document.body.dataset.ready = "true";
    follow();
  } catch (error) {
    setStatus(error.message);
    document.body.dataset.error = error.message;
    if (error.message.includes("refused")) showLogin(error.message);
  }
}

function showLogin(message) {
  $("login").hidden = false;
  $("login-error").textContent = message || "";
}

// `?bench=N`: N made-up flows drawn in every view, timed (for the benchmark; no server data).
function bench(count) {
  const started = performance.now();
  state.flows = [];
  for (let i = 0; i < count; i++) {
    state.flows.push({ start: "2026-11-27T04:" + String(i % 60).padStart(2, "0") + ":00Z",
      end: "2026-11-27T04:" + String(i % 60).padStart(2, "0") + ":15Z",
      source: { kind: i % 3 ? "workload" : "identity", namespace: i % 3 ? "ns-" + (i % 7) : undefined, name: "src-" + (i % 40) },
      destination: { kind: i % 3 ? "workload" : "model", namespace: i % 3 ? "ai" : undefined, name: "dst-" + (i % 25) },
      protocol: "TCP", port: 8000, action: i % 9 ? "allow" : "deny", reason: i % 9 ? null : "rule", reporter: "dst",
      policies: { enforced: [{ policy: { kind: "NetworkPolicy", name: "p" + (i % 5), namespace: "ai", tier: "default" },
        ruleIndex: 0, action: i % 9 ? "Allow" : "Deny", endOfTier: false, index: 0 }] },
      counters: { requests: 1, tokensIn: 10, tokensOut: 20, cost: "0.0001" } });
  }
  drawFlows(); drawGraph(); drawUsage();
  const drawn = performance.now();
  const scroll = $("flow-scroll");
  let slowest = 0;
  for (let step = 1; step <= 20; step++) {
    scroll.scrollTop = step * count * ROW / 20;
    const t = performance.now();
    drawFlows();
    slowest = Math.max(slowest, performance.now() - t);
  }
  document.body.dataset.benchFlows = String(count);
  document.body.dataset.renderMs = (drawn - started).toFixed(1);
  document.body.dataset.scrollMs = slowest.toFixed(2);
  document.body.dataset.ready = "true";
  setStatus("bench: " + count + " flows drawn in " + (drawn - started).toFixed(1) + " ms");
}

document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("nav button")) {
    button.addEventListener("click", () => {
      document.querySelectorAll("nav button, .view").forEach((e) => e.classList.remove("active"));
      button.classList.add("active");
      $(button.dataset.view).classList.add("active");
      if (button.dataset.view === "flows") drawFlows();
    });
  }
  $("flow-scroll").addEventListener("scroll", () => { if (!state.drawPending) { state.drawPending = true; requestAnimationFrame(drawFlows); } });
  $("flow-rows").addEventListener("click", (event) => {
    const row = event.target.closest(".flow-row");
    if (row) showTrace(Number(row.dataset.index));
  });
  $("filter").addEventListener("submit", (event) => { event.preventDefault(); state.query = $("query").value.trim(); load(); });
  $("live").addEventListener("change", follow);
  $("login").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem("gatehouse-key", $("key").value.trim());
    state.key = $("key").value.trim();
    $("login").hidden = true;
    load();
  });
  const benchCount = Number(new URLSearchParams(location.search).get("bench") || 0);
  if (benchCount > 0) { bench(benchCount); return; }
  const view = new URLSearchParams(location.search).get("view");
  if (view) document.querySelector('nav button[data-view="' + view + '"]')?.click();
  state.key = readKey();
  if (!state.key) { showLogin(); return; }
  load();
});
