/* peta112 dispatcher console: the entry module (<script type="module">, no bundler, CSP-clean).
 *
 * Everything drawn comes from the server: layer definitions and the lifecycle (/map/layers.json,
 * the same files in layers/ the tile server reads), what the signed-in role may do (/api/v1/me),
 * vector tiles, and the JSON API.  Each panel is one module around the one store (store.js):
 * queue.js (the list and incident markers), detail.js and plan.js, intake.js (new call),
 * units.js and board.js, layers.js, filters.js, alerts.js, stream.js, calls.js (a ringing line) and
 * conversations.js (chats and reports waiting for the desk).  No inline script:
 * configuration comes from data- attributes on <body>.
 */
import "./strings.js";
import { initAlerts, renderMute } from "./alerts.js";
import { api } from "./api.js";
import { renderBoard } from "./board.js";
import { tick } from "./clock.js";
import { initConversations } from "./conversations.js";
import { showDetail } from "./detail.js";
import { fillCategoryOptions, fillStatusOptions, initFilters, readUrlFilters, renderDrilldown, renderWindows } from "./filters.js";
import { initIntake } from "./intake.js";
import { buildLayerControl, reloadAnalytics, setupLayers, styleFor } from "./layers.js";
import { map } from "./mapview.js";
import { initQueue, loadIncidents, renderAll, upsertIncident } from "./queue.js";
import { API, I18N, cfg, dueForRecheck, may, state, t } from "./store.js";
import { connectStream } from "./stream.js";
import { initTabs, showView } from "./tabs.js";
import { loadUnits, upsertUnit } from "./units.js";

var langBtn = document.getElementById("lang-switch");
function applyLang() {
  langBtn.textContent = t("lang.switch");
  langBtn.setAttribute("aria-label", t("lang.switch_label"));
  document.getElementById("map").setAttribute("aria-label", t("map.label"));
  fillStatusOptions();
  fillCategoryOptions();
  renderDrilldown();
  renderWindows();
  renderMute();
  if (state.layers.length) { buildLayerControl(); }
  renderAll();
  renderBoard();
}

/* Tabs for what this role may do: a new call only for the desk (the server refuses the rest). */
function applyRole() {
  document.getElementById("tab-new").hidden = !may("api.create_incident");
  document.body.dataset.role = (state.me && state.me.user && state.me.user.role) || "";
}

initFilters();
initTabs();
initIntake();
initQueue();
initAlerts(showDetail);
langBtn.addEventListener("click", function () { I18N.set(I18N.lang === "id" ? "en" : "id"); });
I18N.onChange(applyLang);

I18N.apply(document);
readUrlFilters();
showView("list");
fillStatusOptions();
tick();
window.setInterval(tick, 15000);
Promise.all([
  api(cfg.layersUrl || "/map/layers.json"),
  api(API + "/categories").catch(function () { return { categories: [] }; }),
  api(API + "/agencies").catch(function () { return { agencies: [] }; }),
  api(API + "/me").catch(function () { return null; })
]).then(function (res) {
  res[1].categories.forEach(function (c) { state.categories[c.code] = c; });
  res[2].agencies.forEach(function (a) { state.agencies[a.code] = a; });
  state.me = res[3];
  applyRole();
  setupLayers(res[0]);
  applyLang();
  return Promise.all([loadIncidents(), loadUnits(), initConversations(showDetail)]);
}).then(function () {
  connectStream();
  document.body.classList.add("ready");
});
// Until the stream is there (or while it is down): refresh; with the stream, ask again only when an
// incident's due time has passed (it may have become overdue) and redraw ages.
window.setInterval(function () {
  var recheck = Array.from(state.incidents.values()).some(dueForRecheck);
  if (!state.streaming || recheck) { loadIncidents(); }
  if (!state.streaming) { loadUnits(); } else if (!recheck) { renderAll(); }
}, 15000);

// For tests and the browser console.
window.peta112 = { map: map, state: state, upsertIncident: upsertIncident, upsertUnit: upsertUnit,
                   reloadAnalytics: reloadAnalytics,
                   reload: loadIncidents, styleFor: styleFor };
