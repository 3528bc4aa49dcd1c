/* The JSON API as the console calls it: CSRF token from the page, problems (RFC 9457) kept whole
 * so a panel can put a message next to the field it names. */
import { t } from "./store.js";

/* fetch JSON; rejects with {status, problem} so callers can show problem details. */
export function api(path, opts) {
  opts = opts || {};
  const headers = { "Accept": "application/json" };
  if (opts.body !== undefined) { headers["Content-Type"] = "application/json"; }
  if (document.body.dataset.csrf) { headers["X-CSRF-Token"] = document.body.dataset.csrf; }
  Object.assign(headers, opts.headers || {});
  return fetch(path, {
    method: opts.method || "GET", headers: headers,
    body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined
  }).then(function (resp) {
    return resp.text().then(function (txt) {
      let data = null;
      try { data = txt ? JSON.parse(txt) : null; } catch (e) { data = null; }
      if (!resp.ok) { return Promise.reject({ status: resp.status, problem: data || {} }); }
      return data;
    });
  }, function () { return Promise.reject({ status: 0, problem: { detail: t("error.network") } }); });
}
