// The chatroom page: the protocol of docs/protocol.rst over the WebSocket at /ws.
// Text from users is only ever inserted with textContent, never as HTML.
// An ES module: words and times in text.js, the conversation's lines in
// conversation.js, the online list in people.js, moderation in words in
// moderation.js, the staff's menu in menu.js, the conversations' list,
// title, icon and notifications in alerts.js, the message box in
// composer.js and sending.js.

import {plural, splitWords} from "./text.js";
import {Stream} from "./stream.js";
import {activeName, dmLog, forgetConversations, line, modLine, notice, problem, setMe,
  setUpConversations} from "./conversation.js";
import {drawConversations, open, setUpNotifications} from "./alerts.js";
import {keepUnsent, nextLine, setUpSending} from "./sending.js";
import {banSentence, modSentence, refusal} from "./moderation.js";
import {boxBusy, boxDone} from "./composer.js";
import {REASONS, forgetPasswords, goodbye, loginRefusal} from "./login.js";
import {setUpMenu} from "./menu.js";
import {People} from "./people.js";

const $ = (id) => document.getElementById(id);
const SUBPROTOCOL = "chatroom.v1";

let ws = null;
let me = null;            // the name we are logged in as
let credentials = null;   // {name, password}, in memory only, for reconnecting
let phase = "out";        // out | hello | login | pass | confirm | in
let asked = null;         // the last C PASSWORD: NEW or EXISTING
let ghost = false;        // this login ends our older session
let leaving = false;      // we sent C EX, or were replaced: no reconnect
let backoff = 1;          // seconds before the next reconnect attempt
let retry = null;
let aboutMe = null;       // the last C MOD notice about us, to explain a C BYE
let bans = null;          // {left}: D BAN lines of a C BANS answer still to come
let requests = [];        // our operations, one at a time: {kind, ...}
let replay = null;        // {kind: "HISTORY"|"INBOX", left}
const stream = new Stream();
const people = new People((name) => open(dmLog(name)));

function status(text) { $("status").textContent = text; }

function wsURL() {
  return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws";
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
  send(op.frame || `C ${op.kind}`);
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
  bans = null;
  boxBusy(false);
  if (leaving || !credentials) {
    if (!leaving) status("Not connected.");
    return;
  }
  if (wasIn) {
    notice("Connection lost.");
    people.stale(true);
    stream.lost();
  }
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
      people.joined(name, transport);
      return notice(`${name} joined (${transport}).`);
    }
    case "LEAVE": {
      const [name, transport, reason] = splitWords(rest, 2);
      people.left(name);
      return notice(`${name} (${transport}) ${REASONS[reason] || reason.toLowerCase()}.`);
    }
    case "HISTORY": {
      const count = parseInt(rest, 10) || 0;
      if (requests[0] && requests[0].kind === "HISTORY") finishRequest();
      if (count > 0) replay = {kind: verb, left: count};
      else stream.arrived();
      return;
    }
    case "INBOX": {
      const count = parseInt(rest, 10) || 0;
      if (count > 0) {
        replay = {kind: verb, left: count};
        notice(`${plural(count, "direct message")} while you were away:`);
      }
      return;
    }
    case "MOD":
      return moderated(rest);
    case "BANS":
      return banList(parseInt(rest, 10) || 0);
    case "BYE":
      return bye(rest);
    default:
      return;  // PONG, and frames a later version may add
  }
}

function receiveData(text) {
  if (bans) {
    const [kind, rest] = splitWords(text, 1);
    if (kind === "BAN") modLine(banSentence(rest));
    if (--bans.left <= 0) {
      bans = null;
      bansListed();
    }
    return;
  }
  if (replay) {
    const [, time, from, transport, body] = splitWords(text, 4);
    const when = new Date(time);
    if (replay.kind === "HISTORY") {
      stream.history({when: isNaN(when) ? 0 : when.getTime(), from, transport, text: body});
    } else {
      stream.direct(from, transport, body, "dm stored", isNaN(when) ? null : when);
    }
    if (--replay.left <= 0) {
      const done = replay.kind === "HISTORY";
      replay = null;
      if (done) stream.arrived();
    }
    return;
  }
  const [kind, from, transport, body] = splitWords(text, 3);
  if (kind === "PM") {
    stream.public({when: Date.now(), from, transport, text: body});
  } else if (kind === "DM") {
    stream.direct(from, transport, body, "dm", null);
  }
}

// A C MOD notice: a sentence for everyone; a role change shows in the list.
function moderated(rest) {
  const [action, name, , end] = splitWords(rest, 4);
  modLine(modSentence(rest));
  if (me !== null && name.toLowerCase() === me.toLowerCase()) aboutMe = rest;
  if (action === "ROLE") people.role(name, end);
}

// The C BANS answer is whole: the box that asked for it is free again.
function bansListed() {
  const op = requests[0];
  if (!op || op.kind !== "BANS") return;
  finishRequest();
  boxDone(op, true);
}

function banList(count) {
  modLine(count === 0 ? "No bans or mutes in force."
    : `${count} ban${count === 1 ? "" : "s"} or mute${count === 1 ? "" : "s"} in force:`);
  if (count > 0) bans = {left: count};
  else bansListed();
}

function password(kind) {
  phase = "pass";
  asked = kind;
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
  status("Confirming the new name…");
  $("confirm-row").hidden = false;
  $("login-error").textContent = "This name is new: type its password again to register it.";
  $("password2").focus();
}

function welcome(name) {
  me = name;
  people.me = name;
  setMe(name);
  phase = "in";
  ghost = false;
  backoff = 1;
  aboutMe = null;
  $("login").hidden = true;
  $("chat").hidden = false;
  $("login-error").textContent = "";
  $("confirm-row").hidden = true;
  forgetPasswords();  // kept in memory for reconnecting, not in the form
  status(`Connected as ${name}.`);
  stream.welcome(name);
  people.clear();
  people.stale(false);
  request({kind: "WHO"});
  request({kind: "HISTORY"});
  $("message").focus();
}

// Back to the login form, with why in words; no reconnecting.
function toLogin(why) {
  credentials = null;
  forgetPasswords();
  $("chat").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = why;
  $("username").focus();
}

function error(code, text) {
  const op = requests[0];
  if (phase !== "in") {
    const name = credentials ? credentials.name : $("username").value.trim();
    if (code === "NAME_TAKEN") $("ghost").hidden = false;
    $("login-error").textContent = loginRefusal(code, text, name, asked);
    credentials = null;  // no reconnecting with what the server refused
    if (code !== "NAME_TAKEN") forgetPasswords();  // the ghost button sends it again
    if (code === "BAD_PASSWORD" && !$("login").hidden) $("password").focus();
    if (["BAD_PASSWORD", "NAME_TAKEN", "BAD_NAME", "BANNED"].includes(code)) {
      // The session goes on; the form sends a new LOGIN. A reconnect gives up here.
      status(code === "BANNED" ? "Not logged in: this account is banned."
        : "Not logged in.");
      phase = "hello";
      if (!$("login").hidden) return;
      $("chat").hidden = true;
      $("login").hidden = false;
    }
    return;
  }
  if (op && op.kind === "HISTORY") {  // a server before 1.1: no history
    finishRequest();
    stream.arrived();
    return;
  }
  const explained = refusal(code, text);
  if (op && (op.kind === "PM" || op.kind === "DM")) {
    problem(explained ? `${explained} Your text is still in the box.`
      : `Not sent (${text || code}): ${op.text}`);
    finishRequest();
    keepUnsent(op);
    return;
  }
  if (op && (op.kind === "MOD" || op.kind === "BANS")) {
    problem(explained || (code === "NO_SUCH_USER"
      ? `There is no account named ${op.target}.` : text || code));
    finishRequest();
    boxDone(op, code === "DENIED");  // a typo is kept to correct; a refusal is not
    return;
  }
  problem(explained || text || code);
}

function userList(rest) {
  if (!people.listed(rest)) return;
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
    stream.ours(op.text);
    sent(op);
  } else if (what === "DM" && op && op.kind === "DM") {
    const parts = [[me, "from"], [op.text, "text"]];
    if (stored === "STORED") parts.push([`(kept for ${name} until they log in)`, "tag"]);
    line(parts, "dm mine", null, dmLog(name));
    sent(op);
  } else if (op && op.kind === "MOD" && what === op.verb) {
    finishRequest();  // the C MOD notice tells what happened
    boxDone(op, true);
  }
}

// One line of a message was taken: the next one, or the box is free.
function sent(op) {
  if (nextLine(op)) {
    startRequest();
    return;
  }
  finishRequest();
  boxDone(op, true);
}

function bye(reason) {
  const {leave, state, say, back} = goodbye(reason, aboutMe);
  if (leave) leaving = true;
  if (say) notice(say);
  if (state) status(state);
  if (back) toLogin(back);
}

$("login").addEventListener("submit", (event) => {
  event.preventDefault();
  const name = $("username").value.trim();
  const pass = $("password").value;
  if (!name || !pass) return;
  credentials = {name, password: pass};
  leaving = false;
  stream.fresh();  // a login by hand is an arrival, not a coming back
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

setUpSending({
  ready: () => phase === "in",
  staff: () => people.amStaff(),
  to: () => activeName(),
  request,
});

// A staff action chosen in a user's menu.
function menuAction(frame, verb, name) {
  if (phase !== "in") return;
  request({kind: "MOD", verb, target: name, frame});
}

setUpMenu(menuAction);
setUpConversations(drawConversations);
drawConversations();
setUpNotifications();

$("leave").addEventListener("click", () => {
  leaving = true;
  credentials = null;
  forgetPasswords();
  send("C EX");
  forgetConversations();
  open("");
  $("chat").hidden = true;
  $("login").hidden = false;
  $("username").focus();
});
