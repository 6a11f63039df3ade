// Sealing in the page, byte for byte as the server seals results
// (cogflow_desktop/security/envelopes.py), so what the page keeps locally is readable only with
// the install private key, exactly like every stored result:
//   seal(pub, m, aad)  = 0x01 | ephemeral X25519 public key (32) | nonce (12) | AES-256-GCM(m)
//                        key = HKDF-SHA256(X25519 shared secret, salt = ephemeral pub || pub,
//                                          info = "cogflow-desktop seal v1")
//   encrypt(k, m, aad) = 0x01 | nonce (12) | AES-256-GCM(m)
// A page's own content key is random, lives only in this page's memory (non-extractable), and
// is stored only sealed (associated data `cogflow:page-key:<run>`); each trial is encrypted
// under it with the server's own associated data (`cogflow:trial:<run>:<trial_index>`).

const SEAL_INFO = 'cogflow-desktop seal v1';
const VERSION = 1;
const text = new TextEncoder();

export const pageKeyAad = (run) => `cogflow:page-key:${run}`;
export const trialAad = (run, index) => `cogflow:trial:${run}:${index}`;
export const resultAad = (run, kind) => `cogflow:result:${run}:${kind}`;

export function sealingAvailable() {
  return !!(globalThis.crypto && globalThis.crypto.subtle && globalThis.isSecureContext !== false);
}

function subtle() { return globalThis.crypto.subtle; }

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

export function toBase64(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function fromBase64(b64) {
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

// Text the server can always store: lone surrogates (half of an emoji cut off, say) become
// U+FFFD, in keys and values at any depth. The server refuses lone surrogates with a 400.
export function wellFormed(value) {
  if (typeof value === 'string') return value.toWellFormed ? value.toWellFormed() : value.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
  if (Array.isArray(value)) return value.map(wellFormed);
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out = {};
    for (const [k, v] of Object.entries(value)) out[wellFormed(k)] = wellFormed(v);
    return out;
  }
  return value;
}

// The longest prefix of `s` with at most `max` UTF-16 units that does not end inside a
// surrogate pair.
export function truncateText(s, max) {
  const str = String(s ?? '');
  if (str.length <= max) return str;
  const code = str.charCodeAt(max - 1);
  return str.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}

export async function seal(recipientPublic, plaintext, aad) {
  const ephemeral = await subtle().generateKey({ name: 'X25519' }, true, ['deriveBits']);
  const ephemeralPublic = new Uint8Array(await subtle().exportKey('raw', ephemeral.publicKey));
  const recipient = await subtle().importKey('raw', recipientPublic, { name: 'X25519' }, false, []);
  const shared = await subtle().deriveBits({ name: 'X25519', public: recipient }, ephemeral.privateKey, 256);
  const hkdf = await subtle().importKey('raw', shared, 'HKDF', false, ['deriveKey']);
  const key = await subtle().deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: concat(ephemeralPublic, recipientPublic), info: text.encode(SEAL_INFO) },
    hkdf, { name: 'AES-GCM', length: 256 }, false, ['encrypt'],
  );
  const nonce = globalThis.crypto.getRandomValues(new Uint8Array(12));
  const sealed = new Uint8Array(await subtle().encrypt({ name: 'AES-GCM', iv: nonce, additionalData: text.encode(aad) }, key, plaintext));
  return concat(Uint8Array.of(VERSION), ephemeralPublic, nonce, sealed);
}

// HMAC-SHA256 of a content key with itself (manifest.fingerprint on the server): names the
// key in the run's manifest without revealing it.
export async function fingerprint(raw) {
  const key = await subtle().importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = new Uint8Array(await subtle().sign('HMAC', key, text.encode('cogflow run key fingerprint')));
  return [...mac].map((b) => b.toString(16).padStart(2, '0')).join('');
}

export async function encrypt(key, plaintext, aad) {
  const nonce = globalThis.crypto.getRandomValues(new Uint8Array(12));
  const sealed = new Uint8Array(await subtle().encrypt({ name: 'AES-GCM', iv: nonce, additionalData: text.encode(aad) }, key, plaintext));
  return concat(Uint8Array.of(VERSION), nonce, sealed);
}

// One run's sealed local buffer: {v, run_session_id, sealed_key, trial_count, trials:
// {trial_index: ciphertext}, payload: ciphertext|null}, base64 throughout, in one storage key.
// Operations run one after another (a drop never overtakes the put it follows).
export class SealedStore {
  constructor(storage, storageKey, runSessionId, publicKeyB64) {
    this.storage = storage;
    this.storageKey = storageKey;
    this.run = runSessionId;
    this.publicKey = fromBase64(publicKeyB64);
    this.state = { v: 1, run_session_id: runSessionId, sealed_key: null, key_fingerprint: null, trial_count: 0, trials: {}, payload: null };
    this.chain = this.#init();
  }

  async #init() {
    const raw = globalThis.crypto.getRandomValues(new Uint8Array(32));
    this.key = await subtle().importKey('raw', raw, { name: 'AES-GCM' }, false, ['encrypt']);
    this.state.sealed_key = toBase64(await seal(this.publicKey, raw, pageKeyAad(this.run)));
    this.state.key_fingerprint = await fingerprint(raw);
    raw.fill(0);
  }

  #then(op) {
    const next = this.chain.then(op);
    this.chain = next.catch(() => {});
    return next;
  }

  putTrial(row, totalRows) {
    return this.#then(async () => {
      const ct = await encrypt(this.key, text.encode(JSON.stringify(row)), trialAad(this.run, row.trial_index));
      this.state.trials[row.trial_index] = toBase64(ct);
      this.state.trial_count = Math.max(this.state.trial_count, totalRows || 0);
      this.#save();
    });
  }

  putPayload(payload) {
    return this.#then(async () => {
      const ct = await encrypt(this.key, text.encode(JSON.stringify({ result_payload: payload })), resultAad(this.run, 'checkpoint'));
      this.state.payload = toBase64(ct);
      this.#save();
    });
  }

  dropTrials(indices) {
    return this.#then(async () => {
      for (const i of indices) delete this.state.trials[i];
      this.#save();
    });
  }

  clear() {
    return this.#then(async () => {
      this.state.trials = {};
      this.state.payload = null;
      this.#save();
    });
  }

  #save() {
    try {
      if (Object.keys(this.state.trials).length || this.state.payload) this.storage.setItem(this.storageKey, JSON.stringify(this.state));
      else this.storage.removeItem(this.storageKey);
    } catch { /* quota or privacy mode: the in-memory queue still works */ }
  }

  // The body of `results/recover` for a saved buffer, or null when there is nothing in it.
  static recoverBody(saved) {
    if (!saved.run_session_id || !saved.sealed_key || !saved.key_fingerprint) return null;
    const trials = Object.entries(saved.trials || {}).map(([index, ciphertext]) => ({ trial_index: Number(index), ciphertext }));
    if (!trials.length && !saved.payload) return null;
    return {
      run_session_id: saved.run_session_id, sealed_key: saved.sealed_key, key_fingerprint: saved.key_fingerprint,
      trial_count: saved.trial_count || trials.length,
      trials, result_payload_sealed: saved.payload || null,
    };
  }
}
