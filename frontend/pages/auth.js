// Sign-in pages: first-run admin creation, login, invite acceptance, change password.
import { api } from "../api.js";
import { API, ROUTES } from "../config.js";
import { h } from "../dom.js";

function form(root, { title, lead, fields, submit, onSubmit, footer }) {
  const error = h("div.error", { role: "alert" });
  const inputs = fields.map(([name, label, type, autocomplete, extra = {}]) =>
    h("label", {}, label, h("input", { name, type, required: !extra.optional, autocomplete, ...extra, optional: undefined })));
  const button = h("button.primary", { type: "submit" }, submit);
  const f = h("form", { novalidate: false }, inputs, button, error);
  f.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    button.disabled = true;
    try {
      await onSubmit(Object.fromEntries(new FormData(f)));
    } catch (e) {
      error.textContent = e.message;
    } finally {
      button.disabled = false;
    }
  });
  const card = h("section.card", { "aria-labelledby": "page-title" },
    h("h1", { id: "page-title" }, title), h("p.lead", {}, lead), f, footer || null);
  root.replaceChildren(card);
  f.querySelector("input")?.focus();
  return () => {};
}

export function setup(root, { signedIn }) {
  return form(root, {
    title: "Create the admin account",
    lead: "This is a new Venture CRM. The first account is the administrator.",
    fields: [["username", "Username", "text", "username"], ["email", "Email", "email", "email"],
             ["password", "Password (10+ characters)", "password", "new-password", { minLength: 10 }]],
    submit: "Create admin",
    onSubmit: async (values) => signedIn(await api("POST", API.register, values)),
  });
}

export function login(root, { signedIn }) {
  return form(root, {
    title: "Sign in",
    lead: "Venture CRM",
    fields: [["username", "Username or email", "text", "username"], ["password", "Password", "password", "current-password"]],
    submit: "Sign in",
    onSubmit: async (values) => signedIn(await api("POST", API.login, values)),
  });
}

export function acceptInvite(root, { signedIn }, inviteToken) {
  if (!inviteToken) {
    root.replaceChildren(h("section.card", {}, h("h1", {}, "Invitation link incomplete"),
      h("p.lead", {}, "This link has no token. Ask your administrator for a new invitation.")));
    return () => {};
  }
  return form(root, {
    title: "Set your password",
    lead: "Welcome to Venture CRM. Choose a password of at least 10 characters.",
    fields: [["password", "New password", "password", "new-password", { minLength: 10 }],
             ["confirm", "Repeat it", "password", "new-password", { minLength: 10 }]],
    submit: "Set password",
    onSubmit: async ({ password, confirm }) => {
      if (password !== confirm) throw new Error("The two passwords differ.");
      const data = await api("POST", API.acceptInvite, { token: inviteToken, password });
      history.replaceState(null, "", ROUTES.grid);  // drop the token from the address bar
      signedIn(data);
    },
  });
}

export function changePassword(root, { signedIn }) {
  return form(root, {
    title: "Change password",
    lead: "Your other sessions end when the password changes.",
    fields: [["current_password", "Current password", "password", "current-password"],
             ["new_password", "New password (10+ characters)", "password", "new-password", { minLength: 10 }]],
    submit: "Change password",
    onSubmit: async (values) => signedIn(await api("POST", API.changePassword, values)),
  });
}
