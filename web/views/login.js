// The sign-in screen: log in or create an account.

import * as api from "../api.js";
import { h } from "../format.js";
import { themeToggle } from "../theme.js";

/**
 * @param {HTMLElement} root
 * @param {(token: string) => void} signedIn
 * @param {string} [notice] why the last session ended, shown above the form
 */
export function renderLogin(root, signedIn, notice = "") {
  let mode = /** @type {"login" | "register"} */ ("login");
  const error = h("p", { class: "form-error", attrs: { role: "alert" } });
  const name = h("input", { attrs: { id: "login-name", name: "username", autocomplete: "username", required: true, maxlength: "32", autocapitalize: "none", spellcheck: "false" } });
  const displayRow = h("input", { attrs: { id: "login-display", name: "display_name", autocomplete: "nickname", maxlength: "64" } });
  const password = h("input", { attrs: { id: "login-password", name: "password", type: "password", autocomplete: "current-password", required: true, minlength: "8" } });
  const displayField = h("div", { class: "field" }, h("label", { text: "Display name (optional)", attrs: { for: "login-display" } }), displayRow);
  const submit = h("button", { class: "primary wide", attrs: { type: "submit" } });
  const title = h("h1");
  const switcher = h("button", { class: "link-button", attrs: { type: "button" } });
  const prompt = h("span");

  const form = h(
    "form",
    { class: "login-card", attrs: { "aria-labelledby": "login-title" } },
    h("div", { class: "brand" }, h("img", { attrs: { src: document.querySelector("link[rel=icon]")?.getAttribute("href") || "", alt: "" } }), h("span", { text: "Confab" })),
    title,
    h("div", { class: "field" }, h("label", { text: "User name", attrs: { for: "login-name" } }), name),
    displayField,
    h("div", { class: "field" }, h("label", { text: "Password", attrs: { for: "login-password" } }), password),
    error,
    submit,
    h("p", { class: "switch" }, prompt, " ", switcher),
  );
  title.id = "login-title";

  function show() {
    const register = mode === "register";
    title.textContent = register ? "Create your account" : "Welcome back";
    submit.textContent = register ? "Sign up" : "Log in";
    prompt.textContent = register ? "Already have an account?" : "New to Confab?";
    switcher.textContent = register ? "Log in" : "Create an account";
    displayField.hidden = !register;
    password.setAttribute("autocomplete", register ? "new-password" : "current-password");
    error.textContent = "";
  }

  switcher.addEventListener("click", () => {
    mode = mode === "login" ? "register" : "login";
    show();
    name.focus();
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    error.textContent = "";
    try {
      const session =
        mode === "register"
          ? await api.register(name.value.trim(), password.value, displayRow.value.trim())
          : await api.login(name.value.trim(), password.value);
      signedIn(session.access_token);
    } catch (e) {
      error.textContent = e instanceof api.ApiError && e.code === "account_suspended"
        ? "This account is suspended. Contact the server's administrators."
        : e instanceof Error ? e.message : String(e);
    } finally {
      submit.disabled = false;
    }
  });

  show();
  error.textContent = notice;
  root.replaceChildren(h("main", { class: "login-screen" }, h("div", { class: "login-corner" }, themeToggle()), form));
  name.focus();
}
