// Roles and moderation (section 11 of docs/protocol.rst) in plain words:
// the staff's slash commands, the C MOD notices as sentences, the refusals
// explained. No DOM here; the page (app.js, menu.js) shows what these return.

import {plural, splitWords, until} from "./text.js";

// What a duration may be: a positive whole number of minutes, hours or
// days, or "forever".
const DURATION = /^([1-9][0-9]*[mhd]|forever)$/;

// The durations the menu offers.
export const DURATIONS = [
  ["10m", "10 minutes"], ["1h", "1 hour"], ["1d", "1 day"], ["7d", "7 days"],
  ["forever", "for good"],
];

// The staff's commands: name, the words before the reason, usage.
const COMMANDS = {
  kick: {verb: "KICK", args: ["name"], usage: "/kick name [reason]"},
  ban: {verb: "BAN", args: ["name", "duration"], usage: "/ban name 1h [reason]"},
  unban: {verb: "UNBAN", args: ["name"], usage: "/unban name", noReason: true},
  mute: {verb: "MUTE", args: ["name", "duration"], usage: "/mute name 10m [reason]"},
  unmute: {verb: "UNMUTE", args: ["name"], usage: "/unmute name", noReason: true},
  slow: {verb: "SLOW", args: ["seconds"], usage: "/slow seconds (0 turns it off)",
    noReason: true},
  role: {verb: "ROLE", args: ["name", "role"], usage: "/role name moderator|user",
    noReason: true},
  bans: {verb: "BANS", args: [], usage: "/bans", noReason: true},
};

export const STAFF_HELP =
  "Staff commands: /kick name reason, /ban name 1h reason, /mute name 10m reason, " +
  "/unban name, /unmute name, /slow 30 (0 turns it off), /bans; durations: 10m, 2h, 3d, forever.";

// A user entry of C USERS: "@alice:TCP" is staff.
export function parseEntry(entry) {
  const cut = entry.lastIndexOf(":");
  let name = cut < 0 ? entry : entry.slice(0, cut);
  const staff = name.startsWith("@");
  if (staff) name = name.slice(1);
  return {name, transport: cut < 0 ? "" : entry.slice(cut + 1), staff};
}

// A slash command typed in the message box: {verb, frame} to send, or
// {error} in words; null when the line is not one of these commands.
export function parseCommand(text) {
  const match = /^\/([a-z]+)(?:\s+|$)/i.exec(text);
  if (!match) return null;
  const command = COMMANDS[match[1].toLowerCase()];
  if (!command) return null;
  const rest = text.slice(match[0].length).trim();
  const words = rest === "" ? [] : rest.split(/\s+/);
  if (words.length < command.args.length ||
      (command.noReason && words.length > command.args.length)) {
    return {error: `Usage: ${command.usage}`};
  }
  const args = words.slice(0, command.args.length);
  const at = command.args.indexOf("duration");
  if (at >= 0 && !DURATION.test(args[at].toLowerCase())) {
    return {error: `"${args[at]}" is not a duration: use 10m, 2h, 3d or forever.`};
  }
  if (at >= 0) args[at] = args[at].toLowerCase();
  if (command.verb === "SLOW" && !/^[0-9]+$/.test(args[0])) {
    return {error: "Slow mode takes a whole number of seconds: /slow 30, or /slow 0 to end it."};
  }
  if (command.verb === "ROLE" && !/^(moderator|user)$/.test(args[1])) {
    return {error: "A role is moderator or user: /role name moderator."};
  }
  const reason = command.noReason ? "" : splitWords(rest, command.args.length).at(-1).trim();
  const frame = ["C", command.verb, ...args, ...(reason ? [reason] : [])].join(" ");
  return {verb: command.verb, target: args[0], frame};
}

// The frame of one menu action on a user.
export function menuFrame(verb, name, duration, reason) {
  const parts = ["C", verb, name];
  if (verb === "BAN" || verb === "MUTE") parts.push(duration);
  if (reason && verb !== "UNMUTE" && verb !== "UNBAN") parts.push(reason);
  return parts.join(" ");
}

function ending(end) {
  const when = until(end);
  return when ? ` until ${when}` : " for good";
}

function because(reason) {
  return reason ? `: ${reason}` : ".";
}

// A C MOD notice ("BAN bob alice 2026-12-06T12:52:00.000Z flooding") as a
// sentence: "bob was banned by alice until 12:52: flooding".
export function modSentence(rest) {
  const [action, name, by, end, reason] = splitWords(rest, 4);
  switch (action) {
    case "KICK": return `${name} was kicked by ${by}${because(reason)}`;
    case "BAN": return `${name} was banned by ${by}${ending(end)}${because(reason)}`;
    case "UNBAN": return `${name}'s ban was lifted by ${by}${because(reason)}`;
    case "MUTE": return `${name} was muted by ${by}${ending(end)}${because(reason)}`;
    case "UNMUTE": return `${name} may speak again (unmuted by ${by})${because(reason)}`;
    case "SLOW":
      return name === "0" ? `${by} turned slow mode off.`
        : `${by} turned slow mode on: one message every ${plural(Number(name), "second")}.`;
    case "ROLE":
      return end === "user" ? `${by} made ${name} a user again.`
        : `${by} made ${name} ${/^[aeiou]/i.test(end) ? "an" : "a"} ${end}.`;
    default:
      return `${by} moderated ${name} (${action})${because(reason)}`;
  }
}

// A D BAN line of the C BANS answer as a sentence.
export function banSentence(rest) {
  const [name, kind, by, end, reason] = splitWords(rest, 4);
  const what = kind === "MUTE" ? "muted" : "banned";
  return `${name} ${what} by ${by}${ending(end)}${because(reason)}`;
}

// A refusal inside the room, in plain words; null for codes explained elsewhere.
export function refusal(code, text) {
  switch (code) {
    case "MUTED": {
      const when = until(splitWords(text, 1)[0]);
      return when ? `You are muted until ${when}, so this was not sent.`
        : "You are muted with no end set, so this was not sent.";
    }
    case "SLOW": {
      const seconds = parseInt(text, 10) || 1;
      return `Slow mode is on: you may send again in ${plural(seconds, "second")}.`;
    }
    case "DENIED":
      return "Not allowed: only moderators and admins may do that, never on an admin " +
        "nor on themselves, and only an admin on a moderator.";
    case "NO_SUCH_USER":
      return null;
    default:
      return null;
  }
}

// C ERR BANNED <until> [reason] at login, in words.
export function bannedSentence(text) {
  const [end, reason] = splitWords(text, 1);
  const when = until(end);
  const period = when ? `until ${when}` : "for good";
  return `This account is banned ${period}${reason ? ` (${reason})` : ""}. ` +
    "You may log in with another name.";
}
