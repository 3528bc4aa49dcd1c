/* The side panel's tabs: the incident list, the new-call form, an incident's detail, the unit board,
 * the chats and reports waiting for the desk (conversations.js). */
import { renderBoard } from "./board.js";
import { showList } from "./queue.js";
import { state } from "./store.js";

export function showView(name) {
  state.tab = name;
  ["list", "new", "detail", "board", "chat"].forEach(function (v) {
    document.getElementById("view-" + v).hidden = v !== name;
    var tab = document.getElementById("tab-" + v);
    tab.setAttribute("aria-selected", v === name ? "true" : "false");
    tab.classList.toggle("active", v === name);
  });
  document.getElementById("map").classList.toggle("picking", name === "new");
  if (name === "list") { showList(); }
  if (name === "board") { renderBoard(); }
}

export function initTabs() {
  document.querySelectorAll(".tabs [data-view]").forEach(function (b) {
    b.addEventListener("click", function () {
      showView(b.dataset.view);
      if (b.dataset.view === "new") { document.getElementById("c-category").focus(); }
    });
  });
}
