/* The new-call form: a location from a map click, a dragged marker, typed coordinates or an
 * address suggestion (/api/v1/geocode); problems shown next to the field they name; one
 * Idempotency-Key per call being typed, so a double click or a retry never logs a call twice. */
import { api } from "./api.js";
import { showDetail } from "./detail.js";
import { el, toast } from "./dom.js";
import { map } from "./mapview.js";
import { problemText } from "./problems.js";
import { upsertIncident } from "./queue.js";
import { API, state, t } from "./store.js";

var form = document.getElementById("call-form");
var addr = document.getElementById("c-address");
var sugg = document.getElementById("address-suggestions");
var draftMarker = null;
var FIELD_OF = { lat: "location", lon: "location", location: "location", body: "form" };

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
    p.textContent = problemText({ status: err.status, problem: Object.assign({}, problem, e) });
    var wrap = form.querySelector('.field[data-field="' + name + '"]');
    if (wrap) {
      wrap.classList.add("invalid");
      var input = wrap.querySelector("input, select, textarea");
      if (input && !focused) { input.focus(); focused = true; }
    }
  });
}

function setDraft(lat, lon, label) {
  state.draft = { lat: lat, lon: lon };
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
  hint.textContent = label ? t("form.near", { place: label }) : t("form.location_set");
  if (!label) {
    api(API + "/reverse?lat=" + lat + "&lon=" + lon).then(function (r) {
      var parts = [r && r.street && r.street.name, r && r.kelurahan && r.kelurahan.name].filter(Boolean);
      if (parts.length && state.draft && state.draft.lat === lat) { hint.textContent = t("form.near", { place: parts.join(", ") }); }
    }, function () { /* reverse geocoding is a nicety */ });
  }
}

function clearDraft() {
  state.draft = null;
  state.idempotencyKey = null;
  if (draftMarker) { map.removeLayer(draftMarker); draftMarker = null; }
  document.getElementById("loc-hint").textContent = t("form.location_hint");
}

// Address suggestions from /api/v1/geocode: arrows to move, Enter to choose, Escape to close.
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
  setDraft(r.lat, r.lon, r.name);
  map.setView([r.lat, r.lon], Math.max(map.getZoom(), 16));
  closeSuggestions();
}

function highlight(i) {
  suggIndex = i;
  Array.from(sugg.children).forEach(function (li, j) { li.setAttribute("aria-selected", j === i ? "true" : "false"); });
  if (i >= 0) { addr.setAttribute("aria-activedescendant", "sugg-" + i); }
}

function onAddressInput() {
  window.clearTimeout(suggTimer);
  var q = addr.value.trim();
  if (q.length < 3) { closeSuggestions(); return; }
  suggTimer = window.setTimeout(function () {
    var seq = ++suggSeq;
    api(API + "/geocode?q=" + encodeURIComponent(q)).then(function (d) {
      if (seq !== suggSeq) { return; }
      sugg.textContent = "";
      suggItems = (d.results || []).slice(0, 8).map(function (r) {
        return { name: r.name, lat: r.lat, lon: r.lon, kind: r.kind,
                 kelurahan: r.kelurahan && (r.kelurahan.name || r.kelurahan) };
      });
      if (!suggItems.length) {
        sugg.appendChild(el("li", { class: "muted", text: t("form.no_suggestions") }));
      }
      suggItems.forEach(function (r, i) {
        sugg.appendChild(el("li", { id: "sugg-" + i, role: "option", "aria-selected": "false",
          onmousedown: function (ev) { ev.preventDefault(); chooseSuggestion(i); } },
          [r.name, el("span", { class: "muted", text: " " + [r.kind, typeof r.kelurahan === "string" ? r.kelurahan : ""].filter(Boolean).join(" · ") })]));
      });
      sugg.hidden = false;
      addr.setAttribute("aria-expanded", "true");
      suggIndex = -1;
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

function submit(e) {
  e.preventDefault();
  clearErrors();
  var body = {
    category: form.category.value || null,
    address: addr.value.trim() || null,
    caller: { name: form.caller_name.value.trim() || null, phone: form.caller_phone.value.trim() || null },
    description: form.description.value.trim() || null,
    source: "phone"
  };
  if (state.draft) { body.location = { lat: state.draft.lat, lon: state.draft.lon }; }
  // One key per call being typed: a double click or a retry after a timeout never logs it twice.
  state.idempotencyKey = state.idempotencyKey || uuid();
  var btn = document.getElementById("c-submit");
  btn.disabled = true;
  btn.textContent = t("form.saving");
  api(API + "/incidents", { method: "POST", body: body, headers: { "Idempotency-Key": state.idempotencyKey } })
    .then(function (inc) {
      form.reset();
      upsertIncident(inc);
      showDetail(inc.id);
      var notes = [t("form.saved", { id: inc.id })];
      if (inc.duplicate_of) { notes.push(t("form.duplicate", { id: inc.duplicate_of })); }
      if (inc.prank_history && inc.prank_history.suspect) { notes.push(t("form.prank_suspect", { n: inc.prank_history.pranks })); }
      toast(notes.join(" "));
      var m = state.markers.get(inc.id);
      if (m) { map.setView(m.getLatLng(), Math.max(map.getZoom(), 15)); }
    }, showProblem)
    .then(function () { btn.disabled = false; btn.textContent = t("form.submit"); });
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
  form.addEventListener("reset", function () { clearErrors(); clearDraft(); closeSuggestions(); });
  form.addEventListener("submit", submit);
}
