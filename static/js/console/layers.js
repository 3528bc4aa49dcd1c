/* The layer list from the server (/map/layers.json, the same files in layers/ the tile server
 * reads): vector tiles, analytic overlays (GeoJSON clusters and hotspots, the heatmap), their
 * styles and popups, and the layer switcher.  Nothing here knows a layer by name except the
 * two live layers the store draws (incidents, units). */
import { api } from "./api.js";
import { clock } from "./clock.js";
import { el, toast } from "./dom.js";
import { liveLayers, map } from "./mapview.js";
import { I18N, state, t } from "./store.js";

// -- styles from layer definitions -----------------------------------------------------
function matches(when, props) {
  return Object.keys(when).every(function (k) {
    var want = when[k];
    return Array.isArray(want) ? want.indexOf(props[k]) >= 0 : props[k] === want;
  });
}

/* base -> per-class values -> matching rules, then "{prop}" templates filled from the feature. */
export function styleFor(def, props) {
  var st = def.style || {};
  var out = Object.assign({}, st.base || {});
  if (st.classes && st.classes.values) {
    Object.assign(out, st.classes.values[props[st.classes.property]] || {});
  }
  (st.rules || []).forEach(function (r) { if (matches(r.when || {}, props)) { Object.assign(out, r.set || {}); } });
  Object.keys(out).forEach(function (k) {
    if (typeof out[k] === "string") {
      out[k] = out[k].replace(/\{(\w+)\}/g, function (m, p) { return props[p] !== undefined ? props[p] : "#777777"; });
    }
  });
  return out;
}

function fieldValue(v) {
  if (v === true) { return t("yes"); }
  if (v === false) { return t("no"); }
  return v === null || v === undefined || v === "" ? t("detail.none") : String(v);
}

/* A popup value as text: kelurahan lists by name, class codes translated, statistics rounded. */
function popupValue(f, v) {
  if (Array.isArray(v)) {
    return v.map(function (x) { return x && x.name ? x.name + (x.count ? " (" + x.count + ")" : "") : String(x); })
      .join(", ");
  }
  if (typeof v === "number" && !Number.isInteger(v)) {
    return Math.abs(v) > 0 && Math.abs(v) < 0.01 ? v.toExponential(1) : v.toFixed(2);
  }
  if (typeof v === "string" && I18N.has("value." + v)) { return t("value." + v); }
  return fieldValue(v);
}

export function popupContent(def, props, extra) {
  var title = def.title[I18N.lang] || def.title.id;
  var rows = (def.popup || []).filter(function (f) { return props[f] !== undefined; }).map(function (f) {
    var v = props[f];
    if (f === "status") { v = t((def.id === "units" ? "unit." : "status.") + v); }
    return el("tr", {}, [el("th", { text: t("field." + f) }), el("td", { text: popupValue(f, v) })]);
  });
  return el("div", { class: "popup" }, [el("strong", { text: title }), el("table", {}, rows)].concat(extra || []));
}

function tileLayer(def) {
  var styles = {};
  styles[def.id] = function (props) { return styleFor(def, props); };
  var layer = L.vectorGrid.protobuf(def.tiles, {
    vectorTileLayerStyles: styles,
    rendererFactory: L.canvas.tile,
    interactive: (def.popup || []).length > 0,
    // Kept per feature so styles can be changed later (highlight a selected kelurahan or road).
    getFeatureId: function (f) { return f.properties.id; },
    pane: def.group === "basemap" ? "basemap" : "opTiles",
    minZoom: def.minzoom,
    maxNativeZoom: Math.min(def.maxzoom, 18),
    maxZoom: 22,
    attribution: def.attribution === "osm" ? state.attribution.osm : undefined
  });
  layer.on("click", function (e) {
    if (state.tab === "new") { return; }  // the map's click handler places the new call
    L.popup().setLatLng(e.latlng).setContent(popupContent(def, e.layer.properties || {})).openOn(map);
  });
  layer.on("tileerror", function (e) { console.warn("tile failed", def.id, e.coords); });
  return layer;
}

// -- analytic overlays: GeoJSON (clusters, hotspots) and the heatmap, from endpoints in layers/ -----
/* The layer's url plus the map's filters: its category (and a drill-down's agency and dates);
 * without dates, the layer's own window_days, because patterns need more than the last 24 hours. */
function analyticUrl(def) {
  var u = new URL(def.url, window.location.origin);
  var f = state.filter;
  if (f.category) { u.searchParams.set("category", f.category); }
  if (f.agency && def.render === "heatmap") { u.searchParams.set("agency", f.agency); }
  if (f.since) {
    u.searchParams.set("since", f.since);
    if (f.until) { u.searchParams.set("until", f.until); }
  } else {
    u.searchParams.set("since", new Date(Date.now() - (def.window_days || 30) * 86400000).toISOString());
  }
  return u.pathname + u.search;
}

/* Nested properties ({gi_star: {class}}) as dotted keys, so layer files can style and list them. */
function flatProps(props) {
  var out = {};
  Object.keys(props || {}).forEach(function (k) {
    var v = props[k];
    if (v && typeof v === "object" && !Array.isArray(v)) {
      Object.keys(v).forEach(function (k2) { out[k + "." + k2] = v[k2]; });
    } else { out[k] = v; }
  });
  if (out.first_at && out.last_at) {
    out.span = clock(out.first_at) + " – " + clock(out.last_at);
  }
  return out;
}

function fillTemplate(tpl, props) {
  return tpl.replace(/\{([\w.]+)\}/g, function (m, k) { return encodeURIComponent(props[k] !== undefined ? props[k] : ""); });
}

function geojsonLayer(def) {
  var group = L.geoJSON(null, {
    pane: "analytics",
    style: function (f) { return styleFor(def, flatProps(f.properties)); },
    onEachFeature: function (f, layer) {
      layer.bindPopup(function () {
        var props = flatProps(f.properties), extra = [];
        if (def.link) {
          var q = analyticUrl(def).split("?")[1] || "";
          extra.push(el("a", { class: "popup-link", href: fillTemplate(def.link.href, props) + (q ? "?" + q : ""),
                               target: "_blank", rel: "noopener", text: def.link[I18N.lang] || def.link.id }));
        }
        return popupContent(def, props, extra);
      });
    }
  });
  group.on("add", function () { loadAnalytic(def); });
  return group;
}

function heatLayer(def) {
  var opts = Object.assign({ pane: "analytics" }, (def.style && def.style.base) || {});
  if (def.style && def.style.gradient) { opts.gradient = def.style.gradient; }
  var layer = L.heatLayer([], opts);
  layer.on("add", function () { loadAnalytic(def); });
  return layer;
}

var analyticSeq = {};
/* (Re)load one overlay's data when it is on the map; a newer request wins over a slower older one. */
function loadAnalytic(def) {
  var layer = state.overlays[def.id];
  if (!layer || !map.hasLayer(layer)) { return Promise.resolve(); }
  var seq = analyticSeq[def.id] = (analyticSeq[def.id] || 0) + 1;
  state.analytic[def.id] = { loading: true };
  return api(analyticUrl(def)).then(function (data) {
    if (seq !== analyticSeq[def.id]) { return; }
    if (def.render === "heatmap") {
      var pts = data.points || [];
      // Normalise on a high quantile, not the single busiest cell, so the pattern stays visible.
      var ws = pts.map(function (p) { return p[2]; }).sort(function (a, b) { return b - a; });
      layer.setOptions({ max: Math.max(1, ws[Math.floor(ws.length * 0.02)] || 1) });
      layer.setLatLngs(pts);
      state.analytic[def.id] = { loading: false, points: pts.length, total: data.total };
    } else {
      layer.clearLayers();
      layer.addData(data);
      state.analytic[def.id] = { loading: false, features: (data.features || []).length, summary: data.summary };
    }
  }, function (e) {
    if (seq !== analyticSeq[def.id]) { return; }
    state.analytic[def.id] = { loading: false, error: (e.problem && e.problem.detail) || String(e.status) };
    toast(t("layer.error", { layer: def.title[I18N.lang] || def.title.id }));
  });
}

export function reloadAnalytics() {
  state.layers.forEach(function (def) { if (def.url) { loadAnalytic(def); } });
}

export function buildLayerControl() {
  if (state.layerControl) { map.removeControl(state.layerControl); }
  var overlays = {};
  state.layers.forEach(function (def) {
    var swatch = '<span class="swatch swatch-' + (def.render === "heatmap" ? "heatmap" : def.geometry) + '"></span>';
    overlays[swatch + (def.title[I18N.lang] || def.title.id)] = state.overlays[def.id];
  });
  state.layerControl = L.control.layers(null, overlays, {
    collapsed: window.matchMedia("(max-width: 700px)").matches, position: "topright"
  }).addTo(map);
}

export function setupLayers(meta) {
  if (meta.lifecycle) { state.lifecycle = meta.lifecycle; }
  state.layers = meta.layers;
  state.attribution = meta.attribution;
  // peta112's own credit always; OSM's whenever OSM-derived layers are on (they are by default).
  map.attributionControl.addAttribution(meta.attribution.peta112);
  map.attributionControl.addAttribution(meta.attribution.osm);
  meta.layers.forEach(function (def) {
    var layer = def.render === "live" ? liveLayers[def.id]
      : def.render === "geojson" ? geojsonLayer(def)
      : def.render === "heatmap" ? (L.heatLayer ? heatLayer(def) : null)
      : tileLayer(def);
    if (!layer) { return; }
    state.overlays[def.id] = layer;
    if (def.visible) { layer.addTo(map); }
  });
  buildLayerControl();
  if (meta.bounds) {
    map.fitBounds([[meta.bounds[1], meta.bounds[0]], [meta.bounds[3], meta.bounds[2]]], { padding: [10, 10] });
  }
}
