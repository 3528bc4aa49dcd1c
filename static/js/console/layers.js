/* The layer list from the server (/map/layers.json, the same files in layers/ the tile server
 * reads): vector tiles, the basemap's names (labels.js), analytic overlays (GeoJSON clusters and
 * hotspots, the heatmap), their styles, one popup for whatever is under a click, the legend and
 * the layer switcher.  Layer names appear only where a layer has behaviour of its own: the two
 * live layers the store draws (incidents, units), the flood states BPBD sets from a kelurahan's
 * popup. */
import { api } from "./api.js";
import { clock } from "./clock.js";
import { el, toast } from "./dom.js";
import { labelLayer } from "./labels.js";
import { liveLayers, map } from "./mapview.js";
import { API, I18N, cfg, may, state, t } from "./store.js";

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

function locale() { return I18N.lang === "en" ? "en-GB" : "id-ID"; }

/* "2 × Mobil pemadam, 1 × Unit penyelamat" from the stations layer's "fire_engine:2,rescue_unit:1". */
function unitTypes(v) {
  return String(v).split(",").filter(Boolean).map(function (part) {
    const kv = part.split(":");
    return kv[1] + " × " + (I18N.has("value." + kv[0]) ? t("value." + kv[0]) : kv[0]);
  }).join(", ");
}

/* A popup value as text: kelurahan lists by name, codes translated, numbers in the reader's format
 * ("28,7"; the dashboard and reports write them the same way), times on the city's clock. */
function popupValue(f, v) {
  if (Array.isArray(v)) {
    return v.map(function (x) { return x && x.name ? x.name + (x.count ? " (" + x.count + ")" : "") : String(x); })
      .join(", ");
  }
  if (f === "unit_types" && v) { return unitTypes(v); }
  if (typeof v === "number") {
    if (Math.abs(v) > 0 && Math.abs(v) < 0.01) { return v.toExponential(1); }
    return new Intl.NumberFormat(locale(), { maximumFractionDigits: Number.isInteger(v) ? 0 : 2 }).format(v);
  }
  if (typeof v === "string" && /_at$/.test(f) && !isNaN(Date.parse(v))) { return clock(v); }
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
  // A layer that changes live (refresh_on) gets a version in its URL, changed on each refresh.
  var layer = L.vectorGrid.protobuf(def.tiles + (def.refresh_on ? "?v={v}" : ""), {
    v: 0,
    vectorTileLayerStyles: styles,
    rendererFactory: L.canvas.tile,
    interactive: (def.popup || []).length > 0,
    tolerance: CLICK_TOLERANCE_PX,  // a 2 px street is clickable from a finger's width away
    // Kept per feature so styles can be changed later (highlight a selected kelurahan or road).
    getFeatureId: function (f) { return f.properties.id; },
    pane: def.group === "basemap" ? "basemap" : "opTiles",
    minZoom: def.minzoom,
    maxNativeZoom: Math.min(def.maxzoom, 18),
    maxZoom: 22,
    attribution: def.attribution === "osm" ? state.attribution.osm : undefined
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
  var tuned = paramValues(def);
  Object.keys(tuned).forEach(function (k) { if (k !== "window_days") { u.searchParams.set(k, tuned[k]); } });
  if (f.category) { u.searchParams.set("category", f.category); }
  if (f.agency && def.render === "heatmap") { u.searchParams.set("agency", f.agency); }
  if (f.since) {
    u.searchParams.set("since", f.since);
    if (f.until) { u.searchParams.set("until", f.until); }
  } else {
    var days = tuned.window_days || def.window_days || 30;
    u.searchParams.set("since", new Date(Date.now() - days * 86400000).toISOString());
  }
  return u.pathname + u.search;
}

// -- parameters a reader tunes (the clusters' distance, minimum calls, window, within) ------------
/* A layer's [[params]] (layers/clusters.toml) are shown as a form in its legend entry to the roles
 * that may use its endpoint (params_endpoint, from /api/v1/me); each value is the url's query
 * parameter of that name, window_days the window's start.  Kept per browser; a stored value that
 * no longer fits the layer file's bounds is dropped, so the default applies. */
const PARAMS_KEY = "peta112.params.";

function tunable(def) { return !!(def.params && def.params.length && (!def.params_endpoint || may(def.params_endpoint))); }

function validParam(p, v) {
  if (p.choices) { return p.choices.some(function (c) { return c.value === v; }) ? v : undefined; }
  const n = typeof v === "number" ? v : Number(v);
  return v !== "" && v !== null && Number.isFinite(n) && n >= p.min && n <= p.max ? n : undefined;
}

function storedParams(def) {
  try { return JSON.parse(window.localStorage.getItem(PARAMS_KEY + def.id) || "{}") || {}; } catch (e) { return {}; }
}

/* name -> value for every parameter of a layer the reader may tune (defaults where none is kept). */
export function paramValues(def) {
  const out = {};
  if (!tunable(def)) { return out; }
  const kept = storedParams(def);
  def.params.forEach(function (p) {
    const v = validParam(p, kept[p.name]);
    out[p.name] = v === undefined ? p.default : v;
  });
  return out;
}

function label(obj) { return obj ? (obj[I18N.lang] || obj.id) : ""; }

const paramForms = {};
function paramForm(def) {
  if (paramForms[def.id]) { return paramForms[def.id]; }
  const status = el("p", { class: "muted params-status", role: "status" });
  const form = el("form", { class: "layer-params", "data-layer": def.id, novalidate: "novalidate" }, []);
  function fill() {
    const values = paramValues(def);
    def.params.forEach(function (p) { form.elements[p.name].value = String(values[p.name]); });
  }
  def.params.forEach(function (p) {
    const id = "param-" + def.id + "-" + p.name;
    const input = p.choices
      ? el("select", { id: id, name: p.name }, p.choices.map(function (c) {
        return el("option", { value: c.value, text: label(c) });
      }))
      : el("input", { id: id, name: p.name, type: "number", inputmode: "numeric", required: "required",
                      min: String(p.min), max: String(p.max), step: String(p.step || 1) });
    form.appendChild(el("div", { class: "param-row" }, [el("label", { for: id, "data-label": p.name }), input]));
  });
  form.appendChild(el("div", { class: "param-actions" }, [
    el("button", { type: "submit", class: "btn btn-small btn-primary params-apply" }),
    el("button", { type: "button", class: "btn btn-small params-reset", onclick: function () {
      window.localStorage.removeItem(PARAMS_KEY + def.id);
      fill();
      loadAnalytic(def);
    } })
  ]));
  form.appendChild(status);
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    const kept = {};
    const bad = def.params.filter(function (p) {
      const v = validParam(p, form.elements[p.name].value);
      if (v !== undefined) { kept[p.name] = v; }
      return v === undefined;
    });
    if (bad.length) {
      const p = bad[0];
      status.textContent = t("params.invalid", { name: label(p.label), min: fmtNum(p.min), max: fmtNum(p.max) });
      form.elements[p.name].focus();
      return;
    }
    window.localStorage.setItem(PARAMS_KEY + def.id, JSON.stringify(kept));
    loadAnalytic(def);
  });
  form._fill = fill;
  form._status = status;
  paramForms[def.id] = form;
  fill();
  return form;
}

function fmtNum(n) { return new Intl.NumberFormat(locale()).format(n); }

/* Texts in the reader's language (the form is kept across legend redraws and language switches). */
function labelParamForm(def, form) {
  def.params.forEach(function (p) {
    form.querySelector('label[data-label="' + p.name + '"]').textContent = label(p.label);
    if (p.choices) {
      Array.prototype.forEach.call(form.elements[p.name].options, function (o, i) { o.textContent = label(p.choices[i]); });
    }
  });
  form.querySelector(".params-apply").textContent = t("params.apply");
  form.querySelector(".params-reset").textContent = t("params.reset");
  const a = state.analytic[def.id];
  form._status.textContent = !a ? "" : a.loading ? t("params.loading")
    : a.error ? a.error : t("params.found", { n: fmtNum(a.features || 0) });
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
  if (paramForms[def.id]) { labelParamForm(def, paramForms[def.id]); }
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
    if (paramForms[def.id]) { labelParamForm(def, paramForms[def.id]); }
  }, function (e) {
    if (seq !== analyticSeq[def.id]) { return; }
    state.analytic[def.id] = { loading: false, error: (e.problem && e.problem.detail) || String(e.status) };
    if (paramForms[def.id]) { labelParamForm(def, paramForms[def.id]); }
    toast(t("layer.error", { layer: def.title[I18N.lang] || def.title.id }));
  });
}

export function reloadAnalytics() {
  state.layers.forEach(function (def) { if (def.url) { loadAnalytic(def); } });
}

/* The layer switcher: every layer, the names as one entry; folded behind its title on phones and
 * foldable everywhere (Leaflet's own collapsing opens on hover, which a touch screen cannot do). */
export function buildLayerControl() {
  var folded = state.layerControl ? state.layerControl.getContainer().classList.contains("folded")
    : window.matchMedia("(max-width: 700px)").matches;
  if (state.layerControl) { map.removeControl(state.layerControl); }
  var overlays = {};
  state.layers.forEach(function (def) {
    if (def.render === "labels" || !state.overlays[def.id]) { return; }
    var swatch = '<span class="swatch swatch-' + (def.render === "heatmap" ? "heatmap" : def.geometry) + '"></span>';
    overlays[swatch + (def.title[I18N.lang] || def.title.id)] = state.overlays[def.id];
  });
  if (state.overlays.labels) { overlays['<span class="swatch swatch-labels">Aa</span>' + t("layers.labels")] = state.overlays.labels; }
  state.layerControl = L.control.layers(null, overlays, { collapsed: false, position: "topright" }).addTo(map);
  var box = state.layerControl.getContainer();
  box.classList.toggle("folded", folded);
  var toggle = el("button", { type: "button", class: "layers-toggle", "aria-expanded": folded ? "false" : "true",
                              text: t("layers.title"), onclick: function () {
                                var now = box.classList.toggle("folded");
                                toggle.setAttribute("aria-expanded", now ? "false" : "true");
                              } });
  box.insertBefore(toggle, box.firstChild);
  translateControls();
  renderLegend();
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
      : def.render === "labels" ? null  // drawn by the one label layer below
      : tileLayer(def);
    if (!layer) { return; }
    state.overlays[def.id] = layer;
    if (def.visible) { layer.addTo(map); }
  });
  // Names above every shape but under the live markers; the canvas takes no clicks (map.css).
  if (!map.getPane("labels")) { map.createPane("labels").style.zIndex = 440; }
  var labels = labelLayer(meta.layers, "labels");
  if (labels) { state.overlays.labels = labels; labels.addTo(map); }
  if (!legendBox) { new Legend().addTo(map); }
  buildLayerControl();
  if (window.peta112) { window.peta112.featuresAt = featuresAt; }
  if (meta.bounds) {
    map.fitBounds([[meta.bounds[1], meta.bounds[0]], [meta.bounds[3], meta.bounds[2]]], { padding: [10, 10] });
  }
}

// -- one click, every layer: popups without swallowing clicks ----------------------------------
// Vector tile canvases take no pointer events (map.css), so clicks reach the clusters, hotspots and
// incident markers drawn below or above them; a click on the map itself is hit-tested here against
// every visible tiled layer, and one popup lists what is under it (a flood state, a station, the
// road, the kelurahan), operational layers first.
const CLICK_TOLERANCE_PX = 6;

function tiledDefs() {
  return state.layers.filter(function (d) {
    return d.render === "tiles" && (d.popup || []).length && state.overlays[d.id] && map.hasLayer(state.overlays[d.id]);
  }).sort(function (a, b) {
    if (a.group !== b.group) { return a.group === "operational" ? -1 : 1; }
    return b.order - a.order;
  });
}

/* The features of the visible tiled layers under a point: [{def, props}], topmost layer first. */
export function featuresAt(latlng) {
  const out = [];
  tiledDefs().forEach(function (def) {
    const layer = state.overlays[def.id];
    if (!layer._vectorTiles) { return; }
    const z = layer._tileZoom !== undefined ? layer._tileZoom : map.getZoom();
    const size = layer.getTileSize();
    const p = map.project(latlng, z);
    const renderer = layer._vectorTiles[Math.floor(p.x / size.x) + ":" + Math.floor(p.y / size.y) + ":" + z];
    if (!renderer || !renderer._layers || !renderer._map) { return; }  // a tile still loading
    const local = map.latLngToLayerPoint(latlng).subtract(renderer.getOffset());
    let hit = null;
    Object.keys(renderer._layers).forEach(function (id) {
      const f = renderer._layers[id];
      if (f.properties && f._containsPoint && f._containsPoint(local)) { hit = f; }
    });
    if (hit) { out.push({ def: def, props: hit.properties }); }
  });
  return out;
}

function floodControls(props, current) {
  const code = props.code;
  const box = el("div", { class: "flood-control", "data-kelurahan": code }, [
    el("strong", { text: t("flood.control") })
  ]);
  const row = el("div", { class: "flood-levels", role: "group", "aria-label": t("flood.control") });
  [1, 2, 3, 4].forEach(function (lv) {
    row.appendChild(el("button", {
      type: "button", class: "btn btn-small flood-level flood-level-" + lv + (current === lv ? " active" : ""),
      "data-level": String(lv), "aria-pressed": current === lv ? "true" : "false",
      title: t("flood.level_" + lv), text: String(lv), onclick: function () { setFlood(code, lv); }
    }));
  });
  row.appendChild(el("button", { type: "button", class: "btn btn-small flood-clear", text: t("flood.clear"),
                                 disabled: current ? null : "disabled", onclick: function () { setFlood(code, 0); } }));
  box.appendChild(row);
  box.appendChild(el("p", { class: "muted", text: t("flood.hint") }));
  return box;
}

function hitsPopup(hits) {
  const flood = hits.filter(function (h) { return h.def.id === "flood_states"; })[0];
  // The kelurahan's popup names its kecamatan: the kecamatan's own entry would only repeat it.
  if (hits.some(function (h) { return h.def.id === "kelurahan"; })) {
    hits = hits.filter(function (h) { return h.def.id !== "kecamatan"; });
  }
  return el("div", { class: "popup popup-stack" }, hits.map(function (h) {
    const extra = [];
    if (h.def.id === "flood_states" && h.props.id !== undefined) {
      extra.push(el("a", { class: "popup-link", href: "/alerts/flood/" + encodeURIComponent(h.props.id),
                           target: "_blank", rel: "noopener", text: t("flood.cap") }));
    }
    if (h.def.id === "kelurahan" && cfg.maySetFlood === "1") {
      extra.push(floodControls(h.props, flood ? flood.props.level : 0));
    }
    return popupContent(h.def, h.props, extra);
  }));
}

map.on("click", function (e) {
  if (state.tab === "new") { return; }  // the new-call form places its point (intake.js)
  const target = e.originalEvent && e.originalEvent.target;
  if (target && target.closest && target.closest(".leaflet-interactive, .leaflet-marker-icon, .marker-cluster, .leaflet-popup")) {
    return;  // a marker, cluster or overlay shape answered this click itself
  }
  const hits = featuresAt(e.latlng);
  if (hits.length) { L.popup({ maxWidth: 340 }).setLatLng(e.latlng).setContent(hitsPopup(hits)).openOn(map); }
});

// -- BPBD: a kelurahan's flood level, live on every open map ----------------------------------------
function setFlood(code, level) {
  const url = API + "/flood-states/" + encodeURIComponent(code);
  const req = level ? api(url, { method: "PUT", body: { level: level } }) : api(url, { method: "DELETE" });
  return req.then(function (res) {
    map.closePopup();
    refreshOn("flood");  // here at once; other maps get the stream's "flood" event
    const name = (res && res.kelurahan && res.kelurahan.name) || code;
    toast(level ? t("flood.done_set", { name: name, level: level }) : t("flood.done_clear", { name: name }));
  }, function (err) {
    toast((err.problem && (err.problem.detail || err.problem.title)) || t("error.network"));
  });
}

/* Layers whose file says refresh_on = "<event>" draw their tiles again, under a new URL so the tile
 * cache (its cache_seconds) cannot hand back the old picture. */
export function refreshOn(event) {
  state.layers.forEach(function (def) {
    const layer = state.overlays[def.id];
    if (def.refresh_on === event && layer && layer.redraw) {
      layer.options.v = Date.now();
      layer.redraw();
    }
  });
}

// -- legend: one entry per visible layer, from its file's [[legend]] or its base style -----------------
function swatch(def, style) {
  const s = style || {};
  const fill = s.fillColor || s.color || "#999999";
  const css = def.geometry === "line"
    ? "background:" + (s.color || fill) + ";height:" + Math.max(2, Math.min(6, s.weight || 2)) + "px"
    : "background:" + (def.geometry === "polygon" ? fill : fill) + ";border-color:" + (s.color || fill) +
      (s.fillOpacity !== undefined && s.fillOpacity < 0.2 ? ";background:transparent" : "");
  return el("span", { class: "legend-swatch legend-" + (def.render === "heatmap" ? "heatmap" : def.geometry),
                      style: css });
}

function legendEntries(def) {
  if (def.legend && def.legend.length) {
    return def.legend.map(function (item) {
      return el("li", {}, [swatch(def, item.style), item.label ? (item.label[I18N.lang] || item.label.id) : ""]);
    });
  }
  const base = (def.style && def.style.base) || {};
  return [el("li", {}, [swatch(def, base), def.title[I18N.lang] || def.title.id])];
}

function visibleForLegend(def) {
  const layer = state.overlays[def.id];
  const z = map.getZoom();
  return layer && map.hasLayer(layer) && z >= def.minzoom && z <= def.maxzoom && def.render !== "labels";
}

let legendBox = null;
export function renderLegend() {
  if (!legendBox) { return; }
  const list = legendBox.querySelector(".legend-list");
  list.textContent = "";
  legendBox.querySelector("summary").textContent = t("legend.title");
  state.layers.filter(visibleForLegend).forEach(function (def) {
    list.appendChild(el("section", { class: "legend-layer", "data-layer": def.id }, [
      el("h3", { text: def.title[I18N.lang] || def.title.id }),
      el("ul", {}, legendEntries(def)),
      tunable(def) ? paramForm(def) : null
    ]));
    if (tunable(def)) { labelParamForm(def, paramForm(def)); }
  });
}

const Legend = L.Control.extend({
  options: { position: "bottomleft" },
  onAdd: function () {
    const phone = window.matchMedia("(max-width: 700px)").matches;
    legendBox = el("details", { class: "leaflet-control map-legend", id: "map-legend", open: phone ? null : "open" },
                   [el("summary", { text: t("legend.title") }), el("div", { class: "legend-list" })]);
    L.DomEvent.disableClickPropagation(legendBox);
    L.DomEvent.disableScrollPropagation(legendBox);
    return legendBox;
  }
});

// -- translated Leaflet controls ------------------------------------------------------------------
function translateControls() {
  const zc = map.zoomControl;
  if (zc && zc._zoomInButton) {
    [[zc._zoomInButton, "map.zoom_in"], [zc._zoomOutButton, "map.zoom_out"]].forEach(function (b) {
      b[0].title = t(b[1]);
      b[0].setAttribute("aria-label", t(b[1]));
    });
  }
}

map.on("popupopen", function (e) {
  const btn = e.popup && e.popup._closeButton;
  if (btn) { btn.setAttribute("aria-label", t("popup.close")); btn.title = t("popup.close"); }
});
map.on("overlayadd overlayremove zoomend", renderLegend);
