// Keys at rest in the store (the token-signing private key, the redemption-state key) can be wrapped by
// a key encryption key (KEK) kept outside the database: AES-256-GCM, so a copy of the database file, a
// dump or a backup alone does not hold a usable signing key.
// - OPENMTO_KEY_ENCRYPTION_KEY (or OPENMTO_KEY_ENCRYPTION_KEY_FILE, a file holding it): 32 bytes as 64
//   hex digits or base64. Values found in plain text are wrapped at start.
// - OPENMTO_KEY_ENCRYPTION_KEY_PREVIOUS: older KEKs, comma-separated. Values wrapped by one of them are
//   rewrapped with the current KEK at start (rotation); with no current KEK they are stored unwrapped.
// - Without any KEK, keys are stored as they are, protected by the database's own access control and
//   the data folder's permissions; a wrapped value then stops the server with a message naming the KEK.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { serverRepo } from '../store/repos/server.js';
import type { Store } from '../store/store.js';

const PREFIX = 'kek1';

export interface Kek {
  /** First 8 bytes of SHA-256 of the key, hex: names the KEK in a wrapped value without revealing it. */
  id: string;
  key: Buffer;
}

export interface Keyring {
  current: Kek | null;
  previous: Kek[];
}

export function kekFrom(text: string, source: string): Kek {
  const t = text.trim();
  const key = /^[0-9a-f]{64}$/i.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  if (key.length !== 32) throw new Error(`${source} must be 32 bytes as 64 hex digits or base64 (e.g. \`openssl rand -hex 32\`)`);
  return { id: createHash('sha256').update(key).digest('hex').slice(0, 16), key };
}

/** The keyring the environment describes; empty when no KEK is configured. */
export function keyringFromEnv(env: NodeJS.ProcessEnv = process.env): Keyring {
  const file = env.OPENMTO_KEY_ENCRYPTION_KEY_FILE;
  const text = env.OPENMTO_KEY_ENCRYPTION_KEY || (file ? readFileSync(file, 'utf8') : '');
  return {
    current: text ? kekFrom(text, file && !env.OPENMTO_KEY_ENCRYPTION_KEY ? file : 'OPENMTO_KEY_ENCRYPTION_KEY') : null,
    previous: (env.OPENMTO_KEY_ENCRYPTION_KEY_PREVIOUS ?? '').split(',').filter((s) => s.trim())
      .map((s) => kekFrom(s, 'OPENMTO_KEY_ENCRYPTION_KEY_PREVIOUS')),
  };
}

export const isWrapped = (value: string) => value.startsWith(`${PREFIX}.`);

/** `kek1.<kek id>.<iv|tag|ciphertext, base64url>`; the value's name is bound as associated data. */
export function wrap(kek: Kek, name: string, plaintext: string): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', kek.key, iv).setAAD(Buffer.from(name));
  const body = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
  return `${PREFIX}.${kek.id}.${Buffer.concat([iv, c.getAuthTag(), body]).toString('base64url')}`;
}

export function unwrap(ring: Keyring, name: string, value: string): string {
  if (!isWrapped(value)) return value;
  const [, id, data] = value.split('.');
  const kek = [ring.current, ...ring.previous].find((k) => k?.id === id);
  if (!kek || !data) {
    throw new Error(`${name} is encrypted with key encryption key ${id}, which is not configured: set OPENMTO_KEY_ENCRYPTION_KEY (or list it in OPENMTO_KEY_ENCRYPTION_KEY_PREVIOUS)`);
  }
  const raw = Buffer.from(data, 'base64url');
  const d = createDecipheriv('aes-256-gcm', kek.key, raw.subarray(0, 12)).setAAD(Buffer.from(name));
  d.setAuthTag(raw.subarray(12, 28));
  try {
    return Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8');
  } catch {
    throw new Error(`${name} does not decrypt with key encryption key ${id}: the stored value was altered or the key is wrong`);
  }
}

/** The value as it should be stored under `ring`, or undefined when it already is. */
export function rewrapped(ring: Keyring, name: string, stored: string): string | undefined {
  const current = ring.current;
  if (current ? stored.startsWith(`${PREFIX}.${current.id}.`) : !isWrapped(stored)) return undefined;
  const plain = unwrap(ring, name, stored);
  return current ? wrap(current, name, plain) : plain;
}

const rings = new WeakMap<Store, Keyring>();

/** The keyring the server (or a command) opened `store` with. */
export function useKeyring(store: Store, ring: Keyring): void {
  rings.set(store, ring);
}

export const keyringOf = (store: Store): Keyring => rings.get(store) ?? { current: null, previous: [] };

/**
 * A secret server setting, made by `create` on first use, wrapped under the store's keyring and
 * rewrapped when the keyring changed.
 */
export async function secretSetting(store: Store, name: string, create: () => string): Promise<string> {
  const ring = keyringOf(store);
  let stored = await serverRepo.setting(store.db, name);
  if (!stored) {
    const plain = create();
    await serverRepo.setSetting(store.db, name, ring.current ? wrap(ring.current, name, plain) : plain);
    stored = (await serverRepo.setting(store.db, name))!;
  }
  const next = rewrapped(ring, name, stored);
  if (next) await serverRepo.setSetting(store.db, name, next);
  return unwrap(ring, name, stored);
}
