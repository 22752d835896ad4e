// `openmto backup` / `restore` and `--version`, in process through runCli. A backup taken while a server
// writes is one consistent state; restored into a fresh folder it holds exactly what the source held.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { runCli } from '../../src/cli/main.js';
import { startServer } from '../../src/server.js';

const version = (JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;

/** Every table's rows, in a stable order: two databases with equal dumps hold the same data. */
function dump(file: string): Record<string, unknown[]> {
  const db = new Database(file, { readonly: true });
  try {
    const tables = db.prepare("select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name").all() as { name: string }[];
    return Object.fromEntries(tables.map(({ name }) => [name, db.prepare(`select * from "${name}" order by 1, 2`).raw().all()]));
  } finally {
    db.close();
  }
}

describe('openmto --version', () => {
  test('prints the package version, as a flag and as a command', async () => {
    for (const argv of [['--version'], ['-v'], ['version']]) {
      const r = await runCli(argv, { capture: true });
      assert.equal(r.code, 0);
      assert.equal(r.stdout, `${version}\n`);
    }
  });
});

describe('openmto backup and restore', () => {
  let dir: string;
  const saved = process.env.OPENMTO_DATABASE_URL;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'openmto-backup-'));
    process.env.OPENMTO_DATABASE_URL = '';
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    if (saved === undefined) delete process.env.OPENMTO_DATABASE_URL;
    else process.env.OPENMTO_DATABASE_URL = saved;
  });

  test('a backup taken while the server runs restores into a fresh folder with the same rows', async () => {
    const source = join(dir, 'source');
    const server = await startServer({ dataDir: source, databaseUrl: join(source, 'openmto.db'), port: 0, host: '127.0.0.1', http: true, demo: false });
    const file = join(dir, 'backup.db');
    try {
      for (const name of ['Fabrikam', 'Contoso']) assert.equal((await runCli(['tenant', 'create', '--name', name, '--data', source], { capture: true })).code, 0);
      const r = await runCli(['backup', file, '--data', source, '--json'], { capture: true });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout).file, file);
      assert.equal(statSync(file).mode & 0o777, 0o600);
      // Restoring over a folder a server runs on is refused.
      const busy = await runCli(['restore', file, '--data', source, '--force'], { capture: true });
      assert.equal(busy.code, 1);
      assert.match(busy.stderr, new RegExp(`an openmto server \\(pid ${process.pid}\\) is running on`));
    } finally {
      await server.close();
    }
    const fresh = join(dir, 'fresh');
    const restored = await runCli(['restore', file, '--data', fresh], { capture: true });
    assert.equal(restored.code, 0, restored.stderr);
    assert.deepEqual(dump(join(fresh, 'openmto.db')), dump(join(source, 'openmto.db')));
    assert.equal(statSync(join(fresh, 'openmto.db')).mode & 0o777, 0o600);
    const listed = await runCli(['tenant', 'list', '--json', '--data', fresh], { capture: true });
    assert.deepEqual(JSON.parse(listed.stdout).map((t: { displayName: string }) => t.displayName).sort(), ['Contoso', 'Fabrikam']);
    // An existing database is replaced only with --force.
    const again = await runCli(['restore', file, '--data', fresh], { capture: true });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /exists; pass --force/);
    assert.equal((await runCli(['restore', file, '--data', fresh, '--force'], { capture: true })).code, 0);
  });

  test('a file that is not an openmto database is refused; so is a backup over an existing file', async () => {
    const junk = join(dir, 'junk.db');
    writeFileSync(junk, 'not a database');
    const r = await runCli(['restore', junk, '--data', join(dir, 'other')], { capture: true });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /is not a usable openmto backup/);
    const b = await runCli(['backup', junk, '--data', join(dir, 'source')], { capture: true });
    assert.equal(b.code, 1);
    assert.match(b.stderr, /exists; choose a new file/);
  });

  test('on PostgreSQL the commands point at pg_dump and pg_restore', async () => {
    process.env.OPENMTO_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';
    try {
      const r = await runCli(['backup', join(dir, 'pg.dump'), '--data', dir], { capture: true });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /pg_dump -Fc/);
    } finally {
      process.env.OPENMTO_DATABASE_URL = '';
    }
  });
});
