/* The units live layer: every unit change (API answers, the live stream) goes through upsertUnit. */
import { api } from "./api.js";
import { scheduleBoard } from "./board.js";
import { popupContent, styleFor } from "./layers.js";
import { unitLayer } from "./mapview.js";
import { API, agencyColor, layerDef, state } from "./store.js";

export function upsertUnit(u) {
  if (!u || u.id === undefined) { return; }
  u = Object.assign({}, state.units.get(u.id) || {}, u);
  state.units.set(u.id, u);
  scheduleBoard();
  var def = layerDef("units");
  var marker = state.unitMarkers.get(u.id);
  if (u.lat === null || u.lon === null || u.lat === undefined) {
    if (marker) { unitLayer.removeLayer(marker); state.unitMarkers.delete(u.id); }
    return;
  }
  var props = Object.assign({}, u, { color: agencyColor(u.agency, "#555555") });
  var style = Object.assign(styleFor(def || { style: {} }, props), { pane: "live", className: "unit-marker unit-" + u.id });
  if (!marker) {
    marker = L.circleMarker([u.lat, u.lon], style).addTo(unitLayer);
    state.unitMarkers.set(u.id, marker);
  } else {
    marker.setLatLng([u.lat, u.lon]).setStyle(style);
  }
  marker.bindPopup(function () { return popupContent(def, state.units.get(u.id)); });
  marker.bindTooltip(u.callsign, { direction: "top", offset: [0, -6] });
}

export function loadUnits() {
  return api(API + "/units").then(function (d) { d.units.forEach(upsertUnit); }, function () { /* keep last */ });
}
