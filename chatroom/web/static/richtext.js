// A message's text as text nodes, with its http(s) links made clickable and
// mentions of us (@name) marked. Nothing from users is ever parsed as HTML:
// each piece is a text node, inside an <a> or <mark> made here.

const LINK = /\bhttps?:\/\/[^\s<>"]+/giu;
const MENTION = /@([\p{L}\p{N}_][\p{L}\p{N}_.\-]*)/gu;

// A link's address, without the sentence's closing punctuation, or null if
// it is not an http or https URL.
function address(found) {
  const trimmed = found.replace(/[)\].,;:!?'»]+$/u, "");
  try {
    const url = new URL(trimmed);
    return url.protocol === "http:" || url.protocol === "https:" ? trimmed : null;
  } catch {
    return null;
  }
}

// `text` with its mentions of `me` in <mark>; true if there was one.
function mentions(into, text, me) {
  if (!me) {
    into.append(text);
    return false;
  }
  let last = 0;
  let any = false;
  for (const match of text.matchAll(MENTION)) {
    const name = match[1].replace(/[.\-]+$/u, "");
    if (name.toLowerCase() !== me.toLowerCase()) continue;
    into.append(text.slice(last, match.index));
    const mark = document.createElement("mark");
    mark.className = "mention";
    mark.textContent = `@${name}`;
    into.append(mark);
    last = match.index + 1 + name.length;
    any = true;
  }
  into.append(text.slice(last));
  return any;
}

// Fill `into` with `text`; mentions of `me` (null: none) marked. True if
// `me` was mentioned.
export function richText(into, text, me) {
  let last = 0;
  let mentioned = false;
  for (const match of text.matchAll(LINK)) {
    const url = address(match[0]);
    if (!url) continue;
    mentioned = mentions(into, text.slice(last, match.index), me) || mentioned;
    const link = document.createElement("a");
    link.href = url;
    link.textContent = url;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    into.append(link);
    last = match.index + url.length;
  }
  return mentions(into, text.slice(last), me) || mentioned;
}
