// Words, bytes and times as the protocol has them (docs/protocol.rst).

// A frame is at most this many bytes of UTF-8, its verb included.
export const FRAME_LIMIT = 4096;

const encoder = new TextEncoder();

// The size of a text in bytes, as the server counts it (UTF-8).
export function byteLength(text) {
  return encoder.encode(text).length;
}

// The first `count` space-separated words, then the rest of the line.
export function splitWords(text, count) {
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

// "12:52", the local time of day.
export function clock(date) {
  return date.toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"});
}

// An end time of section 11 in words: "12:52", "6 Dec 12:52" on another
// day, null for "-" (no end), the raw text if it is not a time.
export function until(text) {
  if (!text || text === "-") return null;
  const date = new Date(text);
  if (isNaN(date)) return text;
  const today = new Date();
  if (date.toDateString() === today.toDateString()) return clock(date);
  const day = date.toLocaleDateString([], {day: "numeric", month: "short"});
  return `${day} ${clock(date)}`;
}

// "1 second", "30 seconds".
export function plural(count, word) {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}
