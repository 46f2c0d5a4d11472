// The login form's words: a refused login in plain words, and the
// passwords taken out of the form.

import {bannedSentence, modSentence} from "./moderation.js";

const $ = (id) => document.getElementById(id);

// A refused login in plain words (the server's own text only where it
// says something these do not).
export function loginRefusal(code, text, name, asked) {
  switch (code) {
    case "BAD_PASSWORD":
      return asked === "NEW"
        ? "That password cannot be used: it must not be empty nor over 256 characters."
        : `Wrong password for ${name}. Type it again; after three wrong tries the server ` +
          "hangs up and you start again.";
    case "NAME_TAKEN":
      return "That name is online. If it is you on another device, you can end that session.";
    case "BANNED":
      return bannedSentence(text);
    case "BAD_NAME":
      return `"${name}" cannot be a name here${text ? `: ${text}` : "."}`;
    case "UNAVAILABLE":
      return "The server cannot check names and passwords right now. Try again in a minute.";
    case "INSECURE":
      return "This server takes passwords only over an encrypted connection: " +
        "open the page with https.";
    case "RATE":
      return "Too many tries too fast. Wait a few seconds and try again.";
    default:
      return text || code;
  }
}

// The passwords leave the form: after Leave, after a refusal.
export function forgetPasswords() {
  $("password").value = "";
  $("password2").value = "";
}

// Why someone left the room (C LEAVE, C BYE), in words.
export const REASONS = {
  EXIT: "left", CLOSED: "lost the connection", TIMEOUT: "timed out",
  DROPPED: "was dropped by the server", REPLACED: "logged in again elsewhere",
  SHUTDOWN: "server stopping", KICKED: "was kicked", BANNED: "was banned",
};

// A C BYE in words: {leave: no reconnecting, state: the status line, say: a
// line in the conversation, back: why, on the login form}.
export function goodbye(reason, aboutMe) {
  if (reason === "REPLACED") {
    return {leave: true, state: "Logged in elsewhere.",
      say: "You logged in again elsewhere: this page is no longer connected."};
  }
  if (reason === "EXIT") return {leave: true, state: "You left."};
  if (reason === "KICKED" || reason === "BANNED") {
    // Not reconnecting: a kick asks to come back by hand, a ban would be refused.
    let what = aboutMe ? modSentence(aboutMe).replace(/^\S+ was/, "You were")
      : `You were ${reason === "KICKED" ? "kicked" : "banned"} by a moderator.`;
    if (!/[.!?]$/.test(what)) what += ".";
    const next = reason === "KICKED" ? " You may log in again."
      : " You cannot log in with this name until it ends.";
    return {leave: true, back: what + next,
      state: reason === "KICKED" ? "Kicked out of the room." : "Banned from the room."};
  }
  return {leave: false, say: `The server says goodbye (${REASONS[reason] || reason}).`};
}
