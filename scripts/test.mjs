// `npm test`: every test/**/*.test.ts file with node's test runner (via tsx), trusting the committed
// test-only certificate so the Microsoft client libraries accept the HTTPS test servers. Suites run on
// SQLite, and on PostgreSQL too when OPENMTO_TEST_PG is set (CI sets it).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const only = process.argv.slice(2);

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.test.ts') ? [p] : [];
  });
}

const files = walk(join(root, 'test'))
  .map((f) => relative(root, f))
  .filter((f) => !only.length || only.some((o) => f.includes(o)))
  .sort();
if (!files.length) {
  console.error('no test files matched');
  process.exit(1);
}
console.log(`# ${files.length} test files; PostgreSQL: ${process.env.OPENMTO_TEST_PG ? 'on' : 'off (set OPENMTO_TEST_PG=postgres://… to add it)'}`);
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...files], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, NODE_EXTRA_CA_CERTS: join(root, 'test/fixtures/tls/cert.pem') },
});
process.exit(result.status ?? 1);
