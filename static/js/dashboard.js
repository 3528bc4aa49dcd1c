/* peta112 officials' dashboard.
 *
 * Two API calls drive the whole page: GET /api/v1/analytics/agency-performance (ranking table,
 * response-time and compliance charts) and GET /api/v1/analytics/trends (hour x weekday table,
 * category mix, flood curve, prank rate), both with the same filters.  Charts are the vendored
 * Chart.js UMD build (window.Chart); strings come from i18n.js.  No inline script: settings
 * arrive as data- attributes.  The filters live in the URL too, so a view can be sent as a link.
 */
(function () {
  "use strict";
  var I18N = window.P112I18N;
  var t = I18N.t;
  var cfg = document.body.dataset;
  var API = cfg.api || "/api/v1";
  var MAP_URL = cfg.mapUrl || "/map";

  var state = { categories: {}, agencies: {}, perf: null, trends: null, hotspots: null, metric: "acknowledge",
                charts: {}, seq: 0, loads: 0, lastQuery: null, hotspotColours: {} };

  Chart.defaults.font.family = window.getComputedStyle(document.body).fontFamily;
  Chart.defaults.font.size = 12;
  Chart.defaults.animation = false;  // officials want numbers, not motion; also makes screenshots stable
  Chart.defaults.maintainAspectRatio = false;

  // -- helpers -----------------------------------------------------------------------------
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; }
      else if (k === "class") { node.className = attrs[k]; }
      else if (k === "style") { node.style.cssText = attrs[k]; }
      else if (attrs[k] !== null && attrs[k] !== undefined && attrs[k] !== false) { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) {
      if (c !== null && c !== undefined) { node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); }
    });
    return node;
  }

  function api(path) {
    return fetch(path, { headers: { "Accept": "application/json" } }).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (data) {
        if (!resp.ok) { return Promise.reject({ status: resp.status, problem: data || {} }); }
        return data;
      });
    }, function () { return Promise.reject({ status: 0, problem: { detail: t("error.network") } }); });
  }

  function locale() { return I18N.lang === "en" ? "en-GB" : "id-ID"; }

  function num(v, digits) {
    return new Intl.NumberFormat(locale(), { maximumFractionDigits: digits || 0, minimumFractionDigits: digits || 0 }).format(v);
  }

  /* A duration in the unit an official reads it in: minutes, hours, then days. */
  function duration(s) {
    if (s === null || s === undefined) { return "—"; }
    if (s < 3600) { return num(s / 60, 1) + " " + t("unit.min"); }
    if (s < 48 * 3600) { return num(s / 3600, 1) + " " + t("unit.h"); }
    return num(s / 86400, 1) + " " + t("unit.d");
  }

  function pct(v) { return v === null || v === undefined ? "—" : num(v * 100, 1) + "%"; }

  function isoDate(d) {
    return d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0") + "-" + String(d.getDate()).padStart(2, "0");
  }

  /* "Today" is the city's date, not the browser's: the API reads a date as the city's midnight,
     so after 17:00 UTC (midnight WIB) a browser on UTC would leave out the calls of the city's today. */
  var CITY_TZ = document.body.dataset.timezone || "Asia/Jakarta";
  function cityToday() {
    return new Intl.DateTimeFormat("en-CA", { timeZone: CITY_TZ, year: "numeric", month: "2-digit",
                                               day: "2-digit" }).format(new Date());
  }

  function addDays(iso, days) {
    var d = new Date(iso + "T00:00:00");
    d.setDate(d.getDate() + days);
    return isoDate(d);
  }

  function catName(code) {
    var c = state.categories[code];
    if (!c) { return code; }
    return (I18N.lang === "en" ? c.name_en : c.name_id) || code;
  }

  function catColor(code) { return (state.categories[code] && state.categories[code].color) || "#777777"; }
  function agencyColor(code) { return (state.agencies[code] && state.agencies[code].color) || "#52606d"; }

  function monthLabel(ym) {
    var d = new Date(ym + "-01T00:00:00");
    return d.toLocaleDateString(locale(), { month: "short", year: "2-digit" });
  }

  function chart(id, config) {
    if (state.charts[id]) { state.charts[id].destroy(); }
    state.charts[id] = new Chart(document.getElementById(id), config);
    return state.charts[id];
  }

  // -- filters -------------------------------------------------------------------------------
  var f = {
    since: document.getElementById("d-since"), until: document.getElementById("d-until"),
    category: document.getElementById("d-category"), kecamatan: document.getElementById("d-kecamatan"),
    rank: document.getElementById("d-rank")
  };

  /* The API's half-open window: a date means Jakarta midnight, so "until" is the day after the last one shown. */
  function query() {
    var q = { since: f.since.value, until: addDays(f.until.value, 1) };
    if (f.category.value) { q.category = f.category.value; }
    if (f.kecamatan.value) { q.kecamatan = f.kecamatan.value; }
    return q;
  }

  function qs(obj) {
    return Object.keys(obj).map(function (k) { return k + "=" + encodeURIComponent(obj[k]); }).join("&");
  }

  function readUrl() {
    var u = new URLSearchParams(window.location.search);
    var today = cityToday();
    f.until.value = u.get("until") || today;
    f.since.value = u.get("since") || addDays(f.until.value, -89);
    if (u.get("kecamatan")) { f.kecamatan.value = u.get("kecamatan"); }
    if (u.get("rank_by")) { f.rank.value = u.get("rank_by"); }
    state.urlCategory = u.get("category") || "";
  }

  function writeUrl() {
    var u = { since: f.since.value, until: f.until.value };
    if (f.category.value) { u.category = f.category.value; }
    if (f.kecamatan.value) { u.kecamatan = f.kecamatan.value; }
    if (f.rank.value !== "acknowledge") { u.rank_by = f.rank.value; }
    if (window.history && window.history.replaceState) {
      window.history.replaceState(null, "", window.location.pathname + "?" + qs(u));
    }
  }

  function setStatus(msg, isError) {
    var p = document.getElementById("dash-status");
    p.textContent = msg;
    p.classList.toggle("error", !!isError);
  }

  function load() {
    if (!f.since.value || !f.until.value) { return Promise.resolve(); }
    if (f.since.value > f.until.value) { setStatus(t("dash.bad_range"), true); return Promise.resolve(); }
    writeUrl();
    var q = query(), seq = ++state.seq;
    setStatus(t("detail.loading"));
    var perfQ = Object.assign({ rank_by: f.rank.value }, q);
    updateReportLink();
    return Promise.all([
      api(API + "/analytics/agency-performance?" + qs(perfQ)),
      api(API + "/analytics/trends?" + qs(q))
    ]).then(function (res) {
      if (seq !== state.seq) { return; }
      state.perf = res[0]; state.trends = res[1]; state.lastQuery = q;
      // Hotspots after the figures, and only for the view still asked for: a user may hold only a few
      // analytics requests at once (429 beyond), and a quick change of both dates makes two loads.
      loadHotspots(q).then(function (hot) {
        if (seq !== state.seq) { return; }
        state.hotspots = hot;
        renderHotspots();
      });
      renderAll();
      state.loads += 1;
      document.body.dataset.loads = String(state.loads);
      document.body.classList.add("ready");
      setStatus(t("dash.updated", { time: new Date().toLocaleTimeString(locale(), { hour: "2-digit", minute: "2-digit", timeZone: CITY_TZ }) }));
    }, function (e) {
      if (seq !== state.seq) { return; }
      setStatus((e.problem && (e.problem.detail || e.problem.title)) || t("error.network"), true);
      document.body.classList.add("ready");
    });
  }

  // -- rendering -------------------------------------------------------------------------------
  function renderAll() {
    if (!state.perf || !state.trends) { return; }
    renderKpis();
    renderRanking();
    renderTimes();
    renderCompliance();
    renderHeat();
    renderMix();
    renderFlood();
    renderPrank();
    renderHotspots();
  }

  // -- hotspots: the kelurahan choropleth as SVG (no tiles needed) and the significant ones as a table --
  var HOT_ORDER = ["hot_99", "hot_95", "cold_95", "cold_99"];

  function hotColour(cls) { return state.hotspotColours[cls] || "#e4e7eb"; }

  function ringsOf(geom) {
    if (!geom) { return []; }
    if (geom.type === "Polygon") { return geom.coordinates; }
    if (geom.type === "MultiPolygon") { return [].concat.apply([], geom.coordinates); }
    return [];
  }

  function renderHotspots() {
    var svg = document.getElementById("hotspot-map"), body = document.querySelector("#hotspot-table tbody");
    var legend = document.getElementById("hotspot-legend");
    svg.textContent = ""; body.textContent = ""; legend.textContent = "";
    var fc = state.hotspots;
    if (!fc || !fc.features) {
      body.appendChild(el("tr", {}, [el("td", { colspan: "5", class: "empty", text: t("dash.hotspots_none") })]));
      return;
    }
    // Equirectangular, scaled by cos(latitude): at a city's size as good as the map's projection.
    var xs = [], ys = [], lat0 = 0, n = 0;
    fc.features.forEach(function (f) {
      ringsOf(f.geometry).forEach(function (ring) { ring.forEach(function (p) { lat0 += p[1]; n += 1; }); });
    });
    var k = Math.cos((n ? lat0 / n : 0) * Math.PI / 180);
    fc.features.forEach(function (f) {
      ringsOf(f.geometry).forEach(function (ring) { ring.forEach(function (p) { xs.push(p[0] * k); ys.push(-p[1]); }); });
    });
    var x0 = Math.min.apply(null, xs), y0 = Math.min.apply(null, ys);
    var w = Math.max.apply(null, xs) - x0, h = Math.max.apply(null, ys) - y0, scale = 1000 / Math.max(w, h, 1e-9);
    svg.setAttribute("viewBox", "0 0 " + (w * scale).toFixed(0) + " " + (h * scale).toFixed(0));
    var NS = "http://www.w3.org/2000/svg";
    fc.features.forEach(function (f) {
      var p = f.properties, cls = (p.gi_star && p.gi_star["class"]) || "not_significant";
      var d = ringsOf(f.geometry).map(function (ring) {
        return "M" + ring.map(function (c) {
          return ((c[0] * k - x0) * scale).toFixed(1) + "," + ((-c[1] - y0) * scale).toFixed(1);
        }).join("L") + "Z";
      }).join("");
      var path = document.createElementNS(NS, "path");
      path.setAttribute("d", d);
      path.setAttribute("fill", hotColour(cls));
      path.setAttribute("data-class", cls);
      path.setAttribute("data-code", p.code || p.hex || "");
      var title = document.createElementNS(NS, "title");
      title.textContent = hotName(p) + " · " + num(p.count) + " · " + t("value." + cls);
      path.appendChild(title);
      svg.appendChild(path);
    });
    var sig = fc.features.filter(function (f) { return f.properties.gi_star && HOT_ORDER.indexOf(f.properties.gi_star["class"]) >= 0; })
      .sort(function (a, b) { return b.properties.gi_star.z - a.properties.gi_star.z; });
    if (!sig.length) {
      body.appendChild(el("tr", {}, [el("td", { colspan: "5", class: "empty", text: t("dash.hotspots_none") })]));
    }
    sig.forEach(function (f) {
      var p = f.properties, cls = p.gi_star["class"];
      body.appendChild(el("tr", { "data-class": cls, "data-code": p.code || p.hex || "" }, [
        el("td", {}, [el("span", { class: "swatch", style: "background:" + hotColour(cls) }), hotName(p)]),
        el("td", { text: p.kecamatan_name || "" }),
        el("td", { class: "num", text: num(p.count) }),
        el("td", { class: "num", text: num(p.gi_star.z, 1) }),
        el("td", { text: t("value." + cls) })
      ]));
    });
    HOT_ORDER.forEach(function (cls) {
      legend.appendChild(el("span", { class: "swatch", style: "background:" + hotColour(cls) }));
      legend.appendChild(document.createTextNode(t("value." + cls) + "  "));
    });
    var q = state.lastQuery, link = { status: "all", since: q.since, until: q.until };
    if (q.category) { link.category = q.category; }
    document.getElementById("hotspot-map-link").href = MAP_URL + "?" + qs(link);
  }

  /* Gi* per kelurahan (the unit officials govern by); a city with fewer than three kelurahan (a new
   * import) gets 500 m hexagons instead (the server says which: data-hotspot-unit). Hotspots are a
   * bonus: a slow or refused query must not blank the ranking, so this never rejects. */
  function loadHotspots(q) {
    var unit = cfg.hotspotUnit === "hex" ? "hex" : "kelurahan";
    var hq = Object.assign({ unit: unit, permutations: 999 }, q);
    if (unit === "hex") { hq.hex_m = 500; }
    delete hq.kecamatan;  // the city's pattern: a kecamatan alone has too few neighbours to test
    return api(API + "/analytics/hotspots?" + qs(hq)).catch(function () { return null; });
  }

  function hotName(p) {
    return p.unit === "hex" ? t("dash.hex") + " " + p.hex : (p.name || p.code);
  }

  /* The weekly report for the week that ends on the dashboard's last day, its category and language. */
  function updateReportLink() {
    var a = document.getElementById("nav-report");
    if (!a) { return; }
    var p = { until: f.until.value || cityToday(), lang: I18N.lang };
    if (f.category.value) { p.category = f.category.value; }
    a.href = (cfg.reportUrl || API + "/analytics/weekly-report") + "?" + qs(p);
  }

  function renderKpis() {
    var box = document.getElementById("kpis");
    box.textContent = "";
    var groups = state.perf.groups;
    // Incidents are counted calls (no pranks, cancelled calls or duplicates), the same number the
    // analytics and the weekly report give; calls and pranks are the desk's whole load.
    var summary = state.trends.summary;
    var calls = summary.calls, pranks = summary.pranks;
    var floods = state.trends.flood.by_month.reduce(function (n, r) { return n + r.total; }, 0);
    var meeting = groups.filter(function (g) { return g.compliance.arrival && g.compliance.arrival.meets_goal; }).length;
    [
      ["kpi-incidents", num(summary.incidents), t("kpi.incidents")],
      ["kpi-calls", num(calls), t("kpi.calls")],
      ["kpi-tasks", num(state.perf.summary.tasks), t("kpi.tasks")],
      ["kpi-meeting", meeting + " / " + groups.length, t("kpi.meeting")],
      ["kpi-prank", calls ? pct(pranks / calls) : "—", t("kpi.prank")],
      ["kpi-flood", num(floods), t("kpi.flood")],
      ["kpi-fast", num(state.perf.summary.fast_closures), t("kpi.fast")]
    ].forEach(function (k) {
      box.appendChild(el("div", { class: "kpi", id: k[0] }, [el("div", { class: "value", text: k[1] }),
                                                             el("div", { class: "label", text: k[2] })]));
    });
  }

  function mapLink(agency) {
    var q = state.lastQuery, p = { agency: agency, status: "all", since: q.since, until: q.until };
    if (q.category) { p.category = q.category; }
    return MAP_URL + "?" + qs(p);
  }

  function timeCell(m) {
    return el("td", { class: "num", text: duration(m.median_s) + " / " + duration(m.p90_s) });
  }

  /* The target a share was measured against: "≤ 45,0 mnt sejak diteruskan", or a range when an agency's
   * tasks have different targets (POLRI: its own crimes from the call, a fire's cordon from forwarding). */
  function targetText(c) {
    var range = c.target_range_s || [c.target_s, c.target_s];
    var limit = c.target_s !== null && c.target_s !== undefined ? duration(c.target_s)
      : duration(range[0]) + "–" + duration(range[1]);
    return "≤ " + limit + " " + t("dash.target_from_" + (c.from || "received"));
  }

  function shareCell(c) {
    if (!c || c.share === null || c.share === undefined) { return el("td", { class: "num", text: "—" }); }
    var basis = (c.basis || []).map(function (b) { return t("dash.basis." + b.split(" ")[0]); }).join(", ");
    return el("td", { class: "num " + (c.meets_goal ? "ok" : "bad"),
                      title: t("dash.goal", { goal: pct(c.goal), n: num(c.n) }) + (basis ? " · " + basis : ""),
                      "data-basis": (c.basis || []).map(function (b) { return b.split(" ")[0]; }).join(",") },
              [pct(c.share) + " (" + pct(c.goal) + ")", el("span", { class: "target", text: targetText(c) })]);
  }

  function renderRanking() {
    var body = document.querySelector("#ranking tbody");
    body.textContent = "";
    var groups = state.perf.groups;
    if (!groups.length) {
      body.appendChild(el("tr", {}, [el("td", { colspan: "10", class: "empty", text: t("dash.empty") })]));
      return;
    }
    groups.forEach(function (g, i) {
      body.appendChild(el("tr", { class: i === 0 ? "slowest" : "", "data-agency": g.agency }, [
        el("td", { text: String(g.rank) }),
        el("td", {}, [el("span", { class: "dot", style: "background:" + agencyColor(g.agency) }),
                      el("strong", { text: g.agency }), " ", el("span", { class: "agency-name", text: g.agency_name || "" })]),
        el("td", { class: "num", text: num(g.tasks) }),
        timeCell(g.acknowledge), timeCell(g.on_scene), timeCell(g.resolve),
        shareCell(g.compliance.arrival), shareCell(g.compliance.turnout),
        el("td", { class: "num", text: num(g.open) }),
        el("td", {}, [el("a", { href: mapLink(g.agency), class: "map-link", text: t("dash.on_map") })])
      ]));
    });
  }

  var METRIC_SCALE = { acknowledge: [60, "unit.min"], on_scene: [60, "unit.min"], resolve: [3600, "unit.h"] };

  function renderTimes() {
    var m = state.metric, scale = METRIC_SCALE[m];
    var groups = state.perf.groups.filter(function (g) { return g[m].median_s !== null; })
      .sort(function (a, b) { return b[m].median_s - a[m].median_s; });
    document.getElementById("h-times").textContent = t("dash.times_" + (m === "resolve" ? "h" : "min"));
    chart("chart-times", {
      type: "bar",
      data: {
        labels: groups.map(function (g) { return g.agency; }),
        datasets: [
          { label: t("legend.median"), data: groups.map(function (g) { return g[m].median_s / scale[0]; }),
            backgroundColor: "#b3261e" },
          { label: "p90", data: groups.map(function (g) { return g[m].p90_s / scale[0]; }),
            backgroundColor: "rgba(95, 107, 122, 0.35)" }
        ]
      },
      options: {
        indexAxis: "y",
        plugins: { tooltip: { callbacks: { label: function (c) { return c.dataset.label + ": " + num(c.raw, 1) + " " + t(scale[1]); } } } },
        scales: { x: { title: { display: true, text: t(scale[1]) } }, y: { ticks: { autoSkip: false } } }
      }
    });
  }

  function renderCompliance() {
    var groups = state.perf.groups.filter(function (g) { return g.compliance.arrival && g.compliance.arrival.share !== null; })
      .sort(function (a, b) { return a.compliance.arrival.share - b.compliance.arrival.share; });
    chart("chart-compliance", {
      type: "bar",
      data: {
        labels: groups.map(function (g) { return g.agency; }),
        datasets: [
          { label: t("legend.share"), data: groups.map(function (g) { return g.compliance.arrival.share * 100; }),
            backgroundColor: groups.map(function (g) { return g.compliance.arrival.meets_goal ? "#1a9641" : "#d7191c"; }) },
          { type: "line", label: t("legend.goal"), data: groups.map(function (g) { return g.compliance.arrival.goal * 100; }),
            borderColor: "#1f2933", borderDash: [6, 4], pointRadius: 0, borderWidth: 2 }
        ]
      },
      options: {
        scales: { y: { min: 0, max: 100, title: { display: true, text: "%" } } },
        plugins: { tooltip: { callbacks: { label: function (c) { return c.dataset.label + ": " + num(c.raw, 1) + "%"; } } } }
      }
    });
  }

  function renderHeat() {
    var hb = state.trends.hour_by_weekday, table = document.getElementById("heat");
    table.textContent = "";
    var max = 0;
    hb.counts.forEach(function (row) { row.forEach(function (n) { max = Math.max(max, n); }); });
    var head = el("tr", {}, [el("th", { text: "" })].concat(hb.hours.map(function (h) {
      return el("th", { scope: "col", text: String(h).padStart(2, "0") });
    })));
    table.appendChild(el("thead", {}, [head]));
    var body = el("tbody");
    hb.counts.forEach(function (row, d) {
      body.appendChild(el("tr", {}, [el("th", { scope: "row", text: t("day." + (d + 1)) })].concat(row.map(function (n, h) {
        var a = max ? n / max : 0;
        return el("td", { class: a > 0.55 ? "hi" : "", title: t("day." + (d + 1)) + " " + String(h).padStart(2, "0") + ":00 · " + num(n),
                          style: "background: rgba(179, 38, 30, " + a.toFixed(3) + ")", text: n ? num(n) : "" });
      }))));
    });
    table.appendChild(body);
  }

  function renderMix() {
    var rows = state.trends.category_mix, codes = {};
    rows.forEach(function (r) { Object.keys(r.categories).forEach(function (c) { codes[c] = (codes[c] || 0) + r.categories[c]; }); });
    var order = Object.keys(codes).sort(function (a, b) { return codes[b] - codes[a]; });
    // The seven biggest categories by name, the long tail as one "other" band: a legend of 20 hides the chart.
    var top = order.slice(0, 7), rest = order.slice(7);
    var datasets = top.map(function (c) {
      return { label: catName(c), data: rows.map(function (r) { return r.categories[c] || 0; }), backgroundColor: catColor(c) };
    });
    if (rest.length) {
      datasets.push({ label: t("legend.other"), backgroundColor: "#cbd2d9", data: rows.map(function (r) {
        return rest.reduce(function (n, c) { return n + (r.categories[c] || 0); }, 0);
      }) });
    }
    chart("chart-mix", {
      type: "bar",
      data: { labels: rows.map(function (r) { return monthLabel(r.month); }), datasets: datasets },
      options: { scales: { x: { stacked: true }, y: { stacked: true, title: { display: true, text: t("legend.calls") } } },
                 plugins: { legend: { position: "bottom", labels: { boxWidth: 10, font: { size: 10 } } } } }
    });
  }

  function renderFlood() {
    var fl = state.trends.flood;
    chart("chart-flood", {
      type: "bar",
      data: {
        labels: fl.by_month.map(function (r) { return monthLabel(r.month); }),
        datasets: fl.categories.map(function (c) {
          return { label: catName(c), data: fl.by_month.map(function (r) { return r[c] || 0; }), backgroundColor: catColor(c) };
        })
      },
      options: { scales: { x: { stacked: true }, y: { stacked: true, title: { display: true, text: t("legend.calls") } } } }
    });
  }

  function renderPrank() {
    var rows = state.trends.prank_rate;
    chart("chart-prank", {
      type: "line",
      data: {
        labels: rows.map(function (r) { return monthLabel(r.month); }),
        datasets: [{ label: t("legend.prank_rate"), data: rows.map(function (r) { return r.rate === null ? null : r.rate * 100; }),
                     borderColor: "#b3261e", backgroundColor: "rgba(179, 38, 30, 0.15)", fill: true, tension: 0.25 }]
      },
      options: { scales: { y: { min: 0, title: { display: true, text: "%" } } },
                 plugins: { tooltip: { callbacks: { label: function (c) { return num(c.raw, 1) + "%"; } } } } }
    });
  }

  function fillCategories() {
    var keep = f.category.value || state.urlCategory || "";
    Array.from(f.category.options).slice(1).forEach(function (o) { o.remove(); });
    Object.values(state.categories).sort(function (a, b) { return a.priority - b.priority || a.code.localeCompare(b.code); })
      .forEach(function (c) { f.category.appendChild(el("option", { value: c.code, text: catName(c.code) })); });
    f.category.value = keep;
  }

  // -- events ----------------------------------------------------------------------------------
  [f.since, f.until, f.category, f.kecamatan, f.rank].forEach(function (input) {
    input.addEventListener("change", function () { load(); });
  });
  document.querySelectorAll("[data-days]").forEach(function (b) {
    b.addEventListener("click", function () {
      f.until.value = f.until.value || cityToday();
      f.since.value = addDays(f.until.value, 1 - parseInt(b.dataset.days, 10));
      load();
    });
  });
  document.querySelectorAll("[data-metric]").forEach(function (b) {
    b.addEventListener("click", function () {
      state.metric = b.dataset.metric;
      document.querySelectorAll("[data-metric]").forEach(function (x) { x.classList.toggle("active", x === b); });
      if (state.perf) { renderTimes(); }
    });
  });
  document.getElementById("dash-filters").addEventListener("submit", function (e) { e.preventDefault(); load(); });

  var langBtn = document.getElementById("lang-switch");
  function applyLang() {
    langBtn.textContent = t("lang.switch");
    langBtn.setAttribute("aria-label", t("lang.switch_label"));
    document.title = "peta112 · " + t("dash.title");
    fillCategories();
    updateReportLink();
    renderAll();
  }
  document.getElementById("print").addEventListener("click", function () { window.print(); });
  langBtn.addEventListener("click", function () { I18N.set(I18N.lang === "id" ? "en" : "id"); });
  I18N.onChange(applyLang);

  // -- start -----------------------------------------------------------------------------------
  I18N.apply(document);
  readUrl();
  Promise.all([
    api(API + "/categories").catch(function () { return { categories: [] }; }),
    api(API + "/agencies").catch(function () { return { agencies: [] }; }),
    api(cfg.layersUrl || "/map/layers.json").catch(function () { return { layers: [] }; })
  ]).then(function (res) {
    res[0].categories.forEach(function (c) { state.categories[c.code] = c; });
    res[1].agencies.forEach(function (a) { state.agencies[a.code] = a; });
    // The hotspot colours are the map layer's (layers/hotspots.toml), so both screens read alike.
    var hot = (res[2].layers || []).filter(function (l) { return l.id === "hotspots"; })[0];
    var values = (hot && hot.style && hot.style.classes && hot.style.classes.values) || {};
    Object.keys(values).forEach(function (cls) { state.hotspotColours[cls] = values[cls].fillColor; });
    applyLang();
    return load();
  });

  window.peta112dash = { state: state, load: load };
})();
