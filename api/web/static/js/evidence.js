// One event's evidence checked in the browser: its author's Ed25519 signature over the exact
// bytes signed, its chain hash (signatures/chain.py), its leaf of the Merkle log
// (signatures/log_leaf.py) and the leaf's inclusion proof up to a checkpoint's root.

import canonicalize from "./vendor/canonicalize.js";
import { fromBase64, fromHex, toBase64, toHex, utf8 } from "./encoding.js";
import { ed25519Verifies, importEd25519 } from "./checkpoint.js";
import { VerificationFailed, leafHash, sha256, verifyInclusion } from "./merkle.js";
import { keyIdOf } from "./signing.js";

export const LEAF_FORMAT = "sealtrail/event-leaf/v1";
const CHAIN_TAG = utf8("sealtrail/chain/v1\x00");
/** `ed25519:` + the first 32 hex digits of SHA-256 of the raw public key (signatures/keys.py):
 * the signing pages' own derivation, one for both. */
export { keyIdOf as keyId } from "./signing.js";

/**
 * The hex chain hash of one event: SHA-256("sealtrail/chain/v1" || 0x00 || previous hash (32)
 * || length of the signed body (8, big-endian) || signed body || signature (64)).
 */
export async function chainHash(previousHashHex, signedBytes, signatureBase64) {
  const previous = fromHex(previousHashHex);
  if (previous === null || previous.length !== 32) {
    fail("chain-broken", "the previous hash is not 32 bytes of hex");
  }
  const signature = decodeSignature(signatureBase64);
  const length = new Uint8Array(8);
  new DataView(length.buffer).setBigUint64(0, BigInt(signedBytes.length));
  return toHex(await sha256(CHAIN_TAG, previous, length, signedBytes, signature));
}

/** The leaf data of one event: the RFC 8785 form of what the leaf names. */
export function eventLeaf({ position, streamId, version, recordedAt, eventHash }) {
  return utf8(
    canonicalize({
      format: LEAF_FORMAT,
      position,
      stream_id: streamId,
      version,
      recorded_at: recordedAt,
      event_hash: eventHash,
    }),
  );
}

/**
 * Check an author's signature: the key is the one the signed body names (by key id) and the
 * Ed25519 signature verifies over the exact bytes signed. Returns the parsed body.
 * Throws VerificationFailed (signature-invalid, unknown-key, not-canonical).
 */
export async function verifyAuthorSignature(signedBody, signatureBase64, publicKeyBase64) {
  if (publicKeyBase64 === null || publicKeyBase64 === undefined) {
    fail("unknown-key", "the server names no key registered for the signer under this key id");
  }
  const rawKey = fromBase64(publicKeyBase64);
  if (rawKey === null || rawKey.length !== 32) {
    fail("unknown-key", "the author's public key is not 32 bytes of base64");
  }
  let body;
  try {
    body = JSON.parse(signedBody);
  } catch {
    fail("not-canonical", "the signed body is not JSON");
  }
  if (canonicalize(body) !== signedBody) {
    fail("not-canonical", "the signed body is not in RFC 8785 canonical form");
  }
  const named = body?.key_id;
  const computed = await keyIdOf(rawKey);
  if (named !== computed) {
    fail("unknown-key", `the body is signed with ${named}; the key given is ${computed}`);
  }
  const key = await importEd25519(rawKey);
  if (!(await ed25519Verifies(key, decodeSignature(signatureBase64), utf8(signedBody)))) {
    fail("signature-invalid", "the signature does not verify with the signer's key");
  }
  return body;
}

/**
 * Check one event against a checkpoint already verified: each step in order, stopping at the
 * first that fails. `evidence` is what the page's evidence endpoint gives for a position: the
 * leaf's index, the tree size and the inclusion proof, and `event` (null for a person who may not
 * read the event): the leaf's fields and what the author signed. With `event`, the leaf is
 * computed here from the signed bytes up; without it, the leaf hash is the server's word.
 * `checkpoint` is {size (BigInt), root (bytes)}. Returns the steps that held, each
 * {step, detail}; throws VerificationFailed, its `steps` the ones that held before it.
 */
export async function checkEvent(evidence, checkpoint) {
  const held = [];
  const step = async (name, check) => {
    try {
      held.push({ step: name, detail: await check() });
    } catch (error) {
      if (error instanceof VerificationFailed) error.steps = held;
      throw error;
    }
  };
  const event = evidence.event;
  let leaf;
  if (event) {
    await step("author-signature", async () => {
      const body = await verifyAuthorSignature(
        event.signed_body,
        event.signature,
        event.public_key,
      );
      return `${body.signer?.user_id}, ${body.key_id}`;
    });
    await step("chain-hash", async () => {
      const signed = utf8(event.signed_body);
      const computed = await chainHash(event.previous_hash, signed, event.signature);
      if (computed !== event.event_hash) {
        fail(
          "content-mismatch",
          `the signed bytes hash to ${computed.slice(0, 16)}..., the leaf names ` +
            `${String(event.event_hash).slice(0, 16)}...`,
        );
      }
      return computed;
    });
    await step("leaf", async () => {
      leaf = await leafHash(
        eventLeaf({
          position: evidence.position,
          streamId: event.stream_id,
          version: event.version,
          recordedAt: event.recorded_at,
          eventHash: event.event_hash,
        }),
      );
      return toBase64(leaf);
    });
  } else {
    await step("leaf-claimed", async () => {
      leaf = fromBase64(evidence.leaf_hash) ?? new Uint8Array();
      return evidence.leaf_hash;
    });
  }
  await step("inclusion", async () => {
    if (BigInt(evidence.tree_size) !== checkpoint.size) {
      fail(
        "inclusion-proof-invalid",
        `the proof is for a tree of ${evidence.tree_size}, the checkpoint's is ${checkpoint.size}`,
      );
    }
    const proof = evidence.proof.map((hash) => fromBase64(hash) ?? new Uint8Array());
    await verifyInclusion(leaf, evidence.leaf_index, evidence.tree_size, proof, checkpoint.root);
    return `leaf ${evidence.leaf_index} of ${evidence.tree_size}`;
  });
  return held;
}

function decodeSignature(signatureBase64) {
  const raw = fromBase64(signatureBase64);
  if (raw === null) fail("signature-invalid", "the signature is not valid base64");
  if (raw.length !== 64) {
    fail("signature-invalid", `an Ed25519 signature has 64 bytes, this one has ${raw.length}`);
  }
  return raw;
}

function fail(kind, message) {
  throw new VerificationFailed(kind, message);
}
