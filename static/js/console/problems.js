/* What a refused request means, in the user's language.  The API answers RFC 9457 problems in
 * English for developers; a dispatcher reads Indonesian, so the page words the message from the
 * status and the field the problem names, and shows the server's own text only in English. */
import { I18N, t } from "./store.js";

export function problemText(err) {
  const status = (err && err.status) || 0;
  const p = (err && err.problem) || {};
  if (status === 0) { return p.detail || t("error.network"); }
  if (I18N.lang === "en" && (p.detail || p.title)) { return p.detail || p.title; }
  const keyed = "err." + status + "." + (p.field || "");
  if (p.field && I18N.has(keyed)) { return t(keyed); }
  if (status >= 500) { return t("err.5xx"); }
  if (I18N.has("err." + status)) {
    const field = p.field ? (I18N.has("field." + p.field) ? t("field." + p.field) : p.field) : "—";
    return t("err." + status, { field: field });
  }
  return t("err.other", { status: status });
}
