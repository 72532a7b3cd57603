// Menus, one keyboard model for all of them (the WAI-ARIA menu button pattern):
// - `menuButton` is a button with its own menu under it (the toolbar's More, the view tools' ⋯);
// - `nameMenu` + `menuKeys` give a menu Tabulator built (a column header's ⋮, a row's right-click
//   menu) its roles and the same keys when it opens.
// Keys: Enter, Space or ArrowDown on the button open the menu on its first item (ArrowUp: the last);
// arrows move (wrapping), Home/End, a letter goes to the next item starting with it, Enter/Space
// choose, Escape closes and gives the focus back to the opener, Tab closes it and moves on from the
// opener (in the grid's own menus Tab stays on the opener: there Tab moves the active cell).
// No key pressed in a menu reaches the grid under it (a letter would edit the active cell).
import { h } from "../dom.js";

let menus = 0;

/** Items that can take the focus: disabled ones are skipped; aria-disabled ones stay (announced, not chosen). */
const focusable = (el) => !el.disabled && !el.hidden && el.getClientRects().length > 0;
const inert = (el) => el.disabled || el.getAttribute("aria-disabled") === "true";

/**
 * Arrow keys, Home/End, typeahead, Enter/Space, Escape and Tab for an open `menu`.
 * `close({ focus: true })` must hide the menu and put the focus back on its opener; for Tab the browser
 * then moves on from there (the default action of Tab runs after this handler), unless `tabStays`.
 */
export function menuKeys(menu, { close, tabStays = false, items = () => [...menu.querySelectorAll('[role="menuitem"]')] }) {
  menu.addEventListener("keydown", (event) => {
    event.stopPropagation();
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const list = items().filter(focusable);
    const at = list.indexOf(document.activeElement);
    const go = (i) => { event.preventDefault(); list[(i + list.length) % list.length]?.focus({ preventScroll: true }); };
    switch (event.key) {
      case "ArrowDown": return go(at + 1);
      case "ArrowUp": return go(at < 0 ? -1 : at - 1);
      case "Home": return go(0);
      case "End": return go(-1);
      case "Escape": event.preventDefault(); return close({ focus: true });
      case "Tab": if (tabStays) event.preventDefault(); return close({ focus: true });
      case "Enter": case " ": {
        const item = list[at];
        if (item?.tagName === "BUTTON") return undefined;  // a button chooses itself (its click has detail 0)
        event.preventDefault();
        if (item && !inert(item)) item.click();
        return undefined;
      }
      default: {
        if (event.key.length !== 1 || !/\S/.test(event.key)) return undefined;
        const key = event.key.toLowerCase();
        const starts = (el) => el.textContent.trim().toLowerCase().startsWith(key);
        const found = list.findIndex((el, i) => i > at && starts(el));
        const wrap = found >= 0 ? found : list.findIndex(starts);
        if (wrap >= 0) go(wrap);
        return undefined;
      }
    }
  });
}

/**
 * Roles on a menu Tabulator built: role=menu named `label`; its items are menuitems unless they hold
 * one (a button inside: the item is then role=none); separators are separators. Focuses the first item.
 */
export function nameMenu(menu, label) {
  menu.setAttribute("role", "menu");
  menu.setAttribute("aria-label", label);
  for (const el of menu.children) {
    if (el.classList.contains("tabulator-menu-separator")) { el.setAttribute("role", "separator"); continue; }
    if (el.querySelector('[role="menuitem"]')) { el.setAttribute("role", "none"); continue; }
    el.setAttribute("role", "menuitem");
    el.tabIndex = -1;
    if (el.classList.contains("tabulator-menu-item-disabled")) el.setAttribute("aria-disabled", "true");
  }
  [...menu.querySelectorAll('[role="menuitem"]')].find(focusable)?.focus({ preventScroll: true });
}

/**
 * A button with a menu under it. `entries()` is read each time it opens: a list of
 * `{ label, run(event), name, title, disabled, popup }` (popup: "dialog" when choosing it opens one),
 * "separator", or a node shown as it is. Choosing an item closes the menu and gives the focus back to
 * the button before `run` (so a dialog it opens returns the focus there). Returns
 * `{ button, menu, anchor, isOpen, open, close }`; `anchor` holds both and goes into the page.
 */
export function menuButton({ text, label, title, className = "", dataset = {}, menuDataset = {}, entries, onOpen }) {
  const id = `menu-${++menus}`;
  const button = h(`button${className}`, { type: "button", title, "aria-haspopup": "menu", "aria-expanded": "false",
    "aria-controls": id, "aria-label": label === text ? undefined : label, dataset }, text);
  const menu = h("div.menu-popup", { id, role: "menu", "aria-label": label, hidden: true, dataset: menuDataset });
  const anchor = h("span.menu-anchor", {}, button, menu);
  const items = () => [...menu.querySelectorAll('[role="menuitem"]')];

  const outside = (event) => { if (!anchor.contains(event.target)) control.close(); };

  function item(entry) {
    const disabled = typeof entry.disabled === "function" ? entry.disabled() : Boolean(entry.disabled);
    const el = h("button.menu-item", { type: "button", role: "menuitem", tabindex: "-1", title: entry.title,
      "aria-haspopup": entry.popup, "aria-disabled": disabled ? "true" : undefined, dataset: { action: entry.name } }, entry.label);
    el.addEventListener("click", (event) => {
      if (inert(el)) return;
      control.close({ focus: true });
      entry.run(event);
    });
    return el;
  }

  function place() {
    menu.style.left = "0px";
    const box = menu.getBoundingClientRect();
    const over = box.right - (window.innerWidth - 8);
    if (over > 0) menu.style.left = `${-Math.min(over, box.left - 8)}px`;
  }

  const control = {
    button, menu, anchor,
    isOpen: () => !menu.hidden,
    /** Open on the first item (`last`: the last one). */
    open({ last = false } = {}) {
      onOpen?.();
      menu.replaceChildren(...entries().map((entry) => (entry === "separator"
        ? h("div.menu-separator", { role: "separator" })
        : entry instanceof Node ? entry : item(entry))));
      menu.hidden = false;
      button.setAttribute("aria-expanded", "true");
      document.addEventListener("pointerdown", outside, true);
      place();
      const list = items().filter(focusable);
      (last ? list.at(-1) : list[0])?.focus({ preventScroll: true });
    },
    close({ focus = false } = {}) {
      if (menu.hidden) return;
      if (focus) button.focus({ preventScroll: true });
      menu.hidden = true;
      button.setAttribute("aria-expanded", "false");
      document.removeEventListener("pointerdown", outside, true);
    },
  };

  button.addEventListener("click", () => (control.isOpen() ? control.close({ focus: true }) : control.open()));
  button.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      control.open({ last: event.key === "ArrowUp" });
    } else if (event.key === "Escape" && control.isOpen()) {
      event.preventDefault();
      event.stopPropagation();
      control.close({ focus: true });
    }
  });
  menuKeys(menu, { close: (how) => control.close(how), items });
  // The focus went elsewhere (a click outside, a dialog): the menu closes.
  anchor.addEventListener("focusout", (event) => {
    if (control.isOpen() && event.relatedTarget && !anchor.contains(event.relatedTarget)) control.close();
  });
  return control;
}
