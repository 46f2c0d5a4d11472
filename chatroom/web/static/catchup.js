// What was said while the page was away: the server's history matched
// against the public messages last shown, so that a reconnect shows only
// what was missed (as chatclient does). Pure functions over
// {when (ms since the epoch), from, text}.

// How far apart the server's clock and ours may be (ms) when a message of
// the history is recognised as one shown.
const CLOCK_SKEW = 120000;

// How many of the last messages shown are matched, so that a repeated
// "ok" is not taken for the one we saw.
const REMEMBERED = 3;

function same(a, b) {
  return a.from.toLowerCase() === b.from.toLowerCase() && a.text === b.text &&
    Math.abs(a.when - b.when) <= CLOCK_SKEW;
}

// The last messages shown, once `said` is shown too.
export function remember(seen, said) {
  return [...seen, said].slice(-REMEMBERED);
}

// The messages of `history` (oldest first) after those of `seen`. The
// latest place where the history ends with what was seen last marks where
// we left; without one, whatever is newer than the last message seen (or
// than the loss) is missed: one message twice beats one lost.
export function missed(history, seen, lostAt) {
  if (seen.length) {
    for (let end = history.length; end > 0; end--) {
      const tail = history.slice(Math.max(0, end - seen.length), end);
      const last = seen.slice(-tail.length);
      if (tail.every((said, i) => same(said, last[i]))) return history.slice(end);
    }
  }
  const since = seen.length ? seen.at(-1).when : lostAt;
  return history.filter((said) => said.when > since);
}

// How many of the messages relayed live while the history was asked for
// (oldest first) are also its last entries: shown once, from the history.
export function alsoInHistory(history, relayed) {
  for (let count = Math.min(history.length, relayed.length); count > 0; count--) {
    const tail = history.slice(history.length - count);
    if (tail.every((said, i) => same(said, relayed[i]))) return count;
  }
  return 0;
}
