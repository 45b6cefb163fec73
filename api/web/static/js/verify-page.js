// The /verify page: the latest checkpoint, a checkpoint the person kept, and any event they
// may read, each checked here in the browser with merkle.js, checkpoint.js and evidence.js.
// The server is asked only for the data (same origin, the session cookie); every hash and
// signature is checked here, and each result says what was checked.

import { fromBase64, toBase64 } from "./encoding.js";
import { importEd25519, parseNote, verifyCheckpoint } from "./checkpoint.js";
import { checkEvent, keyId } from "./evidence.js";
import { VerificationFailed, verifyConsistency } from "./merkle.js";

const PORTUGUESE = document.documentElement.lang.toLowerCase().startsWith("pt");

const TEXT = {
  en: {
    checking: "Checking in your browser…",
    checkedHere: "Checked in your browser",
    failedHere: "Refused by your browser",
    latestSigned: (c, key) =>
      `The latest checkpoint (${c.size} events) is signed by ${c.origin} with ${key}.`,
    keyFromServer: "The key is the one the server names: compare its id with the one you kept.",
    keyKept: "The key is the one you gave.",
    keptSigned: (c) =>
      `Your checkpoint (${c.size} events) is signed by the same log with the same key.`,
    consistent: (a, b, n) =>
      `Consistent: the consistency proof (${n} hashes) shows that the log of ${b} events ` +
      `extends the log of ${a} events you kept: nothing recorded up to then was changed ` +
      "or removed.",
    sameTree: (a) => `Consistent: your checkpoint is of the same ${a} events, with the same root.`,
    notConsistent: "Not consistent",
    otherLog: (kept, ours) =>
      `this checkpoint is of another log (${kept}), not of this one (${ours})`,
    cutShort: (a, b) =>
      `your checkpoint has ${a} events, the latest checkpoint only ${b}: the log was cut short, ` +
      "or the server did not give its latest checkpoint",
    noText: "Paste a checkpoint or choose its file.",
    badKey: "The key you gave is neither the base64 of 32 bytes nor a PEM public key.",
    serverRefused: (status, detail) =>
      `The server did not answer the request (${status}): ${detail}`,
    signInAgain: "your session has ended; sign in again",
    step: {
      "author-signature": "The author's Ed25519 signature over the exact bytes signed verifies",
      "chain-hash": "Those bytes, the signature and the previous event's hash give the event hash",
      leaf: "The event's leaf of the log (position, stream, version, time recorded, event hash)",
      "leaf-claimed": "The leaf hash the server names (you may not read the event)",
      inclusion: "The inclusion proof leads from that leaf to the checked checkpoint's root",
    },
    included: (position, size) =>
      `Event ${position} is in the log of ${size} events that the checked checkpoint names.`,
    leafOnly:
      "You may not read this event, so only the leaf hash the server names was checked to be " +
      "in the log; what the event holds and who signed it were not checked.",
  },
  pt: {
    checking: "Verificando no seu navegador…",
    checkedHere: "Verificado no seu navegador",
    failedHere: "Recusado pelo seu navegador",
    latestSigned: (c, key) =>
      `O último checkpoint (${c.size} eventos) está assinado por ${c.origin} com ${key}.`,
    keyFromServer: "A chave é a que o servidor indica: compare o seu id com o que você guardou.",
    keyKept: "A chave é a que você informou.",
    keptSigned: (c) =>
      `O seu checkpoint (${c.size} eventos) está assinado pelo mesmo log com a mesma chave.`,
    consistent: (a, b, n) =>
      `Consistente: a prova de consistência (${n} hashes) mostra que o log de ${b} eventos ` +
      `estende o log de ${a} eventos que você guardou: nada registrado até então foi ` +
      "alterado ou removido.",
    sameTree: (a) => `Consistente: o seu checkpoint é dos mesmos ${a} eventos, com a mesma raiz.`,
    notConsistent: "Não consistente",
    otherLog: (kept, ours) => `este checkpoint é de outro log (${kept}), não deste (${ours})`,
    cutShort: (a, b) =>
      `o seu checkpoint tem ${a} eventos, o último checkpoint só ${b}: o log foi truncado, ` +
      "ou o servidor não entregou o seu último checkpoint",
    noText: "Cole um checkpoint ou escolha o seu arquivo.",
    badKey: "A chave informada não é o base64 de 32 bytes nem uma chave pública PEM.",
    serverRefused: (status, detail) => `O servidor não atendeu o pedido (${status}): ${detail}`,
    signInAgain: "a sua sessão terminou; entre de novo",
    step: {
      "author-signature": "A assinatura Ed25519 do autor sobre os bytes exatos assinados é válida",
      "chain-hash": "Esses bytes, a assinatura e o hash do evento anterior dão o hash do evento",
      leaf: "A folha do evento no log (posição, stream, versão, hora de registro, hash do evento)",
      "leaf-claimed": "O hash de folha que o servidor indica (você não pode ler o evento)",
      inclusion: "A prova de inclusão leva dessa folha à raiz do checkpoint verificado",
    },
    included: (position, size) =>
      `O evento ${position} está no log de ${size} eventos que o checkpoint verificado indica.`,
    leafOnly:
      "Você não pode ler este evento, então só foi verificado que o hash de folha indicado pelo " +
      "servidor está no log; o conteúdo do evento e quem o assinou não foram verificados.",
  },
}[PORTUGUESE ? "pt" : "en"];

/** A request the server refused or could not answer: not a verification result. */
class ServerRefused extends Error {}

async function getJson(url) {
  const response = await fetch(url, {
    credentials: "same-origin",
    headers: { Accept: "application/json" },
  });
  if (!(response.headers.get("Content-Type") ?? "").startsWith("application/json")) {
    // A session that ended answers the sign-in page, not the data.
    throw new ServerRefused(TEXT.serverRefused(response.status, TEXT.signInAgain));
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new ServerRefused(TEXT.serverRefused(response.status, body.detail ?? body.title ?? ""));
  }
  return body;
}

/** The raw public key from base64 of 32 bytes or a PEM SubjectPublicKeyInfo; null if neither. */
async function rawKeyFrom(text) {
  const trimmed = text.trim();
  if (trimmed.startsWith("-----BEGIN")) {
    const der = fromBase64(trimmed.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""));
    if (der === null) return null;
    try {
      const key = await crypto.subtle.importKey("spki", der, { name: "Ed25519" }, true, ["verify"]);
      return new Uint8Array(await crypto.subtle.exportKey("raw", key));
    } catch {
      return null;
    }
  }
  const raw = fromBase64(trimmed);
  if (raw === null || raw.length !== 32) return null;
  await importEd25519(raw);
  return raw;
}

/** Write a result into a live region: a verdict, then each thing checked or refused. */
function show(region, { ok, verdict, lines }) {
  const heading = document.createElement("p");
  heading.className = ok ? "verdict verdict-ok" : "verdict verdict-failed";
  heading.dataset.verdict = ok ? "checked" : "refused";
  heading.textContent = `${ok ? TEXT.checkedHere : TEXT.failedHere}: ${verdict}`;
  const list = document.createElement("ul");
  for (const line of lines) {
    const item = document.createElement("li");
    item.textContent = line;
    list.append(item);
  }
  region.replaceChildren(heading, list);
}

function showFailure(region, error, lines = [], prefix = "") {
  if (error instanceof VerificationFailed) {
    show(region, { ok: false, verdict: `${prefix}${error.kind}: ${error.message}`, lines });
  } else if (error instanceof ServerRefused) {
    show(region, { ok: false, verdict: error.message, lines });
  } else {
    throw error;
  }
}

function showChecking(region) {
  const note = document.createElement("p");
  note.textContent = TEXT.checking;
  region.replaceChildren(note);
}

class VerifyPage {
  constructor(root) {
    this.root = root;
    this.urls = root.dataset;
    this.keyField = document.getElementById("trusted-key");
  }

  /** The log's key: the one the person gave, else the server's; and what to say about it. */
  async key(latest) {
    const given = this.keyField?.value.trim();
    if (given) {
      const raw = await rawKeyFrom(given);
      if (raw === null) throw new VerificationFailed("key-format", TEXT.badKey);
      return { raw, id: await keyId(raw), said: TEXT.keyKept };
    }
    const raw = fromBase64(latest.public_key);
    return { raw, id: await keyId(raw), said: TEXT.keyFromServer };
  }

  /** The latest checkpoint, its signature checked here; throws if it does not verify. */
  async latest() {
    const latest = await getJson(this.urls.latestUrl);
    const key = await this.key(latest);
    const checkpoint = await verifyCheckpoint(latest.note, latest.origin, key.raw);
    return { latest, key, checkpoint, line: TEXT.latestSigned(checkpoint, key.id) };
  }

  async checkLatest() {
    const region = document.getElementById("latest-result");
    if (!region) return; // no checkpoint sealed yet: the page says so
    showChecking(region);
    try {
      const { key, checkpoint, line } = await this.latest();
      show(region, {
        ok: true,
        verdict: line,
        lines: [key.said, `root ${toBase64(checkpoint.root)}`],
      });
    } catch (error) {
      showFailure(region, error);
    }
  }

  async keptText(form) {
    const file = form.elements.checkpoint_file?.files?.[0];
    if (file) return new Uint8Array(await file.arrayBuffer());
    const text = form.elements.checkpoint.value.replace(/\r\n/g, "\n");
    return text.trim() ? text : null;
  }

  async checkKept(form) {
    const region = document.getElementById("kept-result");
    showChecking(region);
    const lines = [];
    try {
      const kept = await this.keptText(form);
      if (kept === null) throw new VerificationFailed("checkpoint-malformed", TEXT.noText);
      const { latest, key, checkpoint: now, line } = await this.latest();
      lines.push(line, key.said);
      const { checkpoint: claimed } = parseNote(kept);
      if (claimed.origin !== latest.origin) {
        throw new VerificationFailed(
          "checkpoint-of-another-log",
          TEXT.otherLog(claimed.origin, latest.origin),
        );
      }
      const then = await verifyCheckpoint(kept, latest.origin, key.raw);
      lines.push(TEXT.keptSigned(then));
      if (then.size > now.size) {
        throw new VerificationFailed("log-truncated", TEXT.cutShort(then.size, now.size));
      }
      const url = `${this.urls.consistencyUrl}?from=${then.size}&to=${now.size}`;
      const proof = (await getJson(url)).proof.map((hash) => fromBase64(hash) ?? new Uint8Array());
      await verifyConsistency(then.size, now.size, then.root, now.root, proof);
      const verdict =
        then.size === now.size
          ? TEXT.sameTree(then.size)
          : TEXT.consistent(then.size, now.size, proof.length);
      show(region, { ok: true, verdict, lines });
    } catch (error) {
      const judged = error instanceof VerificationFailed && error.kind !== "key-format";
      showFailure(region, error, lines, judged ? `${TEXT.notConsistent}: ` : "");
    }
  }

  async checkEvent(form) {
    const region = document.getElementById("event-result");
    showChecking(region);
    const lines = [];
    try {
      const { checkpoint, line } = await this.latest();
      lines.push(line);
      const position = encodeURIComponent(form.elements.position.value.trim());
      const url = `${this.urls.eventUrl}?position=${position}&tree_size=${checkpoint.size}`;
      const evidence = await getJson(url);
      const held = await checkEvent(evidence, checkpoint);
      lines.push(...held.map(({ step, detail }) => `${TEXT.step[step]}: ${detail}`));
      if (!evidence.authorship) lines.push(TEXT.leafOnly);
      show(region, { ok: true, verdict: TEXT.included(evidence.position, checkpoint.size), lines });
    } catch (error) {
      const held = error.steps ?? [];
      lines.push(...held.map(({ step, detail }) => `${TEXT.step[step]}: ${detail}`));
      showFailure(region, error, lines);
    }
  }

  start() {
    for (const part of document.querySelectorAll(".needs-script")) part.hidden = false;
    const on = (id, handler) =>
      document.getElementById(id)?.addEventListener("submit", (event) => {
        event.preventDefault();
        handler(event.target);
      });
    on("kept-form", (form) => this.checkKept(form));
    on("event-form", (form) => this.checkEvent(form));
    on("key-form", () => this.checkLatest());
    this.checkLatest();
  }
}

const root = document.getElementById("verify");
if (root) new VerifyPage(root).start();
