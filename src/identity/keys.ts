// The RS256 key that signs every tenant's tokens. One server key is enough: the `tid` claim and the
// issuer carry the tenant, and verification checks them against the tenant of the request.
import { randomUUID } from 'node:crypto';
import { type CryptoKey, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { serverRepo } from '../store/repos/server.js';
import type { Store } from '../store/store.js';

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
  publicKeys: Map<string, CryptoKey>;
}

export async function loadSigningKey(store: Store, now: Date): Promise<SigningKey> {
  let rows = await serverRepo.keys(store.db);
  if (!rows.length) {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    const kid = randomUUID().replace(/-/g, '');
    const priv = { ...(await exportJWK(privateKey)), kid, alg: 'RS256' };
    const pub = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
    await serverRepo.addKey(store.db, kid, JSON.stringify(priv), JSON.stringify(pub), now.toISOString());
    rows = await serverRepo.keys(store.db);
  }
  const newest = rows[0]!;
  const publicKeys = new Map<string, CryptoKey>();
  for (const r of rows) publicKeys.set(r.kid, (await importJWK(JSON.parse(r.public_jwk), 'RS256')) as CryptoKey);
  return {
    kid: newest.kid,
    privateKey: (await importJWK(JSON.parse(newest.private_jwk), 'RS256')) as CryptoKey,
    publicJwk: JSON.parse(newest.public_jwk),
    publicKeys,
  };
}
