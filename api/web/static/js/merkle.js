// The RFC 6962 / RFC 9162 Merkle tree, checked in the browser: what signatures/merkle.py checks
// on the server, so that an auditor need not trust the server that serves the page.
//
// Leaves and interior nodes are hashed under different one-byte prefixes (RFC 6962 section 2.1).
// Verification follows the algorithms of RFC 9162 sections 2.1.3.2 (inclusion) and 2.1.4.2
// (consistency), which need only the proof. Indexes and sizes are BigInts: a tree size is a
// 64-bit number and JavaScript's bitwise operators on Numbers work on 32 bits only.
// Every refusal is a VerificationFailed whose kind and message are those of the Python code.

export const HASH_SIZE = 32;

/** A check that did not hold; `kind` is the finding's name, as `sealtrail verify` prints it. */
export class VerificationFailed extends Error {
  constructor(kind, message) {
    super(message);
    this.name = "VerificationFailed";
    this.kind = kind;
  }
}

const INCLUSION = "inclusion-proof-invalid";
const CONSISTENCY = "consistency-proof-invalid";

/** SHA-256 of the concatenated byte arrays, by WebCrypto. */
export async function sha256(...parts) {
  const length = parts.reduce((total, part) => total + part.length, 0);
  const joined = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return new Uint8Array(await crypto.subtle.digest("SHA-256", joined));
}

/** MTH({}) = SHA-256() (RFC 6962 section 2.1). */
export const EMPTY_ROOT = Uint8Array.from(
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".match(/../g),
  (pair) => parseInt(pair, 16),
);

/** MTH({d}) = SHA-256(0x00 || d) (RFC 6962 section 2.1). */
export function leafHash(data) {
  return sha256(Uint8Array.of(0), data);
}

/** SHA-256(0x01 || left || right), the hash of an interior node (RFC 6962 section 2.1). */
export function nodeHash(left, right) {
  return sha256(Uint8Array.of(1), left, right);
}

/** True if two byte arrays hold the same bytes. */
export function sameBytes(a, b) {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/**
 * Check that `leaf` (a leaf hash) is leaf `leafIndex` of the tree of `treeSize` and `root`.
 * Throws VerificationFailed (inclusion-proof-invalid) otherwise.
 */
export async function verifyInclusion(leaf, leafIndex, treeSize, proof, root) {
  const index = BigInt(leafIndex);
  const size = BigInt(treeSize);
  if (!(0n <= index && index < size)) {
    fail(INCLUSION, `leaf ${index} is not in a tree of size ${size}`);
  }
  checkLengths(INCLUSION, leaf, root, ...proof);
  let fn = index;
  let sn = size - 1n;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0n) fail(INCLUSION, "the inclusion proof has too many hashes");
    if (fn & 1n || fn === sn) {
      r = await nodeHash(p, r);
      while (!(fn & 1n) && fn !== 0n) [fn, sn] = [fn >> 1n, sn >> 1n];
    } else {
      r = await nodeHash(r, p);
    }
    [fn, sn] = [fn >> 1n, sn >> 1n];
  }
  if (sn !== 0n) fail(INCLUSION, "the inclusion proof has too few hashes");
  if (!sameBytes(r, root)) fail(INCLUSION, "the inclusion proof leads to another root");
}

/**
 * Check that the tree of `oldSize` leaves and `oldRoot` is a prefix of the tree of `newSize`
 * leaves and `newRoot`. Equal sizes need equal roots and an empty proof; the empty tree (whose
 * root must be SHA-256 of nothing) is a prefix of every tree. Throws VerificationFailed
 * (consistency-proof-invalid) otherwise.
 */
export async function verifyConsistency(oldSize, newSize, oldRoot, newRoot, proof) {
  const m = BigInt(oldSize);
  const n = BigInt(newSize);
  if (!(0n <= m && m <= n)) fail(CONSISTENCY, `a tree cannot shrink from ${m} to ${n}`);
  checkLengths(CONSISTENCY, oldRoot, newRoot, ...proof);
  if (m === 0n && !sameBytes(oldRoot, EMPTY_ROOT)) {
    fail(CONSISTENCY, "the root of the empty tree is SHA-256 of nothing");
  }
  if (m === 0n || m === n) {
    if (proof.length) fail(CONSISTENCY, "this consistency proof must be empty");
    if (m === n && !sameBytes(oldRoot, newRoot)) {
      fail(CONSISTENCY, "two trees of the same size have different roots");
    }
    return;
  }
  if (!proof.length) fail(CONSISTENCY, "the consistency proof is empty");
  const path = (m & (m - 1n)) === 0n ? [oldRoot, ...proof] : [...proof];
  let fn = m - 1n;
  let sn = n - 1n;
  while (fn & 1n) [fn, sn] = [fn >> 1n, sn >> 1n];
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0n) fail(CONSISTENCY, "the consistency proof has too many hashes");
    if (fn & 1n || fn === sn) {
      [fr, sr] = [await nodeHash(c, fr), await nodeHash(c, sr)];
      while (!(fn & 1n) && fn !== 0n) [fn, sn] = [fn >> 1n, sn >> 1n];
    } else {
      sr = await nodeHash(sr, c);
    }
    [fn, sn] = [fn >> 1n, sn >> 1n];
  }
  if (sn !== 0n) fail(CONSISTENCY, "the consistency proof has too few hashes");
  if (!sameBytes(fr, oldRoot)) {
    fail(CONSISTENCY, "the consistency proof does not lead to the old root");
  }
  if (!sameBytes(sr, newRoot)) {
    fail(CONSISTENCY, "the consistency proof does not lead to the new root");
  }
}

function checkLengths(kind, ...hashes) {
  for (const value of hashes) {
    if (value.length !== HASH_SIZE) {
      fail(kind, `a SHA-256 hash has ${HASH_SIZE} bytes, not ${value.length}`);
    }
  }
}

function fail(kind, message) {
  throw new VerificationFailed(kind, message);
}
