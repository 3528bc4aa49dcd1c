/* The list's filters: status, category, time window, and a dashboard drill-down
 * (/map?category=&agency=&status=&since=&until=) shown as a chip that clears it. */
import { el } from "./dom.js";
import { reloadAnalytics } from "./layers.js";
import { loadIncidents, renderAll } from "./queue.js";
import { catName, state, t } from "./store.js";

export function fillStatusOptions() {
  var sel = document.getElementById("f-status");
  var keep = state.filter.status;
  Array.from(sel.options).slice(2).forEach(function (o) { o.remove(); });
  state.lifecycle.statuses.forEach(function (s) { sel.appendChild(el("option", { value: s, text: t("status." + s) })); });
  sel.value = keep;
}

export function fillCategoryOptions() {
  var cats = Object.values(state.categories).sort(function (a, b) { return a.priority - b.priority || a.code.localeCompare(b.code); });
  [["f-category", 1], ["c-category", 1]].forEach(function (spec) {
    var sel = document.getElementById(spec[0]);
    var keep = spec[0] === "f-category" ? state.filter.category : sel.value;
    Array.from(sel.options).slice(spec[1]).forEach(function (o) { o.remove(); });
    cats.forEach(function (c) {
      // A retired category (the city's catalog dropped it) still filters old calls, takes no new one.
      if (c.retired_at && spec[0] === "c-category") { return; }
      sel.appendChild(el("option", { value: c.code, text: catName(c.code) + " (P" + c.priority + ")" }));
    });
    sel.value = keep;
  });
}

/* A link from the dashboard narrows the list (and the analytic overlays) to what the official
 * was looking at. */
export function readUrlFilters() {
  var qs = new URLSearchParams(window.location.search), f = state.filter;
  if (qs.get("category")) { f.category = qs.get("category"); }
  if (qs.has("status")) { f.status = qs.get("status") === "all" ? "" : qs.get("status"); }
  if (qs.get("agency")) { f.agency = qs.get("agency"); }
  if (qs.get("since") || qs.get("until")) {
    f.since = qs.get("since") || ""; f.until = qs.get("until") || ""; f.window = 0;
    if (!qs.has("status")) { f.status = ""; }
  }
  document.getElementById("f-status").value = f.status;
  renderWindows();
  document.querySelectorAll("[data-window]").forEach(function (x) {
    x.classList.toggle("active", parseInt(x.dataset.window, 10) === f.window);
  });
  renderDrilldown();
}

export function renderDrilldown() {
  var box = document.getElementById("drilldown"), f = state.filter;
  if (!box) { return; }
  var parts = [];
  if (f.agency) { parts.push(t("filter.agency") + ": " + f.agency); }
  if (f.since || f.until) { parts.push((f.since || "…").slice(0, 10) + " – " + (f.until || "…").slice(0, 10)); }
  box.hidden = !parts.length;
  box.textContent = "";
  if (!parts.length) { return; }
  box.appendChild(el("span", { text: parts.join(" · ") }));
  box.appendChild(el("button", { type: "button", class: "btn btn-small", id: "drilldown-clear", text: t("filter.clear"),
                                 onclick: function () { clearDrilldown(true); } }));
}

function clearDrilldown(reload) {
  var f = state.filter;
  if (!f.agency && !f.since && !f.until) { return; }
  f.agency = ""; f.since = ""; f.until = "";
  if (!f.window) {
    f.window = 86400;
    document.querySelectorAll("[data-window]").forEach(function (x) { x.classList.toggle("active", x.dataset.window === "86400"); });
  }
  if (window.history && window.history.replaceState) { window.history.replaceState(null, "", window.location.pathname); }
  renderDrilldown();
  reloadAnalytics();
  if (reload) { loadIncidents(); renderAll(); }
}

/* The queue ("open") holds every open call however old: the time window is for history only. */
export function renderWindows() {
  var box = document.querySelector("fieldset.windows");
  if (!box) { return; }
  var open = state.filter.status === "open";
  box.disabled = open;
  box.title = open ? t("queue.windows_open") : "";
}

export function initFilters() {
  document.getElementById("f-status").addEventListener("change", function (e) {
    state.filter.status = e.target.value; renderWindows(); loadIncidents(); renderAll();
  });
  document.getElementById("f-category").addEventListener("change", function (e) {
    state.filter.category = e.target.value; loadIncidents(); renderAll(); reloadAnalytics();
  });
  document.querySelectorAll("[data-window]").forEach(function (b) {
    b.addEventListener("click", function () {
      document.querySelectorAll("[data-window]").forEach(function (x) {
        x.classList.toggle("active", x === b); x.setAttribute("aria-pressed", x === b ? "true" : "false");
      });
      state.filter.window = parseInt(b.dataset.window, 10);
      clearDrilldown(false);
      loadIncidents(); renderAll();
    });
  });
}
