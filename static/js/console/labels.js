/* The basemap's names: streets along the streets, kecamatan and kelurahan names, landmarks beside
 * their dots.  Drawn by protomaps-leaflet (vendored; window.protomapsL) from our own vector tiles,
 * with the vendored Noto Sans, so the map is readable offline.  Which layers carry names, and how
 * they look, is in layers/*.toml: a layer with `render = "labels"` (its shapes are not drawn) or any
 * tiled layer with `style.label`.  Labels are one canvas above the basemap; it takes no clicks.
 *
 * Every name actually painted is remembered (drawnNames), so a test can ask the renderer, not the
 * clock, whether "Jl. Merdeka" is on the map. */
import { I18N } from "./store.js";

const FONT_FAMILY = "'Noto Sans', 'DejaVu Sans', sans-serif";
export const drawnNames = new Set();

/* A label property for feature f: the class's value (style.label_classes) over the layer's. */
function attr(def, key, fallback) {
  const lab = def.style.label;
  const cls = def.style.label_classes;
  return function (z, f) {
    const v = cls && cls.values && f && cls.values[f.props[cls.property]];
    if (v && v[key] !== undefined) { return v[key]; }
    return lab[key] !== undefined ? lab[key] : fallback;
  };
}

/* Wraps a symbolizer so that each label it places records its text when it is really painted
 * (a label that loses a collision is never drawn). */
function recording(symbolizer, field) {
  return {
    place: function (layout, geom, feature) {
      const labels = symbolizer.place(layout, geom, feature);
      const name = feature.props[field];
      (labels || []).forEach(function (label) {
        const draw = label.draw;
        label.draw = function (ctx, extra) { drawnNames.add(name); return draw(ctx, extra); };
      });
      return labels;
    }
  };
}

function rule(def) {
  const P = window.protomapsL;
  const lab = def.style.label;
  const field = lab.field || "name";
  const italic = attr(def, "italic", false), weight = attr(def, "weight", 400), size = attr(def, "size", 11);
  const transform = attr(def, "transform", "");
  const opts = {
    labelProps: [field],
    font: function (z, f) { return (italic(z, f) ? "italic " : "") + weight(z, f) + " " + size(z, f) + "px " + FONT_FAMILY; },
    fill: attr(def, "fill", "#323f4b"),
    stroke: attr(def, "halo", "#ffffff"),
    width: attr(def, "halo_width", 3),
    textTransform: function (z, f) { return transform(z, f) || undefined; }
  };
  let symbolizer;
  if (def.geometry === "line") {
    symbolizer = new P.LineLabelSymbolizer(opts);
  } else if (lab.offset) {
    symbolizer = new P.OffsetTextSymbolizer(Object.assign({ offsetX: lab.offset, offsetY: lab.offset / 2 }, opts));
  } else {
    symbolizer = new P.CenteredTextSymbolizer(opts);
  }
  return { dataSource: def.id, dataLayer: def.id, symbolizer: recording(symbolizer, field),
           minzoom: lab.minzoom !== undefined ? lab.minzoom : def.minzoom, maxzoom: def.maxzoom };
}

/* One Leaflet layer for every layer definition that has names to draw, or null without the library. */
export function labelLayer(defs, pane) {
  const P = window.protomapsL;
  const named = defs.filter(function (d) { return d.tiles && d.style && d.style.label; });
  if (!P || !named.length) { return null; }
  const sources = {};
  named.forEach(function (d) {
    // levelDiff 0: one tile of ours per tile drawn, the same URLs the other layers fetch (cached).
    sources[d.id] = { url: window.location.origin + d.tiles, levelDiff: 0, maxDataZoom: 16 };
  });
  // Draw only once the fonts are there, or the first tiles would be measured in a fallback font.
  const fonts = document.fonts ? ["400 12px", "600 12px", "italic 400 12px"].map(function (f) {
    return document.fonts.load(f + " 'Noto Sans'");
  }) : [];
  const layer = P.leafletLayer({
    sources: sources, paintRules: [], labelRules: named.map(rule), tasks: fonts, pane: pane,
    attribution: "", lang: I18N.lang, maxZoom: 22
  });
  layer.drawnNames = drawnNames;
  return layer;
}
