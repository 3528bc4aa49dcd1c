/* The console's one state store and the server's verdicts read from it.
 *
 * Every panel (queue, detail, intake, units, layers) reads and writes this one object, so a change
 * made by one panel (a live update, an assignment) is what the others draw next.  The rules are
 * not kept here: lifecycle statuses and transitions come from /map/layers.json
 * (app/incidents/lifecycle.py), and whether an incident is open or overdue comes with the
 * incident itself (is_open, is_overdue, due_at from incident_facts).
 */
export const I18N = window.P112I18N;
export const t = I18N.t;
export const cfg = document.body.dataset;
export const API = cfg.api || "/api/v1";

export const state = {
  // The lifecycle rules from the server: which statuses exist, which may follow which, which wait
  // for a unit on scene.
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
  layerControl: null,
  me: null,              // /api/v1/me: the user, the actions its role may use, the agency it acts for
  total: 0,              // open calls (queue) or matching incidents (history) the server counted
  counts: null,          // the queue's counts per status and priority
  list: { items: [], range: [0, 0], rowHeight: 64, recheckTimer: null },  // the virtualised list
  alerts: { seen: new Set(), raised: [], beeps: 0 }
};

export function catName(code, inc) {
  const c = state.categories[code];
  if (I18N.lang === "en") { return (c && c.name_en) || (inc && inc.category_name_en) || code; }
  return (c && c.name_id) || (inc && inc.category_name) || code;
}

export function catColor(code) { return (state.categories[code] && state.categories[code].color) || "#777777"; }

export function agencyColor(code, fallback) {
  return (state.agencies[code] && state.agencies[code].color) || fallback;
}

/* The server's verdicts (the read model incident_facts), as of when the incident was fetched. */
export function isOverdue(inc) { return inc.is_overdue === true; }
export function isOpen(inc) { return inc.is_open === true; }

/* Open, not overdue when fetched, and its due time has passed since: only the server can say
 * whether it is overdue now (a unit may have arrived), so such incidents are fetched again. */
export function dueForRecheck(inc) {
  const due = inc.due_at ? Date.parse(inc.due_at) : NaN;
  return isOpen(inc) && !isOverdue(inc) && due <= Date.now() && (inc._fetched || 0) < due;
}

export function nextStatuses(cur) { return state.lifecycle.transitions[cur] || []; }

export function layerDef(id) { return state.layers.filter(function (l) { return l.id === id; })[0]; }

/* -- who is reading: the server's answer (/api/v1/me), never a copy of the role table ---------- */
/* May the signed-in role use this endpoint (app/web/policy.py)?  Before /me answers: no. */
export function may(endpoint) { return !!(state.me && state.me.actions && state.me.actions.indexOf(endpoint) >= 0); }

/* The agency an agency-bound user acts for (its own tasks and units only); null for the desk. */
export function actsFor() { return (state.me && state.me.acts_for_agency) || null; }

export function agencyName(code, fallback) {
  const a = state.agencies[code];
  if (!a) { return fallback || code; }
  return (I18N.lang === "en" && a.name_en) || a.name || fallback || code;
}

/* A unit kind as words ("Mobil pemadam"), never the raw code. */
export function kindName(code) {
  if (!code) { return ""; }
  return I18N.has("kind." + code) ? t("kind." + code) : code.replace(/_/g, " ");
}
