/* The unit status board: every unit the reader may act with, by agency, with its status and
 * since when (units.status_since), and the incident it is on.  An agency user sees its own
 * agency's units; the desk sees all.  Drawn from the store, so the live stream keeps it current. */
import { ago, clock } from "./clock.js";
import { el } from "./dom.js";
import { actsFor, agencyName, kindName, state, t } from "./store.js";

var timer = null;

export function renderBoard() {
  var box = document.getElementById("board");
  if (!box || state.tab !== "board") { return; }
  box.textContent = "";
  var mine = actsFor();
  var units = Array.from(state.units.values()).filter(function (u) { return !mine || u.agency === mine; });
  if (!units.length) { box.appendChild(el("p", { class: "muted", text: t("board.empty") })); return; }
  var byAgency = new Map();
  units.sort(function (a, b) { return a.agency.localeCompare(b.agency) || a.callsign.localeCompare(b.callsign); })
    .forEach(function (u) {
      if (!byAgency.has(u.agency)) { byAgency.set(u.agency, []); }
      byAgency.get(u.agency).push(u);
    });
  byAgency.forEach(function (list, agency) {
    var counts = {};
    list.forEach(function (u) { counts[u.status] = (counts[u.status] || 0) + 1; });
    box.appendChild(el("section", { class: "board-agency", "data-agency": agency }, [
      el("h3", {}, [agencyName(agency), " ",
                    el("span", { class: "muted", text: Object.keys(counts).map(function (s) {
                      return t("unit." + s) + " " + counts[s]; }).join(" · ") })]),
      el("table", { class: "board-table" }, [el("tbody", {}, list.map(function (u) {
        return el("tr", { class: "unit-row unit-" + u.status, "data-unit": u.id }, [
          el("td", { text: u.callsign }),
          el("td", { text: kindName(u.unit_type) }),
          el("td", {}, [el("span", { class: "unit-status unit-status-" + u.status, text: t("unit." + u.status) })]),
          el("td", { class: "muted", title: u.status_since ? clock(u.status_since) : "",
                     text: u.status_since ? t("board.since", { time: ago(u.status_since) }) : "" }),
          el("td", { text: u.current_incident_id ? t("board.incident", { id: u.current_incident_id }) : "" })
        ]);
      }))])
    ]));
  });
}

/* Redraw soon after unit changes (a burst of AVL positions redraws once). */
export function scheduleBoard() {
  if (timer || state.tab !== "board") { return; }
  timer = window.setTimeout(function () { timer = null; renderBoard(); }, 200);
}
