// "Draft reply": a reply-all draft in the reader's own Gmail, in the thread of the email it answers,
// never sent from here (POST /api/email/drafts {email_id, body}); once made, a link opens it in Gmail.
//   const reply = draftReply(emailId, "proposal-1-reply");  row.append(reply.button); below.append(reply.element);
import { api } from "../api.js";
import { API } from "../config.js";
import { h } from "../dom.js";
import { formFields } from "./form.js";

export function draftReply(emailId, idPrefix) {
  const form = formFields([{ name: "body", label: "Reply (reply-all, saved as a Gmail draft, not sent)", type: "textarea", rows: 4 }]);
  ownIds(form, "body", idPrefix);
  const result = h("p.reply-result", { role: "status" });
  const make = h("button.primary", { type: "button", onclick: async () => {
    form.clearErrors();
    make.disabled = true;
    result.textContent = "Creating the Gmail draft…";
    try {
      const made = await api("POST", API.emailDrafts, { email_id: emailId, body: form.read().body || "" });
      result.replaceChildren("Draft saved in ", made.mailbox, ". ",
        h("a", { href: made.open_url, target: "_blank", rel: "noopener noreferrer" }, "Open the draft in Gmail"));
    } catch (error) {
      result.textContent = "";
      form.showErrors(error);
    } finally { make.disabled = false; }
  } }, "Create Gmail draft");
  const element = h("div.draft-reply", { id: `${idPrefix}-panel`, hidden: true }, form.element, h("div.page-actions", {}, make), result);
  const button = h("button", { type: "button", "aria-expanded": "false", "aria-controls": element.id, onclick: () => {
    element.hidden = !element.hidden;
    button.setAttribute("aria-expanded", String(!element.hidden));
    if (!element.hidden) form.input("body").focus();
  } }, "Draft reply");
  return { element, button };
}

// formFields names its ids after the field; several forms on a page hold the same field, so each gets its own.
export function ownIds(form, name, id) {
  const input = form.input(name);
  const error = form.element.querySelector(`#field-${name}-error`);
  input.id = id;
  error.id = `${id}-error`;
  input.setAttribute("aria-describedby", error.id);
  form.element.querySelector(`label[for="field-${name}"]`).htmlFor = id;
}
