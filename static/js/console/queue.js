/* The incident queue: the list in the panel and the incident markers on the map, both drawn from
 * the store.  upsertIncident is the one entry point for incident changes (API answers, the live
 * stream), so the list, the marker and an open detail never disagree.
 *
 * With the "open" filter the store holds every open call the reader may see (GET /api/v1/queue,
 * ordered by priority, then overdue, then waiting time), however many: the list is virtualised
 * (only the rows in view are in the DOM) and an overdue P1 call's marker is never hidden inside a
 * cluster.  Other filters page through /api/v1/incidents (the newest 500). */
import { noticeIncident } from "./alerts.js";
import { api } from "./api.js";
import { ageSeconds, ago, clock } from "./clock.js";
import { renderDetail, showDetail } from "./detail.js";
import { el } from "./dom.js";
import { styleFor } from "./layers.js";
import { incidentLayer, map, urgentLayer } from "./mapview.js";
import { API, I18N, catColor, catName, isOpen, isOverdue, layerDef, state, t } from "./store.js";
import { upsertUnit } from "./units.js";

const HISTORY_LIMIT = 500;
const QUEUE_LIMIT = 100000;   // the API's ceiling: far above any city's open calls
const OVERSCAN = 8;           // rows drawn above and below the visible ones

function incidentProps(inc) {
  return { id: inc.id, category: inc.category, color: catColor(inc.category), status: inc.status,
           open: isOpen(inc), overdue: isOverdue(inc) };
}

function incidentPopup(inc) {
  var box = el("div", { class: "popup" }, [
    el("strong", { text: "#" + inc.id + " · " + catName(inc.category, inc) }),
    el("div", { text: t("status." + inc.status) + (isOverdue(inc) ? " · " + t("overdue") : "") }),
    el("div", { text: inc.address || "" }),
    el("div", { class: "muted", text: clock(inc.received_at) + " (" + ago(inc.received_at) + ")" }),
    el("button", { type: "button", class: "btn btn-small", text: t("popup.details"),
                   onclick: function () { showDetail(inc.id); } })
  ]);
  return box;
}

/* An overdue P1 call stays on the map as its own marker, never folded into a cluster. */
function urgent(inc) { return isOverdue(inc) && inc.priority === 1; }

function removeMarker(id) {
  var m = state.markers.get(id);
  if (m) { m._p112layer.removeLayer(m); state.markers.delete(id); }
}

function drawIncident(inc) {
  var def = layerDef("incidents");
  var marker = state.markers.get(inc.id);
  var visible = matchesFilter(inc);
  if (!visible || inc.lat === null || inc.lon === null) {
    removeMarker(inc.id);
    return;
  }
  var style = Object.assign(styleFor(def || { style: {} }, incidentProps(inc)), {
    pane: "live", className: "inc-marker inc-" + inc.id + (isOverdue(inc) ? " inc-overdue" : "") +
                             (urgent(inc) ? " inc-urgent" : "")
  });
  var target = urgent(inc) ? urgentLayer : incidentLayer;
  if (marker && marker._p112layer !== target) { removeMarker(inc.id); marker = null; }
  if (!marker) {
    marker = L.circleMarker([inc.lat, inc.lon], style);
    marker.on("click", function () { selectIncident(inc.id, false); });
    marker._p112layer = target;
    state.markers.set(inc.id, marker);
    target.addLayer(marker);
  } else {
    marker.setLatLng([inc.lat, inc.lon]);
    marker.setStyle(style);
    if (marker._path) { marker._path.setAttribute("class", "leaflet-interactive " + style.className); }
  }
  marker.bindPopup(function () { return incidentPopup(state.incidents.get(inc.id) || inc); });
}

/* The queue (every open call) or a page of history: which the list shows now. */
export function queueMode() {
  var f = state.filter;
  return f.status === "open" && !f.since && !f.until && !f.agency;
}

function matchesFilter(inc) {
  var f = state.filter;
  if (f.status === "open" && !isOpen(inc)) { return false; }
  if (f.status && f.status !== "open" && inc.status !== f.status) { return false; }
  if (f.category && inc.category !== f.category) { return false; }
  // An open call is in the queue however long it has waited: the time window is for history.
  if (f.window && f.status !== "open" && ageSeconds(inc.received_at) > f.window) { return false; }
  if (f.since && Date.parse(inc.received_at) < Date.parse(f.since)) { return false; }
  if (f.until && Date.parse(inc.received_at) >= Date.parse(f.until)) { return false; }
  if (f.agency && inc.tasks && !inc.tasks.some(function (x) { return x.agency === f.agency; })) { return false; }
  return true;
}

var renderTimer = null;
export function scheduleListRender() {
  if (renderTimer) { return; }
  renderTimer = window.setTimeout(function () { renderTimer = null; renderList(); }, 30);
}

/* The one entry point for incident changes: API answers and the live stream. */
export function upsertIncident(inc) {
  if (!inc || inc.id === undefined) { return; }
  var prev = state.incidents.get(inc.id) || {};
  if (typeof inc.kelurahan === "string") {  // the queue names the kelurahan; the detail gives it whole
    inc = Object.assign({}, inc);
    if (prev.kelurahan && prev.kelurahan.name === inc.kelurahan) { delete inc.kelurahan; }
    else { inc.kelurahan = { name: inc.kelurahan }; }
  }
  inc = Object.assign({}, prev, inc, { _fetched: Date.now() });
  state.incidents.set(inc.id, inc);
  noticeIncident(prev, inc);
  drawIncident(inc);
  scheduleListRender();
  if (state.selected === inc.id) { renderDetail(inc); }
}

/* The server's queue order, kept for calls that arrive live: priority, overdue first, longest waiting. */
function queueOrder(a, b) {
  if (a.priority !== b.priority) { return a.priority - b.priority; }
  var oa = isOverdue(a) ? 0 : 1, ob = isOverdue(b) ? 0 : 1;
  if (oa !== ob) { return oa - ob; }
  return Date.parse(a.received_at) - Date.parse(b.received_at) || a.id - b.id;
}

function historyOrder(a, b) {
  var oa = isOverdue(a) ? 0 : 1, ob = isOverdue(b) ? 0 : 1;
  if (oa !== ob) { return oa - ob; }
  return Date.parse(b.received_at) - Date.parse(a.received_at);
}

function fmt(n) { return n.toLocaleString(I18N.lang === "en" ? "en-GB" : "id-ID"); }

function renderSummary(items) {
  var overdue = items.filter(isOverdue).length;
  var text;
  if (queueMode()) {
    var p1 = items.filter(function (i) { return isOverdue(i) && i.priority === 1; }).length;
    text = t("queue.summary", { n: fmt(items.length) }) +
      (overdue ? " · " + t("queue.overdue", { n: fmt(overdue) }) : "") +
      (p1 ? " · " + t("queue.overdue_p1", { n: fmt(p1) }) : "");
  } else {
    text = t("list.summary", { n: items.length }) +
      (state.total > items.length ? " · " + t("list.of_total", { n: state.total }) : "") +
      (overdue ? " · " + t("list.overdue", { n: overdue }) : "");
  }
  document.getElementById("list-summary").textContent = text;
}

/* mm:ss (or h:mm:ss) left before an open call turns overdue; null when it cannot. */
function dueLeft(inc) {
  if (!isOpen(inc) || isOverdue(inc) || !inc.due_at || state.lifecycle.awaiting.indexOf(inc.status) < 0) { return null; }
  return Math.floor((Date.parse(inc.due_at) - Date.now()) / 1000);
}

function countdownText(s) {
  s = Math.max(0, s);
  var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  var mm = (h ? String(m).padStart(2, "0") : String(m)) + ":" + String(sec).padStart(2, "0");
  return t("queue.due_in", { t: h ? h + ":" + mm : mm });
}

function ownTask(inc) {
  var mine = state.me && state.me.acts_for_agency;
  return mine ? (inc.tasks || []).filter(function (x) { return x.agency === mine; })[0] : null;
}

function row(inc, index) {
  var late = isOverdue(inc);
  var open = isOpen(inc);
  var left = dueLeft(inc);
  var task = ownTask(inc);
  return el("li", { class: "incident" + (late ? " overdue" : "") + (open ? "" : " closed") +
                           (late && inc.priority === 1 ? " overdue-p1" : "") +
                           (state.selected === inc.id ? " selected" : ""), "data-id": inc.id,
                    "data-index": index, style: "top:" + (index * state.list.rowHeight) + "px" }, [
    el("button", { type: "button", class: "incident-button", "aria-label": "#" + inc.id + " " + catName(inc.category, inc),
                   onclick: function () { selectIncident(inc.id, true); } }, [
      el("span", { class: "dot", style: "background:" + catColor(inc.category) }),
      el("span", { class: "incident-main" }, [
        el("span", { class: "incident-title" }, [
          el("span", { class: "prio prio-" + inc.priority, text: "P" + inc.priority }), " ",
          el("span", { class: "incident-id", text: "#" + inc.id }), " ", catName(inc.category, inc),
          inc.report_count > 1 ? el("span", { class: "report-badge", title: t("dup.reporters", { n: inc.report_count }),
                                              text: String(inc.report_count) }) : null]),
        el("span", { class: "incident-address", text: inc.address || (inc.lat.toFixed(5) + ", " + inc.lon.toFixed(5)) }),
        task ? el("span", { class: "incident-task task-" + task.status,
                            text: t("task.label", { agency: task.agency, status: t("task." + task.status) }) }) : null
      ]),
      el("span", { class: "incident-meta" }, [
        el("span", { class: "status status-" + inc.status, text: t("status." + inc.status) }),
        late ? el("span", { class: "badge-overdue", text: t("overdue") }) : null,
        left !== null ? el("span", { class: "countdown" + (left < 120 ? " due-soon" : ""), "data-due": inc.due_at,
                                     title: t("queue.due_label"), text: countdownText(left) }) : null,
        el("span", { class: "age", text: ago(inc.received_at) })
      ])
    ])
  ]);
}

/* The list's rows in order (state.list.items); only those in view are in the DOM. */
function renderList() {
  var items = Array.from(state.incidents.values()).filter(matchesFilter).sort(queueMode() ? queueOrder : historyOrder);
  state.list.items = items;
  renderSummary(items);
  var list = document.getElementById("incident-list");
  list.style.height = items.length ? (items.length * state.list.rowHeight) + "px" : "";
  renderRows(true);
}

function renderRows(force) {
  var list = document.getElementById("incident-list");
  var items = state.list.items;
  if (!items.length) {
    list.textContent = "";
    list.appendChild(el("li", { class: "empty", text: t("list.empty") }));
    state.list.range = [0, 0];
    return;
  }
  var scroller = list.closest(".view");
  var h = state.list.rowHeight;
  var top = Math.max(0, scroller.getBoundingClientRect().top - list.getBoundingClientRect().top);
  var height = scroller.clientHeight || window.innerHeight;
  var first = Math.max(0, Math.floor(top / h) - OVERSCAN);
  var last = Math.min(items.length, Math.ceil((top + height) / h) + OVERSCAN);
  if (!force && state.list.range[0] === first && state.list.range[1] === last) { return; }
  state.list.range = [first, last];
  var frag = document.createDocumentFragment();
  for (var i = first; i < last; i++) { frag.appendChild(row(items[i], i)); }
  list.textContent = "";
  list.appendChild(frag);
}

/* Once a second: count down, and ask the server again when a call's due time has passed. */
function tickCountdowns() {
  var expired = false;
  document.querySelectorAll("#incident-list .countdown[data-due]").forEach(function (span) {
    var s = Math.floor((Date.parse(span.dataset.due) - Date.now()) / 1000);
    span.textContent = countdownText(s);
    span.classList.toggle("due-soon", s < 120);
    if (s <= 0) { expired = true; }
  });
  if (expired && !state.list.recheckTimer) {
    state.list.recheckTimer = window.setTimeout(function () { state.list.recheckTimer = null; loadIncidents(); }, 2000);
  }
}

export function initQueue() {
  var list = document.getElementById("incident-list");
  var probe = el("li", { class: "incident", style: "visibility:hidden" }, [el("button", { class: "incident-button", text: "x" })]);
  list.appendChild(probe);
  state.list.rowHeight = probe.getBoundingClientRect().height || parseFloat(getComputedStyle(list).getPropertyValue("--row-h")) || 64;
  probe.remove();
  var pending = false;
  list.closest(".view").addEventListener("scroll", function () {
    if (pending) { return; }
    pending = true;
    window.requestAnimationFrame(function () { pending = false; renderRows(false); });
  }, { passive: true });
  window.addEventListener("resize", function () { renderRows(true); });
  window.setInterval(tickCountdowns, 1000);
}

/* Replace the store with what the server says matches now; upsert keeps it one code path. */
function replaceAll(items) {
  var keep = new Set(items.map(function (i) { return i.id; }));
  state.incidents.forEach(function (inc, id) {
    if (!keep.has(id) && id !== state.selected) {
      state.incidents.delete(id);
      removeMarker(id);
    }
  });
  items.forEach(upsertIncident);
  scheduleListRender();
}

export function loadIncidents() {
  var f = state.filter;
  if (queueMode()) {
    return api(API + "/queue?limit=" + QUEUE_LIMIT).then(function (page) {
      state.total = page.total;
      state.counts = page.counts;
      replaceAll(page.items);
    }, function () {
      document.getElementById("list-summary").textContent = t("list.error");
    });
  }
  var q = ["limit=" + HISTORY_LIMIT];
  if (f.status === "open") { q.push("open=1"); } else if (f.status) { q.push("status=" + encodeURIComponent(f.status)); }
  if (f.category) { q.push("category=" + encodeURIComponent(f.category)); }
  if (f.window && f.status !== "open") { q.push("since=" + encodeURIComponent(new Date(Date.now() - f.window * 1000).toISOString())); }
  if (f.since) { q.push("since=" + encodeURIComponent(f.since)); }
  if (f.until) { q.push("until=" + encodeURIComponent(f.until)); }
  if (f.agency) { q.push("agency=" + encodeURIComponent(f.agency)); }
  return api(API + "/incidents?" + q.join("&")).then(function (page) {
    state.total = page.total;
    replaceAll(page.items);
  }, function () {
    document.getElementById("list-summary").textContent = t("list.error");
  });
}

export function selectIncident(id, pan) {
  var inc = state.incidents.get(id);
  if (!inc) { return; }
  var marker = state.markers.get(id);
  if (pan && marker) {
    var show = function () {
      map.setView(marker.getLatLng(), Math.max(map.getZoom(), 16));
      marker.openPopup();
    };
    if (marker._p112layer === incidentLayer) { incidentLayer.zoomToShowLayer(marker, show); } else { show(); }
  } else if (marker) {
    marker.openPopup();
  }
  state.selected = id;
  scheduleListRender();
}

/* Redraw everything from the store (a filter or the language changed, ages moved on). */
export function renderAll() {
  state.incidents.forEach(drawIncident);
  state.units.forEach(function (u) { upsertUnit(u); });
  renderList();
  if (state.selected && state.tab === "detail" && state.incidents.get(state.selected)) {
    renderDetail(state.incidents.get(state.selected));
  }
}

/* The list became visible again (its tab was chosen): draw the rows now in view. */
export function showList() { renderRows(true); }
