#!/usr/bin/env -S node --max-semi-space-size=64
// The larger young generation makes minor GCs rarer: they were the p99 of people search (4–5 ms → ~2 ms
// at 100k users, bench/). `npm start` passes the same flag.
// Runs the TypeScript sources directly (tsx), so `npm start` needs no build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
