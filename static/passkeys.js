// Passkeys (WebAuthn) for the bank's forms. No build step, no library: the server does the checking
// (py_webauthn); this only carries its options to the browser's authenticator and the answer back.
//
// A form with data-passkey="get" (approve, pay, log in) or "create" (add a passkey) is first posted
// with passkey_step=options; the bank answers {publicKey, summary}, bound to exactly what the form
// approves. The summary is shown, the authenticator asked, and its answer posted in the form's
// passkey_credential field. data-passkey-when="money" (the consent screen) asks only when the Allow
// button is pressed with a money-moving scope ticked.
(() => {
  "use strict";
  if (!window.PublicKeyCredential) {
    for (const form of document.querySelectorAll("form[data-passkey]")) {
      const status = form.querySelector("[data-passkey-status]");
      if (status) status.textContent = "This browser cannot use passkeys.";
    }
    return;
  }

  const toBytes = (text) => {
    const base64 = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
    return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  };
  const toText = (buffer) =>
    btoa(String.fromCharCode(...new Uint8Array(buffer))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

  // The browser's own JSON helpers where it has them; the same conversion by hand where not.
  const requestOptions = (json) => {
    if (PublicKeyCredential.parseRequestOptionsFromJSON) return PublicKeyCredential.parseRequestOptionsFromJSON(json);
    return {
      ...json,
      challenge: toBytes(json.challenge),
      allowCredentials: (json.allowCredentials || []).map((c) => ({ ...c, id: toBytes(c.id) })),
    };
  };
  const creationOptions = (json) => {
    if (PublicKeyCredential.parseCreationOptionsFromJSON) return PublicKeyCredential.parseCreationOptionsFromJSON(json);
    return {
      ...json,
      challenge: toBytes(json.challenge),
      user: { ...json.user, id: toBytes(json.user.id) },
      excludeCredentials: (json.excludeCredentials || []).map((c) => ({ ...c, id: toBytes(c.id) })),
    };
  };
  const credentialJSON = (credential) => {
    if (typeof credential.toJSON === "function") return credential.toJSON();
    const r = credential.response;
    const response = { clientDataJSON: toText(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toText(r.attestationObject);
      response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      response.authenticatorData = toText(r.authenticatorData);
      response.signature = toText(r.signature);
      if (r.userHandle) response.userHandle = toText(r.userHandle);
    }
    return { id: credential.id, rawId: toText(credential.rawId), type: credential.type, response, clientExtensionResults: {} };
  };

  const needsPasskey = (form, submitter) => {
    if (form.dataset.passkeyWhen !== "money") return true;
    if (!submitter || submitter.name !== "allow") return false;
    return [...form.querySelectorAll("input[data-money]")].some((box) => box.checked);
  };

  document.addEventListener("submit", async (event) => {
    const form = event.target;
    const mode = form.dataset && form.dataset.passkey;
    if (!mode || form.dataset.passkeyAnswered === "yes" || !needsPasskey(form, event.submitter)) return;
    event.preventDefault();
    const status = form.querySelector("[data-passkey-status]");
    const say = (text) => { if (status) status.textContent = text; };
    const body = new FormData(form, event.submitter); // before the buttons are disabled: it names the one pressed
    body.set("passkey_step", "options");
    const buttons = form.querySelectorAll("button");
    buttons.forEach((button) => { button.disabled = true; });
    try {
      const answer = await fetch(form.action, { method: "POST", body, credentials: "same-origin" });
      const options = await answer.json();
      if (!answer.ok) throw new Error(options.detail || "The bank could not prepare the passkey check.");
      say(options.summary + " Follow your device's prompt.");
      const credential = mode === "create"
        ? await navigator.credentials.create({ publicKey: creationOptions(options.publicKey) })
        : await navigator.credentials.get({ publicKey: requestOptions(options.publicKey) });
      form.querySelector("input[name=passkey_credential]").value = JSON.stringify(credentialJSON(credential));
      form.dataset.passkeyAnswered = "yes";
      buttons.forEach((button) => { button.disabled = false; });
      form.requestSubmit(event.submitter);
    } catch (error) {
      buttons.forEach((button) => { button.disabled = false; });
      say(error.name === "NotAllowedError"
        ? "The passkey was not used (cancelled or timed out). Nothing was done; try again."
        : `${error.message} Nothing was done.`);
    }
  });
})();
