// Checkpoints checked in the browser: a C2SP tlog-checkpoint in a C2SP signed note, read and
// verified as signatures/checkpoint.py reads and verifies it, with WebCrypto's Ed25519.
//
// A signed note is its text (every line newline-ended), a blank line, then signature lines
// "— <key name> <base64(key ID || signature)>". For Ed25519 the key ID is
// SHA-256(key name || 0x0A || 0x01 || 32-byte public key)[:4] and the signature covers the text.
// Signatures by other keys are ignored (cosignatures, rotation); every one by the expected key
// must verify, and there must be one. A checkpoint's text is the origin, the tree size in
// decimal, the base64 RFC 6962 root and optional extension lines.

import { fromBase64, fromUtf8, toBase64, utf8 } from "./encoding.js";
import { VerificationFailed, sha256, sameBytes } from "./merkle.js";

export const SIGNATURE_PREFIX = "\u2014 ";
export const MAX_SIGNATURES = 100;
export const MAX_TREE_SIZE = 2n ** 64n - 1n;
const ROOT_SIZE = 32;
const TREE_SIZE = /^(?:0|[1-9][0-9]*)$/;
const CONTROL = /[\x00-\x09\x0b-\x1f]/;
// What Python's str.isspace() calls a space, so that a key name is refused here exactly when
// the server refuses it (JavaScript's \s differs on U+0085 and U+FEFF).
const SPACE = /[\t\n\v\f\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/u;

const MALFORMED = "checkpoint-malformed";
const SIGNATURE_INVALID = "checkpoint-signature-invalid";

/**
 * Split a signed note (a string, or bytes as read from a file) into its text and signatures,
 * verifying nothing. Throws VerificationFailed (checkpoint-malformed).
 */
export function splitNote(note) {
  if (typeof note !== "string") {
    note = fromUtf8(note);
    if (note === null) fail(MALFORMED, "a signed note is UTF-8 text");
  }
  if (CONTROL.test(note) || !note.isWellFormed()) {
    fail(MALFORMED, "a signed note has no control characters but newline");
  }
  const split = note.lastIndexOf("\n\n");
  if (split < 0) fail(MALFORMED, "no blank line separates the note text from its signatures");
  const text = note.slice(0, split + 1);
  const block = note.slice(split + 2);
  if (!block.endsWith("\n")) {
    fail(MALFORMED, "a signed note ends with a signature line and a newline");
  }
  const lines = block.slice(0, -1).split("\n");
  if (lines.length > MAX_SIGNATURES) fail(MALFORMED, `more than ${MAX_SIGNATURES} signatures`);
  return { text, signatures: lines.map(parseSignatureLine) };
}

/** SHA-256(key name || 0x0A || 0x01 || public key)[:4] (c2sp.org/signed-note, Ed25519). */
export async function noteKeyId(name, rawPublicKey) {
  return (await sha256(utf8(name), Uint8Array.of(0x0a, 0x01), rawPublicKey)).slice(0, 4);
}

/**
 * Check a signed note against one known key (32 raw bytes) and return its text.
 * Throws VerificationFailed (checkpoint-malformed, checkpoint-signature-invalid).
 */
export async function verifyNote(note, name, rawPublicKey) {
  const { text, signatures } = splitNote(note);
  const keyId = await noteKeyId(name, rawPublicKey);
  const known = signatures.filter((s) => s.name === name && sameBytes(s.keyId, keyId));
  if (!known.length) fail(SIGNATURE_INVALID, `the note carries no signature by ${name}`);
  const key = await importEd25519(rawPublicKey);
  for (const entry of known) {
    if (!(await ed25519Verifies(key, entry.signature, utf8(text)))) {
      fail(SIGNATURE_INVALID, `a signature by ${name} does not verify`);
    }
  }
  return text;
}

/**
 * Read a checkpoint's note text into {origin, size (BigInt), root (32 bytes), extensions}.
 * Throws VerificationFailed (checkpoint-malformed).
 */
export function parseCheckpointBody(text) {
  if (!text.endsWith("\n")) fail(MALFORMED, "a checkpoint's note text ends in a newline");
  const lines = text.slice(0, -1).split("\n");
  if (lines.length < 3 || lines.some((line) => !line)) {
    fail(MALFORMED, "a checkpoint has at least three lines, none of them empty");
  }
  const [origin, sizeLine, rootLine, ...extensions] = lines;
  if (!TREE_SIZE.test(sizeLine) || BigInt(sizeLine) > MAX_TREE_SIZE) {
    fail(MALFORMED, `not a tree size: '${sizeLine}'`);
  }
  const root = fromBase64(rootLine);
  if (root === null) fail(MALFORMED, "the root hash is not base64");
  // Padded base64 may hide stray bits in its last character; the canonical form has none.
  if (root.length !== ROOT_SIZE || toBase64(root) !== rootLine) {
    fail(MALFORMED, `the root hash is not the base64 of ${ROOT_SIZE} bytes`);
  }
  return { origin, size: BigInt(sizeLine), root, extensions };
}

/** Read a signed checkpoint without verifying it: for display and diagnosis only. */
export function parseNote(note) {
  const { text, signatures } = splitNote(note);
  return { checkpoint: parseCheckpointBody(text), signatures };
}

/**
 * Verify a signed checkpoint against the log's name and key and return the checkpoint. The
 * signature is checked before the text is read, as c2sp.org/signed-note requires.
 */
export async function verifyCheckpoint(note, name, rawPublicKey) {
  return parseCheckpointBody(await verifyNote(note, name, rawPublicKey));
}

/** A WebCrypto Ed25519 verification key from 32 raw bytes. */
export async function importEd25519(rawPublicKey) {
  try {
    return await crypto.subtle.importKey("raw", rawPublicKey, { name: "Ed25519" }, false, [
      "verify",
    ]);
  } catch {
    throw new VerificationFailed("key-format", "not an Ed25519 public key of 32 bytes");
  }
}

/** True if `signature` is a valid Ed25519 signature (RFC 8032) of `message` by `key`. */
export async function ed25519Verifies(key, signature, message) {
  if (signature.length !== 64) return false;
  return crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
}

function parseSignatureLine(line) {
  if (!line.startsWith(SIGNATURE_PREFIX)) {
    fail(MALFORMED, "a signature line starts with an em dash and a space");
  }
  const rest = line.slice(SIGNATURE_PREFIX.length);
  const space = rest.indexOf(" ");
  const name = space < 0 ? rest : rest.slice(0, space);
  const encoded = space < 0 ? "" : rest.slice(space + 1);
  if (!validKeyName(name) || !encoded) fail(MALFORMED, `not a signature line: '${line}'`);
  const raw = fromBase64(encoded);
  if (raw === null) fail(MALFORMED, `the signature by ${name} is not base64`);
  if (raw.length < 5) fail(MALFORMED, `the signature by ${name} is too short`);
  return { name, keyId: raw.slice(0, 4), signature: raw.slice(4) };
}

/** Non-empty, without Unicode spaces or plus signs (c2sp.org/signed-note, "Format"). */
function validKeyName(name) {
  return Boolean(name) && !name.includes("+") && !SPACE.test(name);
}

function fail(kind, message) {
  throw new VerificationFailed(kind, message);
}
