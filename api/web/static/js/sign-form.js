// The signing form of a page (docs/pages.md, "Signing in the browser"): on submit, sign the body
// the server rendered into the page, with the key the person chose, and send the body and the
// signature with the form. The key file input has no name, so the form never sends the file.
//
// Markup (api/web/templates/signing/_form.html):
//   <form data-signing-form data-signing-body="ID" data-signer-keys="KEY_ID ...">
//     <input type="hidden" name="body"> <input type="hidden" name="signature">
//     [data-signing-error]       where a problem with the key is said (role="alert"), with
//                                the page's words for each SigningError code (data-CODE)
//     [data-remembered-choice]   shown when this browser keeps a key for the person, holding
//       input[data-use-remembered], [data-remembered-key-id], button[data-forget-key]
//     input[type=file][data-key-file], input[type=checkbox][data-remember-key]
//     [data-signed-item=NAME]     a field the person fills in (a query's question): its value
//                                goes into the body's data as NAME, left out when empty; a
//                                checkbox's is true when ticked, left out when not; an empty
//                                field marked data-when-empty="signed-at" (or "next-second")
//                                takes the signer's time (or the next whole second after it)
//   <script type="application/json" id="ID">the body to sign, less key_id and signed_at; or
//     a list of bodies (an account opened with its role, sites and one-time password), each
//     signed with the same key: the form then sends the list of bodies as signed and the list
//     of signatures, both as JSON</script>
// Once it has looked for a key this browser keeps, the form's button (rendered disabled) is
// enabled and the form is marked data-signing-ready.

import {
  SigningError,
  canonicalBytes,
  forgetKey,
  keyFromPem,
  rememberKey,
  rememberedKey,
  signBody,
  wireInstant,
} from "./signing.js";

for (const form of document.querySelectorAll("form[data-signing-form]")) {
  attach(form);
}

// What the person typed into the form's signed fields, by the name each takes in the body's data
// (an optional field left empty is left out, as docs/signing.md says a body leaves it).
function typed(form, signedAt) {
  const items = {};
  const instants = { "signed-at": signedAt, "next-second": new Date(signedAt.getTime() + 1000) };
  for (const field of form.querySelectorAll("[data-signed-item]")) {
    const name = field.dataset.signedItem;
    if (field.type === "checkbox") {
      if (field.checked) items[name] = true;
    } else if (field.value !== "") {
      items[name] = field.value;
    } else if (field.dataset.whenEmpty in instants) {
      items[name] = wireInstant(instants[field.dataset.whenEmpty]);
    }
  }
  return items;
}

function attach(form) {
  const template = JSON.parse(document.getElementById(form.dataset.signingBody).textContent);
  const templates = Array.isArray(template) ? template : [template];
  const userId = templates[0].signer.user_id;
  const own = (form.dataset.signerKeys || "").split(/\s+/).filter(Boolean);
  const part = (name) => form.querySelector(`[data-${name}]`);
  const fileInput = part("key-file");
  const remember = part("remember-key");
  const choice = part("remembered-choice");
  const useRemembered = part("use-remembered");
  const errorBox = part("signing-error");
  const button = form.querySelector("button[type=submit], button:not([type])");
  let kept = null;

  const say = (message) => {
    errorBox.textContent = message;
    errorBox.hidden = message === "";
    if (message !== "") errorBox.focus();
  };
  // The page's own words for a refusal, in its language; the module's English otherwise.
  const words = (error) => errorBox.getAttribute(`data-${error.code}`) || error.message;

  const showKept = async () => {
    kept = await rememberedKey(userId).catch(() => null);
    choice.hidden = kept === null;
    useRemembered.checked = kept !== null;
    if (kept !== null) part("remembered-key-id").textContent = kept.keyId;
  };

  const chosenKey = async () => {
    if (kept !== null && useRemembered.checked) return kept;
    const file = fileInput.files[0];
    if (file === undefined) {
      throw new SigningError("no-key", "Choose your private key file (.pem) to sign with.");
    }
    const signingKey = await keyFromPem(await file.text());
    fileInput.value = "";
    return signingKey;
  };

  part("forget-key").addEventListener("click", async () => {
    await forgetKey(userId);
    await showKept();
    say("");
    fileInput.focus();
  });

  fileInput.addEventListener("change", () => {
    if (fileInput.files.length > 0) useRemembered.checked = false;
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!form.reportValidity()) return;
    button.disabled = true;
    try {
      const signingKey = await chosenKey();
      if (own.length > 0 && !own.includes(signingKey.keyId)) {
        throw new SigningError(
          "not-yours",
          "This key is not one registered to you: choose your own key file.",
        );
      }
      if (remember.checked && signingKey !== kept) await rememberKey(userId, signingKey);
      // Whole seconds, as signed_at is signed: an instant taken from it is the one signed.
      const signedAt = new Date(Math.floor(Date.now() / 1000) * 1000);
      const items = typed(form, signedAt);
      const bodies = templates.map((each) => ({
        ...each,
        data: { ...each.data, ...items },
        key_id: signingKey.keyId,
        signed_at: wireInstant(signedAt),
      }));
      const signatures = [];
      for (const body of bodies) signatures.push(await signBody(signingKey, body));
      // The canonical text: the bytes sent are the bytes signed.
      const texts = bodies.map((body) => new TextDecoder().decode(canonicalBytes(body)));
      if (Array.isArray(template)) {
        form.elements.body.value = `[${texts.join(",")}]`;
        form.elements.signature.value = JSON.stringify(signatures);
      } else {
        form.elements.body.value = texts[0];
        form.elements.signature.value = signatures[0];
      }
      form.submit();
    } catch (error) {
      button.disabled = false;
      say(error instanceof SigningError ? words(error) : `The browser could not sign: ${error}`);
    }
  });

  // Ready once this browser was asked for a kept key: the button, disabled until then so that
  // no form leaves unsigned, can be pressed (a test waits for the mark, as a person would).
  showKept().then(() => {
    button.disabled = false;
    form.dataset.signingReady = "";
  });
}
