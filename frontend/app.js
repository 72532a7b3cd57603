// Sign-in shell: first-run admin creation, login, invite acceptance, sign-out.
// The fundraising grid replaces the signed-in screen in a later release.
import { api, setToken, token } from "./api.js";

const root = document.getElementById("app");

function form(title, lead, fields, submitLabel, onSubmit) {
  root.replaceChildren();
  const h = document.createElement("h1");
  h.textContent = title;
  const p = document.createElement("p");
  p.className = "lead";
  p.textContent = lead;
  const f = document.createElement("form");
  for (const [name, label, type] of fields) {
    const l = document.createElement("label");
    l.textContent = label;
    const input = document.createElement("input");
    Object.assign(input, { name, type, required: true, autocomplete: type === "password" ? "current-password" : "username" });
    l.append(input);
    f.append(l);
  }
  const button = document.createElement("button");
  button.textContent = submitLabel;
  const error = document.createElement("div");
  error.className = "error";
  error.setAttribute("role", "alert");
  f.append(button, error);
  f.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    try {
      await onSubmit(Object.fromEntries(new FormData(f)));
    } catch (e) {
      error.textContent = e.message;
    }
  });
  root.append(h, p, f);
  f.querySelector("input")?.focus();
}

async function signedIn() {
  const me = await api("GET", "/api/auth/me");
  root.replaceChildren();
  const h = document.createElement("h1");
  h.textContent = `Signed in as ${me.display_name || me.username}`;
  const p = document.createElement("p");
  p.className = "lead";
  p.textContent = `Role: ${me.role}.`;
  const out = document.createElement("button");
  out.textContent = "Sign out";
  out.addEventListener("click", async () => {
    await api("POST", "/api/auth/logout").catch(() => {});
    setToken(null);
    start();
  });
  root.append(h, p, out);
}

function acceptInvite(inviteToken) {
  form("Set your password", "Choose a password of at least 10 characters.",
    [["password", "New password", "password"]], "Set password",
    async ({ password }) => {
      const data = await api("POST", "/api/auth/accept-invite", { token: inviteToken, password });
      setToken(data.token);
      history.replaceState(null, "", "/");
      signedIn();
    });
}

async function start() {
  const invite = new URLSearchParams(location.hash.slice(1)).get("token");
  if (location.pathname === "/accept-invite" && invite) return acceptInvite(invite);
  if (token()) {
    try { return await signedIn(); } catch { setToken(null); }
  }
  const { setup_required } = await api("GET", "/api/bootstrap/status");
  if (setup_required) {
    form("Create the admin account", "This is a new Venture CRM. The first account is the administrator.",
      [["username", "Username", "text"], ["email", "Email", "email"], ["password", "Password (10+ characters)", "password"]],
      "Create admin", async (values) => {
        const data = await api("POST", "/api/auth/register", values);
        setToken(data.token);
        signedIn();
      });
  } else {
    form("Sign in", "Venture CRM", [["username", "Username or email", "text"], ["password", "Password", "password"]],
      "Sign in", async (values) => {
        const data = await api("POST", "/api/auth/login", values);
        setToken(data.token);
        signedIn();
      });
  }
}

start();
