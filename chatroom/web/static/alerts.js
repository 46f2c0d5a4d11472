// What tells the reader something new came: the list of conversations with
// their unread counts, the count in the tab's title, the icon with a dot,
// and desktop notifications for direct messages and mentions (asked for
// once, by a button; off until the browser allows them).

import {conversations, show} from "./conversation.js";

const $ = (id) => document.getElementById(id);
const TITLE = "chatroom";
let current = "";

// The conversations list, the title and the icon, from the unread counts.
export function drawConversations() {
  const list = $("conversations");
  const active = document.activeElement;
  const focused = list.contains(active) ? active.dataset.key : null;
  list.replaceChildren();
  let total = 0;
  for (const {key, name, unread} of conversations()) {
    total += unread;
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.key = key;
    button.append(name === null ? "Room" : name);
    if (key === current) button.setAttribute("aria-current", "true");
    if (unread) {
      const badge = document.createElement("span");
      badge.className = "badge";
      badge.textContent = String(unread);
      badge.setAttribute("aria-label", `${unread} unread`);
      button.append(" ", badge);
    }
    button.addEventListener("click", () => open(key));
    item.append(button);
    list.append(item);
  }
  if (focused !== null) {
    const again = list.querySelector(`button[data-key="${CSS.escape(focused)}"]`);
    if (again) again.focus();
  }
  document.title = total ? `(${total}) ${TITLE}` : TITLE;
  $("icon").href = total ? "favicon-unread.svg" : "favicon.svg";
}

// Show the conversation `key` ("" the room).
export function open(key) {
  current = key;
  show(key);
  $("message").focus();
}

export function openKey() { return current; }

// The notifications button: shown while the browser has not been asked.
export function setUpNotifications() {
  const button = $("notify");
  if (!("Notification" in window)) return;
  button.hidden = Notification.permission !== "default";
  button.addEventListener("click", async () => {
    await Notification.requestPermission();
    button.hidden = Notification.permission !== "default";
    $("status").textContent = Notification.permission === "granted"
      ? "Notifications are on for direct messages and mentions."
      : "Notifications are off.";
  });
}

// A desktop notification, if allowed, when the reader does not see the line.
export function notify(title, body, key) {
  if (!("Notification" in window) || Notification.permission !== "granted") return;
  if (!document.hidden && document.hasFocus() && key === current) return;
  const shown = new Notification(title, {body, tag: `chatroom-${key}`});
  shown.onclick = () => {
    window.focus();
    open(key);
  };
}
