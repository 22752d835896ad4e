// The RS256 key that signs every tenant's tokens. One server key is enough: the `tid` claim and the
// issuer carry the tenant, and verification checks them against the tenant of the request.
import { randomUUID } from 'node:crypto';
import { type CryptoKey, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { serverRepo } from '../store/repos/server.js';
import type { Store } from '../store/store.js';
import { keyringOf, rewrapped, unwrap, wrap } from './keyring.js';

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
  publicKeys: Map<string, CryptoKey>;
}

/** The private JWK is wrapped under the store's keyring (identity/keyring.ts) when one is configured. */
export async function loadSigningKey(store: Store, now: Date): Promise<SigningKey> {
  const ring = keyringOf(store);
  const name = (kid: string) => `signing_keys/${kid}`;
  let rows = await serverRepo.keys(store.db);
  if (!rows.length) {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    const kid = randomUUID().replace(/-/g, '');
    const priv = { ...(await exportJWK(privateKey)), kid, alg: 'RS256' };
    const pub = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
    const text = JSON.stringify(priv);
    await serverRepo.addKey(store.db, kid, ring.current ? wrap(ring.current, name(kid), text) : text, JSON.stringify(pub), now.toISOString());
    rows = await serverRepo.keys(store.db);
  }
  for (const r of rows) {
    const next = rewrapped(ring, name(r.kid), r.private_jwk);
    if (next) await serverRepo.setPrivateKey(store.db, r.kid, next);
  }
  const newest = rows[0]!;
  const publicKeys = new Map<string, CryptoKey>();
  for (const r of rows) publicKeys.set(r.kid, (await importJWK(JSON.parse(r.public_jwk), 'RS256')) as CryptoKey);
  return {
    kid: newest.kid,
    privateKey: (await importJWK(JSON.parse(unwrap(ring, name(newest.kid), newest.private_jwk)), 'RS256')) as CryptoKey,
    publicJwk: JSON.parse(newest.public_jwk),
    publicKeys,
  };
}
