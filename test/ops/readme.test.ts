// The README as a newcomer runs it: every ```sh block, in order, in one bash session, in a fresh folder
// that has the `openmto` command linked as `npm install` links it (so `npx openmto` resolves as in a
// clone). Two things differ from a newcomer's terminal, and only these: the long-running `npm …` lines
// (install, start, test) are skipped and the server `npm start` would run is started in process on the
// folder's .openmto with the demo, as `npm start` does; and it listens on a free port, which replaces
// 8443 in the commands.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { systemClock } from '../../src/domain/clock.js';
import { ensureDemo } from '../../src/demo.js';
import { startServer } from '../../src/server.js';

const root = join(import.meta.dirname, '..', '..');

/** The ```sh blocks of the README, in order. */
export function shellBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

/** A newcomer's environment: none of openmto's variables, nothing trusted yet, npx never downloads. */
function newcomer(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, npm_config_yes: 'false' };
  for (const k of Object.keys(env)) if (k.startsWith('OPENMTO_') || k === 'NODE_EXTRA_CA_CERTS') delete env[k];
  return env;
}

test('the README\'s shell commands run as written, in order, against a fresh server', async () => {
  const blocks = shellBlocks(readFileSync(join(root, 'README.md'), 'utf8'));
  assert.ok(blocks.length >= 5, 'the walkthrough has its shell blocks');
  const dir = mkdtempSync(join(tmpdir(), 'openmto-readme-'));
  mkdirSync(join(dir, 'node_modules', '.bin'), { recursive: true });
  symlinkSync(join(root, 'bin', 'openmto.mjs'), join(dir, 'node_modules', '.bin', 'openmto'));
  writeFileSync(join(dir, 'package.json'), '{"name":"readme-walkthrough","private":true}\n');
  const dataDir = join(dir, '.openmto');
  const server = await startServer({ dataDir, databaseUrl: join(dataDir, 'openmto.db'), port: 0, host: '127.0.0.1', http: false, demo: true });
  try {
    await ensureDemo(server.store, systemClock, dataDir);
    const port = new URL(server.url).port;
    const script = blocks.join('\n')
      .split('\n').filter((line) => !/^npm /.test(line)).join('\n')
      .replaceAll('127.0.0.1:8443', `127.0.0.1:${port}`);
    // -e: the first failing command fails the test; each command is echoed, so the failure names it.
    // Asynchronously: the server answering the commands runs on this thread.
    const child = spawn('bash', ['-exo', 'pipefail', '-c', script], {
      cwd: dir, timeout: 240_000,
      env: newcomer(),
    });
    const r = { stdout: '', stderr: '' };
    child.stdout.on('data', (c) => {
      r.stdout += String(c);
    });
    child.stderr.on('data', (c) => {
      r.stderr += String(c);
    });
    const [status] = await once(child, 'exit');
    assert.equal(status, 0, `${r.stderr}\n${r.stdout}`);
    // What the walkthrough claims: users listed, Annie's /me, three active tenants, a redeem URL.
    assert.match(r.stdout, /"userPrincipalName":"annie@tenanta\.openmto\.test"/);
    assert.match(r.stdout, /"@odata\.context":"[^"]*\$metadata#users\/\$entity"[^\n]*annie@tenanta/);
    // The last listing is `mto show`'s, after both joins.
    const shown = [...r.stdout.matchAll(/^Contoso \([^)]+\)\n((?: {2}\S+ .*\n){3})/gm)].at(-1);
    assert.ok(shown, r.stdout);
    assert.equal(shown[1]!.match(/ active /g)?.length, 3, shown[1]);
    assert.match(r.stdout, /redeem URL: https:\/\/127\.0\.0\.1:\d+\/redeem\?/);
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
