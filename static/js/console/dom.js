/* Building the panels' DOM without innerHTML (the CSP allows no inline script or handler
 * attributes, and text from the server must never be parsed as markup). */

export function el(tag, attrs, children) {
  const node = document.createElement(tag);
  Object.keys(attrs || {}).forEach(function (k) {
    if (k === "text") { node.textContent = attrs[k]; }
    else if (k === "class") { node.className = attrs[k]; }
    else if (k === "style") { node.style.cssText = attrs[k]; }  // CSSOM: allowed by a strict CSP
    else if (k.slice(0, 2) === "on") { node.addEventListener(k.slice(2), attrs[k]); }
    else if (attrs[k] !== null && attrs[k] !== undefined && attrs[k] !== false) { node.setAttribute(k, attrs[k]); }
  });
  (children || []).forEach(function (c) {
    if (c !== null && c !== undefined) { node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); }
  });
  return node;
}

/* A definition list of the pairs that have a value. */
export function dl(pairs) {
  const d = el("dl", { class: "facts" });
  pairs.forEach(function (p) {
    if (p[1] === null || p[1] === undefined || p[1] === "") { return; }
    d.appendChild(el("dt", { text: p[0] }));
    d.appendChild(el("dd", { text: String(p[1]) }));
  });
  return d;
}

export function toast(msg) {
  const box = el("div", { class: "toast", role: "status", text: msg });
  document.body.appendChild(box);
  window.setTimeout(function () { box.remove(); }, 6000);
}
