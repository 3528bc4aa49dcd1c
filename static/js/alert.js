/* The readable CAP alert page: language switch and print; everything else is server-rendered. */
(function () {
  "use strict";
  var I18N = window.P112I18N;
  var langBtn = document.getElementById("lang-switch");
  function applyLang() {
    langBtn.textContent = I18N.t("lang.switch");
    langBtn.setAttribute("aria-label", I18N.t("lang.switch_label"));
  }
  langBtn.addEventListener("click", function () { I18N.set(I18N.lang === "id" ? "en" : "id"); });
  document.getElementById("print").addEventListener("click", function () { window.print(); });
  I18N.onChange(applyLang);
  I18N.apply(document);
  applyLang();
})();
