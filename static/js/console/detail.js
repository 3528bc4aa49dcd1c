/* One incident's detail: facts, the status buttons the lifecycle allows next, and while it waits
 * for a unit, the nearest units by drive time with their routes and an assign button. */
import { api } from "./api.js";
import { ago, clock } from "./clock.js";
import { dl, el } from "./dom.js";
import { routeLayer } from "./mapview.js";
import { scheduleListRender, selectIncident, upsertIncident } from "./queue.js";
import { API, agencyColor, catColor, catName, isOverdue, nextStatuses, state, t } from "./store.js";
import { showView } from "./tabs.js";
import { loadUnits } from "./units.js";

export function showDetail(id) {
  state.selected = id;
  document.getElementById("tab-detail").hidden = false;
  showView("detail");
  var cached = state.incidents.get(id);
  if (cached) { renderDetail(cached); }
  api(API + "/incidents/" + id).then(upsertIncident);
  scheduleListRender();
}

export function renderDetail(inc) {
  var box = document.getElementById("detail");
  box.textContent = "";
  var late = isOverdue(inc);
  var header = el("div", { class: "detail-header" }, [
    el("button", { type: "button", class: "btn btn-small", text: t("detail.back"), onclick: function () { showView("list"); } }),
    el("h2", {}, [el("span", { class: "dot", style: "background:" + catColor(inc.category) }),
                  "#" + inc.id + " " + catName(inc.category, inc)]),
    el("p", {}, [el("span", { class: "status status-" + inc.status, text: t("status." + inc.status) }),
                 late ? el("span", { class: "badge-overdue", text: t("overdue") }) : null,
                 el("span", { class: "age", text: " " + ago(inc.received_at) })])
  ]);
  box.appendChild(header);
  var caller = inc.caller && (inc.caller.name || inc.caller.phone)
    ? [inc.caller.name, inc.caller.phone].filter(Boolean).join(" · ") : null;
  box.appendChild(dl([
    [t("detail.address"), inc.address],
    [t("detail.kelurahan"), inc.kelurahan && inc.kelurahan.name],
    [t("detail.caller"), caller],
    [t("detail.reports"), inc.report_count > 1 ? t("dup.reporters", { n: inc.report_count }) : null],
    [t("detail.received"), clock(inc.received_at)],
    [t("detail.target"), inc.target_response_s ? t("minutes", { n: Math.round(inc.target_response_s / 60) }) : null],
    [t("detail.description"), inc.description],
    [t("detail.agencies"), (inc.tasks || []).map(function (x) { return x.agency; }).join(", ")],
    [t("detail.assignments"), (inc.assignments || []).filter(function (a) { return !a.released_at; })
      .map(function (a) { return a.callsign; }).join(", ")]
  ]));
  if (inc.reports && inc.reports.length) {
    // Further callers merged into this incident (intake's "gabungkan ke #N").
    box.appendChild(el("h3", { text: t("detail.more_callers") }));
    box.appendChild(el("ol", { class: "reports-list" }, inc.reports.map(function (r) {
      var who = r.caller && (r.caller.name || r.caller.phone) ? [r.caller.name, r.caller.phone].filter(Boolean).join(" · ") : "";
      return el("li", { "data-report": r.id }, [clock(r.received_at) + (who ? " · " + who : "") +
                                                (r.description ? " · " + r.description : "")]);
    })));
  }
  box.appendChild(el("button", { type: "button", class: "btn btn-small", text: t("detail.open_on_map"),
                                 onclick: function () { selectIncident(inc.id, true); } }));
  var next = nextStatuses(inc.status);
  if (next.length) {
    var err = el("p", { class: "form-error", id: "status-error", role: "alert" });
    box.appendChild(el("h3", { text: t("detail.status_actions") }));
    box.appendChild(el("div", { class: "status-actions" }, next.map(function (s) {
      return el("button", { type: "button", class: "btn btn-small status-btn status-" + s, "data-status": s,
                            text: t("status." + s), onclick: function () { changeStatus(inc.id, s, err); } });
    })));
    box.appendChild(err);
  }
  if (state.lifecycle.awaiting.indexOf(inc.status) >= 0) {
    box.appendChild(el("h3", { text: t("detail.nearest") }));
    var near = el("div", { id: "nearest", class: "nearest" }, [el("p", { class: "muted", text: t("detail.loading") })]);
    box.appendChild(near);
    loadNearest(inc, near);
  } else {
    routeLayer.clearLayers();
  }
}

function changeStatus(id, status, errBox) {
  errBox.textContent = "";
  api(API + "/incidents/" + id, { method: "PATCH", body: { status: status } }).then(function (inc) {
    upsertIncident(inc);
    loadUnits();
  }, function (e) { errBox.textContent = (e.problem && (e.problem.detail || e.problem.title)) || String(e.status); });
}

var nearestSeq = 0;
function loadNearest(inc, box) {
  var seq = ++nearestSeq;
  routeLayer.clearLayers();
  api(API + "/nearest?lat=" + inc.lat + "&lon=" + inc.lon + "&k=5").then(function (d) {
    if (seq !== nearestSeq) { return; }
    renderNearest(inc, box, (d && d.candidates) || []);
  }, function () {
    if (seq !== nearestSeq) { return; }
    box.textContent = "";  // no routing service (404) or it failed: show nothing
    box.appendChild(el("p", { class: "muted", text: t("detail.nearest_none") }));
  });
}

function renderNearest(inc, box, candidates) {
  box.textContent = "";
  if (!candidates.length) { box.appendChild(el("p", { class: "muted", text: t("detail.nearest_none") })); return; }
  var err = el("p", { class: "form-error", role: "alert" });
  var ol = el("ol", { class: "nearest-list" });
  candidates.forEach(function (c, i) {
    var color = agencyColor(c.agency, "#2563eb");
    if (c.route && c.route.type) {
      L.geoJSON(c.route, { pane: "routes", style: { color: color, weight: i === 0 ? 6 : 4,
                                                     opacity: i === 0 ? 0.9 : 0.5, dashArray: i === 0 ? null : "6 6" } })
        .addTo(routeLayer);
    }
    var assign = c.unit_id ? el("button", { type: "button", class: "btn btn-small btn-primary", text: t("detail.assign"),
      "data-unit": c.unit_id, onclick: function (ev) {
        ev.target.disabled = true;
        api(API + "/incidents/" + inc.id + "/assignments", { method: "POST", body: { unit_id: c.unit_id } })
          .then(function (updated) { upsertIncident(updated); loadUnits(); },
                function (e) { ev.target.disabled = false; err.textContent = (e.problem && e.problem.detail) || e.status; });
      } }) : null;
    ol.appendChild(el("li", {}, [
      el("span", { class: "dot", style: "background:" + color }),
      el("span", { class: "nearest-main" }, [
        el("strong", { text: c.callsign || c.station_name || c.agency }),
        el("span", { class: "muted", text: " " + c.agency + (c.unit_type ? " · " + c.unit_type : "") })]),
      el("span", { class: "nearest-meta", text: [
        c.eta_s !== null && c.eta_s !== undefined ? t("detail.eta", { m: Math.max(1, Math.round(c.eta_s / 60)) }) : "",
        c.distance_m ? t("detail.distance", { km: (c.distance_m / 1000).toFixed(1) }) : ""].filter(Boolean).join(" · ") }),
      assign
    ]));
  });
  box.appendChild(ol);
  box.appendChild(err);
}
