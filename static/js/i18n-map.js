/* UI strings of the map's layers, legend and BPBD controls, the CAP alert page and the officials'
 * reports: added to P112I18N (i18n.js) so each screen loads only the strings it has. */
(function () {
  "use strict";
  var S = window.P112I18N.strings;
  Object.assign(S.id, {
    "alert.title": "Peringatan CAP 1.2", "alert.print": "Cetak", "alert.sent": "Dikirim",
    "alert.sender": "Pengirim", "alert.urgency": "Urgensi", "alert.severity": "Tingkat keparahan",
    "alert.certainty": "Kepastian", "alert.response": "Tindakan", "alert.description": "Uraian",
    "alert.instruction": "Yang harus dilakukan", "alert.contact": "Kontak", "alert.area": "Wilayah",
    "alert.download": "Unduh CAP 1.2 (XML)",
    "cap.Alert": "Peringatan", "cap.Update": "Pembaruan", "cap.Cancel": "Pembatalan",
    "cap.Extreme": "Ekstrem", "cap.Severe": "Parah", "cap.Moderate": "Sedang", "cap.Minor": "Ringan",
    "cap.Unknown": "Tidak diketahui", "cap.Immediate": "Segera", "cap.Expected": "Diperkirakan",
    "cap.Future": "Akan datang", "cap.Past": "Sudah lewat", "cap.Observed": "Teramati", "cap.Likely": "Mungkin",
    "cap.Possible": "Bisa terjadi", "cap.Prepare": "Bersiap", "cap.Evacuate": "Evakuasi", "cap.Monitor": "Pantau",
    "cap.Shelter": "Berlindung", "cap.Avoid": "Hindari", "cap.Execute": "Laksanakan",
    "dash.weekly": "Laporan mingguan", "dash.print": "Cetak",
    "dash.hotspots": "Hotspot per kelurahan (Gi*)", "dash.hotspots_map": "Buka di peta",
    "dash.hotspots_note": "Kelurahan dengan jumlah kejadian jauh di atas (panas) atau di bawah (dingin) tetangganya; uji permutasi 999 kali, koreksi FDR. Warna sama dengan lapisan peta.",
    "dash.hotspots_none": "Tidak ada hotspot yang signifikan untuk filter ini.",
    "col.kelurahan": "Kelurahan", "col.incidents": "Kejadian", "col.class": "Kelas", "dash.hex": "Heksagon",
    "dash.target_from_forwarded": "sejak diteruskan", "dash.target_from_received": "sejak panggilan",
    "dash.target_from_mixed": "(target tugas & kategori)",
    "dash.basis.task": "target tugas instansi", "dash.basis.agency": "standar instansi",
    "dash.basis.category": "target kategori"
  });
  Object.assign(S.en, {
    "alert.title": "CAP 1.2 alert", "alert.print": "Print", "alert.sent": "Sent",
    "alert.sender": "Sender", "alert.urgency": "Urgency", "alert.severity": "Severity",
    "alert.certainty": "Certainty", "alert.response": "Response", "alert.description": "Description",
    "alert.instruction": "What to do", "alert.contact": "Contact", "alert.area": "Area",
    "alert.download": "Download CAP 1.2 (XML)",
    "cap.Alert": "Alert", "cap.Update": "Update", "cap.Cancel": "Cancel",
    "cap.Extreme": "Extreme", "cap.Severe": "Severe", "cap.Moderate": "Moderate", "cap.Minor": "Minor",
    "cap.Unknown": "Unknown", "cap.Immediate": "Immediate", "cap.Expected": "Expected",
    "cap.Future": "Future", "cap.Past": "Past", "cap.Observed": "Observed", "cap.Likely": "Likely",
    "cap.Possible": "Possible", "cap.Prepare": "Prepare", "cap.Evacuate": "Evacuate", "cap.Monitor": "Monitor",
    "cap.Shelter": "Shelter", "cap.Avoid": "Avoid", "cap.Execute": "Execute",
    "dash.weekly": "Weekly report", "dash.print": "Print",
    "dash.hotspots": "Hot spots by kelurahan (Gi*)", "dash.hotspots_map": "Open on the map",
    "dash.hotspots_note": "Kelurahan with far more (hot) or fewer (cold) incidents than their neighbours; 999 permutations, FDR-corrected. Same colours as the map layer.",
    "dash.hotspots_none": "No significant hot spots for this filter.",
    "col.kelurahan": "Kelurahan", "col.incidents": "Incidents", "col.class": "Class", "dash.hex": "Hexagon",
    "dash.target_from_forwarded": "from forwarding", "dash.target_from_received": "from the call",
    "dash.target_from_mixed": "(task & category targets)",
    "dash.basis.task": "agency's task target", "dash.basis.agency": "agency standard",
    "dash.basis.category": "category target"
  });
})();
