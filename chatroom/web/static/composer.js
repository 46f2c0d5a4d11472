// The message box: its text kept until the server took it, and counted in
// bytes as the server counts it (a frame is at most FRAME_LIMIT bytes).

import {FRAME_LIMIT, byteLength, plural} from "./text.js";

const $ = (id) => document.getElementById(id);

// The message box holds its text until the server took it: a refusal
// (muted, slow mode, too long) leaves it there to send again.
export function boxBusy(busy) {
  const box = $("message");
  box.readOnly = busy;
  box.setAttribute("aria-busy", String(busy));
}

export function boxDone(op, sent) {
  if (!op || !op.fromBox) return;
  boxBusy(false);
  if (sent) $("message").value = "";
  // Counted and sized again by the box's own input handler (sending.js).
  $("message").dispatchEvent(new Event("input"));
  $("message").focus();
}

// The frame that carries what the box holds, as the server counts it.
export function dataFrame(op) {
  if (op.kind === "PM") return `D ${op.text}`;
  if (op.kind === "DM") return `D ${op.to} ${op.text}`;
  return op.frame;
}

// How many bytes of text that frame has room for.
export function room(op) {
  return FRAME_LIMIT - byteLength(dataFrame(op)) + byteLength(op.text || op.frame);
}

// Near the limit, how much room is left, under the box.
export function countBytes(op) {
  const counter = $("counter");
  if (op.error || op.help) {
    counter.hidden = true;
    return;
  }
  const used = byteLength(dataFrame(op));
  counter.hidden = used < FRAME_LIMIT - 600;
  const left = FRAME_LIMIT - used;
  counter.textContent = left >= 0 ? `${plural(left, "byte")} left`
    : `${plural(-left, "byte")} too long`;
  counter.classList.toggle("over", left < 0);
}

// Why the operation cannot be sent, in words, or null if it fits a frame.
export function tooLong(op) {
  const over = byteLength(dataFrame(op)) - FRAME_LIMIT;
  if (over <= 0) return null;
  return `That is ${plural(over, "byte")} too long, so it was not sent: a message holds ` +
    `${room(op)} bytes (letters beyond English take 2 to 4 each). ` +
    "Your text is still in the box: shorten it, or send it in parts.";
}
