// In-process CPU profile of one async section (node:inspector), summarized by self time per function and
// per source file, so the report can say where an import spends its time without opening DevTools.
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { relative } from 'node:path';
import { repoRoot, round } from './env.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  topFunctions: { name: string; where: string; selfMs: number; pct: number }[];
  topFiles: { where: string; selfMs: number; pct: number }[];
}

export async function profiled<T>(file: string, fn: () => Promise<T>): Promise<{ value: T; summary: ProfileSummary }> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  // 1 ms sampling: fine enough for a multi-second import, cheap enough not to distort it much.
  await session.post('Profiler.setSamplingInterval', { interval: 1000 });
  await session.post('Profiler.start');
  let value: T;
  let summary: ProfileSummary | undefined;
  try {
    value = await fn();
  } finally {
    const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: Profile };
    session.disconnect();
    writeFileSync(file, JSON.stringify(profile));
    summary = summarize(file, profile);
  }
  return { value, summary: summary as ProfileSummary };
}

const shortUrl = (url: string) => {
  if (!url) return '(native)';
  const path = url.replace(/^file:\/\//, '');
  const rel = relative(repoRoot, path);
  return rel.startsWith('..') ? path : rel;
};

/** Summary of a profile another process wrote (`node --cpu-prof`). */
export function summarizeFile(file: string): ProfileSummary {
  return summarize(file, JSON.parse(readFileSync(file, 'utf8')) as Profile);
}

function summarize(file: string, p: Profile): ProfileSummary {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  p.samples.forEach((id, k) => {
    self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[k] ?? 0));
  });
  const fnTotals = new Map<string, { name: string; where: string; us: number }>();
  const fileTotals = new Map<string, number>();
  let total = 0;
  for (const [id, us] of self) {
    const n = byId.get(id);
    if (!n) continue;
    total += us;
    // tsx-transformed sources report line 1 for everything; a line is only shown where it means something.
    const line = n.callFrame.lineNumber > 0 ? `:${n.callFrame.lineNumber + 1}` : '';
    const where = `${shortUrl(n.callFrame.url)}${n.callFrame.url ? line : ''}`;
    const name = n.callFrame.functionName || '(anonymous)';
    const key = `${name}@${where}`;
    const e = fnTotals.get(key) ?? { name, where, us: 0 };
    e.us += us;
    fnTotals.set(key, e);
    // node_modules grouped by package, our files by path: the level at which a fix would be made.
    const f = shortUrl(n.callFrame.url).replace(/^.*node_modules\/((@[^/]+\/)?[^/]+).*$/, 'node_modules/$1');
    const fileKey = n.callFrame.url ? f : name.startsWith('(') ? name : '(native)';
    fileTotals.set(fileKey, (fileTotals.get(fileKey) ?? 0) + us);
  }
  const pctOf = (us: number) => round((100 * us) / Math.max(total, 1), 1);
  return {
    file: relative(repoRoot, file),
    totalMs: Math.round(total / 1000),
    topFunctions: [...fnTotals.values()].sort((a, b) => b.us - a.us).slice(0, 15)
      .map((e) => ({ name: e.name, where: e.where, selfMs: Math.round(e.us / 1000), pct: pctOf(e.us) })),
    topFiles: [...fileTotals.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12)
      .map(([where, us]) => ({ where, selfMs: Math.round(us / 1000), pct: pctOf(us) })),
  };
}
