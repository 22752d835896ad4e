// Secrets at rest: the data folder and its files are private whoever made the folder, keys at rest are
// wrapped by a key encryption key kept outside the database (and rewrapped on rotation), and one server
// holds a SQLite data folder at a time.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import pg from 'pg';
import { systemClock } from '../../src/domain/clock.js';
import { ensureDemo } from '../../src/demo.js';
import { type Keyring, kekFrom, secretSetting } from '../../src/identity/keyring.js';
import { serverRepo } from '../../src/store/repos/server.js';
import { startServer } from '../../src/server.js';
import { dialects, fixtureTls } from '../helpers/harness.js';

const dirs: string[] = [];
const tempDir = (prefix: string) => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
};
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const mode = (p: string) => statSync(p).mode & 0o777;
const serve = (dataDir: string, extra: Record<string, unknown> = {}) =>
  startServer({ dataDir, databaseUrl: join(dataDir, 'openmto.db'), port: 0, host: '127.0.0.1', http: true, demo: false, ...extra });

describe('data folder permissions', () => {
  test('an existing 0755 folder and 0644 files are made 0700 and 0600; new SQLite, WAL and key files are private', async () => {
    const dir = join(tempDir('openmto-perm-'), 'data');
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    mkdirSync(join(dir, 'tls'));
    cpSync(fixtureTls, join(dir, 'tls'), { recursive: true });
    chmodSync(join(dir, 'tls'), 0o755);
    chmodSync(join(dir, 'tls', 'key.pem'), 0o644);
    writeFileSync(join(dir, 'operator.key'), 'omk_old\n', { mode: 0o644 });
    const server = await serve(dir, { http: false });
    try {
      await ensureDemo(server.store, systemClock, dir);
      assert.equal(mode(dir), 0o700);
      assert.equal(mode(join(dir, 'tls')), 0o700);
      for (const f of ['openmto.db', 'openmto.db-wal', 'openmto.db-shm', 'operator.key', 'demo.json', 'openmto.lock', 'tls/key.pem']) {
        assert.equal(mode(join(dir, f)).toString(8), '600', f);
      }
    } finally {
      await server.close();
    }
  });
});

describe('one server per SQLite data folder', () => {
  test('a second server is refused with the pid of the first; a stale lock is taken over; a stopped server releases it', async () => {
    const dir = tempDir('openmto-lock-');
    const first = await serve(dir);
    try {
      await assert.rejects(serve(dir), (e: Error) => {
        assert.match(e.message, new RegExp(`another openmto server \\(pid ${process.pid}\\) is using the data folder`));
        assert.match(e.message, /--data DIR/);
        return true;
      });
    } finally {
      await first.close();
    }
    // A process that has exited leaves a stale lock behind (as after SIGKILL).
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(join(dir, 'openmto.lock'), `${gone.stdout} ${(await import('node:os')).hostname()}\n`);
    const again = await serve(dir);
    assert.match(readFileSync(join(dir, 'openmto.lock'), 'utf8'), new RegExp(`^${process.pid} `));
    await again.close();
    assert.throws(() => statSync(join(dir, 'openmto.lock')));
  });

  if (dialects().includes('postgres')) {
    test('on PostgreSQL several servers run on one database (and one data folder)', async () => {
      const dir = tempDir('openmto-pg2-');
      const schema = `lk_${randomBytes(5).toString('hex')}`;
      const opts = { databaseUrl: String(process.env.OPENMTO_TEST_PG), schema };
      const a = await serve(dir, opts);
      const b = await serve(dir, opts);
      await b.close();
      await a.close();
      const c = new pg.Client({ connectionString: process.env.OPENMTO_TEST_PG });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await c.end();
    });
  }
});

for (const dialect of dialects()) {
  describe(`keys at rest wrapped by a key encryption key (${dialect})`, () => {
    const kek1 = kekFrom(randomBytes(32).toString('hex'), 'test');
    const kek2 = kekFrom(randomBytes(32).toString('base64'), 'test');
    const schema = `kek_${randomBytes(5).toString('hex')}`;
    const dir = tempDir('openmto-kek-');
    const db = dialect === 'postgres' ? { databaseUrl: String(process.env.OPENMTO_TEST_PG), schema } : {};
    const withRing = (ring: Keyring) => serve(dir, { ...db, keyring: ring });
    after(async () => {
      if (dialect !== 'postgres') return;
      const c = new pg.Client({ connectionString: process.env.OPENMTO_TEST_PG });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await c.end();
    });

    test('plain keys are wrapped at start, rotation rewraps them (the same key), a missing KEK or a tampered value stops the server', async () => {
      // First start without a KEK: the keys are stored as they are.
      let s = await withRing({ current: null, previous: [] });
      const state = await secretSetting(s.store, 'b2b.redemptionStateKey', () => 'state-key-material');
      const [plain] = await serverRepo.keys(s.store.db);
      assert.match(plain!.private_jwk, /^\{/);
      await s.close();

      s = await withRing({ current: kek1, previous: [] });
      const [wrapped] = await serverRepo.keys(s.store.db);
      assert.ok(wrapped!.private_jwk.startsWith(`kek1.${kek1.id}.`));
      assert.equal(wrapped!.kid, plain!.kid);
      assert.equal(JSON.parse(wrapped!.public_jwk).n, JSON.parse(plain!.public_jwk).n);
      assert.equal(await secretSetting(s.store, 'b2b.redemptionStateKey', () => 'unused'), state);
      assert.ok((await serverRepo.setting(s.store.db, 'b2b.redemptionStateKey'))!.startsWith(`kek1.${kek1.id}.`));
      if (dialect === 'sqlite') {
        // The private exponent is nowhere in the file (nor its WAL) any more once SQLite checkpoints.
        await s.close();
        const d = JSON.parse(plain!.private_jwk).d as string;
        for (const f of ['openmto.db', 'openmto.db-wal']) {
          try {
            assert.equal(readFileSync(join(dir, f)).includes(d), false, f);
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
          }
        }
        s = await withRing({ current: kek1, previous: [] });
      }
      await s.close();

      await assert.rejects(withRing({ current: null, previous: [] }), new RegExp(`key encryption key ${kek1.id}, which is not configured`));
      await assert.rejects(withRing({ current: kek2, previous: [] }), /not configured/);

      // Rotation: the new KEK current, the old one previous.
      s = await withRing({ current: kek2, previous: [kek1] });
      assert.ok((await serverRepo.keys(s.store.db))[0]!.private_jwk.startsWith(`kek1.${kek2.id}.`));
      assert.equal(await secretSetting(s.store, 'b2b.redemptionStateKey', () => 'unused'), state);
      await s.close();
      s = await withRing({ current: kek2, previous: [] });
      assert.equal(await secretSetting(s.store, 'b2b.redemptionStateKey', () => 'unused'), state);
      await s.close();

      // A tampered value is refused, not used.
      s = await withRing({ current: kek2, previous: [] });
      const row = (await serverRepo.keys(s.store.db))[0]!;
      const flipped = `${row.private_jwk.slice(0, -2)}${row.private_jwk.endsWith('A') ? 'B' : 'A'}${row.private_jwk.slice(-1)}`;
      await serverRepo.setPrivateKey(s.store.db, row.kid, flipped);
      await s.close();
      await assert.rejects(withRing({ current: kek2, previous: [] }), /altered or the key is wrong/);
    });
  });
}
