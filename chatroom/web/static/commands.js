// A line typed in the message box as an operation of the page: a public
// or direct message, a staff command, {help}, or {error} in words.

import {STAFF_HELP, parseCommand} from "./moderation.js";

// What a line typed in the box asks for: a direct message, a staff
// command, or a message ("//text" sends "/text") to the room, or to `to`
// when the conversation shown is with one person.
export function operation(text, staff, to = null) {
  const dm = /^\/dm\s+(\S+)\s+(.+)$/s.exec(text);
  if (dm) return {kind: "DM", to: dm[1], text: dm[2], frame: "C DM", prefix: `/dm ${dm[1]} `};
  if (/^\/dm(\s|$)/.test(text)) return {error: "Usage: /dm name text"};
  if (/^\/help\s*$/i.test(text)) {
    return {help: "/dm name text writes to one person." + (staff ? ` ${STAFF_HELP}` : "")};
  }
  const command = parseCommand(text);
  if (command && command.error) return command;
  if (command) {
    return {kind: command.verb === "BANS" ? "BANS" : "MOD", verb: command.verb,
      target: command.target, frame: command.frame};
  }
  if (/^\/[a-z]+/i.test(text)) {
    return {error: `Unknown command ${text.split(/\s/)[0]}: /help lists them; ` +
      "start with // to send a line that begins with /."};
  }
  const said = text.startsWith("//") ? text.slice(1) : text;
  if (to) return {kind: "DM", to, text: said, frame: "C DM", prefix: ""};
  return {kind: "PM", text: said, frame: "C PM", prefix: ""};
}
