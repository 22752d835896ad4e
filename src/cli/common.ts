// What every `openmto` command shares: the --data option, the one output layer (a --json document on
// stdout, or an aligned table / text), errors as one line on stderr with an exit code scripts can trust,
// progress bars on stderr, and opening the store of a data directory for the command's duration.
import { Option } from 'commander';
import { databaseUrlFor, defaultDataDir, isSqliteFile } from '../config.js';
import { secureDataDir } from '../datadir.js';
import { isDomainError } from '../domain/errors.js';
import { keyringFromEnv, useKeyring } from '../identity/keyring.js';
import { type TenantRecord, tenantsRepo } from '../store/repos/tenants.js';
import { openStore, type Store } from '../store/store.js';

export interface CommonOptions {
  tenant: string;
  json?: boolean;
  data: string;
}

/** Exit codes (docs/cli.md, `openmto --help`). */
export const EXIT = { ok: 0, failure: 1, usage: 2, partial: 3, notFound: 4 } as const;

export const EXIT_CODES_HELP = `
Exit codes:
  0  ok
  1  the operation failed (a domain error: refused, invalid value, conflict)
  2  usage error (unknown command or option, missing or malformed argument)
  3  partial: import --continue-on-error imported some rows and refused others
  4  not found (tenant, user, group, configuration or job)`;

/** An error a command raises on purpose: its code, exit code and a hint at what to do. */
export class CliError extends Error {
  constructor(readonly code: string, message: string, readonly exitCode: number = EXIT.failure, readonly hint?: string) {
    super(message);
    this.name = 'CliError';
  }
}

export const usageError = (message: string, hint?: string) => new CliError('UsageError', message, EXIT.usage, hint);
export const notFoundError = (message: string, hint?: string) => new CliError('NotFound', message, EXIT.notFound, hint);

/** The code, message, hint and exit code of anything a command threw. */
export function describeError(e: unknown): { code: string; message: string; hint?: string; exitCode: number } {
  if (e instanceof CliError) return { code: e.code, message: e.message, exitCode: e.exitCode, ...(e.hint ? { hint: e.hint } : {}) };
  if (isDomainError(e)) return { code: e.code, message: e.message, exitCode: e.kind === 'notFound' ? EXIT.notFound : EXIT.failure };
  return { code: 'Error', message: e instanceof Error ? e.message : String(e), exitCode: EXIT.failure };
}

/** Writes an error to stderr: `error: <code>: <message>` (and a hint), or with --json `{"error":{code,message}}`. */
export function reportError(e: unknown, json: boolean): number {
  const d = describeError(e);
  if (json) process.stderr.write(`${JSON.stringify({ error: { code: d.code, message: d.message, ...(d.hint ? { hint: d.hint } : {}) } })}\n`);
  else process.stderr.write(`error: ${d.code}: ${d.message}\n${d.hint ? `hint: ${d.hint}\n` : ''}`);
  return d.exitCode;
}

export const dataOption = () => new Option('--data <dir>', 'data directory').default(defaultDataDir());

/** With --json, exactly the JSON document on stdout; otherwise the text. */
export const out = (json: boolean | undefined, value: unknown, text: () => string) => {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text()}\n`);
};

export type Columns<T> = readonly (readonly [header: string, cell: (row: T) => unknown])[];

const cellText = (v: unknown): string => (v === null || v === undefined ? '-' : Array.isArray(v) ? v.join(', ') : String(v)).replace(/[\r\n\t]+/g, ' ');

/**
 * An aligned table: a header row, then one row per item; cells are padded to the widest (capped at `max`
 * characters, longer ones end in …). The last column is not padded. `empty` stands in for no rows.
 */
export function table<T>(rows: readonly T[], columns: Columns<T>, empty = '(none)', max = 60): string {
  if (rows.length === 0) return empty;
  const cells = rows.map((r) => columns.map(([, f]) => {
    const s = cellText(f(r));
    return s.length > max ? `${s.slice(0, max - 1)}…` : s;
  }));
  const widths = columns.map(([h], i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: readonly string[]) => c.map((s, i) => (i === c.length - 1 ? s : s.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(columns.map(([h]) => h.toUpperCase())), ...cells.map(line)].join('\n');
}

/** Key: value lines for one object (a `show` command's text). */
export function details(pairs: readonly (readonly [string, unknown])[]): string {
  const w = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${`${k}:`.padEnd(w + 2)}${cellText(v)}`).join('\n');
}

/** `--no-progress` for commands that show a progress bar. */
export const progressOption = () => new Option('--no-progress', 'no progress bar (it is drawn on stderr, and only when stderr is a terminal)');

export interface Progress {
  update(done: number, total?: number): void;
  stop(): void;
}

/**
 * A progress bar on stderr, only when stderr is a terminal and neither --json nor --no-progress was given:
 * stdout (and pipes, and scripts) never see it.
 */
export async function progressBar(label: string, total: number, o: { json?: boolean; progress?: boolean }): Promise<Progress> {
  if (o.json || o.progress === false || !process.stderr.isTTY) return { update() {}, stop() {} };
  const { default: cliProgress } = await import('cli-progress');
  const bar = new cliProgress.SingleBar({
    stream: process.stderr, format: `${label} [{bar}] {percentage}% {value}/{total}`, hideCursor: true, clearOnComplete: true,
  }, cliProgress.Presets.shades_classic);
  bar.start(total, 0);
  return {
    update(done, t) {
      if (t !== undefined) bar.setTotal(t);
      bar.update(done);
    },
    stop() {
      bar.stop();
    },
  };
}

export async function withStore<T>(dataDir: string, fn: (store: Store) => Promise<T>): Promise<T> {
  const url = databaseUrlFor(dataDir);
  secureDataDir(dataDir, isSqliteFile(url) ? url : undefined);
  const store = await openStore({ url });
  useKeyring(store, keyringFromEnv());
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** Opens the store and resolves a tenant named by id or domain. */
export function withTenant<T>(dataDir: string, tenantRef: string, fn: (store: Store, tenant: TenantRecord) => Promise<T>): Promise<T> {
  return withStore(dataDir, async (store) => {
    const t = await tenantsRepo.find(store.db, tenantRef);
    if (!t) throw notFoundError(`tenant '${tenantRef}' does not exist`, 'openmto tenant list shows the tenants (by id and domain)');
    return fn(store, t);
  });
}
