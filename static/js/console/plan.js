/* "Unit terdekat" by response plan: the category's slots (e.g. a fire: 2 fire engines, 1
 * ambulance, plus one unit per other agency with a task), each filled by the fastest free unit
 * of that kind (GET /api/v1/incidents/<id>/plan), one button to send them all in one
 * all-or-nothing request, and other units nearby below for the dispatcher who knows better.
 *
 * A reader who may not assign (an agency liaison in the 112 room, a call-taker) still wants to
 * know which units are coming, which the desk is about to send and where its own agency has no
 * free unit, so the plan stays, read-only: proposals are marked as such, the dispatcher's
 * alternatives ("others nearby") are left out and one line says who assigns. */
import { api } from "./api.js";
import { el } from "./dom.js";
import { routeLayer } from "./mapview.js";
import { problemText } from "./problems.js";
import { upsertIncident } from "./queue.js";
import { API, agencyColor, kindName, may, t } from "./store.js";
import { loadUnits } from "./units.js";

var planSeq = 0;
var last = { key: null, data: null };

/* What the plan depends on: a redraw for any other change (a note, a task acknowledged) reuses it. */
function planKey(inc) {
  var active = (inc.assignments || []).filter(function (a) { return !a.released_at; })
    .map(function (a) { return a.unit_id; }).sort().join(",");
  var tasks = (inc.tasks || []).map(function (x) { return x.agency + (x.status === "rejected" ? "-" : ""); }).join(",");
  return [inc.id, inc.status, active, tasks].join("|");
}

export function renderPlan(inc, box) {
  var seq = ++planSeq;
  var key = planKey(inc);
  if (last.key === key) { routeLayer.clearLayers(); draw(inc, box, last.data); return; }
  routeLayer.clearLayers();
  api(API + "/incidents/" + inc.id + "/plan").then(function (d) {
    if (seq !== planSeq) { return; }
    last = { key: key, data: d };
    draw(inc, box, d);
  }, function () {
    if (seq !== planSeq) { return; }
    box.textContent = "";  // no routing service or it failed: show nothing
    box.appendChild(el("p", { class: "muted", text: t("detail.nearest_none") }));
  });
}

function meta(c) {
  return [
    c.eta_s !== null && c.eta_s !== undefined ? t("detail.eta", { m: Math.max(1, Math.round(c.eta_s / 60)) }) : "",
    c.distance_m ? t("detail.distance", { km: (c.distance_m / 1000).toLocaleString(window.P112I18N.lang === "en" ? "en-GB" : "id-ID", { maximumFractionDigits: 1, minimumFractionDigits: 1 }) }) : ""
  ].filter(Boolean).join(" · ");
}

function drawRoute(c, strong) {
  if (!c.route || !c.route.type) { return; }
  L.geoJSON(c.route, { pane: "routes", style: { color: agencyColor(c.agency, "#2563eb"), weight: strong ? 6 : 4,
                                                 opacity: strong ? 0.9 : 0.5, dashArray: strong ? null : "6 6" } })
    .addTo(routeLayer);
}

function assign(inc, unitIds, btn, err) {
  btn.disabled = true;
  err.textContent = "";
  var body = unitIds.length === 1 ? { unit_id: unitIds[0] } : { unit_ids: unitIds };
  return api(API + "/incidents/" + inc.id + "/assignments", { method: "POST", body: body })
    .then(function (updated) { upsertIncident(updated); loadUnits(); },
          function (e) { btn.disabled = false; err.textContent = problemText(e); });
}

function candidate(inc, c, err, readOnly) {
  var button = c.unit_id && !readOnly ? el("button", { type: "button", class: "btn btn-small btn-primary",
    text: t("detail.assign"), "data-unit": c.unit_id,
    onclick: function (ev) { assign(inc, [c.unit_id], ev.target, err); } }) : null;
  return el("li", { class: "candidate", "data-candidate": c.unit_id || "" }, [
    el("span", { class: "dot", style: "background:" + agencyColor(c.agency, "#2563eb") }),
    el("span", { class: "nearest-main" }, [
      el("strong", { text: c.callsign || c.station_name || c.agency }),
      el("span", { class: "muted", text: " " + c.agency + " · " + (c.unit_type ? kindName(c.unit_type) : t("plan.office")) })]),
    el("span", { class: "nearest-meta", text: meta(c) }),
    readOnly && c.unit_id ? el("span", { class: "muted proposed", text: " · " + t("plan.proposed") }) : null,
    button
  ]);
}

function draw(inc, box, d) {
  box.textContent = "";
  var readOnly = !may("api.assign");
  var err = el("p", { class: "form-error", role: "alert" });
  var toSend = [];
  var plan = el("ol", { class: "plan-slots", id: "plan-slots" });
  (d.plan || []).forEach(function (line, i) {
    var slot = el("li", { class: "plan-slot", "data-agency": line.agency, "data-kind": line.unit_type || "" }, [
      el("div", { class: "plan-slot-title" }, [
        el("span", { class: "dot", style: "background:" + agencyColor(line.agency, "#2563eb") }),
        el("strong", { text: t("plan.slot", { n: line.count, kind: line.unit_type ? kindName(line.unit_type) : t("plan.any_unit", { agency: line.agency }) }) }),
        el("span", { class: "muted", text: " " + line.agency + " · " + line.filled + "/" + line.count })])
    ]);
    var ul = el("ul", { class: "nearest-list" });
    (line.assigned || []).forEach(function (a) {
      ul.appendChild(el("li", { class: "assigned" }, [el("strong", { text: a.callsign }),
        el("span", { class: "muted", text: " " + kindName(a.unit_type) + " · " + t("plan.assigned") })]));
    });
    (line.candidates || []).forEach(function (c) {
      drawRoute(c, i === 0);
      if (c.unit_id) { toSend.push(c.unit_id); }
      ul.appendChild(candidate(inc, c, err, readOnly));
    });
    if (line.filled < line.count) { ul.appendChild(el("li", { class: "muted unfilled", text: t("plan.unfilled") })); }
    slot.appendChild(ul);
    plan.appendChild(slot);
  });
  box.appendChild(el("h4", { text: t("plan.title") }));
  if (readOnly) { box.appendChild(el("p", { class: "muted", id: "plan-read-only", text: t("plan.read_only") })); }
  if (d.method === "straight_line") { box.appendChild(el("p", { class: "muted", text: t("plan.straight_line") })); }
  box.appendChild(plan);
  if (toSend.length && !readOnly) {
    var all = el("button", { type: "button", class: "btn btn-primary", id: "plan-assign-all",
                             text: t("plan.assign_all", { n: toSend.length }),
                             onclick: function () { assign(inc, toSend, all, err); } });
    box.appendChild(all);
  } else if (!toSend.length) {
    box.appendChild(el("p", { class: "muted", text: t("plan.none") }));
  }
  box.appendChild(err);
  if ((d.others || []).length && !readOnly) {
    box.appendChild(el("h4", { text: t("plan.others") }));
    var others = el("ol", { class: "nearest-list others", id: "plan-others" });
    d.others.forEach(function (c) { others.appendChild(candidate(inc, c, err, false)); });
    box.appendChild(others);
  }

}
