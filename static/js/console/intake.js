/* The new-call form: where the caller is and how precisely we know it, open calls nearby before
 * saving (merge the caller into one of them), and a call that survives a dead network.
 *
 * Location: a map click, a dragged marker or typed coordinates is a point; an address suggestion
 * (/api/v1/geocode) says how precise it is (`precision`, else derived from its `kind`).  A street,
 * kelurahan or kecamatan centre is only an approximation: it needs a map click or an explicit
 * confirmation, and Enter alone never saves without a chosen location.
 *
 * Duplicates: with a category and a location, /api/v1/incidents/nearby-open lists open calls of
 * related categories around; "gabungkan ke #N" keeps this caller as a further report on #N
 * (POST /api/v1/incidents/<id>/reports) instead of a second incident.
 *
 * No lost call: every save goes to the outbox (IndexedDB) with its Idempotency-Key before it is
 * sent, and leaves it only when the server has answered; a call the server could not take shows
 * as pending (tertunda) and is sent again when the connection returns, even after a reload. */
import { api } from "./api.js";
import { ago } from "./clock.js";
import { showDetail } from "./detail.js";
import { el } from "./dom.js";
import { map } from "./mapview.js";
import * as outbox from "./outbox.js";
import { problemText } from "./problems.js";
import { upsertIncident } from "./queue.js";
import { API, catName, cfg, state, t } from "./store.js";

var form = document.getElementById("call-form");
var addr = document.getElementById("c-address");
var sugg = document.getElementById("address-suggestions");
var draftMarker = null;
var FIELD_OF = { lat: "location", lon: "location", location: "location", body: "form", id: "merge" };
var USER = cfg.user || "";
var RETRY_MS = 5000;

// -- how precise a location is ------------------------------------------------------------------
// Precise enough to send a unit to without asking again: a point, a house address, a landmark.
var PRECISE = ["point", "address", "landmark"];
var KIND_PRECISION = { address: "address", landmark: "landmark", street: "street", kelurahan: "kelurahan",
                       kecamatan: "kecamatan", waterway: "street", railway: "street" };

/* The geocoder's own precision when it gives one, else what the kind of place implies; an unknown
 * kind counts as approximate (asking once too often is cheaper than a unit at the wrong place). */
export function precisionOf(result) {
  return result.precision || KIND_PRECISION[result.kind] || "street";
}

function isPrecise(p) { return PRECISE.indexOf(p) >= 0; }

function uuid() {
  if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
  return "k-" + Date.now() + "-" + Math.random().toString(16).slice(2);
}

function clearErrors() {
  form.querySelectorAll(".field-error, .form-error").forEach(function (p) { p.textContent = ""; });
  form.querySelectorAll(".field.invalid").forEach(function (f) { f.classList.remove("invalid"); });
}

/* Put a problem's message next to the field it names (RFC 9457 "field"/"errors"), in the user's language. */
function showProblem(err) {
  var problem = err.problem || {};
  var errors = problem.errors || [{ field: problem.field, detail: problem.detail || problem.title }];
  var focused = false;
  errors.forEach(function (e) {
    var name = FIELD_OF[e.field] || e.field;
    var p = document.getElementById("err-" + name);
    if (!p) { p = document.getElementById("err-form"); }
    p.textContent = err.local ? e.detail : problemText({ status: err.status, problem: Object.assign({}, problem, e) });
    var wrap = form.querySelector('.field[data-field="' + name + '"]');
    if (wrap) {
      wrap.classList.add("invalid");
      var input = wrap.querySelector("input, select, textarea");
      if (input && !focused) { input.focus(); focused = true; }
    }
  });
}

function renderPrecision() {
  var line = document.getElementById("loc-precision");
  var confirm = document.getElementById("loc-confirm");
  var d = state.draft;
  if (!d) { line.hidden = true; confirm.hidden = true; return; }
  var low = !isPrecise(d.precision);
  var label = t("precision." + d.precision);
  line.textContent = t(low ? "form.precision_low" : "form.precision", { p: label });
  line.classList.toggle("low", low);
  line.hidden = false;
  confirm.hidden = !low;
}

/* The call's location: {lat, lon, precision, from: "map" | "suggestion"}. */
function setDraft(lat, lon, opts) {
  opts = opts || {};
  var precision = opts.precision || "point";
  var moved = !state.draft || state.draft.precision !== precision;
  state.draft = { lat: lat, lon: lon, precision: precision, from: opts.from || "map" };
  if (moved) { document.getElementById("c-confirm-approx").checked = false; }
  document.getElementById("c-lat").value = lat.toFixed(6);
  document.getElementById("c-lon").value = lon.toFixed(6);
  if (!draftMarker) {
    draftMarker = L.marker([lat, lon], { draggable: true, keyboard: true, title: t("form.location") }).addTo(map);
    draftMarker.on("dragend", function () {
      var p = draftMarker.getLatLng();
      setDraft(p.lat, p.lng);
    });
  } else {
    draftMarker.setLatLng([lat, lon]);
  }
  var hint = document.getElementById("loc-hint");
  hint.textContent = opts.label ? t("form.near", { place: opts.label }) : t("form.location_set");
  if (!opts.label) {
    api(API + "/reverse?lat=" + lat + "&lon=" + lon).then(function (r) {
      var parts = [r && r.street && r.street.name, r && r.kelurahan && r.kelurahan.name].filter(Boolean);
      if (parts.length && state.draft && state.draft.lat === lat) { hint.textContent = t("form.near", { place: parts.join(", ") }); }
    }, function () { /* reverse geocoding is a nicety */ });
  }
  var err = document.getElementById("err-location");
  if (err.textContent) { err.textContent = ""; }
  renderPrecision();
  checkDuplicates();
}

/* A location from elsewhere (the caller's handset, calls.js): ``precision`` as for a suggestion. */
export function placeDraft(lat, lon, opts) {
  setDraft(lat, lon, opts);
  map.panTo([lat, lon]);
}

function clearDraft() {
  state.draft = null;
  state.idempotencyKey = null;
  if (draftMarker) { map.removeLayer(draftMarker); draftMarker = null; }
  document.getElementById("loc-hint").textContent = t("form.location_hint");
  renderPrecision();
  renderDuplicates(null);
}

// -- address suggestions: arrows to move, Enter to choose, Escape to close ------------------------
var suggItems = [], suggIndex = -1, suggTimer = null, suggSeq = 0;

function closeSuggestions() {
  sugg.hidden = true; sugg.textContent = ""; suggItems = []; suggIndex = -1;
  addr.setAttribute("aria-expanded", "false");
  addr.removeAttribute("aria-activedescendant");
}

function chooseSuggestion(i) {
  var r = suggItems[i];
  if (!r) { return; }
  addr.value = r.name + (r.kelurahan ? ", " + r.kelurahan : "");
  setDraft(r.lat, r.lon, { label: r.name, precision: r.precision, from: "suggestion" });
  map.setView([r.lat, r.lon], Math.max(map.getZoom(), 16));
  closeSuggestions();
}

function highlight(i) {
  suggIndex = i;
  Array.from(sugg.children).forEach(function (li, j) { li.setAttribute("aria-selected", j === i ? "true" : "false"); });
  if (i >= 0) {
    addr.setAttribute("aria-activedescendant", "sugg-" + i);
    var li = sugg.children[i];
    if (li && li.scrollIntoView) { li.scrollIntoView({ block: "nearest" }); }
  }
}

function onAddressInput() {
  // Typing on after choosing a suggestion: that place no longer says where the caller is.
  if (state.draft && state.draft.from === "suggestion") {
    state.draft = null;
    if (draftMarker) { map.removeLayer(draftMarker); draftMarker = null; }
    document.getElementById("c-lat").value = "";
    document.getElementById("c-lon").value = "";
    document.getElementById("loc-hint").textContent = t("form.location_hint");
    renderPrecision();
    renderDuplicates(null);
  }
  window.clearTimeout(suggTimer);
  var q = addr.value.trim();
  if (q.length < 3) { closeSuggestions(); return; }
  suggTimer = window.setTimeout(function () {
    var seq = ++suggSeq;
    api(API + "/geocode?q=" + encodeURIComponent(q)).then(function (d) {
      if (seq !== suggSeq) { return; }
      sugg.textContent = "";
      suggItems = (d.results || []).slice(0, 8).map(function (r) {
        return { name: r.name, lat: r.lat, lon: r.lon, kind: r.kind, precision: precisionOf(r),
                 kelurahan: r.kelurahan && (r.kelurahan.name || r.kelurahan) };
      });
      if (!suggItems.length) {
        sugg.appendChild(el("li", { class: "muted", text: t("form.no_suggestions") }));
      }
      suggItems.forEach(function (r, i) {
        sugg.appendChild(el("li", { id: "sugg-" + i, role: "option", "aria-selected": "false", "data-precision": r.precision,
          onmousedown: function (ev) { ev.preventDefault(); chooseSuggestion(i); } },
          [r.name,
           el("span", { class: "sugg-precision" + (isPrecise(r.precision) ? "" : " low"), text: t("precision." + r.precision) }),
           el("span", { class: "muted", text: typeof r.kelurahan === "string" ? " · " + r.kelurahan : "" })]));
      });
      sugg.hidden = false;
      addr.setAttribute("aria-expanded", "true");
      suggIndex = -1;
      // On a phone the list must not open below the fold.
      var box = sugg.getBoundingClientRect();
      if (box.bottom > window.innerHeight && addr.scrollIntoView) { addr.scrollIntoView({ block: "start" }); }
    }, closeSuggestions);
  }, 250);
}

function onAddressKey(e) {
  if (sugg.hidden || !suggItems.length) { return; }
  if (e.key === "ArrowDown") { e.preventDefault(); highlight(Math.min(suggIndex + 1, suggItems.length - 1)); }
  else if (e.key === "ArrowUp") { e.preventDefault(); highlight(Math.max(suggIndex - 1, 0)); }
  else if (e.key === "Enter" && suggIndex >= 0) { e.preventDefault(); chooseSuggestion(suggIndex); }
  else if (e.key === "Escape") { closeSuggestions(); }
}

// -- open calls nearby, and merging this caller into one -----------------------------------------
var dupTimer = null, dupSeq = 0;

function checkDuplicates() {
  window.clearTimeout(dupTimer);
  var category = form.category.value;
  if (!state.draft || !category) { renderDuplicates(null); return; }
  var d = state.draft;
  dupTimer = window.setTimeout(function () {
    var seq = ++dupSeq;
    api(API + "/incidents/nearby-open?lat=" + d.lat + "&lon=" + d.lon + "&category=" + encodeURIComponent(category))
      .then(function (res) { if (seq === dupSeq) { renderDuplicates(res.items || []); } },
            function () { if (seq === dupSeq) { renderDuplicates(null); } });
  }, 150);
}

function renderDuplicates(items) {
  var box = document.getElementById("dup-box");
  var list = document.getElementById("dup-list");
  list.textContent = "";
  document.getElementById("err-merge").textContent = "";
  if (!items || !items.length) { box.hidden = true; return; }
  document.getElementById("dup-title").textContent = t("dup.title", { n: items.length });
  items.forEach(function (inc) {
    var meta = [t("dup.distance", { m: Math.round(inc.distance_m).toLocaleString("id-ID") }),
                t("status." + inc.status), ago(inc.received_at),
                inc.report_count > 1 ? t("dup.reporters", { n: inc.report_count }) : null,
                inc.address].filter(Boolean).join(" · ");
    list.appendChild(el("li", { "data-id": inc.id }, [
      el("a", { href: "#", class: "dup-link", text: "#" + inc.id + " " + catName(inc.category, inc),
                onclick: function (ev) { ev.preventDefault(); showDetail(inc.id); } }),
      el("span", { class: "dup-meta", text: meta }),
      el("button", { type: "button", class: "btn btn-small", "data-merge": inc.id, text: t("dup.merge", { id: inc.id }),
                     onclick: function () { merge(inc.id); } })
    ]));
  });
  box.hidden = false;
}

function callerFields() {
  return {
    address: addr.value.trim() || null,
    caller: { name: form.caller_name.value.trim() || null, phone: form.caller_phone.value.trim() || null },
    description: form.description.value.trim() || null,
    source: "phone"
  };
}

function merge(id) {
  clearErrors();
  var body = callerFields();
  if (state.draft) { body.location = { lat: state.draft.lat, lon: state.draft.lon }; }
  state.idempotencyKey = state.idempotencyKey || uuid();
  deliver({ key: state.idempotencyKey, user: USER, kind: "report", target: id, path: API + "/incidents/" + id + "/reports",
            body: body, label: t("pending.report", { id: id }), saved_at: new Date().toISOString(), attempts: 0 });
}

// -- saving: outbox first, then the server ---------------------------------------------------------
function submit(e) {
  e.preventDefault();
  if (document.getElementById("c-submit").disabled) { return; }  // already saving this call
  clearErrors();
  closeSuggestions();
  var problems = [];
  if (!form.category.value) { problems.push({ field: "category", detail: t("form.need_category") }); }
  var d = state.draft;
  if (!d) {
    problems.push({ field: "location", detail: t("form.need_location") });
  } else if (!isPrecise(d.precision) && !document.getElementById("c-confirm-approx").checked) {
    problems.push({ field: "location", detail: t("form.need_confirm", { p: t("precision." + d.precision) }) });
  }
  if (problems.length) {
    showProblem({ local: true, problem: { errors: problems } });
    if (d && problems.some(function (p) { return p.field === "location"; })) { document.getElementById("c-confirm-approx").focus(); }
    return;
  }
  var body = Object.assign({ category: form.category.value, location: { lat: d.lat, lon: d.lon } }, callerFields());
  // One key per call being typed: a double click, a retry or a resend after a reload never logs it twice.
  state.idempotencyKey = state.idempotencyKey || uuid();
  var where = body.address || (d.lat.toFixed(5) + ", " + d.lon.toFixed(5));
  deliver({ key: state.idempotencyKey, user: USER, kind: "incident", path: API + "/incidents", body: body,
            label: catName(body.category) + " · " + where, saved_at: new Date().toISOString(), attempts: 0 });
}

function setBusy(busy) {
  var btn = document.getElementById("c-submit");
  btn.disabled = busy;
  btn.textContent = t(busy ? "form.saving" : "form.submit");
  document.querySelectorAll("#dup-list [data-merge]").forEach(function (b) { b.disabled = busy; });
}

/* Keep the call, send it, and tell the call-taker which of three things happened. */
function deliver(item) {
  setBusy(true);
  keep(item).then(function () { return send(item, true); }).then(function (r) {
    if (r.incident) {
      form.reset();
      saved(r.incident, item);
    } else if (r.pending) {
      form.reset();
      showLastSaved(t("form.pending_saved"), null);
    } else {
      showProblem({ status: r.status, problem: r.problem || {} });
    }
  }).then(function () { setBusy(false); renderPending(); });
}

/* True once the call is in IndexedDB; false where there is none (some private modes): it is sent
 * all the same, but then a failure leaves it in the form rather than reporting it kept. */
function keep(item) {
  return outbox.put(item).then(function () { return true; }, function () { return false; });
}

/* One attempt.  {incident} when the server answered with it; {pending} when the call stays in
 * the outbox for later; {problem} when the server refused it (the form shows why, or, for a call
 * sent from the outbox, it stays there marked refused until the call-taker deals with it). */
var inFlight = new Set();  // keys being sent now: the form's save and the retry timer never race

function send(item, fromForm) {
  inFlight.add(item.key);
  return api(item.path, { method: "POST", body: item.body, headers: { "Idempotency-Key": item.key } }).then(
    function (inc) {
      return outbox.remove(item.key).catch(function () {}).then(function () { return { incident: inc }; });
    },
    function (err) {
      if (outbox.shouldRetry(err.status)) {
        item.attempts = (item.attempts || 0) + 1;
        item.error = null;
        return keep(item).then(function (kept) { return kept ? { pending: true } : { problem: err.problem, status: err.status }; });
      }
      if (fromForm) {
        return outbox.remove(item.key).catch(function () {}).then(function () { return { problem: err.problem, status: err.status }; });
      }
      item.error = (err.problem && (err.problem.detail || err.problem.title)) || String(err.status);
      return keep(item).then(function () { return { problem: err.problem, kept: true }; });
    }).then(function (r) { inFlight.delete(item.key); return r; });
}

function saved(inc, item) {
  upsertIncident(inc);
  showDetail(inc.id);
  var m = state.markers.get(inc.id);
  if (m) { map.setView(m.getLatLng(), Math.max(map.getZoom(), 15)); }
  var parts = [item.kind === "report" ? t("dup.merged", { id: inc.id, n: inc.report_count })
                                      : t("form.saved_at", { id: inc.id, category: catName(inc.category, inc) })];
  if (item.kind !== "report" && inc.duplicate_of) { parts.push(t("form.duplicate", { id: inc.duplicate_of })); }
  if (inc.prank_history && inc.prank_history.suspect) { parts.push(t("form.prank_suspect", { n: inc.prank_history.pranks })); }
  showLastSaved(parts.join(" "), inc.duplicate_of && item.kind !== "report" ? inc.duplicate_of : inc.id);
}

/* What happened to the last call stays in view until the next one (no toast that vanishes). */
function showLastSaved(text, openId) {
  var line = document.getElementById("last-saved");
  line.textContent = "";
  line.appendChild(el("span", { text: text }));
  if (openId) {
    line.appendChild(el("a", { href: "#", class: "last-saved-open", text: t("form.open") + " #" + openId,
                               onclick: function (ev) { ev.preventDefault(); showDetail(openId); } }));
  }
  line.appendChild(el("button", { type: "button", class: "btn btn-small", text: t("form.close"),
                                  onclick: function () { line.hidden = true; } }));
  line.hidden = false;
}

// -- pending calls ---------------------------------------------------------------------------------
var flushing = false;

/* Send every pending call of this call-taker, oldest first; stop at the first that still cannot go. */
export function flushPending() {
  if (flushing) { return Promise.resolve(); }
  flushing = true;
  return outbox.list(USER).then(function (items) {
    return items.filter(function (it) { return !it.error && !inFlight.has(it.key); }).reduce(function (chain, it) {
      return chain.then(function (stop) {
        if (stop) { return true; }
        return send(it, false).then(function (r) {
          if (r.incident) {
            upsertIncident(r.incident);
            showLastSaved(t("pending.sent", { id: r.incident.id }), r.incident.id);
          }
          return !!r.pending;
        });
      });
    }, Promise.resolve(false));
  }).catch(function () { /* no IndexedDB */ }).then(function () {
    flushing = false;
    return renderPending();
  });
}

function renderPending() {
  return outbox.list(USER).then(function (items) {
    var box = document.getElementById("pending-calls");
    var list = document.getElementById("pending-list");
    list.textContent = "";
    items.forEach(function (it) {
      var when = new Date(it.saved_at).toLocaleTimeString("id-ID", { hour: "2-digit", minute: "2-digit" });
      var state_ = it.error ? t("pending.failed", { detail: it.error })
                            : t("pending.item") + (it.attempts ? " · " + t("pending.tries", { n: it.attempts }) : "");
      list.appendChild(el("li", { "data-key": it.key, class: it.error ? "failed" : "pending" }, [
        el("span", { text: when + " · " + it.label + " · " + state_ + " " }),
        it.error ? el("button", { type: "button", class: "btn btn-small", text: t("pending.edit"),
                                  onclick: function () { toForm(it); } }) : null,
        it.error ? el("button", { type: "button", class: "btn btn-small", text: t("pending.drop"),
                                  onclick: function () { outbox.remove(it.key).then(renderPending); } }) : null
      ]));
    });
    box.hidden = !items.length;
  }, function () { document.getElementById("pending-calls").hidden = true; });
}

/* A call the server refused goes back into the form to be corrected (and leaves the outbox). */
function toForm(it) {
  var b = it.body;
  form.reset();
  document.getElementById("tab-new").click();
  if (b.category) { form.category.value = b.category; }
  addr.value = b.address || "";
  form.caller_name.value = (b.caller && b.caller.name) || "";
  form.caller_phone.value = (b.caller && b.caller.phone) || "";
  form.description.value = b.description || "";
  if (b.location) { setDraft(b.location.lat, b.location.lon); }
  outbox.remove(it.key).then(renderPending);
}

export function initIntake() {
  map.on("click", function (e) {
    if (state.tab !== "new") { return; }
    setDraft(e.latlng.lat, e.latlng.lng);
  });
  ["c-lat", "c-lon"].forEach(function (id) {
    document.getElementById(id).addEventListener("change", function () {
      var lat = parseFloat(document.getElementById("c-lat").value);
      var lon = parseFloat(document.getElementById("c-lon").value);
      if (isFinite(lat) && isFinite(lon)) { setDraft(lat, lon); map.panTo([lat, lon]); }
    });
  });
  addr.addEventListener("input", onAddressInput);
  addr.addEventListener("keydown", onAddressKey);
  addr.addEventListener("blur", function () { window.setTimeout(closeSuggestions, 150); });
  form.category.addEventListener("change", checkDuplicates);
  document.getElementById("c-confirm-approx").addEventListener("change", function () {
    if (this.checked) { document.getElementById("err-location").textContent = ""; }
  });
  form.addEventListener("reset", function () { clearErrors(); clearDraft(); closeSuggestions(); });
  form.addEventListener("submit", submit);
  document.getElementById("pending-send").addEventListener("click", flushPending);
  // The connection is back (or may be): send what is waiting.
  window.addEventListener("online", flushPending);
  window.setInterval(flushPending, RETRY_MS);
  flushPending();
}
