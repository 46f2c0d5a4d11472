// The message box sends: Enter sends, Shift+Enter starts a new line. A frame
// cannot hold a newline (docs/protocol.rst section 1: no control
// characters), so a text of several lines goes as one message per line, in
// order; a refusal keeps the lines not sent yet in the box.

import {boxBusy, boxDone, countBytes, tooLong} from "./composer.js";
import {operation} from "./commands.js";
import {notice, problem} from "./conversation.js";

const $ = (id) => document.getElementById(id);

// The lines of a message, blank ones left out; the first one is op.text.
function split(op) {
  const lines = op.text.split(/\r?\n/).filter((text) => text.trim());
  return {...op, lines, text: lines[0] || ""};
}

// The operation of what the box holds, with its longest line as op.text
// (the one a frame must hold).
function typed(text, staff, to) {
  const op = operation(text, staff, to);
  if (op.kind !== "PM" && op.kind !== "DM") return op;
  const whole = split(op);
  const longest = whole.lines.reduce((a, b) => (b.length > a.length ? b : a), "");
  return {...whole, longest};
}

function longestOf(op) {
  return op.longest === undefined ? op : {...op, text: op.longest};
}

// `context`: {ready() -> bool, staff() -> bool, to() -> name or null,
// request(op)}.
export function setUpSending(context) {
  const box = $("message");
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = box.value;
    if (!text.trim() || !context.ready() || box.readOnly) return;
    const op = typed(text, context.staff(), context.to());
    if (op.error) {
      problem(op.error);
      return;
    }
    if (op.help) {
      notice(op.help);
      box.value = "";
      return;
    }
    const refused = tooLong(longestOf(op));
    if (refused) {
      problem(refused);
      return;
    }
    op.fromBox = true;
    boxBusy(true);
    context.request(op);
  });
  box.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
    event.preventDefault();
    $("composer").requestSubmit();
  });
  box.addEventListener("input", () => {
    countBytes(longestOf(typed(box.value, false, context.to())));
    fit(box);
  });
}

// The box grows with its lines, up to a few.
export function fit(box) {
  box.style.height = "auto";
  box.style.height = `${Math.min(box.scrollHeight + 2, 160)}px`;
}

// After one line of `op` was taken: true if another one follows (op.text
// is then that line), false if the message is whole.
export function nextLine(op) {
  if (!op.lines || op.lines.length <= 1) return false;
  op.lines.shift();
  op.text = op.lines[0];
  return true;
}

// A refusal: the lines not sent stay in the box, to send again.
export function keepUnsent(op) {
  if (!op.fromBox || !op.lines) return;
  $("message").value = op.prefix + op.lines.join("\n");
  fit($("message"));
  boxDone(op, false);
}
