/* The incident queue: the list in the panel and the incident markers on the map, both drawn from
 * the store.  upsertIncident is the one entry point for incident changes (API answers, the live
 * stream), so the list, the marker and an open detail never disagree. */
import { api } from "./api.js";
import { ageSeconds, ago, clock } from "./clock.js";
import { renderDetail, showDetail } from "./detail.js";
import { el } from "./dom.js";
import { styleFor } from "./layers.js";
import { incidentLayer, map } from "./mapview.js";
import { API, catColor, catName, isOpen, isOverdue, layerDef, state, t } from "./store.js";
import { upsertUnit } from "./units.js";

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

function drawIncident(inc) {
  var def = layerDef("incidents");
  var marker = state.markers.get(inc.id);
  var visible = matchesFilter(inc);
  if (!visible || inc.lat === null || inc.lon === null) {
    if (marker) { incidentLayer.removeLayer(marker); state.markers.delete(inc.id); }
    return;
  }
  var style = Object.assign(styleFor(def || { style: {} }, incidentProps(inc)), {
    pane: "live", className: "inc-marker inc-" + inc.id + (isOverdue(inc) ? " inc-overdue" : "")
  });
  if (!marker) {
    marker = L.circleMarker([inc.lat, inc.lon], style);
    marker.on("click", function () { selectIncident(inc.id, false); });
    state.markers.set(inc.id, marker);
    incidentLayer.addLayer(marker);
  } else {
    marker.setLatLng([inc.lat, inc.lon]);
    marker.setStyle(style);
    if (marker._path) { marker._path.setAttribute("class", "leaflet-interactive " + style.className); }
  }
  marker.bindPopup(function () { return incidentPopup(state.incidents.get(inc.id) || inc); });
}

function matchesFilter(inc) {
  var f = state.filter;
  if (f.status === "open" && !isOpen(inc)) { return false; }
  if (f.status && f.status !== "open" && inc.status !== f.status) { return false; }
  if (f.category && inc.category !== f.category) { return false; }
  if (f.window && ageSeconds(inc.received_at) > f.window) { return false; }
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
  inc = Object.assign({}, prev, inc, { _fetched: Date.now() });
  state.incidents.set(inc.id, inc);
  drawIncident(inc);
  scheduleListRender();
  if (state.selected === inc.id) { renderDetail(inc); }
}

function renderList() {
  var list = document.getElementById("incident-list");
  var items = Array.from(state.incidents.values()).filter(matchesFilter).sort(function (a, b) {
    var oa = isOverdue(a) ? 0 : 1, ob = isOverdue(b) ? 0 : 1;
    if (oa !== ob) { return oa - ob; }
    return Date.parse(b.received_at) - Date.parse(a.received_at);
  });
  list.textContent = "";
  var overdue = items.filter(isOverdue).length;
  document.getElementById("list-summary").textContent = t("list.summary", { n: items.length }) +
    (state.total > items.length ? " · " + t("list.of_total", { n: state.total }) : "") +
    (overdue ? " · " + t("list.overdue", { n: overdue }) : "");
  if (!items.length) {
    list.appendChild(el("li", { class: "empty", text: t("list.empty") }));
    return;
  }
  items.forEach(function (inc) {
    var late = isOverdue(inc);
    var open = isOpen(inc);
    var li = el("li", { class: "incident" + (late ? " overdue" : "") + (open ? "" : " closed") +
                               (state.selected === inc.id ? " selected" : ""), "data-id": inc.id }, [
      el("button", { type: "button", class: "incident-button", "aria-label": "#" + inc.id + " " + catName(inc.category, inc),
                     onclick: function () { selectIncident(inc.id, true); } }, [
        el("span", { class: "dot", style: "background:" + catColor(inc.category) }),
        el("span", { class: "incident-main" }, [
          el("span", { class: "incident-title" }, [
            el("span", { class: "incident-id", text: "#" + inc.id }), " ", catName(inc.category, inc),
            inc.report_count > 1 ? el("span", { class: "report-badge", title: t("dup.reporters", { n: inc.report_count }),
                                                text: String(inc.report_count) }) : null]),
          el("span", { class: "incident-address", text: inc.address || (inc.lat.toFixed(5) + ", " + inc.lon.toFixed(5)) })
        ]),
        el("span", { class: "incident-meta" }, [
          el("span", { class: "status status-" + inc.status, text: t("status." + inc.status) }),
          late ? el("span", { class: "badge-overdue", text: t("overdue") }) : null,
          el("span", { class: "age", text: ago(inc.received_at) })
        ])
      ])
    ]);
    list.appendChild(li);
  });
}

export function loadIncidents() {
  var f = state.filter;
  var q = ["limit=500"];
  if (f.status === "open") { q.push("open=1"); } else if (f.status) { q.push("status=" + encodeURIComponent(f.status)); }
  if (f.category) { q.push("category=" + encodeURIComponent(f.category)); }
  if (f.window) { q.push("since=" + encodeURIComponent(new Date(Date.now() - f.window * 1000).toISOString())); }
  if (f.since) { q.push("since=" + encodeURIComponent(f.since)); }
  if (f.until) { q.push("until=" + encodeURIComponent(f.until)); }
  if (f.agency) { q.push("agency=" + encodeURIComponent(f.agency)); }
  return api(API + "/incidents?" + q.join("&")).then(function (page) {
    state.total = page.total;
    // Replace the store with what the server says matches now; upsert keeps it one code path.
    state.incidents.forEach(function (inc, id) {
      if (!page.items.some(function (i) { return i.id === id; }) && id !== state.selected) {
        state.incidents.delete(id);
        var m = state.markers.get(id);
        if (m) { incidentLayer.removeLayer(m); state.markers.delete(id); }
      }
    });
    page.items.forEach(upsertIncident);
    scheduleListRender();
  }, function () {
    document.getElementById("list-summary").textContent = t("list.error");
  });
}

export function selectIncident(id, pan) {
  var inc = state.incidents.get(id);
  if (!inc) { return; }
  var marker = state.markers.get(id);
  if (pan && marker) {
    incidentLayer.zoomToShowLayer(marker, function () {
      map.setView(marker.getLatLng(), Math.max(map.getZoom(), 16));
      marker.openPopup();
    });
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
