// The staff's menu on a user of the online list: one panel (#moderate in
// index.html), opened by the "Moderate" button beside a name, reachable and
// closable from the keyboard (Escape gives the focus back to that button).

import {DURATIONS, menuFrame} from "./moderation.js";

const $ = (id) => document.getElementById(id);

let target = null;   // the name the panel acts on
let opener = null;   // the button that opened it
let act = null;      // callback(frame, verb, name)

// Fill the duration choices once, and wire the panel to `onAction`.
export function setUpMenu(onAction) {
  act = onAction;
  const select = $("mod-duration");
  for (const [value, label] of DURATIONS) {
    const option = document.createElement("option");
    option.value = value;
    option.textContent = label;
    select.append(option);
  }
  select.value = "1h";
  $("moderate").addEventListener("submit", (event) => {
    event.preventDefault();
    const verb = event.submitter && event.submitter.value;
    if (!verb || !target) return;
    act(menuFrame(verb, target, select.value, $("mod-reason").value.trim()), verb, target);
    closeMenu();
  });
  $("mod-close").addEventListener("click", () => closeMenu());
  $("moderate").addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      closeMenu();
    }
  });
}

// The "Moderate" button for `name`, to put beside it in the list.
export function menuButton(name) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "moderate-button";
  button.textContent = "⋯";
  button.title = `Moderate ${name}`;
  button.setAttribute("aria-label", `Moderate ${name}`);
  button.setAttribute("aria-haspopup", "true");
  button.setAttribute("aria-controls", "moderate");
  button.setAttribute("aria-expanded", String(target === name && !$("moderate").hidden));
  button.dataset.name = name;
  button.addEventListener("click", () => {
    if (target === name && !$("moderate").hidden) closeMenu();
    else openMenu(name, button);
  });
  return button;
}

export function openMenu(name, button) {
  if (opener) opener.setAttribute("aria-expanded", "false");
  target = name;
  opener = button;
  button.setAttribute("aria-expanded", "true");
  $("mod-target").textContent = name;
  $("mod-reason").value = "";
  $("moderate").hidden = false;
  $("mod-duration").focus();
}

// Close the panel; the focus goes back to the button that opened it, if
// it is still on the page.
export function closeMenu() {
  const panel = $("moderate");
  if (panel.hidden) return;
  panel.hidden = true;
  target = null;
  if (opener) {
    opener.setAttribute("aria-expanded", "false");
    const again = document.querySelector(
      `#users .moderate-button[data-name="${CSS.escape(opener.dataset.name)}"]`);
    if (again) again.focus();
  }
  opener = null;
}

// After the list is drawn again: the opener is the new button for the same name.
export function menuTarget() { return target; }
