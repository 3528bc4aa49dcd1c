/* peta112 UI strings: Bahasa Indonesia first, English second.
 * Elements carry data-i18n="key" (text), data-i18n-placeholder / -title / -aria-label;
 * code calls P112I18N.t("key", {var: value}).  The choice is kept in localStorage. */
(function () {
  "use strict";
  var STRINGS = {
    id: {
      "app.title": "Peta Dispatcher 112",
      "lang.switch": "EN", "lang.switch_label": "Switch to English",
      "map.label": "Peta situasi",
      "tab.list": "Kejadian", "tab.new": "Panggilan baru", "tab.detail": "Detail",
      "filter.status": "Status", "filter.category": "Kategori", "filter.window": "Waktu",
      "filter.open": "Masih berjalan", "filter.all": "Semua",
      "win.1h": "1 j", "win.6h": "6 j", "win.24h": "24 j", "win.7d": "7 h",
      "list.summary": "{n} kejadian", "list.overdue": "{n} melewati target",
      "list.empty": "Tidak ada kejadian untuk filter ini.", "list.error": "Gagal memuat kejadian.",
      "overdue": "Terlambat", "ago.s": "baru saja", "ago.m": "{n} mnt lalu", "ago.h": "{n} jam lalu",
      "ago.d": "{n} hari lalu",
      "form.category": "Kategori kejadian", "form.choose": "— pilih —", "form.location": "Lokasi",
      "form.location_hint": "Klik peta untuk menandai lokasi, atau ketik alamat.",
      "form.location_set": "Lokasi ditandai. Klik peta lagi untuk memindahkan.",
      "form.near": "Dekat: {place}",
      "form.address": "Alamat / patokan", "form.caller_name": "Nama penelepon",
      "form.caller_phone": "Nomor telepon", "form.description": "Keterangan",
      "form.submit": "Simpan kejadian", "form.reset": "Kosongkan", "form.saving": "Menyimpan…",
      "form.saved": "Kejadian #{id} tersimpan.", "form.duplicate": "Mungkin duplikat dari kejadian #{id}.",
      "form.prank_suspect": "Nomor ini sering melakukan panggilan iseng ({n}×).",
      "form.no_suggestions": "Tidak ditemukan.",
      "error.network": "Server tidak dapat dihubungi.",
      "detail.caller": "Penelepon", "detail.address": "Alamat", "detail.kelurahan": "Kelurahan",
      "detail.received": "Diterima", "detail.target": "Target respons", "detail.description": "Keterangan",
      "detail.agencies": "Instansi", "detail.assignments": "Unit ditugaskan", "detail.none": "—",
      "detail.status_actions": "Ubah status", "detail.nearest": "Unit terdekat",
      "detail.nearest_none": "Belum ada rekomendasi unit.", "detail.loading": "Memuat…",
      "detail.assign": "Tugaskan", "detail.eta": "ETA {m} mnt", "detail.distance": "{km} km",
      "detail.open_on_map": "Lihat di peta", "detail.back": "← Daftar",
      "popup.details": "Detail",
      "minutes": "{n} mnt",
      "status.received": "Diterima", "status.verified": "Terverifikasi", "status.dispatched": "Diberangkatkan",
      "status.en_route": "Dalam perjalanan", "status.on_scene": "Di lokasi", "status.resolved": "Selesai",
      "status.closed": "Ditutup", "status.cancelled": "Dibatalkan", "status.prank": "Iseng",
      "unit.available": "Siaga", "unit.dispatched": "Ditugaskan", "unit.en_route": "Dalam perjalanan",
      "unit.on_scene": "Di lokasi", "unit.returning": "Kembali", "unit.out_of_service": "Tidak aktif",
      "field.name": "Nama", "field.class": "Kelas jalan", "field.speed_kmh": "Kecepatan (km/j)",
      "field.oneway": "Satu arah", "field.code": "Kode", "field.population": "Penduduk",
      "field.kecamatan": "Kecamatan", "field.agency_name": "Instansi", "field.agency": "Instansi",
      "field.kind": "Jenis", "field.address": "Alamat", "field.callsign": "Kode unit",
      "field.unit_type": "Jenis unit", "field.status": "Status", "field.station_name": "Pos",
      "field.id": "No.", "field.category_name": "Kategori", "field.received_at": "Diterima",
      "nav.dashboard": "Dasbor", "nav.map": "Peta", "nav.logout": "Keluar", "nav.demo": "AKUN DEMO",
      "filter.agency": "Instansi", "filter.clear": "Hapus filter", "list.of_total": "dari {n} (500 terbaru)",
      "layer.error": "Lapisan {layer} gagal dimuat.",
      "field.cluster": "Klaster", "field.count": "Jumlah laporan", "field.span": "Rentang waktu",
      "field.kelurahan": "Kelurahan", "field.hex": "Heksagon", "field.gi_star.class": "Kelas Gi*",
      "field.gi_star.z": "Skor z Gi*", "field.gi_star.p_fdr": "p (FDR)", "field.local_moran.cluster": "Moran lokal",
      "value.hot_99": "Titik panas (99%)", "value.hot_95": "Titik panas (95%)", "value.cold_95": "Titik dingin (95%)",
      "value.cold_99": "Titik dingin (99%)", "value.not_significant": "Tidak signifikan",
      "value.HH": "Tinggi-tinggi", "value.LL": "Rendah-rendah", "value.HL": "Tinggi-rendah", "value.LH": "Rendah-tinggi",
      "dash.title": "Dasbor Kinerja 112", "dash.since": "Dari", "dash.until": "Sampai", "dash.presets": "Rentang cepat",
      "dash.d30": "30 hari", "dash.d90": "90 hari", "dash.d365": "1 tahun", "dash.kecamatan": "Kecamatan",
      "dash.rank_by": "Urutkan menurut", "dash.ranking": "Peringkat kinerja instansi (OPD)",
      "dash.ranking_note": "Waktu dihitung sejak tugas diteruskan ke instansi; median dan p90, penutupan terlalu cepat tidak dihitung. Paling lambat di atas.",
      "dash.times": "Waktu respons per instansi", "dash.times_min": "Waktu respons per instansi (menit)",
      "dash.times_h": "Waktu penyelesaian per instansi (jam)",
      "dash.compliance": "Kepatuhan target tiba di lokasi", "dash.heat": "Panggilan per jam dan hari (WIB)",
      "dash.mix": "Komposisi kategori per bulan", "dash.flood": "Kurva banjir dan rob per bulan",
      "dash.prank": "Tingkat panggilan iseng per bulan", "dash.on_map": "Lihat di peta",
      "dash.empty": "Tidak ada tugas pada rentang ini.", "dash.updated": "Diperbarui {time}",
      "dash.bad_range": "Tanggal awal harus sebelum tanggal akhir.", "dash.goal": "target {goal}, {n} tugas",
      "col.agency": "Instansi", "col.tasks": "Tugas", "col.ack": "Ack (median / p90)",
      "col.on_scene": "Tiba (median / p90)", "col.resolve": "Selesai (median / p90)",
      "col.arrival": "Tiba sesuai target", "col.turnout": "Berangkat sesuai target", "col.open": "Belum selesai",
      "col.map": "Peta",
      "metric.acknowledge": "Waktu tanggap (ack)", "metric.on_scene": "Tiba di lokasi", "metric.resolve": "Selesai",
      "kpi.incidents": "Kejadian (tanpa iseng, batal, duplikat)", "kpi.calls": "Panggilan masuk", "kpi.tasks": "Tugas ke instansi", "kpi.meeting": "Instansi memenuhi target tiba",
      "kpi.prank": "Panggilan iseng", "kpi.flood": "Laporan banjir & rob", "kpi.fast": "Ditutup terlalu cepat",
      "legend.median": "Median", "legend.share": "Tepat waktu", "legend.goal": "Target",
      "legend.calls": "Panggilan", "legend.other": "Lainnya", "legend.prank_rate": "Iseng (%)",
      "unit.min": "mnt", "unit.h": "jam", "unit.d": "hari",
      "day.1": "Senin", "day.2": "Selasa", "day.3": "Rabu", "day.4": "Kamis", "day.5": "Jumat", "day.6": "Sabtu",
      "day.7": "Minggu",
      "yes": "ya", "no": "tidak"
    },
    en: {
      "app.title": "112 Dispatcher Map",
      "lang.switch": "ID", "lang.switch_label": "Ganti ke Bahasa Indonesia",
      "map.label": "Situation map",
      "tab.list": "Incidents", "tab.new": "New call", "tab.detail": "Detail",
      "filter.status": "Status", "filter.category": "Category", "filter.window": "Time",
      "filter.open": "Open", "filter.all": "All",
      "win.1h": "1 h", "win.6h": "6 h", "win.24h": "24 h", "win.7d": "7 d",
      "list.summary": "{n} incidents", "list.overdue": "{n} over target",
      "list.empty": "No incidents match these filters.", "list.error": "Could not load incidents.",
      "overdue": "Overdue", "ago.s": "just now", "ago.m": "{n} min ago", "ago.h": "{n} h ago",
      "ago.d": "{n} d ago",
      "form.category": "Incident category", "form.choose": "— choose —", "form.location": "Location",
      "form.location_hint": "Click the map to mark the location, or type an address.",
      "form.location_set": "Location marked. Click the map again to move it.",
      "form.near": "Near: {place}",
      "form.address": "Address / landmark", "form.caller_name": "Caller name",
      "form.caller_phone": "Phone number", "form.description": "Description",
      "form.submit": "Save incident", "form.reset": "Clear", "form.saving": "Saving…",
      "form.saved": "Incident #{id} saved.", "form.duplicate": "Possible duplicate of incident #{id}.",
      "form.prank_suspect": "This number often makes prank calls ({n}×).",
      "form.no_suggestions": "Nothing found.",
      "error.network": "The server cannot be reached.",
      "detail.caller": "Caller", "detail.address": "Address", "detail.kelurahan": "Kelurahan",
      "detail.received": "Received", "detail.target": "Response target", "detail.description": "Description",
      "detail.agencies": "Agencies", "detail.assignments": "Assigned units", "detail.none": "—",
      "detail.status_actions": "Change status", "detail.nearest": "Nearest units",
      "detail.nearest_none": "No unit recommendations yet.", "detail.loading": "Loading…",
      "detail.assign": "Assign", "detail.eta": "ETA {m} min", "detail.distance": "{km} km",
      "detail.open_on_map": "Show on map", "detail.back": "← List",
      "popup.details": "Details",
      "minutes": "{n} min",
      "status.received": "Received", "status.verified": "Verified", "status.dispatched": "Dispatched",
      "status.en_route": "En route", "status.on_scene": "On scene", "status.resolved": "Resolved",
      "status.closed": "Closed", "status.cancelled": "Cancelled", "status.prank": "Prank",
      "unit.available": "Available", "unit.dispatched": "Dispatched", "unit.en_route": "En route",
      "unit.on_scene": "On scene", "unit.returning": "Returning", "unit.out_of_service": "Out of service",
      "field.name": "Name", "field.class": "Road class", "field.speed_kmh": "Speed (km/h)",
      "field.oneway": "One-way", "field.code": "Code", "field.population": "Population",
      "field.kecamatan": "Kecamatan", "field.agency_name": "Agency", "field.agency": "Agency",
      "field.kind": "Kind", "field.address": "Address", "field.callsign": "Callsign",
      "field.unit_type": "Unit type", "field.status": "Status", "field.station_name": "Station",
      "field.id": "No.", "field.category_name": "Category", "field.received_at": "Received",
      "nav.dashboard": "Dashboard", "nav.map": "Map", "nav.logout": "Sign out", "nav.demo": "DEMO ACCOUNT",
      "filter.agency": "Agency", "filter.clear": "Clear filter", "list.of_total": "of {n} (newest 500)",
      "layer.error": "Layer {layer} could not be loaded.",
      "field.cluster": "Cluster", "field.count": "Reports", "field.span": "Time span",
      "field.kelurahan": "Kelurahan", "field.hex": "Hexagon", "field.gi_star.class": "Gi* class",
      "field.gi_star.z": "Gi* z-score", "field.gi_star.p_fdr": "p (FDR)", "field.local_moran.cluster": "Local Moran",
      "value.hot_99": "Hot spot (99%)", "value.hot_95": "Hot spot (95%)", "value.cold_95": "Cold spot (95%)",
      "value.cold_99": "Cold spot (99%)", "value.not_significant": "Not significant",
      "value.HH": "High-high", "value.LL": "Low-low", "value.HL": "High-low", "value.LH": "Low-high",
      "dash.title": "112 Performance Dashboard", "dash.since": "From", "dash.until": "To", "dash.presets": "Quick ranges",
      "dash.d30": "30 days", "dash.d90": "90 days", "dash.d365": "1 year", "dash.kecamatan": "Kecamatan",
      "dash.rank_by": "Rank by", "dash.ranking": "Agency (OPD) performance ranking",
      "dash.ranking_note": "Times from the moment the task was forwarded to the agency; median and p90, implausibly fast closures left out. Slowest first.",
      "dash.times": "Response times per agency", "dash.times_min": "Response times per agency (minutes)",
      "dash.times_h": "Time to resolve per agency (hours)",
      "dash.compliance": "On-scene target compliance", "dash.heat": "Calls by hour and weekday (WIB)",
      "dash.mix": "Category mix per month", "dash.flood": "Flood and tidal flood (rob) curve per month",
      "dash.prank": "Prank call rate per month", "dash.on_map": "Show on map",
      "dash.empty": "No tasks in this window.", "dash.updated": "Updated {time}",
      "dash.bad_range": "The start date must be before the end date.", "dash.goal": "goal {goal}, {n} tasks",
      "col.agency": "Agency", "col.tasks": "Tasks", "col.ack": "Ack (median / p90)",
      "col.on_scene": "On scene (median / p90)", "col.resolve": "Resolved (median / p90)",
      "col.arrival": "Arrival on target", "col.turnout": "Turnout on target", "col.open": "Unresolved",
      "col.map": "Map",
      "metric.acknowledge": "Acknowledge", "metric.on_scene": "On scene", "metric.resolve": "Resolve",
      "kpi.incidents": "Incidents (no pranks, cancelled, duplicates)", "kpi.calls": "Calls received", "kpi.tasks": "Tasks to agencies", "kpi.meeting": "Agencies meeting arrival goal",
      "kpi.prank": "Prank calls", "kpi.flood": "Flood & rob reports", "kpi.fast": "Closed implausibly fast",
      "legend.median": "Median", "legend.share": "On time", "legend.goal": "Goal",
      "legend.calls": "Calls", "legend.other": "Other", "legend.prank_rate": "Prank (%)",
      "unit.min": "min", "unit.h": "h", "unit.d": "d",
      "day.1": "Monday", "day.2": "Tuesday", "day.3": "Wednesday", "day.4": "Thursday", "day.5": "Friday",
      "day.6": "Saturday", "day.7": "Sunday",
      "yes": "yes", "no": "no"
    }
  };
  var KEY = "peta112.lang";
  var listeners = [];

  function stored() {
    try { return window.localStorage.getItem(KEY); } catch (e) { return null; }
  }

  var I18N = {
    strings: STRINGS,
    lang: STRINGS[stored()] ? stored() : "id",
    t: function (key, vars) {
      var s = (STRINGS[I18N.lang] || {})[key];
      if (s === undefined) { s = STRINGS.id[key]; }
      if (s === undefined) { return key; }
      return s.replace(/\{(\w+)\}/g, function (m, k) { return vars && vars[k] !== undefined ? vars[k] : m; });
    },
    has: function (key) { return STRINGS[I18N.lang][key] !== undefined; },
    apply: function (root) {
      root = root || document;
      root.querySelectorAll("[data-i18n]").forEach(function (el) { el.textContent = I18N.t(el.dataset.i18n); });
      ["placeholder", "title", "aria-label"].forEach(function (attr) {
        root.querySelectorAll("[data-i18n-" + attr + "]").forEach(function (el) {
          el.setAttribute(attr, I18N.t(el.getAttribute("data-i18n-" + attr)));
        });
      });
      document.documentElement.lang = I18N.lang;
    },
    set: function (lang) {
      if (!STRINGS[lang]) { return; }
      I18N.lang = lang;
      try { window.localStorage.setItem(KEY, lang); } catch (e) { /* private mode: not remembered */ }
      I18N.apply(document);
      listeners.forEach(function (fn) { fn(lang); });
    },
    onChange: function (fn) { listeners.push(fn); }
  };
  window.P112I18N = I18N;
})();
