/* Ringing lines: when the PBX says a line rings (SSE event "call", sent to the desk only, with the
 * call's history: stream.js hands it here), pop the
 * caller's number and history before anyone answers: earlier contacts, open incidents from that
 * number, the prank record and the block-list decision; with an AML fix, the caller's position
 * and its accuracy circle on the map, and the new-call form pre-filled with it.  A newer fix
 * replaces the circle.  Strings are added to P112I18N (Bahasa Indonesia first). */
import { api } from "./api.js";
import { placeDraft } from "./intake.js";
import { map } from "./mapview.js";
import { API, I18N, t } from "./store.js";
import { showView } from "./tabs.js";

Object.assign(I18N.strings.id, {
  "call.ringing": "Panggilan masuk", "call.answered": "Sedang dijawab", "call.ended": "Panggilan selesai",
  "call.unknown": "Nomor tidak dikenal", "call.history": "{n} kontak sebelumnya",
  "call.pranks": "Riwayat iseng: {n}×", "call.suspect": "Nomor ini sering iseng. Tetap layani dengan sopan.",
  "call.blocklisted": "Nomor ini ada di daftar rekomendasi blokir ({by}).",
  "call.open_incidents": "Kejadian terbuka dari nomor ini:", "call.location": "Lokasi penelepon (AML): ±{m} m",
  "call.no_location": "Belum ada lokasi dari ponsel penelepon.", "call.use": "Pakai untuk panggilan baru",
  "call.close": "Tutup", "call.recent": "Kontak terakhir:"
});
Object.assign(I18N.strings.en, {
  "call.ringing": "Incoming call", "call.answered": "Being answered", "call.ended": "Call ended",
  "call.unknown": "Unknown number", "call.history": "{n} earlier contacts",
  "call.pranks": "Prank record: {n}×", "call.suspect": "This number often pranks. Still answer politely.",
  "call.blocklisted": "This number is on the block-list recommendation ({by}).",
  "call.open_incidents": "Open incidents from this number:", "call.location": "Caller's location (AML): ±{m} m",
  "call.no_location": "No location from the caller's phone yet.", "call.use": "Use for the new call",
  "call.close": "Close", "call.recent": "Recent contacts:"
});

var panel = null;
var circle = null;
var shown = null;  // the call on the panel

function el(tag, attrs, children) {
  var e = document.createElement(tag);
  Object.keys(attrs || {}).forEach(function (k) {
    if (k === "text") { e.textContent = attrs[k]; } else if (k.slice(0, 2) === "on") { e.addEventListener(k.slice(2), attrs[k]); }
    else { e.setAttribute(k, attrs[k]); }
  });
  (children || []).forEach(function (c) { if (c) { e.appendChild(c); } });
  return e;
}

function num(v) { return Number(v).toLocaleString(I18N.lang === "en" ? "en-GB" : "id-ID", { maximumFractionDigits: 0 }); }

/* How precise an AML fix is, in the new-call form's terms: a fix of tens of metres is a point; a
 * wider one (Wi-Fi, a cell) is an approximation the call-taker must confirm or refine on the map. */
export function amlPrecision(radiusM) {
  return radiusM <= 50 ? "point" : radiusM <= 300 ? "street" : radiusM <= 2000 ? "kelurahan" : "kecamatan";
}

function prefill(call) {
  var loc = call.location;
  showView("new");
  var phone = document.getElementById("c-caller-phone");
  if (phone && call.caller_phone) { phone.value = call.caller_phone; }
  if (!loc) { return; }
  placeDraft(loc.lat, loc.lon, { precision: amlPrecision(loc.radius_m), from: "aml" });
}

function drawLocation(loc) {
  if (!loc) { return; }
  if (circle) { map.removeLayer(circle); }
  circle = L.circle([loc.lat, loc.lon], { radius: loc.radius_m, color: "#d7301f", weight: 2, fillOpacity: 0.12,
                                          className: "caller-location" }).addTo(map);
  map.fitBounds(circle.getBounds(), { maxZoom: 17 });
}

function render(call) {
  shown = call;
  if (!panel) {
    panel = el("aside", { id: "call-pop", class: "call-pop", role: "alertdialog", "aria-live": "assertive" });
    document.body.appendChild(panel);
  }
  var h = call.history || {};
  var review = h.blocklist;
  panel.textContent = "";
  panel.className = "call-pop " + (h.prank_suspect ? "suspect" : "") + " state-" + call.state;
  panel.appendChild(el("header", {}, [
    el("strong", { text: t("call." + call.state) }),
    el("span", { class: "call-number", text: call.caller_phone || t("call.unknown") }),
    el("button", { type: "button", class: "btn btn-small", text: t("call.close"), onclick: function () {
      panel.hidden = true;
    } })
  ]));
  panel.appendChild(el("p", { class: "call-history", text: t("call.history", { n: num(h.calls || 0) }) }));
  if (h.pranks) { panel.appendChild(el("p", { class: "call-pranks", text: t("call.pranks", { n: num(h.pranks) }) })); }
  if (h.prank_suspect) { panel.appendChild(el("p", { class: "call-warning", text: t("call.suspect") })); }
  if (review && review.decision === "approved") {
    panel.appendChild(el("p", { class: "call-warning", text: t("call.blocklisted", { by: review.actor }) }));
  }
  if ((h.open_incidents || []).length) {
    panel.appendChild(el("p", { text: t("call.open_incidents") }));
    panel.appendChild(el("ul", { class: "call-incidents" }, h.open_incidents.map(function (i) {
      return el("li", { text: "#" + i.id + " " + (i.category_name || i.category) + " (" + t("status." + i.status) + ")" });
    })));
  }
  if ((h.recent_calls || []).length) {
    panel.appendChild(el("p", { text: t("call.recent") }));
    panel.appendChild(el("ul", { class: "call-recent" }, h.recent_calls.slice(0, 5).map(function (c) {
      return el("li", { text: new Date(c.offered_at).toLocaleString(I18N.lang === "en" ? "en-GB" : "id-ID") +
                              " · " + (c.disposition || "—") });
    })));
  }
  var loc = call.location;
  panel.appendChild(el("p", { class: "call-location",
                              text: loc ? t("call.location", { m: num(loc.radius_m) }) : t("call.no_location") }));
  if (loc || call.caller_phone) {
    panel.appendChild(el("button", { type: "button", class: "btn", id: "call-use", text: t("call.use"),
                                     onclick: function () { prefill(call); } }));
  }
  panel.hidden = false;
  drawLocation(loc);
}

/* An SSE "call" message: {table: "calls", op, id, call}, sent to the desk only.  The server's live hub
 * puts in what GET /api/v1/calls/<id> answers (number, history, AML position), so the panel is drawn
 * without asking again; a message without it (an older server) is fetched as before. */
export function onCallEvent(e) {
  var msg = JSON.parse(e.data);
  // A new ring pops; a change of the call on the panel (answered, ended, a new AML fix) refreshes it.
  if (msg.op !== "insert" && !(shown && shown.id === msg.id)) { return; }
  // A chat, SMS or web report is a contact too, but not a ringing line: it waits in the Pesan tab.
  if (msg.call && msg.call.channel !== "phone" && !(shown && shown.id === msg.id)) { return; }
  if (msg.call) { render(msg.call); return; }
  api(API + "/calls/" + msg.id).then(render, function () { /* not for this reader */ });
}

I18N.onChange(function () { if (shown && panel && !panel.hidden) { render(shown); } });
