// The quality menu: Auto plus each rendition, as a WAI-ARIA menu button with radio items.
// In Auto the button names the rendition playing now, e.g. "Auto (480p)".
//
// Keyboard: Enter, Space or ArrowDown open it on the checked item (ArrowUp on the last);
// arrows, Home and End move; Enter or Space choose; Escape closes; Tab leaves.

const wrapper = document.getElementById('quality');
const button = document.getElementById('quality-button');
const currentEl = document.getElementById('quality-current');
const menu = document.getElementById('quality-menu');

let engine = null;
const render = () => renderMenu();

/** Shows the menu for an engine with renditions (hls.js); null hides it. */
export function bindQualityMenu(newEngine) {
  engine?.removeEventListener('levels', render);
  engine?.removeEventListener('level', render);
  engine = newEngine;
  engine?.addEventListener('levels', render);
  engine?.addEventListener('level', render);
  close(false);
  renderMenu();
}

function renderMenu() {
  const levels = engine?.levels ?? [];
  // One rendition leaves nothing to choose.
  wrapper.hidden = levels.length < 2;
  if (wrapper.hidden) return;
  const byIndex = new Map(levels.map((level) => [level.index, level]));
  const current = byIndex.get(engine.level)?.label;
  const autoLabel = current && engine.auto ? `Auto (${current})` : 'Auto';
  currentEl.textContent = engine.auto ? autoLabel : (current ?? 'Auto');

  const entries = [{ index: -1, label: autoLabel }, ...levels];
  const focused = menu.contains(document.activeElement) ? document.activeElement.dataset.level : null;
  menu.replaceChildren(
    ...entries.map(({ index, label }) => {
      const item = document.createElement('li');
      item.setAttribute('role', 'menuitemradio');
      item.tabIndex = -1;
      item.dataset.level = String(index);
      item.textContent = label;
      const checked = index === -1 ? engine.auto : !engine.auto && index === engine.level;
      item.setAttribute('aria-checked', String(checked));
      return item;
    }),
  );
  // A rendition switch while the menu is open must not drop the keyboard focus.
  if (focused !== null) menu.querySelector(`[data-level="${focused}"]`)?.focus();
}

function items() {
  return [...menu.querySelectorAll('[role="menuitemradio"]')];
}

function open(focusLast = false) {
  menu.hidden = false;
  button.setAttribute('aria-expanded', 'true');
  const all = items();
  const target = focusLast ? all.at(-1) : (all.find((item) => item.getAttribute('aria-checked') === 'true') ?? all[0]);
  target?.focus();
}

function close(returnFocus = true) {
  if (menu.hidden) return;
  menu.hidden = true;
  button.setAttribute('aria-expanded', 'false');
  if (returnFocus) button.focus();
}

function choose(item) {
  engine?.select(Number(item.dataset.level));
  close();
}

function moveFocus(step, to) {
  const all = items();
  const at = all.indexOf(document.activeElement);
  const next = to === 'first' ? 0 : to === 'last' ? all.length - 1 : (at + step + all.length) % all.length;
  all[next]?.focus();
}

button.addEventListener('click', () => (menu.hidden ? open() : close()));
button.addEventListener('keydown', (event) => {
  if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
    event.preventDefault();
    open(event.key === 'ArrowUp');
  }
});
menu.addEventListener('click', (event) => {
  const item = event.target.closest('[role="menuitemradio"]');
  if (item) choose(item);
});
menu.addEventListener('keydown', (event) => {
  const keys = {
    ArrowDown: () => moveFocus(1),
    ArrowUp: () => moveFocus(-1),
    Home: () => moveFocus(0, 'first'),
    End: () => moveFocus(0, 'last'),
    Escape: () => close(),
    Enter: () => choose(document.activeElement),
    ' ': () => choose(document.activeElement),
  };
  if (event.key === 'Tab') {
    close(false);
    return;
  }
  const action = keys[event.key];
  if (!action) return;
  event.preventDefault();
  action();
});
// A click anywhere else closes it, as a native menu would.
document.addEventListener('pointerdown', (event) => {
  if (!wrapper.contains(event.target)) close(false);
});
