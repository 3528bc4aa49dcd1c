/* Times as a dispatcher reads them: "5 mnt lalu", "28 Nov 14.05", in the page's language. */
import { I18N, t } from "./store.js";

export function ageSeconds(iso) { return Math.max(0, (Date.now() - Date.parse(iso)) / 1000); }

export function ago(iso) {
  const s = ageSeconds(iso);
  if (s < 60) { return t("ago.s"); }
  if (s < 3600) { return t("ago.m", { n: Math.floor(s / 60) }); }
  if (s < 86400) { return t("ago.h", { n: Math.floor(s / 3600) }); }
  return t("ago.d", { n: Math.floor(s / 86400) });
}

/* The city's wall clock (WIB, WITA or WIT from the page), not the PC's own time zone. */
function cityZone() { return document.body.dataset.timezone || undefined; }

export function clock(iso) {
  const d = new Date(iso);
  return d.toLocaleString(I18N.lang === "en" ? "en-GB" : "id-ID",
    { day: "2-digit", month: "short", hour: "2-digit", minute: "2-digit", timeZone: cityZone() });
}

/* The header clock. */
export function tick() {
  const now = new Date();
  document.getElementById("clock").textContent = now.toLocaleTimeString(I18N.lang === "en" ? "en-GB" : "id-ID",
    { hour: "2-digit", minute: "2-digit", timeZone: cityZone() });
}
