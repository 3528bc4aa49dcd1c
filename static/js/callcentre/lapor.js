/* The public report form (/lapor): category, a point from the phone's GPS or an address, words,
 * an optional photo and phone number; posts to /api/v1/public/reports and shows the status link.
 * Strings are added to P112I18N (Bahasa Indonesia first, English second). */
(function () {
  "use strict";
  var I18N = window.P112I18N;
  Object.assign(I18N.strings.id, {
    "lapor.title": "Lapor ke Pemerintah Kota",
    "lapor.emergency": "Darurat (kebakaran, kecelakaan, kejahatan, orang sakit)? Telepon 112 sekarang, jangan lewat formulir ini.",
    "lapor.category": "Jenis laporan", "lapor.where": "Di mana?", "lapor.locate": "Pakai lokasi saya",
    "lapor.address": "atau alamat / patokan", "lapor.description": "Keterangan",
    "lapor.photo": "Foto (JPEG/PNG, maks. 900 kB)",
    "lapor.phone": "Nomor HP untuk kabar perkembangan (boleh kosong)", "lapor.submit": "Kirim laporan",
    "lapor.sending": "Mengirim…", "lapor.thanks": "Terima kasih, laporan Anda diterima.",
    "lapor.number": "Nomor laporan", "lapor.status": "Status",
    "lapor.keep": "Simpan tautan ini untuk melihat perkembangannya:",
    "lapor.point": "Lokasi: {lat}, {lon} (±{m} m)", "lapor.no_gps": "Lokasi tidak tersedia; isi alamat.",
    "lapor.need_place": "Pakai lokasi Anda atau isi alamat.", "lapor.need_category": "Pilih jenis laporan."
  });
  Object.assign(I18N.strings.en, {
    "lapor.title": "Report to the City",
    "lapor.emergency": "An emergency (fire, accident, crime, someone ill)? Call 112 now, not this form.",
    "lapor.category": "What is it?", "lapor.where": "Where?", "lapor.locate": "Use my location",
    "lapor.address": "or an address / landmark", "lapor.description": "Description",
    "lapor.photo": "Photo (JPEG/PNG, up to 900 kB)",
    "lapor.phone": "Mobile number for updates (optional)", "lapor.submit": "Send report",
    "lapor.sending": "Sending…", "lapor.thanks": "Thank you, your report was received.",
    "lapor.number": "Report number", "lapor.status": "Status",
    "lapor.keep": "Keep this link to follow it:",
    "lapor.point": "Location: {lat}, {lon} (±{m} m)", "lapor.no_gps": "No location available; give an address.",
    "lapor.need_place": "Use your location or give an address.", "lapor.need_category": "Choose what it is."
  });
  var $ = function (id) { return document.getElementById(id); };
  var number = new Intl.NumberFormat("id-ID", { maximumFractionDigits: 5 });

  function say(key, isError) {
    $("message").textContent = key ? I18N.t(key) : "";
    $("message").className = isError ? "error" : "";
  }

  $("lang").addEventListener("click", function () { I18N.set(I18N.lang === "id" ? "en" : "id"); });
  I18N.onChange(function () { $("lang").textContent = I18N.lang === "id" ? "EN" : "ID"; });
  I18N.apply(document);

  $("locate").addEventListener("click", function () {
    if (!navigator.geolocation) { say("lapor.no_gps", true); return; }
    navigator.geolocation.getCurrentPosition(function (pos) {
      $("lat").value = pos.coords.latitude;
      $("lon").value = pos.coords.longitude;
      $("point").textContent = I18N.t("lapor.point", {
        lat: number.format(pos.coords.latitude), lon: number.format(pos.coords.longitude),
        m: Math.round(pos.coords.accuracy).toLocaleString("id-ID")
      });
      say("");
    }, function () { say("lapor.no_gps", true); }, { enableHighAccuracy: true, timeout: 15000 });
  });

  $("report").addEventListener("submit", function (ev) {
    ev.preventDefault();
    if (!$("category").value) { say("lapor.need_category", true); return; }
    if (!$("lat").value && !$("address").value.trim()) { say("lapor.need_place", true); return; }
    say("lapor.sending");
    fetch("/api/v1/public/reports", { method: "POST", body: new FormData($("report")) })
      .then(function (res) { return res.json().then(function (body) { return { ok: res.ok, body: body }; }); })
      .then(function (r) {
        if (!r.ok) { $("message").textContent = r.body.detail || r.body.title; $("message").className = "error"; return; }
        $("report").hidden = true;
        $("done").hidden = false;
        $("report-id").textContent = "#" + r.body.incident;
        var link = window.location.origin + r.body.status_url;
        $("status-link").href = r.body.status_url;
        $("status-link").textContent = link;
        return fetch(r.body.status_url).then(function (res) { return res.json(); }).then(function (s) {
          $("report-status").textContent = I18N.t("status." + s.status);
        });
      })
      .catch(function () { say("error.network", true); });
  });
})();
