// The messages as they arrive: public ones in the room (held while the
// history is asked for, so that a reconnect shows only what was missed, as
// chatclient does), direct ones in a conversation with their sender, with
// a notification where the reader does not see them.

import {plural} from "./text.js";
import {alsoInHistory, missed, remember} from "./catchup.js";
import {dmLog, line, notice} from "./conversation.js";
import {notify} from "./alerts.js";

export class Stream {
  constructor() {
    this.me = null;
    this.seen = [];       // the last public messages shown (catchup.js)
    this.lostAt = null;   // when the connection was lost (ms), while away
    this.arrival = null;  // {history, held, back} until the C HISTORY answer is whole
  }

  isMe(name) { return this.me !== null && name.toLowerCase() === this.me.toLowerCase(); }

  // The connection was lost (while in the room).
  lost() {
    this.arrival = null;
    if (this.lostAt === null) this.lostAt = Date.now();
  }

  // Logged in by hand: an arrival, not a coming back.
  fresh() { this.lostAt = null; }

  // In the room: say so, and hold live messages until the history is whole.
  welcome(name) {
    this.me = name;
    if (this.lostAt === null) notice(`Welcome ${name}, you are connected via WEB.`);
    else notice(`Back in the room after ${Math.round((Date.now() - this.lostAt) / 1000)} s.`);
    this.arrival = {history: [], held: [], back: this.lostAt !== null};
  }

  // A line of the C HISTORY answer.
  history(said) {
    if (this.arrival) this.arrival.history.push(said);
  }

  // A public message relayed live.
  public(said) {
    if (this.arrival) this.arrival.held.push(said);
    else this.show(said, false);
  }

  // Our own public message, taken by the server.
  ours(text) {
    line([[this.me, "from"], ["WEB", "transport"], [text, "text"]], "pm mine");
    this.seen = remember(this.seen, {when: Date.now(), from: this.me, transport: "WEB", text});
  }

  // A direct message to us, in its own conversation with the sender.
  direct(from, transport, body, className, when) {
    const key = dmLog(from);
    line([[from, "from"], [transport, "transport"], [body, "text"]], className, when, key,
      {message: true});
    notify(`${from} wrote to you`, body, key);
  }

  // A public message shown, and remembered as seen.
  show(said, earlier) {
    const parts = [[said.from, "from"], [said.transport, "transport"], [said.text, "text"]];
    if (earlier) line([["earlier", "tag"], ...parts], "earlier", new Date(said.when));
    else if (this.isMe(said.from)) line(parts, "pm mine");
    else {
      const {mention} = line(parts, "pm", null, "", {message: true});
      if (mention) notify(`${said.from} mentioned you`, said.text, "");
    }
    this.seen = remember(this.seen, said);
  }

  // The history is whole: the first time, all of it as earlier messages;
  // after a reconnect, only what was missed. Then the messages relayed
  // meanwhile that the history did not already hold.
  arrived() {
    if (!this.arrival) return;
    const {history, held, back} = this.arrival;
    this.arrival = null;
    const shown = back ? missed(history, this.seen, this.lostAt) : history;
    if (back) {
      notice(shown.length ? `${plural(shown.length, "message")} while you were away:`
        : "Nothing was said while you were away.");
    } else if (shown.length) notice("Earlier messages:");
    for (const said of shown) this.show(said, true);
    for (const said of held.slice(alsoInHistory(history, held))) this.show(said, false);
    this.lostAt = null;
  }
}
