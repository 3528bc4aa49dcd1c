/* peta112 dispatcher map.
 *
 * Everything drawn comes from the server: layer definitions (/map/layers.json, the same
 * files in layers/ the tile server reads), vector tiles, and the JSON API.  Incidents and
 * units are "live" layers: kept in a store and drawn as markers, and every change goes
 * through upsertIncident()/upsertUnit(), so a live feed (EventSource on /api/v1/stream)
 * only has to call those.  No inline script: configuration comes from data- attributes.
 */
(function () {
  "use strict";
  var I18N = window.P112I18N;
  var t = I18N.t;
  var cfg = document.body.dataset;
  var API = cfg.api || "/api/v1";

  var state = {
    // The lifecycle rules from the server (/map/layers.json, app/incidents/lifecycle.py): which
    // statuses exist, which may follow which, which wait for a unit on scene.  Whether an incident
    // is open or overdue comes with the incident itself (is_open, is_overdue, due_at).
    lifecycle: { statuses: [], open: [], awaiting: [], transitions: {} },
    layers: [],            // layer definitions from the server
    overlays: {},          // layer id -> Leaflet layer
    categories: {},        // code -> category
    agencies: {},          // code -> agency
    incidents: new Map(),  // id -> incident (as the API returns it)
    markers: new Map(),    // incident id -> circle marker
    units: new Map(),      // unit id -> unit
    unitMarkers: new Map(),
    // agency/since/until come only from a link (the dashboard's drill-down: /map?agency=&since=&until=)
    filter: { status: "open", category: "", window: 86400, agency: "", since: "", until: "" },
    analytic: {},          // analytic overlay id -> {loading, features|points, error}
    selected: null,        // incident id shown in the detail view
    draft: null,           // {lat, lon} of the new call
    idempotencyKey: null,
    layerControl: null
  };

  // -- small helpers -------------------------------------------------------------------
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; }
      else if (k === "class") { node.className = attrs[k]; }
      else if (k === "style") { node.style.cssText = attrs[k]; }  // CSSOM: allowed by a strict CSP
      else if (k.slice(0, 2) === "on") { node.addEventListener(k.slice(2), attrs[k]); }
      else if (attrs[k] !== null && attrs[k] !== undefined && attrs[k] !== false) { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) {
      if (c !== null && c !== undefined) { node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); }
    });
    return node;
  }

  function uuid() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    return "k-" + Date.now() + "-" + Math.random().toString(16).slice(2);
  }

  /* fetch JSON; rejects with {status, problem} so callers can show problem details. */
  function api(path, opts) {
    opts = opts || {};
    var headers = { "Accept": "application/json" };
    if (opts.body !== undefined) { headers["Content-Type"] = "application/json"; }
    if (document.body.dataset.csrf) { headers["X-CSRF-Token"] = document.body.dataset.csrf; }
    Object.assign(headers, opts.headers || {});
    return fetch(path, {
      method: opts.method || "GET", headers: headers,
      body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined
    }).then(function (resp) {
      return resp.text().then(function (txt) {
        var data = null;
        try { data = txt ? JSON.parse(txt) : null; } catch (e) { data = null; }
        if (!resp.ok) { return Promise.reject({ status: resp.status, problem: data || {} }); }
        return data;
      });
    }, function () { return Promise.reject({ status: 0, problem: { detail: t("error.network") } }); });
  }

  function catName(code, inc) {
    var c = state.categories[code];
    if (I18N.lang === "en") { return (c && c.name_en) || (inc && inc.category_name_en) || code; }
    return (c && c.name_id) || (inc && inc.category_name) || code;
  }

  function catColor(code) { return (state.categories[code] && state.categories[code].color) || "#777777"; }

  function ageSeconds(iso) { return Math.max(0, (Date.now() - Date.parse(iso)) / 1000); }

  function ago(iso) {
    var s = ageSeconds(iso);
    if (s < 60) { return t("ago.s"); }
    if (s < 3600) { return t("ago.m", { n: Math.floor(s / 60) }); }
    if (s < 86400) { return t("ago.h", { n: Math.floor(s / 3600) }); }
    return t("ago.d", { n: Math.floor(s / 86400) });
  }

  function clock(iso) {
    var d = new Date(iso);
    return d.toLocaleString(I18N.lang === "en" ? "en-GB" : "id-ID",
      { day: "2-digit", month: "short", hour: "2-digit", minute: "2-digit" });
  }

  /* The server's verdicts (the read model incident_facts), as of when the incident was fetched. */
  function isOverdue(inc) { return inc.is_overdue === true; }
  function isOpen(inc) { return inc.is_open === true; }

  /* Open, not overdue when fetched, and its due time has passed since: only the server can say
   * whether it is overdue now (a unit may have arrived), so such incidents are fetched again. */
  function dueForRecheck(inc) {
    var due = inc.due_at ? Date.parse(inc.due_at) : NaN;
    return isOpen(inc) && !isOverdue(inc) && due <= Date.now() && (inc._fetched || 0) < due;
  }

  function nextStatuses(cur) { return state.lifecycle.transitions[cur] || []; }

  // -- styles from layer definitions -----------------------------------------------------
  function matches(when, props) {
    return Object.keys(when).every(function (k) {
      var want = when[k];
      return Array.isArray(want) ? want.indexOf(props[k]) >= 0 : props[k] === want;
    });
  }

  /* base -> per-class values -> matching rules, then "{prop}" templates filled from the feature. */
  function styleFor(def, props) {
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

  function layerDef(id) { return state.layers.filter(function (l) { return l.id === id; })[0]; }

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

  function popupContent(def, props, extra) {
    var title = def.title[I18N.lang] || def.title.id;
    var rows = (def.popup || []).filter(function (f) { return props[f] !== undefined; }).map(function (f) {
      var v = props[f];
      if (f === "status") { v = t((def.id === "units" ? "unit." : "status.") + v); }
      return el("tr", {}, [el("th", { text: t("field." + f) }), el("td", { text: popupValue(f, v) })]);
    });
    return el("div", { class: "popup" }, [el("strong", { text: title }), el("table", {}, rows)].concat(extra || []));
  }

  // -- the map -------------------------------------------------------------------------
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

  var map = L.map("map", { zoomControl: true, minZoom: 5, maxZoom: 19, attributionControl: true });
  map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
  map.setView([-6.98, 110.42], 13);
  [["basemap", 200], ["analytics", 405], ["opTiles", 410], ["routes", 420], ["live", 450]].forEach(function (p) {
    map.createPane(p[0]).style.zIndex = p[1];
  });

  var incidentLayer = L.markerClusterGroup({
    disableClusteringAtZoom: 14, maxClusterRadius: 40, showCoverageOnHover: false, clusterPane: "live"
  });
  var unitLayer = L.layerGroup();
  var routeLayer = L.layerGroup().addTo(map);
  var draftMarker = null;
  var liveLayers = { incidents: incidentLayer, units: unitLayer };

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

  function reloadAnalytics() {
    state.layers.forEach(function (def) { if (def.url) { loadAnalytic(def); } });
  }

  function buildLayerControl() {
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

  function setupLayers(meta) {
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

  // -- live layers: incidents ------------------------------------------------------------
  function incidentProps(inc) {
    return { id: inc.id, category: inc.category, color: catColor(inc.category), status: inc.status,
             open: isOpen(inc), overdue: isOverdue(inc) };
  }

  function incidentPopup(inc) {
    var box = el("div", { class: "popup" }, [
      el("strong", { text: "#" + inc.id + " · " + catName(inc.category, inc) }),
      el("div", { text: t("status." + inc.status) + (isOverdue(inc) ? " · " + t("overdue") : "") }),
      el("div", { text: inc.address || "" }),
      el("div", { class: "muted", text: clock(inc.received_at) + " (" + ago(inc.received_at) + ")" }),
      el("button", { type: "button", class: "btn btn-small", text: t("popup.details"),
                     onclick: function () { showDetail(inc.id); } })
    ]);
    return box;
  }

  function drawIncident(inc) {
    var def = layerDef("incidents");
    var marker = state.markers.get(inc.id);
    var visible = matchesFilter(inc);
    if (!visible || inc.lat === null || inc.lon === null) {
      if (marker) { incidentLayer.removeLayer(marker); state.markers.delete(inc.id); }
      return;
    }
    var style = Object.assign(styleFor(def || { style: {} }, incidentProps(inc)), {
      pane: "live", className: "inc-marker inc-" + inc.id + (isOverdue(inc) ? " inc-overdue" : "")
    });
    if (!marker) {
      marker = L.circleMarker([inc.lat, inc.lon], style);
      marker.on("click", function () { selectIncident(inc.id, false); });
      state.markers.set(inc.id, marker);
      incidentLayer.addLayer(marker);
    } else {
      marker.setLatLng([inc.lat, inc.lon]);
      marker.setStyle(style);
      if (marker._path) { marker._path.setAttribute("class", "leaflet-interactive " + style.className); }
    }
    marker.bindPopup(function () { return incidentPopup(state.incidents.get(inc.id) || inc); });
  }

  function matchesFilter(inc) {
    var f = state.filter;
    if (f.status === "open" && !isOpen(inc)) { return false; }
    if (f.status && f.status !== "open" && inc.status !== f.status) { return false; }
    if (f.category && inc.category !== f.category) { return false; }
    if (f.window && ageSeconds(inc.received_at) > f.window) { return false; }
    if (f.since && Date.parse(inc.received_at) < Date.parse(f.since)) { return false; }
    if (f.until && Date.parse(inc.received_at) >= Date.parse(f.until)) { return false; }
    if (f.agency && inc.tasks && !inc.tasks.some(function (x) { return x.agency === f.agency; })) { return false; }
    return true;
  }

  var renderTimer = null;
  function scheduleListRender() {
    if (renderTimer) { return; }
    renderTimer = window.setTimeout(function () { renderTimer = null; renderList(); }, 30);
  }

  /* The one entry point for incident changes: API answers today, the live stream later. */
  function upsertIncident(inc) {
    if (!inc || inc.id === undefined) { return; }
    var prev = state.incidents.get(inc.id) || {};
    inc = Object.assign({}, prev, inc, { _fetched: Date.now() });
    state.incidents.set(inc.id, inc);
    drawIncident(inc);
    scheduleListRender();
    if (state.selected === inc.id) { renderDetail(inc); }
  }

  function renderList() {
    var list = document.getElementById("incident-list");
    var items = Array.from(state.incidents.values()).filter(matchesFilter).sort(function (a, b) {
      var oa = isOverdue(a) ? 0 : 1, ob = isOverdue(b) ? 0 : 1;
      if (oa !== ob) { return oa - ob; }
      return Date.parse(b.received_at) - Date.parse(a.received_at);
    });
    list.textContent = "";
    var overdue = items.filter(isOverdue).length;
    document.getElementById("list-summary").textContent = t("list.summary", { n: items.length }) +
      (state.total > items.length ? " · " + t("list.of_total", { n: state.total }) : "") +
      (overdue ? " · " + t("list.overdue", { n: overdue }) : "");
    if (!items.length) {
      list.appendChild(el("li", { class: "empty", text: t("list.empty") }));
      return;
    }
    items.forEach(function (inc) {
      var late = isOverdue(inc);
      var open = isOpen(inc);
      var li = el("li", { class: "incident" + (late ? " overdue" : "") + (open ? "" : " closed") +
                                 (state.selected === inc.id ? " selected" : ""), "data-id": inc.id }, [
        el("button", { type: "button", class: "incident-button", "aria-label": "#" + inc.id + " " + catName(inc.category, inc),
                       onclick: function () { selectIncident(inc.id, true); } }, [
          el("span", { class: "dot", style: "background:" + catColor(inc.category) }),
          el("span", { class: "incident-main" }, [
            el("span", { class: "incident-title" }, [
              el("span", { class: "incident-id", text: "#" + inc.id }), " ", catName(inc.category, inc)]),
            el("span", { class: "incident-address", text: inc.address || (inc.lat.toFixed(5) + ", " + inc.lon.toFixed(5)) })
          ]),
          el("span", { class: "incident-meta" }, [
            el("span", { class: "status status-" + inc.status, text: t("status." + inc.status) }),
            late ? el("span", { class: "badge-overdue", text: t("overdue") }) : null,
            el("span", { class: "age", text: ago(inc.received_at) })
          ])
        ])
      ]);
      list.appendChild(li);
    });
  }

  function loadIncidents() {
    var f = state.filter;
    var q = ["limit=500"];
    if (f.status === "open") { q.push("open=1"); } else if (f.status) { q.push("status=" + encodeURIComponent(f.status)); }
    if (f.category) { q.push("category=" + encodeURIComponent(f.category)); }
    if (f.window) { q.push("since=" + encodeURIComponent(new Date(Date.now() - f.window * 1000).toISOString())); }
    if (f.since) { q.push("since=" + encodeURIComponent(f.since)); }
    if (f.until) { q.push("until=" + encodeURIComponent(f.until)); }
    if (f.agency) { q.push("agency=" + encodeURIComponent(f.agency)); }
    return api(API + "/incidents?" + q.join("&")).then(function (page) {
      state.total = page.total;
      // Replace the store with what the server says matches now; upsert keeps it one code path.
      state.incidents.forEach(function (inc, id) {
        if (!page.items.some(function (i) { return i.id === id; }) && id !== state.selected) {
          state.incidents.delete(id);
          var m = state.markers.get(id);
          if (m) { incidentLayer.removeLayer(m); state.markers.delete(id); }
        }
      });
      page.items.forEach(upsertIncident);
      scheduleListRender();
    }, function () {
      document.getElementById("list-summary").textContent = t("list.error");
    });
  }

  function selectIncident(id, pan) {
    var inc = state.incidents.get(id);
    if (!inc) { return; }
    var marker = state.markers.get(id);
    if (pan && marker) {
      incidentLayer.zoomToShowLayer(marker, function () {
        map.setView(marker.getLatLng(), Math.max(map.getZoom(), 16));
        marker.openPopup();
      });
    } else if (marker) {
      marker.openPopup();
    }
    state.selected = id;
    scheduleListRender();
  }

  // -- live layers: units ----------------------------------------------------------------
  function upsertUnit(u) {
    if (!u || u.id === undefined) { return; }
    u = Object.assign({}, state.units.get(u.id) || {}, u);
    state.units.set(u.id, u);
    var def = layerDef("units");
    var marker = state.unitMarkers.get(u.id);
    if (u.lat === null || u.lon === null || u.lat === undefined) {
      if (marker) { unitLayer.removeLayer(marker); state.unitMarkers.delete(u.id); }
      return;
    }
    var color = (state.agencies[u.agency] && state.agencies[u.agency].color) || "#555555";
    var props = Object.assign({}, u, { color: color });
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

  function loadUnits() {
    return api(API + "/units").then(function (d) { d.units.forEach(upsertUnit); }, function () { /* keep last */ });
  }

  // -- detail view: status buttons, nearest units, assignment ---------------------------------
  function showView(name) {
    state.tab = name;
    ["list", "new", "detail"].forEach(function (v) {
      document.getElementById("view-" + v).hidden = v !== name;
      var tab = document.getElementById("tab-" + v);
      tab.setAttribute("aria-selected", v === name ? "true" : "false");
      tab.classList.toggle("active", v === name);
    });
    document.getElementById("map").classList.toggle("picking", name === "new");
  }

  function showDetail(id) {
    state.selected = id;
    document.getElementById("tab-detail").hidden = false;
    showView("detail");
    var cached = state.incidents.get(id);
    if (cached) { renderDetail(cached); }
    api(API + "/incidents/" + id).then(upsertIncident);
    scheduleListRender();
  }

  function dl(pairs) {
    var d = el("dl", { class: "facts" });
    pairs.forEach(function (p) {
      if (p[1] === null || p[1] === undefined || p[1] === "") { return; }
      d.appendChild(el("dt", { text: p[0] }));
      d.appendChild(el("dd", { text: String(p[1]) }));
    });
    return d;
  }

  function renderDetail(inc) {
    var box = document.getElementById("detail");
    box.textContent = "";
    var late = isOverdue(inc);
    var header = el("div", { class: "detail-header" }, [
      el("button", { type: "button", class: "btn btn-small", text: t("detail.back"), onclick: function () { showView("list"); } }),
      el("h2", {}, [el("span", { class: "dot", style: "background:" + catColor(inc.category) }),
                    "#" + inc.id + " " + catName(inc.category, inc)]),
      el("p", {}, [el("span", { class: "status status-" + inc.status, text: t("status." + inc.status) }),
                   late ? el("span", { class: "badge-overdue", text: t("overdue") }) : null,
                   el("span", { class: "age", text: " " + ago(inc.received_at) })])
    ]);
    box.appendChild(header);
    var caller = inc.caller && (inc.caller.name || inc.caller.phone)
      ? [inc.caller.name, inc.caller.phone].filter(Boolean).join(" · ") : null;
    box.appendChild(dl([
      [t("detail.address"), inc.address],
      [t("detail.kelurahan"), inc.kelurahan && inc.kelurahan.name],
      [t("detail.caller"), caller],
      [t("detail.received"), clock(inc.received_at)],
      [t("detail.target"), inc.target_response_s ? t("minutes", { n: Math.round(inc.target_response_s / 60) }) : null],
      [t("detail.description"), inc.description],
      [t("detail.agencies"), (inc.tasks || []).map(function (x) { return x.agency; }).join(", ")],
      [t("detail.assignments"), (inc.assignments || []).filter(function (a) { return !a.released_at; })
        .map(function (a) { return a.callsign; }).join(", ")]
    ]));
    box.appendChild(el("button", { type: "button", class: "btn btn-small", text: t("detail.open_on_map"),
                                   onclick: function () { selectIncident(inc.id, true); } }));
    var next = nextStatuses(inc.status);
    if (next.length) {
      var err = el("p", { class: "form-error", id: "status-error", role: "alert" });
      box.appendChild(el("h3", { text: t("detail.status_actions") }));
      box.appendChild(el("div", { class: "status-actions" }, next.map(function (s) {
        return el("button", { type: "button", class: "btn btn-small status-btn status-" + s, "data-status": s,
                              text: t("status." + s), onclick: function () { changeStatus(inc.id, s, err); } });
      })));
      box.appendChild(err);
    }
    if (state.lifecycle.awaiting.indexOf(inc.status) >= 0) {
      box.appendChild(el("h3", { text: t("detail.nearest") }));
      var near = el("div", { id: "nearest", class: "nearest" }, [el("p", { class: "muted", text: t("detail.loading") })]);
      box.appendChild(near);
      loadNearest(inc, near);
    } else {
      routeLayer.clearLayers();
    }
  }

  function changeStatus(id, status, errBox) {
    errBox.textContent = "";
    api(API + "/incidents/" + id, { method: "PATCH", body: { status: status } }).then(function (inc) {
      upsertIncident(inc);
      loadUnits();
    }, function (e) { errBox.textContent = (e.problem && (e.problem.detail || e.problem.title)) || String(e.status); });
  }

  var nearestSeq = 0;
  function loadNearest(inc, box) {
    var seq = ++nearestSeq;
    routeLayer.clearLayers();
    api(API + "/nearest?lat=" + inc.lat + "&lon=" + inc.lon + "&k=5").then(function (d) {
      if (seq !== nearestSeq) { return; }
      renderNearest(inc, box, (d && d.candidates) || []);
    }, function () {
      if (seq !== nearestSeq) { return; }
      box.textContent = "";  // no routing service (404) or it failed: show nothing
      box.appendChild(el("p", { class: "muted", text: t("detail.nearest_none") }));
    });
  }

  function renderNearest(inc, box, candidates) {
    box.textContent = "";
    if (!candidates.length) { box.appendChild(el("p", { class: "muted", text: t("detail.nearest_none") })); return; }
    var err = el("p", { class: "form-error", role: "alert" });
    var ol = el("ol", { class: "nearest-list" });
    candidates.forEach(function (c, i) {
      var color = (state.agencies[c.agency] && state.agencies[c.agency].color) || "#2563eb";
      if (c.route && c.route.type) {
        L.geoJSON(c.route, { pane: "routes", style: { color: color, weight: i === 0 ? 6 : 4,
                                                       opacity: i === 0 ? 0.9 : 0.5, dashArray: i === 0 ? null : "6 6" } })
          .addTo(routeLayer);
      }
      var assign = c.unit_id ? el("button", { type: "button", class: "btn btn-small btn-primary", text: t("detail.assign"),
        "data-unit": c.unit_id, onclick: function (ev) {
          ev.target.disabled = true;
          api(API + "/incidents/" + inc.id + "/assignments", { method: "POST", body: { unit_id: c.unit_id } })
            .then(function (updated) { upsertIncident(updated); loadUnits(); },
                  function (e) { ev.target.disabled = false; err.textContent = (e.problem && e.problem.detail) || e.status; });
        } }) : null;
      ol.appendChild(el("li", {}, [
        el("span", { class: "dot", style: "background:" + color }),
        el("span", { class: "nearest-main" }, [
          el("strong", { text: c.callsign || c.station_name || c.agency }),
          el("span", { class: "muted", text: " " + c.agency + (c.unit_type ? " · " + c.unit_type : "") })]),
        el("span", { class: "nearest-meta", text: [
          c.eta_s !== null && c.eta_s !== undefined ? t("detail.eta", { m: Math.max(1, Math.round(c.eta_s / 60)) }) : "",
          c.distance_m ? t("detail.distance", { km: (c.distance_m / 1000).toFixed(1) }) : ""].filter(Boolean).join(" · ") }),
        assign
      ]));
    });
    box.appendChild(ol);
    box.appendChild(err);
  }

  // -- new call form ---------------------------------------------------------------------
  var form = document.getElementById("call-form");
  var FIELD_OF = { lat: "location", lon: "location", location: "location", body: "form" };

  function clearErrors() {
    form.querySelectorAll(".field-error, .form-error").forEach(function (p) { p.textContent = ""; });
    form.querySelectorAll(".field.invalid").forEach(function (f) { f.classList.remove("invalid"); });
  }

  /* Put a problem's message next to the field it names (RFC 9457 "field"/"errors"). */
  function showProblem(problem) {
    var errors = problem.errors || [{ field: problem.field, detail: problem.detail || problem.title }];
    var focused = false;
    errors.forEach(function (e) {
      var name = FIELD_OF[e.field] || e.field;
      var p = document.getElementById("err-" + name);
      if (!p) { p = document.getElementById("err-form"); }
      p.textContent = e.detail || problem.title || "Error";
      var wrap = form.querySelector('.field[data-field="' + name + '"]');
      if (wrap) {
        wrap.classList.add("invalid");
        var input = wrap.querySelector("input, select, textarea");
        if (input && !focused) { input.focus(); focused = true; }
      }
    });
  }

  function setDraft(lat, lon, label) {
    state.draft = { lat: lat, lon: lon };
    document.getElementById("c-lat").value = lat.toFixed(6);
    document.getElementById("c-lon").value = lon.toFixed(6);
    if (!draftMarker) {
      draftMarker = L.marker([lat, lon], { draggable: true, keyboard: true, title: t("form.location") }).addTo(map);
      draftMarker.on("dragend", function () {
        var p = draftMarker.getLatLng();
        setDraft(p.lat, p.lng);
      });
    } else {
      draftMarker.setLatLng([lat, lon]);
    }
    var hint = document.getElementById("loc-hint");
    hint.textContent = label ? t("form.near", { place: label }) : t("form.location_set");
    if (!label) {
      api(API + "/reverse?lat=" + lat + "&lon=" + lon).then(function (r) {
        var parts = [r && r.street && r.street.name, r && r.kelurahan && r.kelurahan.name].filter(Boolean);
        if (parts.length && state.draft && state.draft.lat === lat) { hint.textContent = t("form.near", { place: parts.join(", ") }); }
      }, function () { /* reverse geocoding is a nicety */ });
    }
  }

  function clearDraft() {
    state.draft = null;
    state.idempotencyKey = null;
    if (draftMarker) { map.removeLayer(draftMarker); draftMarker = null; }
    document.getElementById("loc-hint").textContent = t("form.location_hint");
  }

  map.on("click", function (e) {
    if (state.tab !== "new") { return; }
    setDraft(e.latlng.lat, e.latlng.lng);
  });

  ["c-lat", "c-lon"].forEach(function (id) {
    document.getElementById(id).addEventListener("change", function () {
      var lat = parseFloat(document.getElementById("c-lat").value);
      var lon = parseFloat(document.getElementById("c-lon").value);
      if (isFinite(lat) && isFinite(lon)) { setDraft(lat, lon); map.panTo([lat, lon]); }
    });
  });

  // Address suggestions from /api/v1/geocode: arrows to move, Enter to choose, Escape to close.
  var addr = document.getElementById("c-address");
  var sugg = document.getElementById("address-suggestions");
  var suggItems = [], suggIndex = -1, suggTimer = null, suggSeq = 0;

  function closeSuggestions() {
    sugg.hidden = true; sugg.textContent = ""; suggItems = []; suggIndex = -1;
    addr.setAttribute("aria-expanded", "false");
    addr.removeAttribute("aria-activedescendant");
  }

  function chooseSuggestion(i) {
    var r = suggItems[i];
    if (!r) { return; }
    addr.value = r.name + (r.kelurahan ? ", " + r.kelurahan : "");
    setDraft(r.lat, r.lon, r.name);
    map.setView([r.lat, r.lon], Math.max(map.getZoom(), 16));
    closeSuggestions();
  }

  function highlight(i) {
    suggIndex = i;
    Array.from(sugg.children).forEach(function (li, j) { li.setAttribute("aria-selected", j === i ? "true" : "false"); });
    if (i >= 0) { addr.setAttribute("aria-activedescendant", "sugg-" + i); }
  }

  addr.addEventListener("input", function () {
    window.clearTimeout(suggTimer);
    var q = addr.value.trim();
    if (q.length < 3) { closeSuggestions(); return; }
    suggTimer = window.setTimeout(function () {
      var seq = ++suggSeq;
      api(API + "/geocode?q=" + encodeURIComponent(q)).then(function (d) {
        if (seq !== suggSeq) { return; }
        sugg.textContent = "";
        suggItems = (d.results || []).slice(0, 8).map(function (r) {
          return { name: r.name, lat: r.lat, lon: r.lon, kind: r.kind,
                   kelurahan: r.kelurahan && (r.kelurahan.name || r.kelurahan) };
        });
        if (!suggItems.length) {
          sugg.appendChild(el("li", { class: "muted", text: t("form.no_suggestions") }));
        }
        suggItems.forEach(function (r, i) {
          sugg.appendChild(el("li", { id: "sugg-" + i, role: "option", "aria-selected": "false",
            onmousedown: function (ev) { ev.preventDefault(); chooseSuggestion(i); } },
            [r.name, el("span", { class: "muted", text: " " + [r.kind, typeof r.kelurahan === "string" ? r.kelurahan : ""].filter(Boolean).join(" · ") })]));
        });
        sugg.hidden = false;
        addr.setAttribute("aria-expanded", "true");
        suggIndex = -1;
      }, closeSuggestions);
    }, 250);
  });
  addr.addEventListener("keydown", function (e) {
    if (sugg.hidden || !suggItems.length) { return; }
    if (e.key === "ArrowDown") { e.preventDefault(); highlight(Math.min(suggIndex + 1, suggItems.length - 1)); }
    else if (e.key === "ArrowUp") { e.preventDefault(); highlight(Math.max(suggIndex - 1, 0)); }
    else if (e.key === "Enter" && suggIndex >= 0) { e.preventDefault(); chooseSuggestion(suggIndex); }
    else if (e.key === "Escape") { closeSuggestions(); }
  });
  addr.addEventListener("blur", function () { window.setTimeout(closeSuggestions, 150); });

  form.addEventListener("reset", function () { clearErrors(); clearDraft(); closeSuggestions(); });

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    clearErrors();
    var body = {
      category: form.category.value || null,
      address: addr.value.trim() || null,
      caller: { name: form.caller_name.value.trim() || null, phone: form.caller_phone.value.trim() || null },
      description: form.description.value.trim() || null,
      source: "phone"
    };
    if (state.draft) { body.location = { lat: state.draft.lat, lon: state.draft.lon }; }
    // One key per call being typed: a double click or a retry after a timeout never logs it twice.
    state.idempotencyKey = state.idempotencyKey || uuid();
    var btn = document.getElementById("c-submit");
    btn.disabled = true;
    btn.textContent = t("form.saving");
    api(API + "/incidents", { method: "POST", body: body, headers: { "Idempotency-Key": state.idempotencyKey } })
      .then(function (inc) {
        form.reset();
        upsertIncident(inc);
        showDetail(inc.id);
        var notes = [t("form.saved", { id: inc.id })];
        if (inc.duplicate_of) { notes.push(t("form.duplicate", { id: inc.duplicate_of })); }
        if (inc.prank_history && inc.prank_history.suspect) { notes.push(t("form.prank_suspect", { n: inc.prank_history.pranks })); }
        toast(notes.join(" "));
        var m = state.markers.get(inc.id);
        if (m) { map.setView(m.getLatLng(), Math.max(map.getZoom(), 15)); }
      }, function (err) { showProblem(err.problem || {}); })
      .then(function () { btn.disabled = false; btn.textContent = t("form.submit"); });
  });

  function toast(msg) {
    var box = el("div", { class: "toast", role: "status", text: msg });
    document.body.appendChild(box);
    window.setTimeout(function () { box.remove(); }, 6000);
  }

  // -- filters, tabs, language -------------------------------------------------------------
  document.getElementById("f-status").addEventListener("change", function (e) {
    state.filter.status = e.target.value; loadIncidents(); renderAll();
  });
  document.getElementById("f-category").addEventListener("change", function (e) {
    state.filter.category = e.target.value; loadIncidents(); renderAll(); reloadAnalytics();
  });
  document.querySelectorAll("[data-window]").forEach(function (b) {
    b.addEventListener("click", function () {
      document.querySelectorAll("[data-window]").forEach(function (x) {
        x.classList.toggle("active", x === b); x.setAttribute("aria-pressed", x === b ? "true" : "false");
      });
      state.filter.window = parseInt(b.dataset.window, 10);
      clearDrilldown(false);
      loadIncidents(); renderAll();
    });
  });
  document.querySelectorAll(".tabs [data-view]").forEach(function (b) {
    b.addEventListener("click", function () {
      showView(b.dataset.view);
      if (b.dataset.view === "new") { document.getElementById("c-category").focus(); }
    });
  });

  function fillStatusOptions() {
    var sel = document.getElementById("f-status");
    var keep = state.filter.status;
    Array.from(sel.options).slice(2).forEach(function (o) { o.remove(); });
    state.lifecycle.statuses.forEach(function (s) { sel.appendChild(el("option", { value: s, text: t("status." + s) })); });
    sel.value = keep;
  }

  function fillCategoryOptions() {
    var cats = Object.values(state.categories).sort(function (a, b) { return a.priority - b.priority || a.code.localeCompare(b.code); });
    [["f-category", 1], ["c-category", 1]].forEach(function (spec) {
      var sel = document.getElementById(spec[0]);
      var keep = spec[0] === "f-category" ? state.filter.category : sel.value;
      Array.from(sel.options).slice(spec[1]).forEach(function (o) { o.remove(); });
      cats.forEach(function (c) {
        sel.appendChild(el("option", { value: c.code, text: catName(c.code) + " (P" + c.priority + ")" }));
      });
      sel.value = keep;
    });
  }

  function renderAll() {
    state.incidents.forEach(drawIncident);
    state.units.forEach(function (u) { upsertUnit(u); });
    renderList();
    if (state.selected && state.tab === "detail" && state.incidents.get(state.selected)) {
      renderDetail(state.incidents.get(state.selected));
    }
  }

  var langBtn = document.getElementById("lang-switch");
  function applyLang() {
    langBtn.textContent = t("lang.switch");
    langBtn.setAttribute("aria-label", t("lang.switch_label"));
    document.getElementById("map").setAttribute("aria-label", t("map.label"));
    fillStatusOptions();
    fillCategoryOptions();
    renderDrilldown();
    if (state.layers.length) { buildLayerControl(); }
    renderAll();
  }
  langBtn.addEventListener("click", function () { I18N.set(I18N.lang === "id" ? "en" : "id"); });
  I18N.onChange(applyLang);

  function tick() {
    var now = new Date();
    document.getElementById("clock").textContent = now.toLocaleTimeString(I18N.lang === "en" ? "en-GB" : "id-ID",
      { hour: "2-digit", minute: "2-digit" });
  }

  /* Plug-in point for live updates: an EventSource whose messages carry {table, row}.  Falls back
   * to polling while the stream endpoint does not exist (or drops). */
  function connectStream() {
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

  // -- start -----------------------------------------------------------------------------
  /* A link from the dashboard: /map?category=&agency=&status=&since=&until= narrows the list (and the
   * analytic overlays) to what the official was looking at; a chip shows it and clears it. */
  function readUrlFilters() {
    var qs = new URLSearchParams(window.location.search), f = state.filter;
    if (qs.get("category")) { f.category = qs.get("category"); }
    if (qs.has("status")) { f.status = qs.get("status") === "all" ? "" : qs.get("status"); }
    if (qs.get("agency")) { f.agency = qs.get("agency"); }
    if (qs.get("since") || qs.get("until")) {
      f.since = qs.get("since") || ""; f.until = qs.get("until") || ""; f.window = 0;
      if (!qs.has("status")) { f.status = ""; }
    }
    document.getElementById("f-status").value = f.status;
    document.querySelectorAll("[data-window]").forEach(function (x) {
      x.classList.toggle("active", parseInt(x.dataset.window, 10) === f.window);
    });
    renderDrilldown();
  }

  function renderDrilldown() {
    var box = document.getElementById("drilldown"), f = state.filter;
    if (!box) { return; }
    var parts = [];
    if (f.agency) { parts.push(t("filter.agency") + ": " + f.agency); }
    if (f.since || f.until) { parts.push((f.since || "…").slice(0, 10) + " – " + (f.until || "…").slice(0, 10)); }
    box.hidden = !parts.length;
    box.textContent = "";
    if (!parts.length) { return; }
    box.appendChild(el("span", { text: parts.join(" · ") }));
    box.appendChild(el("button", { type: "button", class: "btn btn-small", id: "drilldown-clear", text: t("filter.clear"),
                                   onclick: function () { clearDrilldown(true); } }));
  }

  function clearDrilldown(reload) {
    var f = state.filter;
    if (!f.agency && !f.since && !f.until) { return; }
    f.agency = ""; f.since = ""; f.until = "";
    if (!f.window) {
      f.window = 86400;
      document.querySelectorAll("[data-window]").forEach(function (x) { x.classList.toggle("active", x.dataset.window === "86400"); });
    }
    if (window.history && window.history.replaceState) { window.history.replaceState(null, "", window.location.pathname); }
    renderDrilldown();
    reloadAnalytics();
    if (reload) { loadIncidents(); renderAll(); }
  }

  I18N.apply(document);
  readUrlFilters();
  showView("list");
  fillStatusOptions();
  tick();
  window.setInterval(tick, 15000);
  Promise.all([
    api(cfg.layersUrl || "/map/layers.json"),
    api(API + "/categories").catch(function () { return { categories: [] }; }),
    api(API + "/agencies").catch(function () { return { agencies: [] }; })
  ]).then(function (res) {
    res[1].categories.forEach(function (c) { state.categories[c.code] = c; });
    res[2].agencies.forEach(function (a) { state.agencies[a.code] = a; });
    setupLayers(res[0]);
    applyLang();
    return Promise.all([loadIncidents(), loadUnits()]);
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

  window.peta112 = { map: map, state: state, upsertIncident: upsertIncident, upsertUnit: upsertUnit,
                     reloadAnalytics: reloadAnalytics,
                     reload: loadIncidents, styleFor: styleFor };
})();
