// The login form's words: a refused login in plain words, and the
// passwords taken out of the form.

import {bannedSentence} from "./moderation.js";

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
