// Signing an event body in the person's browser (docs/signing.md, docs/pages.md).
//
// The private key never leaves the browser: it is read from the PKCS#8 PEM file the person opens
// (the file `sealtrail key generate` writes) and imported into WebCrypto as a non-extractable
// key, or it is such a key kept in this browser's IndexedDB when the person asked for it to be
// remembered. The signature is Ed25519 (RFC 8032) over the UTF-8 bytes of the body's RFC 8785
// canonical form, written by the vendored reference implementation, exactly as the server and
// `sealtrail submit` sign; the key id is the one signatures/keys.py derives.

import { fromBase64, toBase64, toHex } from "./encoding.js";
import canonicalize from "./vendor/canonicalize.js";

export const KEY_ID_PREFIX = "ed25519:";
const ED25519 = { name: "Ed25519" };
const PRIVATE_KEY_LABEL = "PRIVATE KEY";
const DATABASE = "sealtrail-keys";
const KEYS = "keys";

/**
 * A key file or body the person can do something about: `code` names the case (a page says it
 * in its own language, sign-form.js), `message` says it in English.
 */
export class SigningError extends Error {
  constructor(code, message) {
    super(message);
    this.name = "SigningError";
    this.code = code;
  }
}

/** The UTF-8 bytes of the RFC 8785 canonical form of a JSON value. */
export function canonicalBytes(value) {
  let text;
  try {
    text = canonicalize(value);
  } catch (error) {
    throw new SigningError("no-canonical-form", `the body has no canonical form: ${error.message}`);
  }
  return new TextEncoder().encode(text);
}

/** The key id of a raw 32-byte Ed25519 public key: `ed25519:` + 32 hex digits of its SHA-256
 * (signatures/keys.py). */
export async function keyIdOf(rawPublicKey) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", rawPublicKey));
  return KEY_ID_PREFIX + toHex(digest).slice(0, 32);
}

/**
 * A signing key from the text of a PKCS#8 PEM private key file: `{privateKey, keyId}`, the
 * private key non-extractable.
 *
 * The key id needs the public key, which WebCrypto gives only from an extractable key (as the
 * JWK's `x`): the key is imported once extractable to read it, then again non-extractable, and
 * only the second is kept. The DER bytes are overwritten once imported.
 */
export async function keyFromPem(text) {
  const der = pemBody(text);
  try {
    let readable;
    try {
      readable = await crypto.subtle.importKey("pkcs8", der, ED25519, true, ["sign"]);
    } catch {
      throw new SigningError("not-ed25519", "this file is not an Ed25519 private key");
    }
    const { x } = await crypto.subtle.exportKey("jwk", readable);
    const keyId = await keyIdOf(fromBase64Url(x));
    const privateKey = await crypto.subtle.importKey("pkcs8", der, ED25519, false, ["sign"]);
    return { privateKey, keyId };
  } finally {
    der.fill(0);
  }
}

/** Sign a body: the base64 Ed25519 signature over its canonical bytes. */
export async function signBody(signingKey, body) {
  const signature = await crypto.subtle.sign(ED25519, signingKey.privateKey, canonicalBytes(body));
  return toBase64(new Uint8Array(signature));
}

/** An instant as the signed bodies write it: UTC, whole seconds, `Z`. */
export function wireInstant(date) {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** The bytes of unpadded base64url (a JWK's members); null if `text` is not that. */
function fromBase64Url(text) {
  const standard = text.replace(/-/g, "+").replace(/_/g, "/");
  return fromBase64(standard + "=".repeat((4 - (standard.length % 4)) % 4));
}

/** The DER bytes of an unencrypted PKCS#8 PEM, or a SigningError saying what the file is. */
export function pemBody(text) {
  const match = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/.exec(text);
  if (match === null) {
    throw new SigningError(
      "not-pem",
      "this file is not a PEM key file (sealtrail key generate writes one)",
    );
  }
  const [, label, body] = match;
  if (label === "PUBLIC KEY") {
    throw new SigningError(
      "public-key",
      "this is a public key (the .pub.pem file); open the private key file instead",
    );
  }
  if (label === "ENCRYPTED PRIVATE KEY") {
    throw new SigningError("encrypted", "this private key is encrypted; sealtrail's key files are not");
  }
  if (label !== PRIVATE_KEY_LABEL) {
    throw new SigningError("not-pkcs8", `this file holds a ${label}, not a PKCS#8 private key`);
  }
  const der = fromBase64(body.replace(/\s+/g, ""));
  if (der === null) {
    throw new SigningError("not-base64", "this key file is damaged: its contents are not base64");
  }
  return der;
}

// -- keys remembered on this browser --------------------------------------------------------------
// IndexedDB keeps the CryptoKey object itself (structured clone), still non-extractable: script on
// this origin can sign with it, but no script can read its bytes. One key per user id.

function openKeys() {
  return new Promise((resolve, reject) => {
    const opening = indexedDB.open(DATABASE, 1);
    opening.onupgradeneeded = () => opening.result.createObjectStore(KEYS, { keyPath: "userId" });
    opening.onsuccess = () => resolve(opening.result);
    opening.onerror = () => reject(opening.error);
  });
}

async function withKeys(mode, action) {
  const database = await openKeys();
  try {
    return await new Promise((resolve, reject) => {
      const transaction = database.transaction(KEYS, mode);
      const request = action(transaction.objectStore(KEYS));
      transaction.oncomplete = () => resolve(request.result);
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error);
    });
  } finally {
    database.close();
  }
}

/** Keep a signing key on this browser for `userId` (the person chose to). */
export async function rememberKey(userId, signingKey) {
  if (signingKey.privateKey.extractable) {
    throw new SigningError("extractable", "only a non-extractable key is kept on this browser");
  }
  const entry = { userId, keyId: signingKey.keyId, privateKey: signingKey.privateKey };
  await withKeys("readwrite", (keys) => keys.put({ ...entry, rememberedAt: wireInstant(new Date()) }));
}

/** The signing key kept on this browser for `userId`, or null. */
export async function rememberedKey(userId) {
  const entry = await withKeys("readonly", (keys) => keys.get(userId));
  return entry === undefined ? null : { privateKey: entry.privateKey, keyId: entry.keyId };
}

/** Forget the key kept on this browser for `userId`. */
export async function forgetKey(userId) {
  await withKeys("readwrite", (keys) => keys.delete(userId));
}
