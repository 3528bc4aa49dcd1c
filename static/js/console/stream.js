/* Live updates: an EventSource on /api/v1/stream whose events name what changed.  Incidents are
 * fetched again through the API (so the reader's rights apply), units come whole.  While the
 * stream is down, main.js polls. */
import { api } from "./api.js";
import { loadIncidents, upsertIncident } from "./queue.js";
import { API, cfg, state } from "./store.js";
import { loadUnits, upsertUnit } from "./units.js";

export function connectStream() {
  if (!window.EventSource || !cfg.streamUrl) { return false; }
  var es = new EventSource(cfg.streamUrl);
  es.addEventListener("incident", function (e) {
    var msg = JSON.parse(e.data);
    api(API + "/incidents/" + msg.id).then(upsertIncident, function () { /* gone or forbidden */ });
  });
  es.addEventListener("unit", function (e) { upsertUnit(JSON.parse(e.data)); });
  // The session or token behind the stream ended (logout elsewhere, account disabled): sign in again.
  es.addEventListener("signed_out", function () {
    es.close();
    window.location.assign("/login?next=" + encodeURIComponent(window.location.pathname + window.location.search));
  });
  es.onerror = function () { state.streaming = false; };  // EventSource retries; polling covers the gap
  // (Re)connected: catch up on whatever happened while no stream was open.
  es.onopen = function () { state.streaming = true; loadIncidents(); loadUnits(); };
  return true;
}
