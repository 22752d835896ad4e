// `openmto import|export|users|groups|people` in process (runCli) on SQLite and PostgreSQL: the bulk-add CSV
// all or nothing (bad rows by line, nothing half-imported, dry run, passwords file), --continue-on-error's
// partial exit, export → import round trip into another tenant, users marked internal / B2B, Guest → Member,
// groups and members, people search as a user, and the exit codes and error shapes scripts rely on.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { resolveActor } from '../../src/directory/access.js';
import { M365_COLUMNS } from '../../src/directory/csvImport.js';
import { createGroup } from '../../src/directory/groups.js';
import { systemClock } from '../../src/domain/clock.js';
import { applicationPermissions } from '../../src/identity/permissions.js';
import { tenantsRepo } from '../../src/store/repos/tenants.js';
import { openStore } from '../../src/store/store.js';
import { cliOk, cliRun } from '../helpers/cli.js';
import { dialects } from '../helpers/harness.js';

const HEADER = M365_COLUMNS.map(([h]) => h).join(',');
const row = (f: Partial<Record<string, string>>) => M365_COLUMNS.map(([h]) => f[h] ?? '').join(',');
type U = { userPrincipalName: string; kind: string; userType: string; id: string; displayName: string; jobTitle?: string; city?: string };

for (const dialect of dialects()) {
  describe(`openmto directory commands (${dialect})`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'openmto-cli-dir-'));
    const schema = `clidir_${randomBytes(6).toString('hex')}`;
    const pgBase = process.env.OPENMTO_TEST_PG ?? '';
    const env = {
      OPENMTO_DATABASE_URL: dialect === 'postgres' ? `${pgBase}${pgBase.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}` : '',
    };
    const ok = cliOk(env, () => dir);
    const run = (...args: string[]) => cliRun(env, ...args, '--data', dir);
    const openData = () => (dialect === 'postgres' ? openStore({ url: pgBase, schema }) : openStore({ url: join(dir, 'openmto.db') }));
    const users = async (tenant: string) => (await ok('users', 'list', '--tenant', tenant, '--top', '1000', '--json')).json<U[]>();
    const file = (name: string, text: string) => {
      const p = join(dir, name);
      writeFileSync(p, text);
      return p;
    };

    before(async () => {
      // The CLI's plain URL leaves the schema to search_path; migrate the private schema from here first.
      if (dialect === 'postgres') await (await openData()).close();
      await ok('tenant', 'create', '--name', 'Alpha', '--domain', 'alpha.cli.test');
      await ok('tenant', 'create', '--name', 'Gamma', '--domain', 'gamma.cli.test');
    });
    after(async () => {
      rmSync(dir, { recursive: true, force: true });
      if (dialect === 'postgres') {
        const c = new pg.Client({ connectionString: pgBase });
        await c.connect();
        await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await c.end();
      }
    });

    test('import: a good file with a BOM, CRLF and quoted commas, temporary passwords only in the 0600 file', async () => {
      const csv = file('good.csv', `\uFEFF${HEADER}\r\n${[
        row({ 'User Name': 'ann@alpha.cli.test', 'First Name': 'Ann', 'Display Name': '"Ann, of Alpha"', 'Job Title': 'Lead', City: 'Oslo' }),
        row({ 'User Name': 'ben@alpha.cli.test', 'Display Name': 'Ben', Department: '"Sales, North"' }),
        row({ 'User Name': 'cat@alpha.cli.test', 'Display Name': 'Cat' }),
      ].join('\r\n')}\r\n`);
      const pw = join(dir, 'passwords.csv');
      const r = await ok('import', csv, '--tenant', 'alpha.cli.test', '--passwords-out', pw, '--json');
      assert.deepEqual(r.json(), { file: csv, dryRun: false, imported: 3, refused: 0, errors: [] });
      assert.equal(r.stderr, '', 'with --json nothing but the document is written (no progress bar off a terminal)');
      assert.equal(statSync(pw).mode & 0o777, 0o600);
      const lines = readFileSync(pw, 'utf8').trim().split('\r\n');
      assert.equal(lines[0], 'User Name,Temporary Password');
      assert.deepEqual(lines.slice(1).map((l) => l.split(',')[0]).sort(), ['ann@alpha.cli.test', 'ben@alpha.cli.test', 'cat@alpha.cli.test']);
      for (const l of lines.slice(1)) assert.ok(!r.stdout.includes(l.split(',')[1]!), 'a password reached stdout');
      const list = await users('alpha.cli.test');
      const ann = list.find((u) => u.userPrincipalName === 'ann@alpha.cli.test')!;
      assert.equal(ann.displayName, 'Ann, of Alpha');
      assert.equal(ann.kind, 'internal');
      const text = await ok('users', 'list', '--tenant', 'alpha.cli.test');
      assert.match(text.stdout, /^USERPRINCIPALNAME\s+DISPLAYNAME\s+USERTYPE\s+KIND\s+ENABLED\s+ID\n/);
      assert.match(text.stdout, /ann@alpha\.cli\.test\s+Ann, of Alpha\s+Member\s+internal\s+true/);
    });

    test('import: bad rows are reported by line and column, and nothing of the file is imported', async () => {
      const before = (await users('alpha.cli.test')).length;
      const csv = file('bad.csv', [
        HEADER,
        row({ 'User Name': 'dan@alpha.cli.test', 'Display Name': 'Dan' }),
        row({ 'User Name': 'eve@alpha.cli.test' }),
        row({ 'User Name': 'fay@nowhere.test', 'Display Name': 'Fay' }),
        row({ 'User Name': 'gus@alpha.cli.test', 'Display Name': 'Gus', 'ZIP or Postal Code': '9'.repeat(41) }),
      ].join('\n'));
      const r = await run('import', csv, '--tenant', 'alpha.cli.test');
      assert.equal(r.code, 1);
      assert.match(r.stdout, /^line 3, column 'Display Name': required\nline 4, column 'User Name': fay@nowhere\.test: .*verified domain.*\nline 5, column 'ZIP or Postal Code': 41 characters; at most 40\nnothing imported: 3 problem\(s\)/);
      assert.equal((await users('alpha.cli.test')).length, before);
    });

    test('import: a UPN already in the directory (found in the import transaction) rolls the whole file back', async () => {
      const before = (await users('alpha.cli.test')).length;
      const csv = file('taken.csv', [HEADER, row({ 'User Name': 'hal@alpha.cli.test', 'Display Name': 'Hal' }), row({ 'User Name': 'ann@alpha.cli.test', 'Display Name': 'Ann again' }),
        row({ 'User Name': 'ida@alpha.cli.test', 'Display Name': 'Ida' })].join('\n'));
      const dry = await run('import', csv, '--tenant', 'alpha.cli.test', '--dry-run', '--json');
      assert.equal(dry.code, 1);
      assert.deepEqual(dry.json<{ errors: { line: number; column: string }[] }>().errors.map((e) => [e.line, e.column]), [[3, 'User Name']]);
      const r = await run('import', csv, '--tenant', 'alpha.cli.test', '--json');
      assert.equal(r.code, 1);
      assert.equal(r.json<{ imported: number }>().imported, 0);
      assert.match(r.json<{ errors: { message: string }[] }>().errors[0]!.message, /Request_MultipleObjectsWithSameKeyValue/);
      assert.equal((await users('alpha.cli.test')).length, before);
      // --continue-on-error imports the others and exits 3 (partial).
      const partial = await run('import', csv, '--tenant', 'alpha.cli.test', '--continue-on-error', '--json');
      assert.equal(partial.code, 3, partial.stderr);
      assert.equal(partial.json<{ imported: number }>().imported, 2);
      assert.equal((await users('alpha.cli.test')).length, before + 2);
    });

    test('import --dry-run of a good file checks everything and writes nothing; bad flags and files', async () => {
      const before = (await users('alpha.cli.test')).length;
      const csv = file('dry.csv', [HEADER, row({ 'User Name': 'jo@alpha.cli.test', 'Display Name': 'Jo' })].join('\n'));
      const dry = await ok('import', csv, '--tenant', 'alpha.cli.test', '--dry-run');
      assert.match(dry.stdout, /dry run: all 1 row\(s\) would be imported/);
      assert.equal((await users('alpha.cli.test')).length, before);
      assert.equal((await run('import', csv, '--tenant', 'alpha.cli.test', '--dry-run', '--continue-on-error')).code, 2);
      const missing = await run('import', join(dir, 'nope.csv'), '--tenant', 'alpha.cli.test');
      assert.equal(missing.code, 4);
      assert.match(missing.stderr, /^error: NotFound: cannot read .*nope\.csv: ENOENT/);
      assert.equal((await run('import', csv, '--tenant', 'nowhere.test')).code, 4);
      assert.equal((await run('import', '--tenant', 'alpha.cli.test')).code, 2);
    });

    test('export CSV → import into another tenant round-trips; JSON export marks kinds; empty tenants export a header', async () => {
      const csv = await ok('export', '--tenant', 'alpha.cli.test');
      assert.ok(csv.stdout.startsWith(`${HEADER},Object Id,User Type,Kind,Account Enabled\r\n`));
      const moved = file('moved.csv', csv.stdout.replaceAll('@alpha.cli.test', '@gamma.cli.test'));
      await ok('import', moved, '--tenant', 'gamma.cli.test');
      const strip = (list: U[]) => list.map(({ userPrincipalName, displayName, jobTitle, city, userType, kind }) =>
        ({ upn: userPrincipalName.split('@')[0], displayName, jobTitle, city, userType, kind })).sort((a, b) => a.upn!.localeCompare(b.upn!));
      const alpha = await users('alpha.cli.test');
      assert.deepEqual(strip(await users('gamma.cli.test')), strip(alpha));
      const out = join(dir, 'alpha.json');
      await ok('export', '--tenant', 'alpha.cli.test', '--format', 'json', '--out', out, '--no-progress');
      const json = JSON.parse(readFileSync(out, 'utf8')) as U[];
      assert.equal(json.length, alpha.length);
      assert.ok(json.every((u) => u.kind === 'internal' && typeof u.id === 'string'));
      assert.deepEqual(JSON.parse((await ok('export', '--tenant', 'gamma.cli.test', '--type', 'guest', '--json')).stdout), []);
      assert.equal((await run('export', '--tenant', 'alpha.cli.test', '--format', 'xml')).code, 2);
    });

    test('users show and convert: a B2B guest becomes a B2B member; unknown users exit 4', async () => {
      await ok('invite', '--tenant', 'alpha.cli.test', '--email', 'zed@partner.example');
      const guest = (await users('alpha.cli.test')).find((u) => u.userPrincipalName.startsWith('zed_partner.example#EXT#'))!;
      assert.equal(guest.kind, 'b2bGuest');
      assert.equal((await ok('users', 'list', '--tenant', 'alpha.cli.test', '--type', 'guest', '--json')).json<U[]>().length, 1);
      const shown = (await ok('users', 'show', guest.id, '--tenant', 'alpha.cli.test', '--json')).json<U>();
      assert.equal(shown.userPrincipalName, guest.userPrincipalName);
      const converted = await ok('users', 'convert', guest.userPrincipalName, '--tenant', 'alpha.cli.test', '--to', 'Member');
      assert.match(converted.stdout, /is now Member \(b2bMember\)/);
      const missing = await run('users', 'show', 'nobody@alpha.cli.test', '--tenant', 'alpha.cli.test', '--json');
      assert.equal(missing.code, 4);
      assert.deepEqual(JSON.parse(missing.stderr), { error: { code: 'NotFound', message: "user 'nobody@alpha.cli.test' does not exist", hint: 'openmto users list --tenant <tenant> shows the users' } });
      assert.equal(missing.stdout.trim(), '');
      assert.equal((await run('users', 'convert', guest.id, '--tenant', 'alpha.cli.test', '--to', 'Admin')).code, 2);
      assert.equal((await run('users', 'convert', guest.id, '--tenant', 'alpha.cli.test')).code, 2);
    });

    test('groups list, show and members; people search as a user', async () => {
      const store = await openData();
      let groupId: string;
      try {
        const t = (await tenantsRepo.find(store.db, 'alpha.cli.test'))!;
        const actor = await resolveActor(store.db, { tenantId: t.id, kind: 'app', appId: 'test', roles: new Set(applicationPermissions), scopes: new Set() });
        const ann = (await users('alpha.cli.test')).find((u) => u.userPrincipalName === 'ann@alpha.cli.test')!;
        groupId = (await createGroup({ store, clock: systemClock }, t.id, actor, {
          displayName: 'Engineering', mailEnabled: false, mailNickname: 'eng', securityEnabled: true,
          'members@odata.bind': [`https://graph.microsoft.com/v1.0/directoryObjects/${ann.id}`],
        })).id;
      } finally {
        await store.close();
      }
      assert.match((await ok('groups', 'list', '--tenant', 'alpha.cli.test')).stdout, /Engineering\s+true\s+false\s+/);
      assert.equal((await ok('groups', 'show', groupId, '--tenant', 'alpha.cli.test', '--json')).json<{ displayName: string }>().displayName, 'Engineering');
      const members = (await ok('groups', 'members', groupId, '--tenant', 'alpha.cli.test', '--json')).json<{ userPrincipalName: string; kind: string }[]>();
      assert.deepEqual(members.map((m) => [m.userPrincipalName, m.kind]), [['ann@alpha.cli.test', 'internal']]);
      assert.equal((await run('groups', 'members', '00000000-0000-0000-0000-000000000001', '--tenant', 'alpha.cli.test')).code, 4);

      const found = (await ok('people', 'search', 'ann', '--tenant', 'alpha.cli.test', '--as', 'ben@alpha.cli.test', '--json')).json<{ userPrincipalName: string }[]>();
      assert.deepEqual(found.map((p) => p.userPrincipalName), ['ann@alpha.cli.test']);
      assert.match((await ok('people', 'search', 'nobodyhere', '--tenant', 'alpha.cli.test', '--as', 'ben@alpha.cli.test')).stdout, /nobody found/);
      assert.equal((await run('people', 'search', 'ann', '--tenant', 'alpha.cli.test', '--as', 'ghost@alpha.cli.test')).code, 4);
      assert.equal((await run('people', 'search', 'ann', '--tenant', 'alpha.cli.test', '--as', 'ben@alpha.cli.test', '--top', '0')).code, 2);
    });
  });
}
