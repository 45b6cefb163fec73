// A new signing key pair made in the person's own browser (/account; docs/pages.md, "Your own
// key, made in your browser"), as `sealtrail key generate` makes one on their machine: the
// private key is handed to the person as the same unencrypted PKCS#8 PEM file and is sent
// nowhere (no request carries it: the browser tests look); the public key's PEM and its key id
// are shown, to hand to an administrator who registers it (/admin/accounts/<user>/register-key).
//
// Markup (api/web/templates/account.html):
//   <section data-key-pair="USER_ID">
//     button[data-make-key] (rendered disabled: enabled here),  [data-key-pair-error]
//     [data-made] (hidden until made) holding [data-new-key-id], pre[data-public-pem],
//     a[data-private-download], a[data-public-download]

import { toBase64 } from "./encoding.js";
import { keyIdOf } from "./signing.js";

const ED25519 = { name: "Ed25519" };
const PEM_LINE = 64;

/** `der` as a PEM block labelled `label`, in lines of 64 characters (as OpenSSL writes it). */
export function pem(label, der) {
  const lines = toBase64(new Uint8Array(der)).match(new RegExp(`.{1,${PEM_LINE}}`, "g"));
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/** A new Ed25519 key pair: its private key's PKCS#8 PEM, its public key's PEM, its key id. */
export async function newKeyPair() {
  const pair = await crypto.subtle.generateKey(ED25519, true, ["sign", "verify"]);
  const privatePem = pem("PRIVATE KEY", await crypto.subtle.exportKey("pkcs8", pair.privateKey));
  const publicPem = pem("PUBLIC KEY", await crypto.subtle.exportKey("spki", pair.publicKey));
  const keyId = await keyIdOf(await crypto.subtle.exportKey("raw", pair.publicKey));
  return { privatePem, publicPem, keyId };
}

// A link that saves `text` as the file `name`, from memory (a blob: URL, never the server).
function offer(link, text, name) {
  if (link.href) URL.revokeObjectURL(link.href);
  link.href = URL.createObjectURL(new Blob([text], { type: "application/x-pem-file" }));
  link.download = name;
}

for (const section of document.querySelectorAll("[data-key-pair]")) {
  const part = (name) => section.querySelector(`[data-${name}]`);
  const button = part("make-key");
  const errorBox = part("key-pair-error");
  button.addEventListener("click", async () => {
    button.disabled = true;
    errorBox.hidden = true;
    try {
      const made = await newKeyPair();
      const user = section.dataset.keyPair;
      offer(part("private-download"), made.privatePem, `${user}.pem`);
      offer(part("public-download"), made.publicPem, `${user}.pub.pem`);
      part("public-pem").textContent = made.publicPem;
      part("new-key-id").textContent = made.keyId;
      part("made").hidden = false;
      part("private-download").focus();
    } catch (error) {
      errorBox.textContent = `${errorBox.dataset.cannot} ${error}`;
      errorBox.hidden = false;
    } finally {
      button.disabled = false;
    }
  });
  button.disabled = false;
  section.dataset.keyPairReady = "";
}
