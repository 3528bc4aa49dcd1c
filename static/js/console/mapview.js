/* The Leaflet map and the panes and layer groups every panel draws into.
 *
 * Created when this module is first imported (module scripts run after the page is parsed, so
 * #map exists).  Panes fix the drawing order: basemap tiles, analytic overlays, operational
 * tiles, routes, then the live incidents and units on top.
 */

// VectorGrid 1.3.0 (its last release) predates Leaflet 1.8's canvas events: its tile renderer
// calls the removed L.DomEvent.fakeStop when a feature is hit, and passes nothing to the map
// when none is, so map clicks over vector tiles were lost.  Leaflet 1.9's canvas hands every
// click to the map with the hit features as extra targets; do the same (upstream issue #274).
L.Canvas.Tile.include({
  _onClick: function (e) {
    var point = this._map.mouseEventToLayerPoint(e).subtract(this.getOffset()), hit = null;
    for (var id in this._layers) {
      var layer = this._layers[id];
      if (layer.options.interactive && layer._containsPoint(point) && !this._map._draggableMoved(layer)) { hit = layer; }
    }
    this._fireEvent(hit ? [hit] : false, e);
  }
});

export const map = L.map("map", { zoomControl: true, minZoom: 5, maxZoom: 19, attributionControl: true });
map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
map.setView([-6.98, 110.42], 13);
[["basemap", 200], ["analytics", 405], ["opTiles", 410], ["routes", 420], ["live", 450]].forEach(function (p) {
  map.createPane(p[0]).style.zIndex = p[1];
});

export const incidentLayer = L.markerClusterGroup({
  disableClusteringAtZoom: 14, maxClusterRadius: 40, showCoverageOnHover: false, clusterPane: "live"
});
// Overdue P1 calls: their own markers, never folded into a cluster, shown and hidden with the incidents.
export const urgentLayer = L.layerGroup();
incidentLayer.on("add", function () { urgentLayer.addTo(map); });
incidentLayer.on("remove", function () { map.removeLayer(urgentLayer); });
export const unitLayer = L.layerGroup();
export const routeLayer = L.layerGroup().addTo(map);
// The layers the server lists with render = "live": drawn from the store, not from tiles.
export const liveLayers = { incidents: incidentLayer, units: unitLayer };
