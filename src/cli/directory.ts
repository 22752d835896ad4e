// `openmto users|groups|people|import|export`: the directory from the command line, as the server operator
// (an app holding every permission), through the same use cases as Graph's /users, /groups and /people.
// Users are marked internal, B2B member or B2B guest. The CSV import is all or nothing by default: every
// row is validated first (directory/csvImport.ts), then imported in ONE transaction (importUsers atomic),
// so a row that fails late (a UPN taken meanwhile) rolls the whole file back.
import { chmodSync, closeSync, createWriteStream, openSync, readFileSync, writeSync } from 'node:fs';
import { once } from 'node:events';
import { type Command, Option } from 'commander';
import { type Actor, resolveActor } from '../directory/access.js';
import { type CsvProblem, type CsvUser, exportCsvHeader, exportCsvRow, parseUserCsv, temporaryPassword, userKind } from '../directory/csvImport.js';
import { getGroup, listGroupMembers } from '../directory/groups.js';
import { ImportRejected, importUsers } from '../directory/import.js';
import { getUser, updateUser } from '../directory/users.js';
import { searchPeople } from '../collaboration/index.js';
import { userCatalog, groupCatalog } from '../domain/catalog.js';
import { systemClock } from '../domain/clock.js';
import { type FilterNode, lit, node } from '../domain/odata.js';
import type { User } from '../domain/user.js';
import { applicationPermissions } from '../identity/permissions.js';
import { type Cursor, listObjects } from '../store/query/list.js';
import { usersRepo } from '../store/repos/users.js';
import type { Store } from '../store/store.js';
import {
  type CommonOptions, type Columns, dataOption, details, EXIT, notFoundError, out, progressBar, progressOption, table, usageError, withTenant,
} from './common.js';

const operator = (store: Store, tenantId: string): Promise<Actor> =>
  resolveActor(store.db, { tenantId, kind: 'app', appId: 'openmto-operator', roles: new Set(applicationPermissions), scopes: new Set() });

const dirCtx = (store: Store) => ({ store, clock: systemClock });

const common = (c: Command) => c.requiredOption('--tenant <tenant>', 'tenant id or domain').option('--json', 'JSON output').addOption(dataOption());

const typeOption = () => new Option('--type <type>', 'which users').choices(['member', 'guest', 'all']).default('all');

function typeFilter(type: string): FilterNode | undefined {
  if (type === 'all') return undefined;
  return node.compare('eq', ['userType'], lit.string(type === 'guest' ? 'Guest' : 'Member'));
}

const positive = (v: string, name: string, max: number): number => {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || n > max) throw usageError(`${name} is a whole number from 1 to ${max}`);
  return n;
};

/** Pages of a tenant's users (999 a page: Graph's bound, and what one page holds in memory). */
async function* userPages(store: Store, tenantId: string, filter: FilterNode | undefined, limit = Number.POSITIVE_INFINITY): AsyncGenerator<User[]> {
  let cursor: Cursor | undefined;
  let seen = 0;
  do {
    const page = await listObjects(store.db, userCatalog, tenantId, {
      ...(filter ? { filter } : {}), ...(cursor ? { cursor } : {}), top: Math.min(999, limit - seen), advanced: false, count: false, deleted: false,
    });
    const users = page.rows.map((r) => JSON.parse(r.data) as User);
    seen += users.length;
    yield users;
    cursor = page.next;
  } while (cursor && seen < limit);
}

type Marked = User & { kind: ReturnType<typeof userKind> };
const mark = (u: User): Marked => ({ ...u, kind: userKind(u) });

const userColumns: Columns<Marked> = [
  ['userPrincipalName', (u) => u.userPrincipalName], ['displayName', (u) => u.displayName], ['userType', (u) => u.userType],
  ['kind', (u) => u.kind], ['enabled', (u) => u.accountEnabled !== false], ['id', (u) => u.id],
];

async function findUser(store: Store, tenantId: string, ref: string): Promise<User> {
  try {
    return await getUser(dirCtx(store), tenantId, await operator(store, tenantId), ref);
  } catch (e) {
    if ((e as { kind?: string }).kind === 'notFound') throw notFoundError(`user '${ref}' does not exist`, 'openmto users list --tenant <tenant> shows the users');
    throw e;
  }
}

export function registerDirectoryCommands(program: Command, users: Command): void {
  common(users.command('list').description('users, marked internal, B2B member (b2bMember) or B2B guest (b2bGuest)'))
    .addOption(typeOption()).option('--top <n>', 'at most this many users', '100')
    .action(async (o: CommonOptions & { type: string; top: string }) => {
      const top = positive(o.top, '--top', 1_000_000);
      const list = await withTenant(o.data, o.tenant, async (store, t) => {
        const all: Marked[] = [];
        for await (const page of userPages(store, t.id, typeFilter(o.type), top)) all.push(...page.map(mark));
        return all;
      });
      out(o.json, list, () => table(list, userColumns, '(no users)'));
    });

  common(users.command('show <user>').description('one user (object id or UPN), with its kind'))
    .action(async (ref: string, o: CommonOptions) => {
      const u = await withTenant(o.data, o.tenant, async (store, t) => mark(await findUser(store, t.id, ref)));
      out(o.json, u, () => details([
        ['userPrincipalName', u.userPrincipalName], ['displayName', u.displayName], ['id', u.id], ['userType', u.userType], ['kind', u.kind],
        ['accountEnabled', u.accountEnabled], ['mail', u.mail], ['externalUserState', u.externalUserState], ['creationType', u.creationType],
        ['jobTitle', u.jobTitle], ['department', u.department], ['createdDateTime', u.createdDateTime],
      ]));
    });

  common(users.command('convert <user>').description('change a user\'s userType, e.g. a B2B guest to a B2B member'))
    .addOption(new Option('--to <userType>', 'the new userType').choices(['Member', 'Guest']).makeOptionMandatory())
    .action(async (ref: string, o: CommonOptions & { to: 'Member' | 'Guest' }) => {
      const u = await withTenant(o.data, o.tenant, async (store, t) => {
        const before = await findUser(store, t.id, ref);
        await updateUser(dirCtx(store), t.id, await operator(store, t.id), before.id, { userType: o.to });
        return mark(await findUser(store, t.id, before.id));
      });
      out(o.json, u, () => `${u.userPrincipalName} is now ${u.userType} (${u.kind})`);
    });

  const groups = program.command('groups').description('groups and their members');
  common(groups.command('list').description('groups of the tenant')).option('--top <n>', 'at most this many groups', '100')
    .action(async (o: CommonOptions & { top: string }) => {
      const top = positive(o.top, '--top', 999);
      const list = await withTenant(o.data, o.tenant, async (store, t) =>
        (await listObjects(store.db, groupCatalog, t.id, { top, advanced: false, count: false, deleted: false })).rows.map((r) => JSON.parse(r.data) as Record<string, unknown>));
      out(o.json, list, () => table(list, [['displayName', (g) => g.displayName], ['securityEnabled', (g) => g.securityEnabled],
        ['mailEnabled', (g) => g.mailEnabled], ['id', (g) => g.id]], '(no groups)'));
    });

  const groupOf = async (store: Store, tenantId: string, id: string) => {
    try {
      return await getGroup(dirCtx(store), tenantId, await operator(store, tenantId), id);
    } catch (e) {
      if ((e as { kind?: string }).kind === 'notFound') throw notFoundError(`group '${id}' does not exist`, 'openmto groups list --tenant <tenant> shows the groups');
      throw e;
    }
  };
  common(groups.command('show <group>').description('one group by object id')).action(async (id: string, o: CommonOptions) => {
    const g = await withTenant(o.data, o.tenant, (store, t) => groupOf(store, t.id, id)) as Record<string, unknown>;
    out(o.json, g, () => details([['displayName', g.displayName], ['id', g.id], ['description', g.description], ['securityEnabled', g.securityEnabled],
      ['mailEnabled', g.mailEnabled], ['groupTypes', g.groupTypes], ['createdDateTime', g.createdDateTime]]));
  });
  common(groups.command('members <group>').description('direct members of a group, users marked by kind')).action(async (id: string, o: CommonOptions) => {
    const members = await withTenant(o.data, o.tenant, async (store, t) => {
      const g = await groupOf(store, t.id, id);
      const actor = await operator(store, t.id);
      const all: Record<string, unknown>[] = [];
      let after = '';
      for (;;) {
        const page = await listGroupMembers(dirCtx(store), t.id, actor, g.id, after, 999);
        for (const m of page.items) {
          all.push(m.type === 'user' ? { type: 'user', ...mark(m.object) } : { type: 'group', ...(m.object as unknown as Record<string, unknown>) });
        }
        if (!page.next) break;
        after = page.next;
      }
      return all;
    });
    out(o.json, members, () => table(members, [['type', (m) => m.type], ['name', (m) => m.userPrincipalName ?? m.displayName],
      ['kind', (m) => m.kind ?? '-'], ['id', (m) => m.id]], '(no members)'));
  });

  common(program.command('people').description('people search as a user sees it (Graph /me/people)').command('search <query>')
    .description('whom the user finds for QUERY (a name or address prefix; "" lists their people)'))
    .requiredOption('--as <user>', 'the searching user: object id or UPN').option('--top <n>', 'results', '10')
    .action(async (query: string, o: CommonOptions & { as: string; top: string }) => {
      const top = positive(o.top, '--top', 999);
      const people = await withTenant(o.data, o.tenant, async (store, t) => {
        const who = await usersRepo.get(store.db, t.id, o.as);
        if (!who) throw notFoundError(`user '${o.as}' does not exist in tenant '${o.tenant}'`);
        const actor = await resolveActor(store.db, { tenantId: t.id, kind: 'user', appId: 'openmto-cli', roles: new Set(), scopes: new Set(['People.Read']), userId: who.user.id });
        return (await searchPeople(store.db, t.id, actor, { ...(query ? { search: query } : {}), top, skip: 0 })).value;
      });
      out(o.json, people, () => table(people, [['displayName', (p) => p.displayName], ['userPrincipalName', (p) => p.userPrincipalName],
        ['type', (p) => (p.personType as { subclass?: string } | undefined)?.subclass], ['id', (p) => p.id]], '(nobody found)'));
    });

  registerImportExport(program);
}

const problemLine = (p: CsvProblem) => `line ${p.line}${p.column ? `, column '${p.column}'` : ''}: ${p.message}`;

function registerImportExport(program: Command): void {
  common(program.command('import <file>')
    .description('bulk-create users from a Microsoft 365 admin center (or Entra bulk-create) CSV file: all rows or none'))
    .option('--dry-run', 'validate everything (against the directory too) and import nothing')
    .option('--continue-on-error', 'import the good rows and report the bad ones (exit 3 when some failed)')
    .option('--passwords-out <file>', 'write each new user\'s generated temporary password here (mode 0600); without it users get no password and cannot sign in until one is set')
    .addOption(progressOption())
    .action(async (file: string, o: CommonOptions & { dryRun?: boolean; continueOnError?: boolean; passwordsOut?: string; progress?: boolean }) => {
      if (o.dryRun && o.continueOnError) throw usageError('--dry-run and --continue-on-error do not go together');
      let text: Buffer;
      try {
        text = readFileSync(file);
      } catch (e) {
        throw notFoundError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      const report = await withTenant(o.data, o.tenant, async (store, t) => {
        const parsed = parseUserCsv(text, [t.domain, ...t.data.verifiedDomains]);
        const problems = [...parsed.problems];
        if (problems.length && !o.continueOnError) return { imported: 0, problems, users: parsed.users, passwords: [] as [CsvUser, string][] };
        const passwords: [CsvUser, string][] = [];
        const items = parsed.users.map((u) => {
          const pw = u.password ?? (o.passwordsOut && !o.dryRun ? temporaryPassword() : undefined);
          if (pw && !u.password) passwords.push([u, pw]);
          return { ...u.body, ...(pw ? { passwordProfile: { password: pw, forceChangePasswordNextSignIn: true } } : {}) };
        });
        const bar = await progressBar('importing', items.length, o);
        try {
          const r = await importUsers(dirCtx(store), t.id, items, {
            atomic: !o.continueOnError, ...(o.dryRun ? { dryRun: true } : {}), onProgress: (done) => bar.update(done),
          });
          for (const f of r.failed) problems.push({ line: parsed.users[f.index]!.line, column: null, message: `${f.code}: ${f.message}` });
          const ok = new Set(parsed.users.filter((_, i) => !r.failed.some((f) => f.index === i)));
          return { imported: o.dryRun ? 0 : r.imported, problems, users: parsed.users, passwords: passwords.filter(([u]) => ok.has(u)) };
        } catch (e) {
          if (!(e instanceof ImportRejected)) throw e;
          for (const f of e.result.failed) problems.push({ line: parsed.users[f.index]!.line, column: f.code === 'Request_MultipleObjectsWithSameKeyValue' ? 'User Name' : null, message: `${f.code}: ${f.message}` });
          return { imported: 0, problems, users: parsed.users, passwords: [] as [CsvUser, string][] };
        } finally {
          bar.stop();
        }
      });
      report.problems.sort((a, b) => a.line - b.line);
      if (o.passwordsOut && report.passwords.length && !o.dryRun) {
        // Created with 0600 before anything is written; never echoed to stdout.
        const fd = openSync(o.passwordsOut, 'w', 0o600);
        try {
          chmodSync(o.passwordsOut, 0o600);
          writeSync(fd, 'User Name,Temporary Password\r\n');
          for (const [u, pw] of report.passwords) writeSync(fd, `${String(u.body.userPrincipalName)},${pw}\r\n`);
        } finally {
          closeSync(fd);
        }
      }
      const refused = new Set(report.problems.map((p) => p.line)).size;
      const value = { file, dryRun: Boolean(o.dryRun), imported: report.imported, refused, errors: report.problems };
      const failed = report.problems.length > 0;
      out(o.json, value, () => [
        ...report.problems.map(problemLine),
        o.dryRun ? (failed ? `dry run: ${refused} row(s) would be refused; fix them first` : `dry run: all ${report.users.length} row(s) would be imported`)
          : failed && report.imported === 0 ? `nothing imported: ${report.problems.length} problem(s) above; fix them and run again (or --continue-on-error)`
            : `imported ${report.imported} user(s)${failed ? `, ${report.problems.length} row(s) refused` : ''}${o.passwordsOut && report.passwords.length ? `; passwords in ${o.passwordsOut}` : ''}`,
      ].join('\n'));
      if (failed) process.exitCode = report.imported > 0 ? EXIT.partial : EXIT.failure;
    });

  common(program.command('export').description('write a tenant\'s users as CSV (the admin center\'s layout, plus userType and kind) or JSON (Graph user objects)'))
    .addOption(new Option('--format <format>', 'output format').choices(['csv', 'json']).default('csv'))
    .option('--out <file>', 'write here instead of stdout')
    .addOption(typeOption())
    .addOption(progressOption())
    .action(async (o: CommonOptions & { format: 'csv' | 'json'; out?: string; type: string; progress?: boolean }) => {
      if (o.json) o.format = 'json';
      const stream = o.out ? createWriteStream(o.out) : process.stdout;
      const write = async (s: string) => {
        if (!stream.write(s)) await once(stream, 'drain');
      };
      let n = 0;
      await withTenant(o.data, o.tenant, async (store, t) => {
        const bar = await progressBar('exporting', 0, { progress: o.progress !== false && Boolean(o.out) });
        try {
          await write(o.format === 'csv' ? exportCsvHeader(true) : '[');
          for await (const page of userPages(store, t.id, typeFilter(o.type))) {
            for (const u of page) {
              await write(o.format === 'csv' ? exportCsvRow(u, true) : `${n ? ',' : ''}\n  ${JSON.stringify({ ...u, kind: userKind(u) })}`);
              n++;
            }
            bar.update(n, n);
          }
          if (o.format === 'json') await write(n ? '\n]\n' : ']\n');
        } finally {
          bar.stop();
        }
      });
      if (o.out) {
        (stream as NodeJS.WritableStream).end();
        await once(stream, 'finish');
        process.stderr.write(`exported ${n} user(s) to ${o.out}\n`);
      }
    });
}
