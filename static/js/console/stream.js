/* Live updates: an EventSource on /api/v1/stream.  An incident event carries the incident's summary,
 * already scoped to this reader by the server (the list's shape with tasks and assignments, never the
 * caller's name or phone), so the map draws it without asking again; only the incident open in the
 * detail view is fetched again, for its timeline.  Units come whole.  After a reconnect the browser
 * sends Last-Event-ID and the server replays what was missed, or says "resync" when it cannot: then
 * the lists are loaded again.  While the stream is down, main.js polls. */
import { api } from "./api.js";
import { refreshOn } from "./layers.js";
import { onCallEvent } from "./calls.js";
import { loadConversations, onConversationEvent } from "./conversations.js";
import { loadIncidents, upsertIncident } from "./queue.js";
import { API, cfg, state } from "./store.js";
import { loadUnits, upsertUnit } from "./units.js";

export function connectStream() {
  if (!window.EventSource || !cfg.streamUrl) { return false; }
  var es = new EventSource(cfg.streamUrl), opened = false;
  es.addEventListener("incident", function (e) {
    var msg = JSON.parse(e.data);
    if (msg.incident) { upsertIncident(msg.incident); }
    if (!msg.incident || state.selected === msg.id) {
      api(API + "/incidents/" + msg.id).then(upsertIncident, function () { /* gone or forbidden */ });
    }
  });
  es.addEventListener("unit", function (e) { upsertUnit(JSON.parse(e.data)); });
  // What this stream missed cannot be replayed (another server process, a restart): load again.
  es.addEventListener("resync", function () { loadIncidents(); loadUnits(); loadConversations(); });
  // BPBD set or cleared a kelurahan's flood level: layers that follow it draw again.
  es.addEventListener("flood", function () { refreshOn("flood"); });
  es.addEventListener("call", onCallEvent);  // a ringing line (desk roles only): calls.js pops its history
  es.addEventListener("conversation", onConversationEvent);  // a chat or report (desk only): conversations.js
  // The session or token behind the stream ended (logout elsewhere, account disabled): sign in again.
  es.addEventListener("signed_out", function () {
    es.close();
    window.location.assign("/login?next=" + encodeURIComponent(window.location.pathname + window.location.search));
  });
  es.onerror = function () { state.streaming = false; };  // EventSource retries; polling covers the gap
  // First open: catch up on what happened between the first load and the stream; later opens resume.
  es.onopen = function () {
    state.streaming = true;
    if (!opened) { opened = true; loadIncidents(); loadUnits(); loadConversations(); }
  };
  return true;
}
