// Migration 009 on a database written by the previous schema: every directory row keeps its tenant (now by
// number), reads through the repositories and the list queries find what they found before, and a tenant made
// after the migration takes the next number. Both databases.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { sql } from 'kysely';
import { userCatalog } from '../../src/domain/catalog.js';
import { parseSearch } from '../../src/api/graph/odata/index.js';
import { listObjects } from '../../src/store/query/list.js';
import { changesRepo } from '../../src/store/repos/changes.js';
import { groupsRepo } from '../../src/store/repos/groups.js';
import { tenantNo } from '../../src/store/repos/tenantKeys.js';
import { tenantsRepo } from '../../src/store/repos/tenants.js';
import { usersRepo } from '../../src/store/repos/users.js';
import { type OldStore, storeAt } from '../helpers/migrations.js';
import { dialects } from '../helpers/harness.js';

for (const dialect of dialects()) {
  describe(`migration 009: integer tenant keys (${dialect})`, () => {
    let old: OldStore | undefined;
    after(() => old?.dispose());

    test('rows written before it keep their tenant, read as before, and new tenants number on', async () => {
      old = await storeAt(dialect, 'm9', '008_applications');
      const { store } = old;
      const db = store.db;
      // Two tenants with the same user id in each, written in the old shape (tenant GUID in every row).
      const [a, b] = [randomUUID(), randomUUID()];
      const uid = randomUUID();
      const gid = randomUUID();
      for (const [t, name, at] of [[a, 'Alpha', '2024-01-01T00:00:00.000Z'], [b, 'Bravo', '2024-02-01T00:00:00.000Z']] as const) {
        await sql`insert into tenants (id, display_name, domain, created_at, change_seq, data, object_count)
          values (${t}, ${name}, ${`${name.toLowerCase()}.test`}, ${at}, 2, ${JSON.stringify({ verifiedDomains: [] })}, 2)`.execute(db);
        const upn = `mary@${name.toLowerCase()}.test`;
        const data = { id: uid, displayName: `Mary ${name}`, userPrincipalName: upn, mail: upn, userType: 'Member', accountEnabled: true, otherMails: [], proxyAddresses: [`SMTP:${upn}`], createdDateTime: at, deletedDateTime: null };
        await sql`insert into users (tenant_id, id, upn_lc, upn_rev, display_name_lc, mail_lc, mail_rev, user_type, account_enabled, created_at, data)
          values (${t}, ${uid}, ${upn}, ${[...upn].reverse().join('')}, ${`mary ${name.toLowerCase()}`}, ${upn}, ${[...upn].reverse().join('')}, 'member', 1, ${at}, ${JSON.stringify(data)})`.execute(db);
        await sql`insert into user_values (tenant_id, user_id, attr, ord, v1, v1_rev) values (${t}, ${uid}, 'proxyAddresses', 0, ${`smtp:${upn}`}, ${[...`smtp:${upn}`].reverse().join('')})`.execute(db);
        for (const token of ['mary', name.toLowerCase()]) {
          await sql`insert into search_tokens (tenant_id, object_type, prop, token, object_id) values (${t}, 'user', 'displayName', ${token}, ${uid})`.execute(db);
        }
        const group = { id: gid, displayName: `Team ${name}`, securityEnabled: true, mailEnabled: false, createdDateTime: at, deletedDateTime: null };
        await sql`insert into groups (tenant_id, id, display_name_lc, security_enabled, mail_enabled, created_at, data)
          values (${t}, ${gid}, ${`team ${name.toLowerCase()}`}, 1, 0, ${at}, ${JSON.stringify(group)})`.execute(db);
        await sql`insert into group_members (tenant_id, group_id, member_id, member_type, added_at) values (${t}, ${gid}, ${uid}, 'user', ${at})`.execute(db);
        await sql`insert into change_log (tenant_id, seq, object_type, object_id, change, at) values (${t}, 1, 'user', ${uid}, 'created', ${at}), (${t}, 2, 'group', ${gid}, 'created', ${at})`.execute(db);
      }

      await old.upgrade();

      // Numbered in creation order; the next tenant takes 3.
      assert.equal(await tenantNo(db, a), 1);
      assert.equal(await tenantNo(db, b), 2);
      const c = randomUUID();
      await store.transaction((tx) => tenantsRepo.insert(tx, { id: c, displayName: 'Charlie', domain: 'charlie.test', createdDateTime: new Date().toISOString(), data: { verifiedDomains: [] } }));
      assert.equal(await tenantNo(db, c), 3);

      for (const [t, name] of [[a, 'Alpha'], [b, 'Bravo']] as const) {
        const user = await usersRepo.get(db, t, uid);
        assert.equal(user?.user.displayName, `Mary ${name}`);
        assert.equal(user?.tenantId, t);
        assert.equal((await usersRepo.byAddress(db, t, `mary@${name.toLowerCase()}.test`))[0]?.user.id, uid, 'by SMTP proxy address and UPN');
        assert.equal((await groupsRepo.get(db, t, gid))?.displayName, `Team ${name}`);
        assert.equal(await groupsRepo.isMember(db, t, gid, uid), true);
        assert.deepEqual((await changesRepo.since(db, t, 'user', 0, 10, 10)).map((r) => r.object_id), [uid]);
        const page = await listObjects(db, userCatalog, t, { search: parseSearch(`"displayName:${name.toLowerCase()}"`), top: 5, advanced: true, count: false, deleted: false });
        assert.deepEqual(page.rows.map((r) => r.id), [uid], 'search tokens kept their tenant');
      }
      // Nothing leaks: Alpha's search term finds nothing in Bravo.
      const across = await listObjects(db, userCatalog, b, { search: parseSearch('"displayName:alpha"'), top: 5, advanced: true, count: false, deleted: false });
      assert.deepEqual(across.rows, []);
      // A write after the migration appends after the migrated history.
      assert.equal(await store.transaction((tx) => changesRepo.appendNow(tx, a, [{ objectType: 'user', objectId: uid, change: 'updated' }], new Date().toISOString())), 3);
    });
  });
}
