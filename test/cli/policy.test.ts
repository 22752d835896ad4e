// `openmto policy …` run as a user would (node bin/openmto.mjs) against a temporary data directory,
// checking the --json output and the exit status of refused commands.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { guestRoles } from '../../src/directory/access.js';
import { openStore } from '../../src/store/store.js';
import { dialects } from '../helpers/harness.js';

const root = new URL('../..', import.meta.url).pathname;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  // biome-ignore lint/suspicious/noExplicitAny: parsed --json output is inspected freely
  json: any;
}

for (const dialect of dialects()) {
  describe(`openmto policy (${dialect})`, () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'openmto-cli-'));
    const schema = `cli_${randomBytes(6).toString('hex')}`;
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.OPENMTO_DATABASE_URL;
    if (dialect === 'postgres') {
      // The CLI has no schema flag; a private search_path in the URL keeps this run out of everyone else's tables.
      env.OPENMTO_DATABASE_URL = `${process.env.OPENMTO_TEST_PG}${process.env.OPENMTO_TEST_PG?.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    }
    const pgAdmin = async (q: string) => {
      const c = new pg.Client({ connectionString: process.env.OPENMTO_TEST_PG });
      await c.connect();
      await c.query(q);
      await c.end();
    };
    const cli = (...args: string[]) =>
      new Promise<Run>((resolve) => {
        execFile(process.execPath, ['bin/openmto.mjs', ...args, '--data', dataDir], { cwd: root, env, timeout: 60_000 }, (err, stdout, stderr) => {
          let json: unknown;
          try {
            json = JSON.parse(stdout);
          } catch {
            // not JSON (a refused command prints to stderr only)
          }
          resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr, json });
        });
      });
    const ok = async (...args: string[]) => {
      const r = await cli(...args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      return r.json;
    };
    let a: string;
    let fabrikam: { tenantId: string; domain: string };

    before(async () => {
      if (dialect === 'postgres') {
        // Migrate the private schema from here, where the store knows its name: Kysely's migrator, left
        // without a schema (as the CLI's plain URL leaves it), would take another schema's migration
        // tables for its own.
        await (await openStore({ url: process.env.OPENMTO_TEST_PG ?? '', schema })).close();
      }
      a = (await ok('tenant', 'create', '--name', 'Contoso', '--json')).tenantId;
      fabrikam = await ok('tenant', 'create', '--name', 'Fabrikam', '--json');
    });
    after(async () => {
      rmSync(dataDir, { recursive: true, force: true });
      if (dialect === 'postgres') await pgAdmin(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    });

    test('partner add, set, show; sync allow, deny, show; remove in order', async () => {
      const added = await ok('policy', 'partner', 'add', fabrikam.domain, '--tenant', a, '--json');
      assert.equal(added.created, true);
      assert.equal(added.partner.tenantId, fabrikam.tenantId);
      assert.deepEqual(added.partner.automaticUserConsentSettings, { inboundAllowed: null, outboundAllowed: null });
      assert.equal(added.partner.b2bCollaborationInbound, null);
      assert.equal((await ok('policy', 'partner', 'add', fabrikam.tenantId, '--tenant', a, '--json')).created, false);

      let p = await ok('policy', 'partner', 'set', fabrikam.tenantId, '--tenant', a, '--auto-redeem-inbound', 'true', '--json');
      assert.deepEqual(p.automaticUserConsentSettings, { inboundAllowed: true, outboundAllowed: null });
      p = await ok('policy', 'partner', 'set', fabrikam.tenantId, '--tenant', a, '--auto-redeem-outbound', 'true', '--json');
      assert.deepEqual(p.automaticUserConsentSettings, { inboundAllowed: true, outboundAllowed: true });
      const body = JSON.stringify({ b2bCollaborationInbound: { usersAndGroups: { accessType: 'blocked', targets: [{ target: 'AllUsers', targetType: 'user' }] } } });
      p = await ok('policy', 'partner', 'set', fabrikam.tenantId, '--tenant', a, '--body', body, '--json');
      assert.equal(p.b2bCollaborationInbound.usersAndGroups.accessType, 'blocked');

      const allowed = await ok('policy', 'sync', 'allow', fabrikam.tenantId, '--tenant', a, '--name', 'Fabrikam', '--json');
      assert.deepEqual(allowed, { tenantId: fabrikam.tenantId, displayName: 'Fabrikam', userSyncInbound: { isSyncAllowed: true } });
      const shown = await ok('policy', 'partner', 'show', fabrikam.domain, '--tenant', a, '--json');
      assert.equal(shown.partner.tenantId, fabrikam.tenantId);
      assert.equal(shown.identitySynchronization.userSyncInbound.isSyncAllowed, true);
      assert.deepEqual(shown.effective.automaticUserConsent, { inboundAllowed: true, outboundAllowed: true });
      assert.equal(shown.effective.userSyncInbound, true);
      assert.equal(shown.effective.b2bCollaborationOutbound.usersAndGroups.accessType, 'allowed', 'inherited from the default');

      const refused = await cli('policy', 'partner', 'remove', fabrikam.tenantId, '--tenant', a);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /identity synchronization/);

      const denied = await ok('policy', 'sync', 'deny', fabrikam.tenantId, '--tenant', a, '--json');
      assert.equal(denied.userSyncInbound.isSyncAllowed, false);
      const syncShown = await ok('policy', 'sync', 'show', fabrikam.tenantId, '--tenant', a, '--json');
      assert.equal(syncShown.identitySynchronization.userSyncInbound.isSyncAllowed, false);
      await ok('policy', 'sync', 'deny', fabrikam.tenantId, '--tenant', a, '--remove', '--json');
      assert.equal((await ok('policy', 'sync', 'show', fabrikam.tenantId, '--tenant', a, '--json')).identitySynchronization, null);
      assert.deepEqual(await ok('policy', 'partner', 'remove', fabrikam.tenantId, '--tenant', a, '--json'), { deleted: fabrikam.tenantId });
      const gone = await ok('policy', 'partner', 'show', fabrikam.tenantId, '--tenant', a, '--json');
      assert.equal(gone.partner, null);
      assert.equal(gone.effective.isConfigured, false);
    });

    test('refused input: read-only property, bad partner reference, unknown tenant', async () => {
      const remote = randomUUID();
      await ok('policy', 'partner', 'add', remote, '--tenant', a, '--json');
      const ro = await cli('policy', 'partner', 'set', remote, '--tenant', a, '--body', '{"isInMultiTenantOrganization":true}');
      assert.equal(ro.code, 1);
      assert.match(ro.stderr, /Request_BadRequest: Property 'isInMultiTenantOrganization' is read-only/);
      assert.equal((await cli('policy', 'partner', 'add', 'nowhere.example', '--tenant', a)).code, 4);
      assert.equal((await cli('policy', 'partner', 'show', remote, '--tenant', 'nobody.example')).code, 4);
    });

    test('authorization show and set', async () => {
      const shown = await ok('policy', 'authorization', 'show', '--tenant', a, '--json');
      assert.equal(shown.guestUserRoleId, guestRoles.guest);
      assert.equal(shown.allowInvitesFrom, 'everyone');
      const set = await ok('policy', 'authorization', 'set', '--tenant', a, '--guest-role', 'restricted', '--invites-from', 'adminsAndGuestInviters', '--json');
      assert.equal(set.guestUserRoleId, guestRoles.restricted);
      assert.equal(set.allowInvitesFrom, 'adminsAndGuestInviters');
      assert.equal((await ok('policy', 'authorization', 'show', '--tenant', a, '--json')).guestUserRoleId, guestRoles.restricted);
      const bad = await cli('policy', 'authorization', 'set', '--tenant', a, '--body', '{"guestUserRoleId":"00000000-0000-0000-0000-000000000000"}');
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /guestUserRoleId/);
    });
  });
}
