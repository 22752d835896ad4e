// The `openmto` command: thin commands over the same use cases the HTTP API runs. Every command takes
// --data and works while a server is running on the same data (SQLite WAL, or PostgreSQL).
import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { DEFAULT_PORT, databaseUrlFor } from '../config.js';
import { systemClock } from '../domain/clock.js';
import { isDomainError } from '../domain/errors.js';
import { importUsers } from '../directory/import.js';
import { createApp, createTenant, deleteTenant } from '../identity/tenants.js';
import { tenantsRepo } from '../store/repos/tenants.js';
import { printBanner } from './banner.js';
import { dataOption, out, withStore, withTenant } from './common.js';
import { registerInviteCommands } from './invite.js';
import { registerPolicyCommands } from './policy.js';
import { registerMtoCommands } from './mto.js';

const program = new Command('openmto').description('Multi-tenant organization identity provisioning').showHelpAfterError();

program
  .command('serve')
  .description('run the server (HTTPS on an embedded SQLite database unless OPENMTO_DATABASE_URL is set)')
  .addOption(dataOption())
  .option('--port <n>', 'port', (v) => Number.parseInt(v, 10), Number(process.env.OPENMTO_PORT ?? DEFAULT_PORT))
  .option('--host <host>', 'address to listen on', process.env.OPENMTO_HOST ?? '127.0.0.1')
  .option('--no-demo', 'do not create the demo tenants')
  .option('--http', 'plain HTTP (the Microsoft client libraries require HTTPS)')
  .option('--log', 'request logging')
  .action(async (o: { data: string; port: number; host: string; demo: boolean; http?: boolean; log?: boolean }) => {
    const { startServer } = await import('../server.js');
    const started = Date.now();
    const server = await startServer({
      dataDir: o.data, databaseUrl: databaseUrlFor(o.data), port: o.port, host: o.host, http: Boolean(o.http), demo: o.demo, logger: Boolean(o.log),
    });
    let demo = null;
    if (o.demo) demo = await (await import('../demo.js')).ensureDemo(server.store, systemClock, o.data);
    printBanner(server, demo, Date.now() - started);
    const stop = async () => {
      await server.close();
      process.exit(0);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });

const tenant = program.command('tenant').description('tenants hosted by this server');
tenant
  .command('create')
  .requiredOption('--name <name>', 'display name')
  .option('--domain <domain>', 'initial domain (default: <name>.openmto.test)')
  .option('--json', 'JSON output')
  .addOption(dataOption())
  .action(async (o: { name: string; domain?: string; json?: boolean; data: string }) => {
    const created = await withStore(o.data, (s) => createTenant(s, systemClock, { name: o.name, ...(o.domain ? { domain: o.domain } : {}) }));
    out(Boolean(o.json), created, () =>
      `tenant ${created.tenantId} (${created.domain})\nadmin app: ${created.adminApp.clientId}\nsecret:    ${created.adminApp.clientSecret}`);
  });
tenant
  .command('list')
  .option('--json', 'JSON output')
  .addOption(dataOption())
  .action(async (o: { json?: boolean; data: string }) => {
    const list = await withStore(o.data, (s) => tenantsRepo.list(s.db));
    const value = list.map((t) => ({ tenantId: t.id, displayName: t.displayName, domain: t.domain, createdDateTime: t.createdDateTime }));
    out(Boolean(o.json), value, () => value.map((t) => `${t.tenantId}  ${t.domain}  ${t.displayName}`).join('\n') || '(no tenants)');
  });
tenant
  .command('delete <tenant>')
  .description('delete a tenant (id or domain) and everything in it')
  .option('--json', 'JSON output')
  .addOption(dataOption())
  .action(async (ref: string, o: { json?: boolean; data: string }) => {
    await withStore(o.data, (s) => deleteTenant(s, ref));
    out(Boolean(o.json), { deleted: ref }, () => `deleted ${ref}`);
  });

program
  .command('app')
  .description('app registrations')
  .command('create')
  .requiredOption('--tenant <tenant>', 'tenant id or domain')
  .requiredOption('--name <name>', 'display name')
  .option('--permission <permission...>', 'application permissions, e.g. User.Read.All', [])
  .option('--public', 'a public client (no secret; for the password grant)')
  .option('--json', 'JSON output')
  .addOption(dataOption())
  .action(async (o: { tenant: string; name: string; permission: string[]; public?: boolean; json?: boolean; data: string }) => {
    const created = await withTenant(o.data, o.tenant, (s, t) =>
      createApp(s, systemClock, t.id, { name: o.name, permissions: o.permission, publicClient: Boolean(o.public) }));
    out(Boolean(o.json), created, () => `app ${created.clientId}${created.clientSecret ? `\nsecret: ${created.clientSecret}` : ''}`);
  });

program
  .command('user')
  .description('users')
  .command('import')
  .description('bulk import users from a JSON Lines file of Graph user bodies')
  .requiredOption('--tenant <tenant>', 'tenant id or domain')
  .requiredOption('--file <path>', 'JSON Lines file')
  .option('--json', 'JSON output')
  .addOption(dataOption())
  .action(async (o: { tenant: string; file: string; json?: boolean; data: string }) => {
    const lines = (await readFile(o.file, 'utf8')).split('\n').filter((l) => l.trim());
    const items = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const started = Date.now();
    const result = await withTenant(o.data, o.tenant, (s, t) => importUsers({ store: s, clock: systemClock }, t.id, items));
    const seconds = (Date.now() - started) / 1000;
    out(Boolean(o.json), { ...result, seconds }, () => `imported ${result.imported}, failed ${result.failed.length} in ${seconds.toFixed(1)} s`);
  });

registerPolicyCommands(program);
registerMtoCommands(program);
registerInviteCommands(program);

program.parseAsync().catch((e: unknown) => {
  const message = isDomainError(e) ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e);
  process.stderr.write(`openmto: ${message}\n`);
  process.exit(1);
});
