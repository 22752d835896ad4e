// The `openmto` command: thin commands over the same use cases the HTTP API runs. Every command takes
// --data and works while a server is running on the same data (SQLite WAL, or PostgreSQL).
// `runCli(argv)` runs one command in process (bin/openmto.mjs, and tests without a process per command).
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { DEFAULT_PORT, databaseUrlFor, trustProxyFromEnv } from '../config.js';
import { systemClock } from '../domain/clock.js';
import { importUsers } from '../directory/import.js';
import { createApp, createTenant, deleteTenant } from '../identity/tenants.js';
import { tenantsRepo } from '../store/repos/tenants.js';
import { printBanner } from './banner.js';
import { dataOption, EXIT, EXIT_CODES_HELP, out, reportError, withStore, withTenant } from './common.js';
import { registerBackupCommands } from './backup.js';
import { registerDirectoryCommands } from './directory.js';
import { addExamples } from './examples.js';
import { registerInviteCommands } from './invite.js';
import { registerPolicyCommands } from './policy.js';
import { registerMtoCommands } from './mto.js';
import { registerSyncCommands } from './sync.js';
import { registerShareCommands } from './share.js';
import { registerReadinessCommands } from './readiness.js';

const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const port = (v: string) => {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > 65535) throw new InvalidArgumentError('A port is a number from 0 to 65535 (0 picks a free one).');
  return n;
};

/** Every command, on a fresh Command (commander keeps parsed values on it, so one per run). */
export function buildProgram(): Command {
  const program = new Command('openmto').description('Multi-tenant organization identity provisioning')
    .version(version, '-v, --version', 'print the version').showHelpAfterError();

  // `npx openmto --version` is answered by npx itself; `npx openmto version` reaches us.
  program.command('version').description('print the version').action(() => {
    process.stdout.write(`${version}\n`);
  });

  program
    .command('serve')
    .description('run the server (HTTPS on an embedded SQLite database unless OPENMTO_DATABASE_URL is set)')
    .addOption(dataOption())
    .option('--port <n>', 'port', port, process.env.OPENMTO_PORT ? port(process.env.OPENMTO_PORT) : DEFAULT_PORT)
    .option('--host <host>', 'address to listen on', process.env.OPENMTO_HOST ?? '127.0.0.1')
    .option('--no-demo', 'do not create the demo tenants')
    .option('--http', 'plain HTTP (the Microsoft client libraries require HTTPS)')
    .option('--log', 'request logging')
    .action(async (o: { data: string; port: number; host: string; demo: boolean; http?: boolean; log?: boolean }) => {
      const { startServer } = await import('../server.js');
      const started = Date.now();
      const trustProxy = trustProxyFromEnv();
      const server = await startServer({
        dataDir: o.data, databaseUrl: databaseUrlFor(o.data), port: o.port, host: o.host, http: Boolean(o.http), demo: o.demo, logger: Boolean(o.log),
        ...(trustProxy !== undefined ? { trustProxy } : {}),
      });
      let demo = null;
      if (o.demo) demo = await (await import('../demo.js')).ensureDemo(server.store, systemClock, o.data);
      printBanner(server, demo, Date.now() - started);
      stopOnSignals(server);
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

  const users = program.command('users').alias('user').description('users of a tenant: list, show, convert, import');
  registerDirectoryCommands(program, users);
  users
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
  registerBackupCommands(program);
  registerSyncCommands(program);
  registerShareCommands(program);
  registerReadinessCommands(program);
  addExamples(program);
  program.addHelpText('after', `
Examples:
  openmto serve
  openmto tenant list
  openmto import users.csv --tenant tenanta.openmto.test --dry-run
  openmto sync status --tenant tenanta.openmto.test --json
  openmto <command> --help
${EXIT_CODES_HELP}
Every command takes --json (one JSON document on stdout; errors as {"error":{code,message}} on stderr). docs/cli.md has them all.`);
  return program;
}

// In-flight requests get this long to finish after SIGTERM/SIGINT; a second signal stops at once.
const SHUTDOWN_GRACE_MS = 30_000;

function stopOnSignals(server: { close(): Promise<void> }): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      process.stderr.write(`openmto: ${signal} again, stopping now\n`);
      process.exit(1);
    }
    stopping = true;
    process.stdout.write(`openmto: ${signal} received, finishing in-flight requests and stopping\n`);
    setTimeout(() => {
      process.stderr.write(`openmto: requests still running after ${SHUTDOWN_GRACE_MS / 1000} s, stopping anyway\n`);
      process.exit(1);
    }, SHUTDOWN_GRACE_MS).unref();
    server.close().then(
      () => {
        process.stdout.write('openmto: stopped\n');
        process.exit(0);
      },
      (e: unknown) => {
        process.stderr.write(`openmto: error while stopping: ${e instanceof Error ? e.message : String(e)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `openmto <argv…>` in this process and returns its exit code. With `capture`, what the command
 * writes to stdout and stderr is collected and returned instead (tests); run one at a time then.
 */
export async function runCli(argv: readonly string[], options: { capture?: boolean } = {}): Promise<CliResult> {
  const captured = { stdout: '', stderr: '' };
  const restore = options.capture ? captureOutput(captured) : () => {};
  const before = process.exitCode;
  process.exitCode = undefined;
  let code = 0;
  try {
    const program = buildProgram();
    // Errors and --help/--version throw instead of exiting the process, at every level of subcommand.
    const override = (c: Command): void => {
      c.exitOverride();
      c.commands.forEach(override);
    };
    override(program);
    await program.parseAsync([...argv], { from: 'user' });
    code = Number(process.exitCode ?? 0);
  } catch (e) {
    if (e instanceof CommanderError) {
      // Commander has printed its message (and help after an error); --help and --version exit 0, the
      // rest are usage errors.
      code = e.exitCode === 0 || e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? EXIT.ok : EXIT.usage;
    } else {
      code = reportError(e, argv.includes('--json'));
    }
  } finally {
    restore();
    process.exitCode = before;
  }
  return { code, ...captured };
}

function captureOutput(into: { stdout: string; stderr: string }): () => void {
  const out = process.stdout.write;
  const err = process.stderr.write;
  // Commands write text; binary chunks are someone else's (node --test reports to its parent through this
  // process's stdout as serialized buffers) and pass through untouched.
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    if (typeof chunk !== 'string') return (out as (...a: unknown[]) => boolean).call(process.stdout, chunk, ...rest);
    into.stdout += chunk;
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    if (typeof chunk !== 'string') return (err as (...a: unknown[]) => boolean).call(process.stderr, chunk, ...rest);
    into.stderr += chunk;
    return true;
  }) as typeof process.stderr.write;
  return () => {
    process.stdout.write = out;
    process.stderr.write = err;
  };
}
