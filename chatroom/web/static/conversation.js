// The conversation: one <li> per line, users' text only ever as textContent.

import {clock} from "./text.js";

const list = () => document.getElementById("conversation");

// A line of [text, class] parts, stamped with `when` (now by default);
// the view follows the newest line if it was already at the end.
export function line(parts, className, when) {
  const item = document.createElement("li");
  if (className) item.className = className;
  const stamp = document.createElement("time");
  const date = when || new Date();
  stamp.dateTime = date.toISOString();
  stamp.textContent = clock(date);
  item.append(stamp);
  for (const [text, cls] of parts) {
    const span = document.createElement("span");
    if (cls) span.className = cls;
    span.textContent = text;
    item.append(" ", span);
  }
  const box = list();
  const atEnd = following || distanceFromEnd(box) < 40;
  box.append(item);
  if (atEnd) box.scrollTop = box.scrollHeight;
}

// Whether the reader is at the newest line: kept from the last scroll,
// so that when the view changes size (a phone's keyboard opening, a
// rotation, a smaller window) it stays on the newest line, and a reader
// who scrolled up stays where they are.
let following = true;

function distanceFromEnd(box) {
  return box.scrollHeight - box.scrollTop - box.clientHeight;
}

export function followNewest() {
  const box = list();
  box.addEventListener("scroll", () => { following = distanceFromEnd(box) < 40; });
  new ResizeObserver(() => {
    if (following) box.scrollTop = box.scrollHeight;
  }).observe(box);
}

export function notice(text) { line([[text, null]], "notice"); }

// A moderation notice (C MOD, C BANS) in words.
export function modLine(text) { line([[text, null]], "notice mod"); }

// Something of ours that did not work, in words.
export function problem(text) { line([[text, null]], "error-line"); }
