/* Dashboard section "Pusat panggilan": the monthly recap for the ministry and the Erlang C staffing
 * grid (operators needed per hour of the week).  Reads /api/v1/reports/monthly and
 * /api/v1/analytics/staffing; stays hidden for roles that may not read them. */
(function () {
  "use strict";
  var I18N = window.P112I18N;
  Object.assign(I18N.strings.id, {
    "cc.title": "Pusat panggilan 112", "cc.month": "Rekap bulan {m}", "cc.csv": "Unduh CSV",
    "cc.offered": "Panggilan masuk", "cc.answered": "Dijawab", "cc.abandoned": "Ditutup sebelum dijawab",
    "cc.asa": "Rata-rata waktu jawab", "cc.aht": "Rata-rata lama bicara", "cc.sl": "Dijawab ≤ {s} dtk",
    "cc.pranks": "Panggilan iseng", "cc.disposition": "Hasil panggilan", "cc.staffing": "Kebutuhan operator per jam",
    "cc.staffing_note": "Erlang C: operator yang dibutuhkan agar {p} panggilan dijawab dalam {s} detik, dari beban {w} minggu terakhir. Puncak: {peak}.",
    "cc.days": "Sen,Sel,Rab,Kam,Jum,Sab,Min", "cc.cell": "{d} {h}:00 — {c} panggilan/jam, {a} dtk/panggilan, {n} operator",
    "disp.incident": "Kejadian", "disp.informasi": "Informasi", "disp.salah_sambung": "Salah sambung",
    "disp.diam": "Diam", "disp.iseng": "Iseng", "disp.tes": "Tes", "disp.diteruskan": "Diteruskan",
    "disp.tanpa_disposisi": "Belum diisi"
  });
  Object.assign(I18N.strings.en, {
    "cc.title": "112 call centre", "cc.month": "Recap for {m}", "cc.csv": "Download CSV",
    "cc.offered": "Calls offered", "cc.answered": "Answered", "cc.abandoned": "Abandoned",
    "cc.asa": "Mean time to answer", "cc.aht": "Mean handle time", "cc.sl": "Answered ≤ {s} s",
    "cc.pranks": "Prank calls", "cc.disposition": "Call outcomes", "cc.staffing": "Operators needed per hour",
    "cc.staffing_note": "Erlang C: operators needed to answer {p} of calls within {s} seconds, from the load of the last {w} weeks. Peak: {peak}.",
    "cc.days": "Mon,Tue,Wed,Thu,Fri,Sat,Sun", "cc.cell": "{d} {h}:00 — {c} calls/hour, {a} s/call, {n} operators",
    "disp.incident": "Incident", "disp.informasi": "Information", "disp.salah_sambung": "Wrong number",
    "disp.diam": "Silent", "disp.iseng": "Prank", "disp.tes": "Test", "disp.diteruskan": "Forwarded",
    "disp.tanpa_disposisi": "Not recorded"
  });
  var t = I18N.t;
  var root = document.getElementById("callcentre");
  if (!root) { return; }
  var data = {};

  function locale() { return I18N.lang === "en" ? "en-GB" : "id-ID"; }
  function num(v, digits) {
    if (v === null || v === undefined) { return "—"; }
    return Number(v).toLocaleString(locale(), { maximumFractionDigits: digits || 0 });
  }
  function pct(v) { return v === null || v === undefined ? "—" : num(v * 100, 1) + "%"; }
  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { e.textContent = attrs[k]; } else { e.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { e.appendChild(c); });
    return e;
  }
  function get(path) {
    return fetch(path, { headers: { "Accept": "application/json" } }).then(function (r) {
      return r.ok ? r.json() : Promise.reject(r.status);
    });
  }

  function render() {
    var m = data.monthly, s = data.staffing;
    root.textContent = "";
    root.appendChild(el("h2", { text: t("cc.title") }));
    if (m) {
      var c = m.calls.totals;
      root.appendChild(el("h3", { text: t("cc.month", { m: m.month }) }, [
        el("a", { href: "/api/v1/reports/monthly?month=" + m.month + "&format=csv", class: "btn btn-small",
                  id: "cc-csv", text: t("cc.csv") })]));
      var kpis = [["cc.offered", num(c.offered)], ["cc.answered", num(c.answered)], ["cc.abandoned", num(c.abandoned)],
                  ["cc.asa", num(c.asa_s, 1) + " s"], ["cc.aht", num(c.aht_s, 0) + " s"],
                  [t("cc.sl", { s: num(m.answer_within_s) }), pct(c.service_level)], ["cc.pranks", num(c.pranks)]];
      root.appendChild(el("div", { class: "cc-kpis", id: "cc-kpis" }, kpis.map(function (k) {
        return el("div", { class: "kpi" }, [el("span", { class: "kpi-value", text: k[1] }),
                                             el("span", { class: "kpi-label", text: I18N.has(k[0]) ? t(k[0]) : k[0] })]);
      })));
      root.appendChild(el("table", { class: "cc-disp", id: "cc-disposition" }, [
        el("caption", { text: t("cc.disposition") }),
        el("tbody", {}, m.calls.by_disposition.map(function (d) {
          return el("tr", {}, [el("th", { scope: "row", text: t("disp." + d.key) }),
                               el("td", { class: "num", text: num(d.count) })]);
        }))]));
    }
    if (s) {
      var days = t("cc.days").split(",");
      var peak = s.peak;
      root.appendChild(el("h3", { text: t("cc.staffing") }));
      root.appendChild(el("p", { class: "note", text: t("cc.staffing_note", {
        p: pct(s.target.service_level), s: num(s.target.answer_within_s), w: num(s.window.weeks),
        peak: days[peak.dow - 1] + " " + peak.hour + ":00 (" + peak.recommended.agents + ")" }) }));
      var max = Math.max.apply(null, s.hours.map(function (h) { return h.recommended.agents; }));
      var head = el("tr", {}, [el("th", {})].concat(Array.from({ length: 24 }, function (_, h) {
        return el("th", { scope: "col", text: String(h) });
      })));
      var rows = days.map(function (d, i) {
        return el("tr", {}, [el("th", { scope: "row", text: d })].concat(s.hours.filter(function (h) {
          return h.dow === i + 1;
        }).map(function (h) {
          var n = h.recommended.agents;
          var cell = el("td", { class: "num", text: String(n), title: t("cc.cell", {
            d: d, h: h.hour, c: num(h.calls_per_hour, 1), a: num(h.aht_s), n: n }) });
          cell.style.background = "rgba(31, 111, 235, " + (0.1 + 0.8 * n / Math.max(max, 1)).toFixed(2) + ")";
          return cell;
        })));
      });
      root.appendChild(el("div", { class: "table-wrap" }, [
        el("table", { class: "cc-staffing", id: "cc-staffing" }, [el("thead", {}, [head]), el("tbody", {}, rows)])]));
    }
    root.hidden = !(m || s);
  }

  Promise.all([get("/api/v1/reports/monthly").catch(function () { return null; }),
               get("/api/v1/analytics/staffing?weeks=8").catch(function () { return null; })])
    .then(function (res) { data.monthly = res[0]; data.staffing = res[1]; render(); });
  I18N.onChange(render);
})();
