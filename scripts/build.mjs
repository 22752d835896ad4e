// `npm run build`: compiles src/ to dist/ (what bin/openmto.mjs runs in production) and stamps it. Also
// run by `npm install` (prepare) with --if-possible: where TypeScript is not installed or the sources do
// not compile, it says so and leaves dist/ unstamped, and bin/ runs the sources through tsx instead.
// It also links bin/openmto.mjs into node_modules/.bin, so `npx openmto …` works in a fresh clone.
// The web console (web/) is built with Vite into dist/console, also when the server's TypeScript fails.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const ifPossible = process.argv.includes('--if-possible');

const bin = join(root, 'node_modules', '.bin');
const link = join(bin, 'openmto');
if (existsSync(join(root, 'node_modules')) && !existsSync(link)) {
  mkdirSync(bin, { recursive: true });
  try {
    symlinkSync(join('..', '..', 'bin', 'openmto.mjs'), link);
  } catch (e) {
    console.warn(`openmto: could not link ${link}: ${e.message}`);
  }
}

const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
let consoleFailed = false;
const give = (message) => {
  console.warn(`openmto: ${message}; bin/openmto.mjs will run the TypeScript sources (tsx) instead of dist/`);
  process.exit(ifPossible ? 0 : 1);
};

/** Vite builds web/ into dist/console (src/api/console.ts serves it); without Vite the server says so at `/`. */
function buildConsole() {
  const vite = join(root, 'node_modules', 'vite', 'bin', 'vite.js');
  if (!existsSync(vite)) {
    console.warn('openmto: Vite is not installed (dev dependencies), so the web console was not built');
    consoleFailed = true;
    return;
  }
  const v = spawnSync(process.execPath, [vite, 'build', '--config', join(root, 'web', 'vite.config.mjs')], { cwd: root, stdio: 'inherit' });
  if (v.status !== 0) {
    console.warn('openmto: the web console did not build');
    consoleFailed = true;
  }
}

if (!existsSync(tsc)) {
  buildConsole();
  give('TypeScript is not installed, so dist/ was not built');
}
rmSync(join(root, 'dist'), { recursive: true, force: true });
buildConsole();
const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
if (r.status !== 0) give('dist/ did not compile cleanly');
writeFileSync(join(root, 'dist', '.built'), `${new Date().toISOString()}\n`);
if (consoleFailed && !ifPossible) process.exit(1);
