/* Alerts for the calls that cannot wait: a new P1 call and a call turning overdue get a banner
 * and a short beep (WebAudio, no sound file to download).  The sound can be muted; the choice is
 * remembered in this browser.  Whether a call is overdue is the server's verdict (is_overdue). */
import { el } from "./dom.js";
import { catName, isOpen, isOverdue, state, t } from "./store.js";

const MUTE_KEY = "peta112.alerts.muted";
const NEW_CALL_MARGIN_MS = 60000;  // a P1 received just before the page loaded is still news
const startedAt = Date.now();
let audio = null;
let onOpen = null;

export function muted() {
  try { return window.localStorage.getItem(MUTE_KEY) === "1"; } catch (e) { return false; }
}

function setMuted(on) {
  try { window.localStorage.setItem(MUTE_KEY, on ? "1" : "0"); } catch (e) { /* private mode */ }
  renderMute();
}

function renderMute() {
  const btn = document.getElementById("alert-mute");
  if (!btn) { return; }
  btn.textContent = muted() ? t("alert.unmute") : t("alert.mute");
  btn.setAttribute("aria-pressed", muted() ? "true" : "false");
  btn.setAttribute("aria-label", t("alert.mute_label"));
}

/* Two short tones; browsers start audio only after a user gesture, so a blocked context stays silent. */
function beep() {
  state.alerts.beeps += 1;
  if (muted()) { return; }
  try {
    audio = audio || new (window.AudioContext || window.webkitAudioContext)();
    [0, 0.3].forEach(function (at) {
      const osc = audio.createOscillator(), gain = audio.createGain();
      osc.type = "square";
      osc.frequency.value = 880;
      gain.gain.value = 0.08;
      osc.connect(gain); gain.connect(audio.destination);
      osc.start(audio.currentTime + at);
      osc.stop(audio.currentTime + at + 0.18);
    });
  } catch (e) { /* no audio device: the banner still shows */ }
}

function raise(kind, inc) {
  state.alerts.raised.push({ kind: kind, id: inc.id });
  const bar = document.getElementById("alert-bar");
  if (bar) {
    const item = el("div", { class: "alert-item alert-" + kind, "data-id": inc.id }, [
      el("span", { text: t("alert." + kind, { id: inc.id, category: catName(inc.category, inc) }) }),
      el("button", { type: "button", class: "btn btn-small", text: t("alert.open"),
                     onclick: function () { item.remove(); if (onOpen) { onOpen(inc.id); } } }),
      el("button", { type: "button", class: "btn btn-small", text: t("alert.dismiss"), "aria-label": t("alert.dismiss"),
                     onclick: function () { item.remove(); } })
    ]);
    bar.prepend(item);
    while (bar.children.length > 5) { bar.lastChild.remove(); }
  }
  beep();
}

/* Called for every incident change with the store's previous copy ({} when it is new to this page). */
export function noticeIncident(prev, inc) {
  if (!isOpen(inc)) { return; }
  const seen = state.alerts.seen.has(inc.id);
  state.alerts.seen.add(inc.id);
  if (!seen && inc.priority === 1 && Date.parse(inc.received_at) >= startedAt - NEW_CALL_MARGIN_MS) {
    raise("new_p1", inc);
  } else if (seen && prev.id !== undefined && !isOverdue(prev) && isOverdue(inc)) {
    raise("overdue", inc);
  }
}

export function initAlerts(openIncident) {
  onOpen = openIncident;
  const btn = document.getElementById("alert-mute");
  if (btn) { btn.addEventListener("click", function () { setMuted(!muted()); }); }
  renderMute();
}

export { renderMute };
