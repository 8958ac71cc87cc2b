// Light and dark themes: the system's preference unless the person picked
// one, which is remembered in localStorage.

import { icon } from "./icons.js";

const KEY = "confab.theme";

/** @returns {"light" | "dark" | null} */
function chosen() {
  const value = localStorage.getItem(KEY);
  return value === "light" || value === "dark" ? value : null;
}

function effective() {
  return chosen() || (matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light");
}

export function applyTheme() {
  document.documentElement.dataset.theme = effective();
}

/** A button that switches between the themes. */
export function themeToggle() {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "icon-button theme-toggle";
  const label = () => {
    const next = effective() === "dark" ? "light" : "dark";
    button.setAttribute("aria-label", `Switch to ${next} theme`);
    button.title = `Switch to ${next} theme`;
    button.replaceChildren(icon(effective() === "dark" ? "sun" : "moon"));
  };
  button.addEventListener("click", () => {
    localStorage.setItem(KEY, effective() === "dark" ? "light" : "dark");
    refresh();
  });
  document.addEventListener("themechange", label);
  label();
  return button;
}

/** Applies the theme and tells the toggles. */
function refresh() {
  applyTheme();
  document.dispatchEvent(new CustomEvent("themechange"));
}

matchMedia("(prefers-color-scheme: dark)").addEventListener("change", refresh);
// A theme picked in another tab of this origin applies here too.
window.addEventListener("storage", (event) => {
  if (event.key === KEY || event.key === null) refresh();
});
