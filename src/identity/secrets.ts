// Client secrets, passwords and the operator key are stored only as scrypt hashes (salted, memory-hard),
// and compared in constant time. scrypt is Node's own: no native dependency to build.
import { randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const scrypt = promisify(scryptCb) as (pw: string, salt: Buffer, len: number, opts: object) => Promise<Buffer>;
// N=2^14, r=8: ~16 MiB and ~40 ms per hash on this machine class, the interactive-login setting of
// the scrypt paper. Raising N slows every token request by the same factor.
const N = 16384;
const R = 8;
const P = 1;
const LEN = 32;

export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(secret, salt, LEN, { N, r: R, p: P });
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

export async function verifySecret(secret: string, stored: string | null | undefined): Promise<boolean> {
  if (!stored) return false;
  const [scheme, n, r, p, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64url');
  const actual = await scrypt(secret, Buffer.from(salt, 'base64url'), expected.length, { N: Number(n), r: Number(r), p: Number(p) });
  return timingSafeEqual(actual, expected);
}

/** A client secret in Entra's style: 40 characters, `~` at position 4 after a 3-character hint. */
export function newClientSecret(): string {
  return `${randomBytes(3).toString('base64url').slice(0, 3)}8Q~${randomBytes(30).toString('base64url').slice(0, 37)}`;
}
