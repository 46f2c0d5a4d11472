// The online list: who is in the room, who of them is staff (the "@" of
// C USERS, C MOD ROLE), drawn with a direct-message button per name and,
// for the staff, a moderation menu beside every other name.

import {parseEntry} from "./moderation.js";
import {closeMenu, menuButton} from "./menu.js";

const fold = (name) => name.toLowerCase();

export class People {
  constructor(onPick) {
    this.onPick = onPick;     // called with a name whose button was pressed
    this.users = new Map();   // casefolded name -> {name, transport}
    this.staff = new Set();   // casefolded names of moderators and admins
    this.me = null;
    this.pending = [];        // entries of a C USERS + continuation
  }

  amStaff() { return this.me !== null && this.staff.has(fold(this.me)); }

  // One C USERS frame; true once the list is whole.
  listed(rest) {
    const more = rest.startsWith("+ ");
    this.pending.push(...(more ? rest.slice(2) : rest).split(" ").filter(Boolean));
    if (more) return false;
    this.users = new Map();
    for (const entry of this.pending) {
      const user = parseEntry(entry);
      this.users.set(fold(user.name), user);
      if (user.staff) this.staff.add(fold(user.name));
      else this.staff.delete(fold(user.name));
    }
    this.pending = [];
    this.render();
    return true;
  }

  joined(name, transport) {
    this.users.set(fold(name), {name, transport});
    this.render();
  }

  left(name) {
    this.users.delete(fold(name));
    this.render();
  }

  role(name, role) {
    if (role === "user") this.staff.delete(fold(name));
    else this.staff.add(fold(name));
    this.render();
  }

  // During an outage the list is what it was: say it may be out of date.
  stale(outdated) {
    const list = document.getElementById("users");
    document.getElementById("users-stale").hidden = !outdated;
    list.classList.toggle("stale", outdated);
    if (outdated) list.setAttribute("aria-describedby", "users-stale");
    else list.removeAttribute("aria-describedby");
  }

  clear() {
    this.users = new Map();
    this.pending = [];
  }

  render() {
    const list = document.getElementById("users");
    // Drawn anew, the list keeps the keyboard's place on the same button.
    const active = document.activeElement;
    const focused = list.contains(active) ? [active.className, active.dataset.name] : null;
    list.replaceChildren();
    const sorted = [...this.users.values()].sort((a, b) =>
      fold(a.name) < fold(b.name) ? -1 : 1);
    const moderating = this.amStaff();
    for (const user of sorted) {
      const item = document.createElement("li");
      const isMe = this.me !== null && fold(user.name) === fold(this.me);
      const isStaff = this.staff.has(fold(user.name));
      const button = document.createElement("button");
      button.type = "button";
      button.className = "dm-button";
      if (isStaff) {
        const mark = document.createElement("span");
        mark.className = "staff-mark";
        mark.textContent = "@";
        mark.title = "moderator or admin";
        button.append(mark);
      }
      button.append(`${user.name} (${user.transport})`);
      if (isMe) {
        const you = document.createElement("span");
        you.className = "you";
        you.textContent = " (you)";
        button.append(you);
      }
      const who = isMe ? `You, ${user.name}` : `Direct messages with ${user.name}`;
      button.setAttribute("aria-label", `${who}, via ${user.transport}` +
        (isStaff ? ", moderator or admin" : ""));
      button.dataset.name = user.name;
      button.addEventListener("click", () => this.onPick(user.name));
      item.append(button);
      if (moderating && !isMe) item.append(menuButton(user.name));
      list.append(item);
    }
    if (focused) {
      const again = [...list.querySelectorAll("button")].find((button) =>
        button.className === focused[0] && button.dataset.name === focused[1]);
      if (again) again.focus();
    }
    document.getElementById("staff-help").hidden = !moderating;
    if (!moderating) closeMenu();
  }
}
