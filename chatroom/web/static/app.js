// The chatroom page: the protocol of docs/protocol.rst over the WebSocket at /ws.
// Text from users is only ever inserted with textContent, never as HTML.
// An ES module: words and times in text.js, the conversation's lines in
// conversation.js, the online list in people.js, moderation in words in
// moderation.js, the staff's menu in menu.js, the conversations' list,
// title, icon and notifications in alerts.js, the message box in
// composer.js and sending.js.

import {plural, splitWords} from "./text.js";
import {alsoInHistory, missed, remember} from "./catchup.js";
import {activeName, dmLog, line, modLine, notice, problem, setMe, setUpConversations}
  from "./conversation.js";
import {drawConversations, notify, open, setUpNotifications} from "./alerts.js";
import {keepUnsent, nextLine, setUpSending} from "./sending.js";
import {banSentence, modSentence, refusal} from "./moderation.js";
import {boxBusy, boxDone} from "./composer.js";
import {forgetPasswords, loginRefusal} from "./login.js";
import {setUpMenu} from "./menu.js";
import {People} from "./people.js";

const $ = (id) => document.getElementById(id);
const SUBPROTOCOL = "chatroom.v1";
const REASONS = {
  EXIT: "left", CLOSED: "lost the connection", TIMEOUT: "timed out",
  DROPPED: "was dropped by the server", REPLACED: "logged in again elsewhere",
  SHUTDOWN: "server stopping", KICKED: "was kicked", BANNED: "was banned",
};

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
let seen = [];            // the last public messages shown (catchup.js)
let lostAt = null;        // when the connection was lost (ms), while away
let arrival = null;       // {history, held, back} until the C HISTORY answer is whole
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
  arrival = null;
  bans = null;
  boxBusy(false);
  if (leaving || !credentials) {
    if (!leaving) status("Not connected.");
    return;
  }
  if (wasIn) {
    notice("Connection lost.");
    people.stale(true);
    if (lostAt === null) lostAt = Date.now();
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
      else arrived();
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
      if (arrival) {
        arrival.history.push({when: isNaN(when) ? 0 : when.getTime(), from, transport,
          text: body});
      }
    } else {
      directMessage(from, transport, body, "dm stored", isNaN(when) ? null : when);
    }
    if (--replay.left <= 0) {
      const done = replay.kind === "HISTORY";
      replay = null;
      if (done) arrived();
    }
    return;
  }
  const [kind, from, transport, body] = splitWords(text, 3);
  if (kind === "PM") {
    const said = {when: Date.now(), from, transport, text: body};
    if (arrival) arrival.held.push(said);
    else showPublic(said, false);
  } else if (kind === "DM") {
    directMessage(from, transport, body, "dm", null);
  }
}

// A direct message to us, in its own conversation with the sender.
function directMessage(from, transport, body, className, when) {
  const key = dmLog(from);
  line([[from, "from"], [transport, "transport"], [body, "text"]], className, when, key,
    {message: true});
  notify(`${from} wrote to you`, body, key);
}

function isMe(name) { return me !== null && name.toLowerCase() === me.toLowerCase(); }

// A public message shown, and remembered as seen.
function showPublic(said, earlier) {
  const parts = [[said.from, "from"], [said.transport, "transport"], [said.text, "text"]];
  if (earlier) line([["earlier", "tag"], ...parts], "earlier", new Date(said.when));
  else if (isMe(said.from)) line(parts, "pm mine");
  else {
    const {mention} = line(parts, "pm", null, "", {message: true});
    if (mention) notify(`${said.from} mentioned you`, said.text, "");
  }
  seen = remember(seen, said);
}

// The history is whole: the first time, all of it as earlier messages;
// after a reconnect, only what was missed. Then the messages relayed
// meanwhile that the history did not already hold.
function arrived() {
  if (!arrival) return;
  const {history, held, back} = arrival;
  arrival = null;
  const shown = back ? missed(history, seen, lostAt) : history;
  if (back) {
    notice(shown.length ? `${plural(shown.length, "message")} while you were away:`
      : "Nothing was said while you were away.");
  } else if (shown.length) notice("Earlier messages:");
  for (const said of shown) showPublic(said, true);
  for (const said of held.slice(alsoInHistory(history, held))) showPublic(said, false);
  lostAt = null;
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
  if (lostAt === null) notice(`Welcome ${name}, you are connected via WEB.`);
  else notice(`Back in the room after ${Math.round((Date.now() - lostAt) / 1000)} s.`);
  people.clear();
  people.stale(false);
  arrival = {history: [], held: [], back: lostAt !== null};
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
    arrived();
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
    line([[me, "from"], ["WEB", "transport"], [op.text, "text"]], "pm mine");
    seen = remember(seen, {when: Date.now(), from: me, transport: "WEB", text: op.text});
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
  if (reason === "REPLACED") {
    leaving = true;
    notice("You logged in again elsewhere: this page is no longer connected.");
    status("Logged in elsewhere.");
  } else if (reason === "EXIT") {
    leaving = true;
    status("You left.");
  } else if (reason === "KICKED" || reason === "BANNED") {
    // Not reconnecting: a kick asks to come back by hand, a ban would be refused.
    leaving = true;
    let what = aboutMe ? modSentence(aboutMe).replace(/^\S+ was/, "You were")
      : `You were ${reason === "KICKED" ? "kicked" : "banned"} by a moderator.`;
    if (!/[.!?]$/.test(what)) what += ".";
    const next = reason === "KICKED" ? " You may log in again."
      : " You cannot log in with this name until it ends.";
    status(reason === "KICKED" ? "Kicked out of the room." : "Banned from the room.");
    toLogin(what + next);
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
  lostAt = null;  // a login by hand is an arrival, not a coming back
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
  $("chat").hidden = true;
  $("login").hidden = false;
  $("username").focus();
});
