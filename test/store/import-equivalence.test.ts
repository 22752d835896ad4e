// The bulk import path (importUsers: chunked multi-row inserts, one change-log append per chunk) writes what
// single creates (createUser: one transaction per user, grouped commits on SQLite) write: the same stored
// users, the same collection values, the same search tokens, the same change-log shape. The same bodies go
// into two tenants, one each way, and every read the directory serves is compared. Both databases.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseFilter, parseSearch } from '../../src/api/graph/odata/index.js';
import type { Actor } from '../../src/directory/access.js';
import { importUsers } from '../../src/directory/import.js';
import { createUser } from '../../src/directory/users.js';
import { userCatalog } from '../../src/domain/catalog.js';
import { systemClock } from '../../src/domain/clock.js';
import { createTenant } from '../../src/identity/tenants.js';
import { queryObjects } from '../../src/store/query/list.js';
import { changesRepo } from '../../src/store/repos/changes.js';
import { usersRepo } from '../../src/store/repos/users.js';
import type { Store } from '../../src/store/store.js';
import { dialects, openTestStore } from '../helpers/harness.js';

const appActor = (tenantId: string): Actor => ({
  principal: { tenantId, kind: 'app', appId: 'import-test', roles: new Set(['Directory.ReadWrite.All']), scopes: new Set() },
  readLevel: 'all', isAdmin: false,
});

const N = 60;
const given = ['Mary', 'Marek', 'Omar', 'Zoë', 'Ann-Marie', 'Bob'];
const family = ['Smith', 'Okafor', 'Müller', "O'Neil", 'van der Berg'];
function body(i: number, domain: string): Record<string, unknown> {
  const g = given[i % given.length] as string;
  const f = family[i % family.length] as string;
  return {
    accountEnabled: i % 7 !== 0, displayName: `${g} ${f} ${i}`, givenName: g, surname: f, mailNickname: `u${i}`,
    userPrincipalName: `u${i}@${domain}`, mail: `${g.toLowerCase()}.${i}@mail.example.com`, jobTitle: i % 3 ? 'Engineer' : 'Director',
    department: i % 2 ? 'R&D' : 'HR', otherMails: i % 4 ? [] : [`alt${i}@example.org`], ...(i % 5 ? {} : { employeeId: `E${i}` }),
    passwordProfile: { password: `Passw0rd!${i}`, forceChangePasswordNextSignIn: false },
  };
}

/** A user as stored, with what differs by construction (ids, times, the tenant's domain) taken out. */
function normal(u: Record<string, unknown>, domain: string): string {
  const { id: _id, createdDateTime: _c, ...rest } = u;
  return JSON.stringify(rest).replaceAll(domain, 'DOMAIN');
}

for (const dialect of dialects()) {
  describe(`bulk import writes what single creates write (${dialect})`, () => {
    let store: Store;
    let close: () => Promise<void>;
    before(async () => {
      ({ store, close } = await openTestStore(dialect));
    });
    after(() => close());

    test('users, values, tokens and change log match, read back through every query shape', async () => {
      const ctx = { store, clock: systemClock };
      const imported = await createTenant(store, systemClock, { name: 'Imported' });
      const single = await createTenant(store, systemClock, { name: 'Single' });
      const result = await importUsers(ctx, imported.tenantId, Array.from({ length: N }, (_, i) => body(i, imported.domain)));
      assert.equal(result.imported, N);
      // Concurrent single creates: on SQLite they commit in groups, each still its own transaction.
      await Promise.all(Array.from({ length: N }, (_, i) => createUser(ctx, single.tenantId, appActor(single.tenantId), body(i, single.domain))));

      const stored = async (t: { tenantId: string; domain: string }) => {
        const out: string[] = [];
        for (let i = 0; i < N; i++) {
          const r = await usersRepo.get(store.db, t.tenantId, `u${i}@${t.domain}`);
          assert.ok(r, `u${i} in ${t.domain}`);
          assert.ok(r.passwordHash, 'the password is hashed either way');
          out.push(normal(r.user as unknown as Record<string, unknown>, t.domain));
        }
        return out;
      };
      assert.deepEqual(await stored(single), await stored(imported));

      // Every derived row answers the same: prefix columns, collection values (any), search tokens, counts.
      const shapes = [
        { filter: parseFilter("startsWith(displayName,'mar')") },
        { filter: parseFilter("startsWith(surname,'o')") },
        { filter: parseFilter("otherMails/any(m: startsWith(m, 'alt'))") },
        { filter: parseFilter("endsWith(mail,'@mail.example.com') and accountEnabled eq false") },
        { filter: parseFilter("employeeId eq 'E10' or department eq 'R&D'") },
        { search: parseSearch('"displayName:zoë" OR "displayName:berg"') },
        { search: parseSearch('"displayName:ann mar"') },
        { count: true },
      ];
      for (const shape of shapes) {
        const names = async (tenantId: string) => {
          const page = await queryObjects(store.db, userCatalog, tenantId, { top: 999, advanced: true, count: false, deleted: false, ...shape, render: ['displayName'] });
          return { rows: page.rows.map((r) => JSON.parse(r.data).displayName as string).sort(), count: page.count };
        };
        const a = await names(imported.tenantId);
        assert.deepEqual(await names(single.tenantId), a, JSON.stringify(shape));
        assert.ok(a.rows.length > 0, `${JSON.stringify(shape)} matches someone`);
      }

      // One 'created' change per user either way (the import appends them per chunk).
      for (const t of [imported, single]) {
        const changes = await changesRepo.since(store.db, t.tenantId, 'user', 0, await changesRepo.head(store.db, t.tenantId), 10 * N);
        assert.equal(changes.filter((c) => c.change === 'created').length, N);
        assert.equal(await changesRepo.objectCount(store.db, t.tenantId), N);
      }
    });
  });
}
