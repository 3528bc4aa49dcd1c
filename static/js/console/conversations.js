/* Chat, SMS and web reports waiting for the desk (tab "Pesan"): every open conversation with the
 * reporter's name or number, the last words, the number of messages and the location a chat sent.
 * The operator shows the place on the map, turns the conversation into an incident (category chosen
 * here, location and words from the chat: POST /api/v1/conversations/<id>/incident) or closes it
 * with what it was.  The list is loaded once (GET /api/v1/conversations?status=open) and kept
 * current by the stream's "conversation" events, which the server sends to the desk only and which
 * carry the conversation's list item: no request per message.  Desk roles only (the tab stays
 * hidden for the rest, and the server refuses them). */
import { api } from "./api.js";
import { clock } from "./clock.js";
import { el } from "./dom.js";
import { problemText } from "./problems.js";
import { map } from "./mapview.js";
import { API, I18N, catName, may, state, t } from "./store.js";

Object.assign(I18N.strings.id, {
  "tab.chat": "Pesan", "chat.empty": "Tidak ada pesan yang menunggu.", "chat.messages": "{n} pesan",
  "chat.show": "Lihat di peta", "chat.convert": "Jadikan kejadian", "chat.category": "Kategori",
  "chat.close": "Tutup sebagai", "chat.close_btn": "Tutup", "chat.forwarded_to": "Diteruskan ke",
  "chat.no_location": "Tanpa lokasi", "chat.converted": "Menjadi kejadian #{id}",
  "channel.telegram": "Telegram", "channel.whatsapp": "WhatsApp", "channel.sms": "SMS", "channel.web": "Web",
  "disp.informasi": "Informasi", "disp.salah_sambung": "Salah sambung", "disp.iseng": "Iseng",
  "disp.tes": "Tes", "disp.diteruskan": "Diteruskan",
  "chat.thread": "Percakapan", "chat.reply": "Balas", "chat.reply_label": "Balasan untuk pelapor",
  "chat.me": "Operator", "chat.photo": "[foto]", "chat.location": "[lokasi]"
});
Object.assign(I18N.strings.en, {
  "tab.chat": "Messages", "chat.empty": "No messages waiting.", "chat.messages": "{n} messages",
  "chat.show": "Show on map", "chat.convert": "Make an incident", "chat.category": "Category",
  "chat.close": "Close as", "chat.close_btn": "Close", "chat.forwarded_to": "Forwarded to",
  "chat.no_location": "No location", "chat.converted": "Became incident #{id}",
  "channel.telegram": "Telegram", "channel.whatsapp": "WhatsApp", "channel.sms": "SMS", "channel.web": "Web",
  "disp.informasi": "Information", "disp.salah_sambung": "Wrong number", "disp.iseng": "Prank",
  "disp.tes": "Test", "disp.diteruskan": "Forwarded",
  "chat.thread": "Conversation", "chat.reply": "Reply", "chat.reply_label": "Reply to the reporter",
  "chat.me": "Operator", "chat.photo": "[photo]", "chat.location": "[location]"
});

var CLOSING = ["informasi", "salah_sambung", "iseng", "tes", "diteruskan"];
var open = new Map();  // id -> list item of GET /api/v1/conversations
var nodes = new Map();  // id -> {key, node}: an unchanged conversation keeps its element (and what is typed)
var marker = null;
var onIncident = null;  // opens an incident's detail (main.js)

function num(v) { return Number(v).toLocaleString(I18N.lang === "en" ? "en-GB" : "id-ID", { maximumFractionDigits: 0 }); }

function when(iso) { return clock(iso); }  // the city's wall clock

function showOnMap(c) {
  if (marker) { map.removeLayer(marker); }
  marker = L.circleMarker([c.lat, c.lon], { radius: 9, color: "#1f6feb", weight: 3, fillOpacity: 0.3,
                                            className: "chat-location" }).addTo(map);
  map.setView([c.lat, c.lon], Math.max(map.getZoom(), 16));
}

function categoryOptions(select) {
  // A retired category (the city's catalog dropped it) takes no new incident: not offered here.
  Object.keys(state.categories).filter(function (code) { return !state.categories[code].retired_at; })
    .sort(function (a, b) { return catName(a).localeCompare(catName(b)); })
    .forEach(function (code) { select.appendChild(el("option", { value: code, text: catName(code) })); });
}

function act(c, path, body, errorBox) {
  errorBox.textContent = "";
  return api(API + "/conversations/" + c.id + "/" + path, { method: "POST", body: body })
    .then(function (res) {
      open.delete(c.id);
      render();
      if (res && res.incident && onIncident) { onIncident(res.incident.id); }
    }, function (err) { errorBox.textContent = problemText(err); });
}

function thread(c, box) {
  return api(API + "/conversations/" + c.id).then(function (conv) {
    box.textContent = "";
    conv.messages.forEach(function (m) {
      var text = m.body || (m.media && m.media.length ? t("chat.photo") : m.lat != null ? t("chat.location") : "");
      box.appendChild(el("li", { class: "chat-msg chat-" + m.direction }, [
        el("span", { class: "chat-when", text: when(m.at) + " · " + (m.direction === "out" ? t("chat.me") : "") }),
        el("span", { class: "chat-body", text: " " + text })
      ]));
    });
  }, function (err) { box.textContent = problemText(err); });
}

function item(c) {
  var errorBox = el("p", { class: "chat-error", role: "alert" });
  var messages = el("ul", { class: "chat-thread" });
  var details = el("details", { class: "chat-details" }, [el("summary", { text: t("chat.thread") }), messages]);
  details.addEventListener("toggle", function () { if (details.open) { thread(c, messages); } });
  var replyText = el("textarea", { class: "chat-reply-text", rows: "2", maxlength: "4096",
                                   "aria-label": t("chat.reply_label"), placeholder: t("chat.reply_label") });
  var replyBtn = el("button", { type: "button", class: "btn btn-small chat-reply", text: t("chat.reply"),
                                onclick: function () {
    var text = replyText.value;
    if (!text.trim()) { replyText.focus(); return; }
    errorBox.textContent = "";
    replyText.value = "";  // before the stream redraws the item with the reply
    api(API + "/conversations/" + c.id + "/reply", { method: "POST", body: { text: text } })
      .then(function () { details.open = true; thread(c, messages); },
            function (err) { replyText.value = text; errorBox.textContent = problemText(err); });
  } });
  details.appendChild(el("div", { class: "chat-actions" }, [replyText, replyBtn]));
  var category = el("select", { class: "chat-category", "aria-label": t("chat.category") });
  category.appendChild(el("option", { value: "", text: t("chat.category") }));
  categoryOptions(category);
  if (c.category_code) { category.value = c.category_code; }
  var disposition = el("select", { class: "chat-disposition", "aria-label": t("chat.close") });
  CLOSING.forEach(function (d) { disposition.appendChild(el("option", { value: d, text: t("disp." + d) })); });
  var forwarded = el("input", { class: "chat-forwarded", placeholder: t("chat.forwarded_to"), maxlength: "100",
                                hidden: "" });
  disposition.addEventListener("change", function () { forwarded.hidden = disposition.value !== "diteruskan"; });
  var who = c.contact_name || c.caller_phone || "—";
  return el("li", { class: "chat-item", "data-id": String(c.id) }, [
    el("div", { class: "chat-head" }, [
      el("span", { class: "chat-channel chat-" + c.channel, text: t("channel." + c.channel) }),
      el("strong", { class: "chat-who", text: who }),
      el("span", { class: "chat-when", text: when(c.last_message_at) })
    ]),
    c.last_text ? el("p", { class: "chat-text", text: c.last_text }) : null,
    details,
    el("p", { class: "chat-meta", text: t("chat.messages", { n: num(c.messages || 0) }) +
              (c.lat == null ? " · " + t("chat.no_location") : "") }),
    el("div", { class: "chat-actions" }, [
      c.lat != null ? el("button", { type: "button", class: "btn btn-small chat-show", text: t("chat.show"),
                                     onclick: function () { showOnMap(c); } }) : null,
      category,
      el("button", { type: "button", class: "btn btn-small chat-convert", text: t("chat.convert"), onclick: function () {
        if (!category.value) { category.focus(); return; }
        act(c, "incident", { category: category.value }, errorBox);
      } })
    ]),
    el("div", { class: "chat-actions" }, [
      disposition, forwarded,
      el("button", { type: "button", class: "btn btn-small chat-close", text: t("chat.close_btn"), onclick: function () {
        var body = { disposition: disposition.value };
        if (disposition.value === "diteruskan") { body.forwarded_to = forwarded.value; }
        act(c, "close", body, errorBox);
      } })
    ]),
    errorBox
  ]);
}

function render() {
  var list = document.getElementById("chat-list");
  var tab = document.getElementById("tab-chat");
  if (!list || !tab) { return; }
  tab.textContent = t("tab.chat") + (open.size ? " (" + num(open.size) + ")" : "");
  var items = Array.from(open.values()).sort(function (a, b) {
    return a.last_message_at < b.last_message_at ? 1 : a.last_message_at > b.last_message_at ? -1 : b.id - a.id;
  });
  Array.from(nodes.keys()).forEach(function (id) { if (!open.has(id)) { nodes.delete(id); } });
  list.textContent = "";
  if (!items.length) { list.appendChild(el("li", { class: "chat-empty", text: t("chat.empty") })); return; }
  items.forEach(function (c) {
    var key = [I18N.lang, c.status, c.messages, c.last_message_at, c.lat, c.last_text, c.contact_name].join("|");
    var had = nodes.get(c.id);
    if (!had || had.key !== key) {
      var node = item(c);
      if (had) { keepInput(had.node, node); }
      had = { key: key, node: node };
      nodes.set(c.id, had);
    }
    list.appendChild(had.node);
  });
}

/* A changed conversation is drawn again; what the operator was typing or had chosen stays. */
function keepInput(from, to) {
  ["select", "input", "textarea"].forEach(function (tag) {
    var a = from.querySelectorAll(tag), b = to.querySelectorAll(tag);
    for (var i = 0; i < a.length && i < b.length; i++) {
      if (a[i].value) { b[i].value = a[i].value; }
      b[i].hidden = a[i].hidden;
    }
  });
  var d = to.querySelector("details");
  if (d && from.querySelector("details").open) { d.open = true; }
}

/* Show the tab to the desk and load its list; ``showIncident`` opens an incident after a conversion. */
export function initConversations(showIncident) {
  onIncident = showIncident;
  var tab = document.getElementById("tab-chat");
  if (tab) { tab.hidden = !may("api.list_conversations"); }
  return loadConversations();
}

/* The open conversations, again (first load, the stream's first open, a resync). */
export function loadConversations() {
  if (!may("api.list_conversations")) { return Promise.resolve(); }
  return api(API + "/conversations?status=open&limit=500").then(function (res) {
    open.clear();
    res.items.forEach(function (c) { open.set(c.id, c); });
    render();
  }, function () { /* not for this reader */ });
}

/* An SSE "conversation" message: {table: "conversations", op, id, conversation: {list item}}. */
export function onConversationEvent(e) {
  var msg = JSON.parse(e.data);
  var c = msg.conversation;
  if (!c) { return; }
  if (c.status === "open") { open.set(c.id, c); } else { open.delete(c.id); }
  render();
}

I18N.onChange(render);
