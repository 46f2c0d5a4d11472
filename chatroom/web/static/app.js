// The chatroom page: the protocol of docs/protocol.rst over the WebSocket at /ws.
// Text from users is only ever inserted with textContent, never as HTML.
"use strict";

const $ = (id) => document.getElementById(id);
const SUBPROTOCOL = "chatroom.v1";
const REASONS = {
  EXIT: "left", CLOSED: "lost the connection", TIMEOUT: "timed out",
  DROPPED: "was dropped by the server", REPLACED: "logged in again elsewhere",
  SHUTDOWN: "server stopping",
};

let ws = null;
let me = null;            // the name we are logged in as
let credentials = null;   // {name, password}, in memory only, for reconnecting
let phase = "out";        // out | hello | login | pass | confirm | in
let ghost = false;        // this login ends our older session
let leaving = false;      // we sent C EX, or were replaced: no reconnect
let backoff = 1;          // seconds before the next reconnect attempt
let retry = null;
let users = new Map();    // key (casefolded) -> {name, transport}
let listing = [];         // C USERS + continuation entries
let requests = [];        // our operations, one at a time: {kind, ...}
let replay = null;        // {kind: "HISTORY"|"INBOX", left}

function status(text) { $("status").textContent = text; }

function wsURL() {
  return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws";
}

function clock(date) {
  return date.toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"});
}

function line(parts, className, when) {
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
  const list = $("conversation");
  const atEnd = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  list.append(item);
  if (atEnd) list.scrollTop = list.scrollHeight;
}

function notice(text) { line([[text, null]], "notice"); }

function renderUsers() {
  const list = $("users");
  list.replaceChildren();
  const sorted = [...users.values()].sort((a, b) =>
    a.name.toLowerCase() < b.name.toLowerCase() ? -1 : 1);
  for (const user of sorted) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = `${user.name} (${user.transport})`;
    button.setAttribute("aria-label", `Direct message to ${user.name}, via ${user.transport}`);
    button.addEventListener("click", () => {
      $("message").value = `/dm ${user.name} `;
      $("message").focus();
    });
    item.append(button);
    list.append(item);
  }
}

function splitWords(text, count) {
  // The first `count` space-separated words, then the rest of the line.
  const words = [];
  let rest = text;
  for (let i = 0; i < count; i++) {
    const space = rest.indexOf(" ");
    if (space < 0) { words.push(rest); rest = ""; continue; }
    words.push(rest.slice(0, space));
    rest = rest.slice(space + 1);
  }
  return [...words, rest];
}

function send(frame) { if (ws && ws.readyState === WebSocket.OPEN) ws.send(frame); }

// Our operations, one at a time, each waiting for its answers.
function request(operation) {
  requests.push(operation);
  if (requests.length === 1) startRequest();
}

function startRequest() {
  const op = requests[0];
  if (!op) return;
  op.stage = "command";
  send(op.kind === "WHO" ? "C WHO" : op.kind === "HISTORY" ? "C HISTORY" : `C ${op.kind}`);
}

function finishRequest() {
  requests.shift();
  startRequest();
}

function connect() {
  clearTimeout(retry);
  status("Connecting…");
  phase = "hello";
  ws = new WebSocket(wsURL(), SUBPROTOCOL);
  ws.addEventListener("message", (event) => {
    if (typeof event.data === "string") receive(event.data);
  });
  ws.addEventListener("close", closed);
}

function closed() {
  ws = null;
  const wasIn = phase === "in";
  phase = "out";
  requests = [];
  replay = null;
  if (leaving || !credentials) {
    if (!leaving) status("Not connected.");
    return;
  }
  if (wasIn) notice("Connection lost.");
  status(`Connection lost; reconnecting in ${backoff} s…`);
  retry = setTimeout(connect, backoff * 1000);
  backoff = Math.min(backoff * 2, 30);
}

function logIn() {
  phase = "login";
  send(`C LOGIN ${credentials.name}${ghost ? " GHOST" : ""}`);
}

function receive(frame) {
  if (frame.startsWith("D ")) return receiveData(frame.slice(2));
  const [verb, rest] = splitWords(frame.slice(2), 1);
  switch (verb) {
    case "HELLO":
      if (credentials) logIn();
      return;
    case "PASSWORD":
      return password(rest);
    case "WELCOME":
      return welcome(splitWords(rest, 2)[0]);
    case "ERR":
      return error(...splitWords(rest, 1));
    case "ACK":
      if (requests[0] && requests[0].kind === "PM") {
        requests[0].stage = "data";
        send(`D ${requests[0].text}`);
      }
      return;
    case "USERS":
      return userList(rest);
    case "OK":
      return ok(splitWords(rest, 2));
    case "JOIN": {
      const [name, transport] = splitWords(rest, 2);
      users.set(name.toLowerCase(), {name, transport});
      renderUsers();
      return notice(`${name} joined (${transport}).`);
    }
    case "LEAVE": {
      const [name, transport, reason] = splitWords(rest, 2);
      users.delete(name.toLowerCase());
      renderUsers();
      return notice(`${name} (${transport}) ${REASONS[reason] || reason.toLowerCase()}.`);
    }
    case "HISTORY":
    case "INBOX": {
      const count = parseInt(rest, 10) || 0;
      if (verb === "HISTORY" && requests[0] && requests[0].kind === "HISTORY") finishRequest();
      if (count > 0) {
        replay = {kind: verb, left: count};
        notice(verb === "HISTORY" ? "Earlier messages:"
          : `${count} direct message${count === 1 ? "" : "s"} while you were away:`);
      }
      return;
    }
    case "BYE":
      return bye(rest);
    default:
      return;  // PONG, and frames a later version may add
  }
}

function receiveData(text) {
  if (replay) {
    const [, time, from, transport, body] = splitWords(text, 4);
    const when = new Date(time);
    if (replay.kind === "HISTORY") {
      line([["earlier", "tag"], [from, "from"], [transport, "transport"], [body, "text"]],
        "earlier", isNaN(when) ? null : when);
    } else {
      line([["DM from", "tag"], [from, "from"], [transport, "transport"], [body, "text"]],
        "dm stored", isNaN(when) ? null : when);
    }
    if (--replay.left <= 0) replay = null;
    return;
  }
  const [kind, from, transport, body] = splitWords(text, 3);
  if (kind === "PM") line([[from, "from"], [transport, "transport"], [body, "text"]], "pm");
  else if (kind === "DM") {
    line([["DM from", "tag"], [from, "from"], [transport, "transport"], [body, "text"]], "dm");
  }
}

function password(kind) {
  phase = "pass";
  if (kind === "EXISTING") {
    send(`C PASS ${credentials.password}`);
    return;
  }
  // A new name: the password is typed twice before it is chosen.
  if (!$("confirm-row").hidden && $("password2").value === credentials.password) {
    send(`C PASS ${credentials.password}`);
    return;
  }
  phase = "confirm";
  $("confirm-row").hidden = false;
  $("login-error").textContent = "This name is new: type its password again to register it.";
  $("password2").focus();
}

function welcome(name) {
  me = name;
  phase = "in";
  ghost = false;
  backoff = 1;
  $("login").hidden = true;
  $("chat").hidden = false;
  $("login-error").textContent = "";
  status(`Connected as ${name}.`);
  notice(`Welcome ${name}, you are connected via WEB.`);
  users = new Map();
  request({kind: "WHO"});
  request({kind: "HISTORY"});
  $("message").focus();
}

function error(code, text) {
  const op = requests[0];
  if (phase !== "in") {
    if (code === "NAME_TAKEN") {
      $("ghost").hidden = false;
      $("login-error").textContent =
        "That name is online. If it is you on another device, you can end that session.";
    } else {
      $("login-error").textContent = text || code;
    }
    credentials = null;  // no reconnecting with what the server refused
    if (code === "BAD_PASSWORD" || code === "NAME_TAKEN" || code === "BAD_NAME") {
      // The session goes on; the form sends a new LOGIN. A reconnect gives up here.
      status(`Not logged in: ${text || code}`);
      phase = "hello";
      if (!$("login").hidden) return;
      $("chat").hidden = true;
      $("login").hidden = false;
    }
    return;
  }
  if (op && op.kind === "HISTORY") {  // a server before 1.1: no history
    finishRequest();
    return;
  }
  if (op && (op.kind === "PM" || op.kind === "DM")) {
    line([[`Not sent (${text || code}): ${op.text}`, null]], "error-line");
    finishRequest();
    return;
  }
  line([[text || code, null]], "error-line");
}

function userList(rest) {
  const more = rest.startsWith("+ ");
  listing.push(...(more ? rest.slice(2) : rest).split(" ").filter(Boolean));
  if (more) return;
  users = new Map();
  for (const entry of listing) {
    const cut = entry.lastIndexOf(":");
    const name = entry.slice(0, cut);
    users.set(name.toLowerCase(), {name, transport: entry.slice(cut + 1)});
  }
  listing = [];
  renderUsers();
  const op = requests[0];
  if (op && op.kind === "WHO") finishRequest();
  else if (op && op.kind === "DM" && op.stage === "command") {
    op.stage = "data";
    send(`D ${op.to} ${op.text}`);
  }
}

function ok([what, name, stored]) {
  const op = requests[0];
  if (what === "PM" && op && op.kind === "PM") {
    line([[me, "from"], ["WEB", "transport"], [op.text, "text"]], "pm mine");
    finishRequest();
  } else if (what === "DM" && op && op.kind === "DM") {
    const tag = stored === "STORED" ? "DM to (stored for)" : "DM to";
    line([[tag, "tag"], [name, "from"], [op.text, "text"]], "dm mine");
    finishRequest();
  }
}

function bye(reason) {
  if (reason === "REPLACED") {
    leaving = true;
    notice("You logged in again elsewhere: this page is no longer connected.");
    status("Logged in elsewhere.");
  } else if (reason === "EXIT") {
    leaving = true;
    status("You left.");
  } else {
    notice(`The server says goodbye (${REASONS[reason] || reason}).`);
  }
}

$("login").addEventListener("submit", (event) => {
  event.preventDefault();
  const name = $("username").value.trim();
  const pass = $("password").value;
  if (!name || !pass) return;
  credentials = {name, password: pass};
  leaving = false;
  if (phase === "confirm") {
    if ($("password2").value !== pass) {
      $("login-error").textContent = "The passwords differ: type the same one twice.";
      return;
    }
    phase = "pass";
    send(`C PASS ${pass}`);
    return;
  }
  $("login-error").textContent = "";
  $("ghost").hidden = true;
  if (ws && ws.readyState === WebSocket.OPEN && phase === "hello") logIn();
  else if (!ws) connect();
});

$("ghost").addEventListener("click", () => {
  ghost = true;
  $("ghost").hidden = true;
  $("login").requestSubmit();
});

$("composer").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("message").value;
  if (!text.trim() || phase !== "in") return;
  const dm = /^\/dm\s+(\S+)\s+(.+)$/s.exec(text);
  if (dm) request({kind: "DM", to: dm[1], text: dm[2]});
  else if (text.startsWith("/dm")) {
    line([["Usage: /dm name text", null]], "error-line");
    return;
  } else request({kind: "PM", text});
  $("message").value = "";
});

$("leave").addEventListener("click", () => {
  leaving = true;
  credentials = null;
  send("C EX");
  $("chat").hidden = true;
  $("login").hidden = false;
  $("username").focus();
});
