#!/usr/bin/env -S node --max-semi-space-size=64
// The larger young generation makes minor GCs rarer: they were the p99 of people search (4–5 ms → ~2 ms
// at 100k users, bench/). `npm start` passes the same flag.
// Runs the compiled JavaScript in dist/ (built by `npm install` and `npm run build`); when dist/ is
// missing or older than a source file (a checkout being edited), runs the TypeScript sources through tsx.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(p) : statSync(p).mtimeMs);
  }
  return newest;
}

function compiled() {
  const stamp = join(root, 'dist', '.built');
  if (!existsSync(stamp)) return false;
  const src = join(root, 'src');
  return !existsSync(src) || newestSource(src) <= statSync(stamp).mtimeMs;
}

let main;
if (process.env.OPENMTO_FROM_SOURCE !== '1' && compiled()) {
  main = await import('../dist/cli/main.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  main = await import('../src/cli/main.ts');
}
const { code } = await main.runCli(process.argv.slice(2));
// A server keeps running; a failed command exits at once with its code.
if (code) process.exit(code);
