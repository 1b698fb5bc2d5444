// The console's few live parts, in plain JavaScript (no build step, no CDN):
// - forms with data-confirm ask before they post;
// - #live-list and #live-job poll a cheap endpoint and swap in a fresh fragment when it changes;
// - the browser chat: send, click, dialogs, and the conversation following the space's feed.
"use strict";

(function () {
  const csrf = document.body.dataset.csrf;
  const pollMs = parseInt(document.body.dataset.poll || "2000", 10);

  // -- confirmations ------------------------------------------------------------------------------
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!form.dataset || !form.dataset.confirm) return;
    if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); return; }
    if (!form.querySelector("input[name=confirmed]")) {
      const input = document.createElement("input");
      input.type = "hidden"; input.name = "confirmed"; input.value = "1";
      form.appendChild(input);
    }
  });

  // -- live pages ------------------------------------------------------------------------------------
  function live(box) {
    let version = box.dataset.version;
    let busy = false;
    async function tick() {
      if (busy || document.hidden) return;
      busy = true;
      try {
        const answer = await fetch(box.dataset.live, { headers: { Accept: "application/json" } });
        if (answer.ok) {
          const body = await answer.json();
          if (String(body.v) !== String(version)) {
            if (box.dataset.ask) {  // a search: say it changed, and search again only when asked
              const stale = document.getElementById("live-stale");
              if (stale) stale.hidden = false;
            } else {
              const fragment = await fetch(box.dataset.fragment);
              if (fragment.ok) { box.innerHTML = await fragment.text(); version = body.v; box.dataset.version = body.v; }
            }
          }
        }
      } catch (e) { /* the console is restarting: try again at the next tick */ }
      busy = false;
    }
    setInterval(tick, pollMs);
  }
  document.querySelectorAll("[data-live]").forEach(live);
  document.querySelectorAll("[data-test=search-again]").forEach((button) => {
    button.addEventListener("click", () => window.location.reload());
  });

  // -- browser chat ------------------------------------------------------------------------------------
  const conversation = document.getElementById("conversation");
  if (!conversation) return;
  const errorBox = document.getElementById("chat-error");
  const dialog = document.getElementById("gc-dialog");
  const dialogBody = document.getElementById("gc-dialog-body");
  const dialogError = document.getElementById("gc-dialog-error");
  const dialogTitle = document.getElementById("gc-dialog-title");
  let last = parseInt(conversation.dataset.last || "0", 10);
  document.querySelectorAll(".chat-choices select").forEach((select) => {
    select.addEventListener("change", () => select.form.submit());  // the format, the person's client
  });

  // Chat's <font color> in cards: the CSP refuses style attributes, so colours are set here.
  function colour(root) {
    root.querySelectorAll(".gc-color[data-color]").forEach((el) => { el.style.color = el.dataset.color; });
  }
  colour(conversation);

  function showError(text) {
    errorBox.textContent = text || "";
    errorBox.hidden = !text;
  }

  async function refresh() {
    const answer = await fetch(conversation.dataset.messages);
    if (!answer.ok) return;
    const body = await answer.json();
    const atBottom = conversation.scrollHeight - conversation.scrollTop - conversation.clientHeight < 40;
    conversation.innerHTML = body.html;
    colour(conversation);
    const absent = document.querySelector("[data-test=no-space]");  // a first message made the space
    if (absent && body.html) absent.remove();
    if (atBottom) conversation.scrollTop = conversation.scrollHeight;
    if (body.errors && body.errors.length) showError(body.errors[body.errors.length - 1]);
  }

  async function follow() {
    for (;;) {
      try {
        const answer = await fetch(conversation.dataset.wait + "&after=" + last);
        if (answer.ok) {
          const body = await answer.json();
          if (body.changed) { last = body.last; await refresh(); }
        } else {
          await new Promise((r) => setTimeout(r, pollMs));
        }
      } catch (e) {
        await new Promise((r) => setTimeout(r, pollMs));
      }
    }
  }

  async function post(url, fields) {
    const data = new URLSearchParams({ csrf_token: csrf, space: conversation.dataset.space, ...fields });
    if (conversation.dataset.format) data.set("format", conversation.dataset.format);
    if (conversation.dataset.client) data.set("client", conversation.dataset.client);
    const answer = await fetch(url, { method: "POST", body: data, headers: { "X-CSRF-Token": csrf } });
    let body = {};
    try { body = await answer.json(); } catch (e) { body = { error: "HTTP " + answer.status }; }
    if (!answer.ok && !body.error) body.error = "HTTP " + answer.status;
    return body;
  }

  function handle(body, inDialog) {
    if (body.dialog) {
      dialogBody.innerHTML = body.dialog;
      colour(dialogBody);
      // the card's header stays at the top beside the close icon; the rest scrolls under it
      const head = dialogBody.querySelector(".gc-card > .gc-card-header");
      dialogTitle.replaceChildren(...(head ? [head] : []));
      dialogError.hidden = true;
      if (!dialog.open) {
        dialog.showModal();
        // a new dialog opens at its top (the body kept the last dialog's scroll: its first inputs hidden)
        dialog.scrollTop = 0;
        dialogBody.scrollTop = 0;
      }
      return;
    }
    if (body.error) {
      if (inDialog) { dialogError.textContent = body.error; dialogError.hidden = false; } else showError(body.error);
      return;
    }
    showError("");
    if (inDialog && body.closed) dialog.close();
  }

  // The dialog's close button is Chat's close icon: the dialog closes at once and the app hears
  // CANCEL_DIALOG. (Escape closes it too, and, as in Chat, tells the app nothing.)
  const closeButton = document.querySelector("[data-test=dialog-close]");
  if (closeButton) {
    closeButton.addEventListener("click", async () => {
      if (!dialog.open) return;
      dialog.close();
      handle(await post(conversation.dataset.cancel, {}), false);
    });
  }
  // A click outside the dialog (on its backdrop) closes it and, as in Chat, tells the app nothing.
  dialog.addEventListener("click", (event) => { if (event.target === dialog) dialog.close(); });
  // Enter in a field of the dialog neither submits nor closes it: only its buttons act.
  document.getElementById("gc-dialog-form").addEventListener("submit", (event) => event.preventDefault());

  document.getElementById("composer").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = event.target.querySelector("input[name=text]");
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    handle(await post(conversation.dataset.send, { text }), false);
    await refresh();
    // as in Chat, what a person sends is shown, and what answers it after: even if they had scrolled up
    conversation.scrollTop = conversation.scrollHeight;
  });

  // What a dialog's inputs say, in Chat's formInputs shape.
  function formInputs() {
    const inputs = {};
    dialogBody.querySelectorAll("[name]").forEach((el) => {
      const name = el.name;
      const kind = el.dataset.kind;
      if (kind === "text") {
        inputs[name] = { stringInputs: { value: [el.value] } };
      } else if (kind === "select") {
        const values = el.tagName === "SELECT" ? Array.from(el.selectedOptions).map((o) => o.value)
          : (el.checked ? [el.value] : []);
        const previous = (inputs[name] && inputs[name].stringInputs.value) || [];
        inputs[name] = { stringInputs: { value: previous.concat(values) } };
      } else if (kind === "DATE_ONLY" && el.value) {
        inputs[name] = { dateInput: { msSinceEpoch: String(Date.parse(el.value + "T00:00:00Z")) } };
      } else if (kind === "TIME_ONLY" && el.value) {
        const [hours, minutes] = el.value.split(":").map(Number);
        inputs[name] = { timeInput: { hours, minutes } };
      } else if (kind === "DATE_AND_TIME" && el.value) {
        inputs[name] = { dateTimeInput: { msSinceEpoch: String(Date.parse(el.value + ":00Z")), hasDate: true, hasTime: true } };
      }
    });
    return inputs;
  }

  document.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-click], button[data-dialog-submit]");
    if (!button) return;
    event.preventDefault();
    button.disabled = true;
    try {
      if (button.dataset.dialogSubmit !== undefined) {
        const body = await post(conversation.dataset.click, {
          message: button.dataset.message, button: button.dataset.dialogSubmit, dialog: "1",
          action: button.dataset.action, formInputs: JSON.stringify(formInputs()) });
        handle(body, true);
      } else {
        handle(await post(conversation.dataset.click, { message: button.dataset.message, button: button.dataset.click }), false);
      }
      await refresh();
    } finally {
      button.disabled = false;
    }
  });

  conversation.scrollTop = conversation.scrollHeight;
  follow();
})();
