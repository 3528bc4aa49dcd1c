/* One incident's detail: facts, the status buttons the lifecycle allows next, each agency's task
 * with its state and times (and, for the agency itself, its next steps), the assigned units with
 * a live ETA to tell the caller, the response plan to fill, the timeline and notes.
 *
 * Which buttons appear is the server's answer: the lifecycle from /map/layers.json and the
 * actions the signed-in role may use from /api/v1/me (app/web/policy.py), never a copy in JS. */
import { api } from "./api.js";
import { ago, clock } from "./clock.js";
import { dl, el, toast } from "./dom.js";
import { routeLayer } from "./mapview.js";
import { renderPlan } from "./plan.js";
import { problemText } from "./problems.js";
import { scheduleListRender, selectIncident, upsertIncident } from "./queue.js";
import { API, I18N, actsFor, agencyName, catColor, catName, isOverdue, kindName, may, nextStatuses, state, t } from "./store.js";
import { showView } from "./tabs.js";
import { loadUnits } from "./units.js";

const ETA_REFRESH_MS = 30000;
const ETA_RETRY_MS = 5000;
let etaTimer = null;
let lastEta = { id: null, at: 0, data: null };

export function showDetail(id) {
  state.selected = id;
  document.getElementById("tab-detail").hidden = false;
  showView("detail");
  var cached = state.incidents.get(id);
  if (cached) { renderDetail(cached); }
  api(API + "/incidents/" + id).then(upsertIncident);
  scheduleListRender();
}

/* A section that keeps what the user is typing when the incident is redrawn (a live update). */
function keepDraft(box) {
  var ta = box.querySelector("#note-text");
  return ta ? { text: ta.value, focused: document.activeElement === ta } : null;
}

export function renderDetail(inc) {
  var box = document.getElementById("detail");
  var draft = keepDraft(box);
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
    [t("detail.description"), inc.description]
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
  var next = may("api.patch_incident") ? nextStatuses(inc.status) : [];
  if (next.length) {
    var err = el("p", { class: "form-error", id: "status-error", role: "alert" });
    box.appendChild(el("h3", { text: t("detail.status_actions") }));
    box.appendChild(el("div", { class: "status-actions" }, next.map(function (s) {
      return el("button", { type: "button", class: "btn btn-small status-btn status-" + s, "data-status": s,
                            text: t("status." + s), onclick: function () { changeStatus(inc.id, s, err); } });
    })));
    box.appendChild(err);
  }
  box.appendChild(renderTasks(inc));
  box.appendChild(renderAssigned(inc));
  if (state.lifecycle.awaiting.indexOf(inc.status) >= 0 && may("api.incident_plan")) {
    box.appendChild(el("h3", { text: t("detail.nearest") }));
    var near = el("div", { id: "nearest", class: "nearest" }, [el("p", { class: "muted", text: t("detail.loading") })]);
    box.appendChild(near);
    renderPlan(inc, near);
  } else {
    routeLayer.clearLayers();
  }
  box.appendChild(renderTimeline(inc, draft));
}

function changeStatus(id, status, errBox) {
  errBox.textContent = "";
  api(API + "/incidents/" + id, { method: "PATCH", body: { status: status } }).then(function (inc) {
    upsertIncident(inc);
    loadUnits();
  }, function (e) { errBox.textContent = problemText(e); });
}

// -- agency tasks -------------------------------------------------------------------------
/* A task's next steps, if this reader may take them: a desk dispatcher for any agency, an agency
 * user only for its own (the server refuses the rest either way). */
function taskActions(task) {
  if (!may("api.patch_task")) { return []; }
  if (actsFor() && actsFor() !== task.agency) { return []; }
  return state.lifecycle.task_transitions ? state.lifecycle.task_transitions[task.status] || [] : [];
}

function renderTasks(inc) {
  var section = el("section", { class: "tasks", id: "tasks" }, [el("h3", { text: t("tasks.title") })]);
  var tasks = inc.tasks || [];
  if (!tasks.length) { section.appendChild(el("p", { class: "muted", text: t("tasks.none") })); return section; }
  var err = el("p", { class: "form-error", role: "alert" });
  tasks.forEach(function (task) {
    var times = ["forwarded", "acknowledged", "en_route", "on_scene", "resolved", "rejected"]
      .filter(function (s) { return task[s + "_at"]; })
      .map(function (s) { return t("task." + s) + " " + clock(task[s + "_at"]); }).join(" · ");
    var actions = taskActions(task);
    var buttons = el("div", { class: "task-actions" }, actions.map(function (s) {
      return el("button", { type: "button", class: "btn btn-small task-btn task-" + s, "data-task-status": s,
                            text: t("task.do." + s),
                            onclick: function () { s === "rejected" ? askReason(task, inc, buttons, err) : patchTask(inc.id, task.agency, s, null, err); } });
    }));
    section.appendChild(el("div", { class: "task task-" + task.status, "data-agency": task.agency }, [
      el("div", {}, [el("strong", { text: agencyName(task.agency, task.agency_name) }), " ",
                     el("span", { class: "task-status", text: t("task." + task.status) })]),
      el("div", { class: "muted", text: times }),
      task.reject_reason ? el("div", { class: "muted", text: t("ev.reason", { reason: task.reject_reason }) }) : null,
      actions.length ? buttons : null
    ]));
  });
  section.appendChild(err);
  return section;
}

function askReason(task, inc, buttons, err) {
  buttons.textContent = "";
  var input = el("input", { type: "text", id: "reject-reason-" + task.agency, class: "reject-reason", maxlength: "500",
                            "aria-label": t("tasks.reason"), placeholder: t("tasks.reason") });
  buttons.appendChild(input);
  buttons.appendChild(el("button", { type: "button", class: "btn btn-small task-reject-confirm", text: t("tasks.reject_confirm"),
                                     onclick: function () { patchTask(inc.id, task.agency, "rejected", input.value, err); } }));
  input.focus();
}

function patchTask(id, agency, status, reason, err) {
  err.textContent = "";
  var body = { status: status };
  if (reason !== null) { body.reason = reason; }
  api(API + "/incidents/" + id + "/tasks/" + encodeURIComponent(agency), { method: "PATCH", body: body })
    .then(upsertIncident, function (e) { err.textContent = problemText(e); });
}

// -- assigned units and their ETA ---------------------------------------------------------
function renderAssigned(inc) {
  var active = (inc.assignments || []).filter(function (a) { return !a.released_at; });
  var section = el("section", { class: "assigned", id: "assigned" });
  window.clearTimeout(etaTimer);
  if (!active.length) { return section; }
  section.appendChild(el("h3", { text: t("units.title") }));
  var lines = el("ul", { class: "assigned-list" });
  active.forEach(function (a) {
    lines.appendChild(el("li", { "data-unit": a.unit_id }, [
      el("strong", { text: a.callsign }), " ",
      el("span", { class: "muted", text: kindName(a.unit_type) + " · " + a.agency + " · " + t("unit." + a.unit_status) }), " ",
      el("span", { class: "eta", id: "eta-" + a.unit_id })
    ]));
  });
  section.appendChild(lines);
  var first = el("p", { class: "eta-first", id: "eta-first" });
  section.appendChild(first);
  if (may("api.incident_eta")) { loadEta(inc.id, section); }
  return section;
}

/* Redraws between refreshes show the last answer at once; the routes are asked again every 30 s.
   One request per incident is in flight at a time and its answer is drawn into whichever
   section is on screen when it arrives: the stream redraws the detail after every assignment,
   and an answer addressed to a section that was since replaced would otherwise be lost. */
let etaInFlight = { id: null, promise: null };

function currentSection(id) {
  var section = document.getElementById("assigned");
  return state.selected === id && section && section.isConnected ? section : null;
}

function scheduleEta(id, delay) {
  window.clearTimeout(etaTimer);
  etaTimer = window.setTimeout(function () {
    var section = currentSection(id);
    if (section) { loadEta(id, section); }
  }, delay);
}

function loadEta(id, section) {
  var fresh = lastEta.id === id && lastEta.data && coversUnits(section, lastEta.data);
  if (fresh && Date.now() - lastEta.at < ETA_REFRESH_MS) {
    showEta(id, section, lastEta.data);
    scheduleEta(id, ETA_REFRESH_MS - (Date.now() - lastEta.at));
    return;
  }
  if (lastEta.id === id && lastEta.data) { showEta(id, section, lastEta.data); }  // older figures until the new ones come
  if (etaInFlight.id === id && etaInFlight.promise) { return; }  // its answer will find this section
  var askedFor = unitsIn(section);
  var asked = api(API + "/incidents/" + id + "/eta").then(function (d) {
    etaInFlight = { id: null, promise: null };
    lastEta = { id: id, at: Date.now(), data: d };
    var now = currentSection(id);
    if (!now) { return; }
    showEta(id, now, d);
    var added = unitsIn(now).some(function (u) { return askedFor.indexOf(u) < 0; });
    if (added) { loadEta(id, now); } else { scheduleEta(id, ETA_REFRESH_MS); }  // units assigned meanwhile: ask for them
  }, function () {
    etaInFlight = { id: null, promise: null };
    scheduleEta(id, ETA_RETRY_MS);  // no routing now: the list of units still stands
  });
  etaInFlight = { id: id, promise: asked };
}

function unitsIn(section) {
  return Array.from(section.querySelectorAll("li[data-unit]")).map(function (li) { return li.dataset.unit; });
}

function coversUnits(section, d) {
  var known = (d.units || []).map(function (u) { return String(u.unit_id); });
  return unitsIn(section).every(function (u) { return known.indexOf(u) >= 0; });
}

/* The section may not be in the page yet: renderAssigned fills it before the detail attaches it. */
function showEta(id, section, d) {
  if (state.selected !== id) { return; }
  (d.units || []).forEach(function (u) {
    var span = section.querySelector("#eta-" + u.unit_id);
    if (!span) { return; }
    span.textContent = u.method === "on_scene" ? t("units.on_scene")
      : u.eta_s === null || u.eta_s === undefined ? t("units.unknown_position")
      : t("units.eta", { m: Math.max(1, Math.round(u.eta_s / 60)), time: clock(u.arrives_at).split(" ").pop() });
  });
  var first = section.querySelector("#eta-first");
  if (first && d.first_eta_s) { first.textContent = t("units.eta_first", { m: Math.max(1, Math.round(d.first_eta_s / 60)) }); }
}

// -- timeline and notes -------------------------------------------------------------------
function eventText(e) {
  var d = e.data || {};
  if (e.kind === "status_changed") {
    return t("ev.status_changed", { from: e.from_status ? t("status." + e.from_status) : "—", to: t("status." + e.to_status) });
  }
  if (e.kind.indexOf("task_") === 0) {
    return t("ev.task", { agency: d.agency || "", status: t("task." + e.kind.slice(5)) }) +
      (d.reason ? " (" + t("ev.reason", { reason: d.reason }) + ")" : "");
  }
  if (e.kind === "forwarded") { return t("ev.forwarded", { agency: d.agency || "" }); }
  if (e.kind === "assigned") { return t("ev.assigned", { callsign: d.callsign || ("#" + d.unit_id) }); }
  if (e.kind === "note") { return t("ev.note") + ": " + (d.text || ""); }
  return I18N.has("ev." + e.kind) ? t("ev." + e.kind) : e.kind;
}


function renderTimeline(inc, draft) {
  var section = el("section", { class: "timeline", id: "timeline" }, [el("h3", { text: t("timeline.title") })]);
  var events = (inc.events || []).filter(function (e) { return e.kind !== "viewed"; });
  var ol = el("ol", { class: "timeline-list" });
  events.forEach(function (e) {
    ol.appendChild(el("li", { class: "ev ev-" + e.kind }, [
      el("span", { class: "ev-time", text: clock(e.at) }), " ",
      el("span", { class: "ev-text", text: eventText(e) }), " ",
      el("span", { class: "muted ev-actor", text: e.actor })
    ]));
  });
  section.appendChild(ol);
  if (may("api.add_note")) {
    var err = el("p", { class: "form-error", role: "alert" });
    var ta = el("textarea", { id: "note-text", rows: "2", maxlength: "1000", "aria-label": t("notes.label"),
                              placeholder: t("notes.label") });
    if (draft) { ta.value = draft.text; }
    var btn = el("button", { type: "button", class: "btn btn-small", id: "note-add", text: t("notes.add"),
      onclick: function () {
        err.textContent = "";
        btn.disabled = true;
        api(API + "/incidents/" + inc.id + "/notes", { method: "POST", body: { text: ta.value } }).then(function (updated) {
          ta.value = "";
          upsertIncident(updated);
          toast(t("notes.saved"));
        }, function (e) { err.textContent = problemText(e); }).then(function () { btn.disabled = false; });
      } });
    section.appendChild(el("div", { class: "note-form" }, [ta, btn, err]));
    if (draft && draft.focused) { window.setTimeout(function () { ta.focus(); }, 0); }
  }
  return section;
}
