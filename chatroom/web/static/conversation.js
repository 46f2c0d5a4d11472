// The conversations: the room's (#conversation) and one per person we
// write to alone, each an <ol> of lines, one shown at a time. Users' text
// only ever as text nodes (links and mentions are elements made here around
// those text nodes, never HTML from users). Rich text in richtext.js.

import {clock} from "./text.js";
import {richText} from "./richtext.js";

const $ = (id) => document.getElementById(id);
const fold = (name) => name.toLowerCase();

// Seen within this many pixels of the end, the reader is at the newest line.
const NEAR_END = 40;

const logs = new Map();   // "" for the room, a casefolded name for a person
let active = "";          // the log shown
let me = null;            // our name, for "mine" and mentions
let changed = () => {};   // called when an unread count or the shown log changes

function distanceFromEnd(box) {
  return box.scrollHeight - box.scrollTop - box.clientHeight;
}

// A log's state: its list, whether the reader is at its end (kept from the
// last scroll, so a resize keeps the newest line in view and a reader who
// scrolled up stays put), the day of its last line, its unread lines.
function makeLog(list, name) {
  const log = {list, name, following: true, day: null, unread: 0, marker: null};
  list.addEventListener("scroll", () => {
    log.following = distanceFromEnd(list) < NEAR_END;
    if (log.following) seen(log);
  });
  const follow = () => {
    if (log.following) list.scrollTop = list.scrollHeight;
  };
  new ResizeObserver(() => {
    follow();
    // The lines may reflow once more after this (a scroll bar coming or
    // going changes their width): follow again when that frame is laid out.
    requestAnimationFrame(follow);
  }).observe(list);
  return log;
}

// The room's log, and `onChange` for the unread counts; once, at start.
export function setUpConversations(onChange) {
  changed = onChange;
  logs.set("", makeLog($("conversation"), null));
  $("jump").addEventListener("click", () => {
    const log = logs.get(active);
    log.list.scrollTop = log.list.scrollHeight;
    log.following = true;
    seen(log);
    log.list.focus();
  });
  document.addEventListener("visibilitychange", () => {
    const log = logs.get(active);
    if (!document.hidden && log.following) seen(log);
  });
}

export function setMe(name) { me = name; }

// After Leave: nothing of this person's conversations stays on the page
// for the next one at a shared computer.
export function forgetConversations() {
  for (const [key, log] of logs) {
    if (key) log.list.remove();
  }
  const room = logs.get("");
  room.list.replaceChildren();
  Object.assign(room, {following: true, day: null, unread: 0, marker: null});
  logs.clear();
  logs.set("", room);
  me = null;
  $("jump").hidden = true;
  show("");
}

// The log of direct messages with `name`, made on first use.
export function dmLog(name) {
  const key = fold(name);
  if (!logs.has(key)) {
    const list = document.createElement("ol");
    list.className = "log";
    list.hidden = true;
    list.tabIndex = 0;
    list.setAttribute("aria-live", "polite");
    list.setAttribute("aria-label", `Direct messages with ${name}`);
    $("conversation").after(list);
    logs.set(key, makeLog(list, name));
    changed();
  }
  return key;
}

// The conversations, room first: [{key, name, unread}].
export function conversations() {
  return [...logs.entries()].map(([key, log]) => ({key, name: log.name, unread: log.unread}));
}

export function activeName() { return logs.get(active).name; }

// Show the log `key` ("" the room); its lines are read from there.
export function show(key) {
  active = key;
  for (const [other, log] of logs) log.list.hidden = other !== key;
  const log = logs.get(key);
  $("conversation-title").textContent = log.name ? `Direct messages with ${log.name}` : "Room";
  if (log.unread) placeMarker(log, log.list.children[log.list.children.length - log.unread]);
  log.list.scrollTop = log.list.scrollHeight;
  log.following = true;
  seen(log);
  changed();
}

function seen(log) {
  if (log !== logs.get(active) || document.hidden) return;
  $("jump").hidden = true;
  if (log.unread === 0) return;
  log.unread = 0;
  changed();
}

// "New messages" before the first line not read yet, in place of the last one.
function placeMarker(log, before) {
  if (log.marker) log.marker.remove();
  log.marker = document.createElement("li");
  log.marker.className = "new-marker";
  log.marker.textContent = "New messages";
  if (before) before.before(log.marker);
  else log.list.append(log.marker);
}

// "Today", "Yesterday" or the date, for the line where the day changes.
function dayName(date) {
  const day = new Date(date);
  day.setHours(0, 0, 0, 0);
  const today = new Date();
  today.setHours(0, 0, 0, 0);
  const days = Math.round((today - day) / 86400000);
  if (days === 0) return "Today";
  if (days === 1) return "Yesterday";
  return date.toLocaleDateString([], {weekday: "long", day: "numeric", month: "long",
    year: "numeric"});
}

// A line of [text, class] parts in the log `key` ("" the room, by default),
// stamped with `when` (now by default). `options.message` marks a message
// from someone else: unread until seen. The text part ("text" class) gets
// its links and mentions of us; the line is returned with .mention set.
export function line(parts, className, when, key = "", options = {}) {
  const log = logs.get(key) || logs.get("");
  const date = when || new Date();
  const box = log.list;
  const atEnd = log.following || distanceFromEnd(box) < NEAR_END;
  if (date.toDateString() !== log.day) {
    log.day = date.toDateString();
    const day = document.createElement("li");
    day.className = "day";
    day.textContent = dayName(date);
    box.append(day);
  }
  const item = document.createElement("li");
  if (className) item.className = className;
  const stamp = document.createElement("time");
  stamp.dateTime = date.toISOString();
  stamp.textContent = clock(date);
  item.append(stamp);
  let mention = false;
  for (const [text, cls] of parts) {
    const span = document.createElement("span");
    if (cls) span.className = cls;
    if (cls === "text") mention = richText(span, text, options.message ? me : null) || mention;
    else span.textContent = text;
    item.append(" ", span);
  }
  if (mention) item.classList.add("mention");
  box.append(item);
  if (atEnd) box.scrollTop = box.scrollHeight;
  if (options.message) arrived(log, item, atEnd);
  return {item, mention};
}

// A message from someone else: unread unless the reader sees it now.
function arrived(log, item, atEnd) {
  const shown = log === logs.get(active) && !document.hidden;
  if (shown && atEnd) return;
  // The first line unread in the log shown (scrolled up, or the tab in the
  // background) gets the marker: the reader finds where they left.
  if (log.unread === 0 && log === logs.get(active)) placeMarker(log, item);
  log.unread += 1;
  if (log === logs.get(active) && !atEnd) $("jump").hidden = false;
  changed();
}

export function notice(text, key = "") { line([[text, null]], "notice", null, key); }

// A moderation notice (C MOD, C BANS) in words.
export function modLine(text) { line([[text, null]], "notice mod"); }

// Something of ours that did not work, in words, where we are.
export function problem(text) { line([[text, null]], "error-line", null, active); }
