// Server-wide rows: token signing keys and operator settings. These are not tenant data.
import type { Db } from '../store.js';

export const serverRepo = {
  async keys(db: Db) {
    return db.selectFrom('signing_keys').selectAll().orderBy('created_at', 'desc').execute();
  },
  async addKey(db: Db, kid: string, privateJwk: string, publicJwk: string, at: string) {
    await db.insertInto('signing_keys').values({ kid, private_jwk: privateJwk, public_jwk: publicJwk, created_at: at })
      .onConflict((oc) => oc.column('kid').doNothing()).execute();
  },
  /** Rewraps a private key at rest (identity/keyring.ts). */
  async setPrivateKey(db: Db, kid: string, privateJwk: string) {
    await db.updateTable('signing_keys').set({ private_jwk: privateJwk }).where('kid', '=', kid).execute();
  },
  async setting(db: Db, key: string): Promise<string | undefined> {
    return (await db.selectFrom('server_settings').select('value').where('key', '=', key).executeTakeFirst())?.value;
  },
  async setSetting(db: Db, key: string, value: string) {
    await db.insertInto('server_settings').values({ key, value })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value })).execute();
  },
};
