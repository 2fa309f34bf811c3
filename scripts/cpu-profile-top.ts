// Top self-time entries of a V8 .cpuprofile (what `node --cpu-prof` writes), by function and file.
// Self time of a sample is the gap to the next one (timeDeltas), charged to the frame on top.
// Run alone: node --import tsx scripts/cpu-profile-top.ts file.cpuprofile [count]
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileEntry {
  name: string;
  where: string;
  selfMs: number;
  share: number;
}

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

/** `(program)`, `(garbage collector)` and `(idle)` are V8's own frames; files are shown relative to the repo. */
function location(frame: ProfileNode['callFrame']): string {
  if (!frame.url) return '';
  const file = frame.url.startsWith('file://') ? fileURLToPath(frame.url) : frame.url;
  const shown = file.startsWith(root) ? path.relative(root, file) : file;
  return `${shown}:${frame.lineNumber + 1}`;
}

export function topSelfTime(profile: CpuProfile, count: number): { entries: ProfileEntry[]; totalMs: number; idleMs: number } {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<string, { name: string; where: string; us: number }>();
  let totalUs = 0;
  let idleUs = 0;
  profile.samples.forEach((id, index) => {
    // timeDeltas[i] is the time before sample i; the time a sample stands for is the next delta.
    const us = profile.timeDeltas[index + 1] ?? 0;
    const frame = byId.get(id)?.callFrame;
    if (!frame) return;
    if (frame.functionName === '(idle)') {
      idleUs += us;
      return;
    }
    totalUs += us;
    const name = frame.functionName || '(anonymous)';
    const where = location(frame);
    const key = `${name}\u0000${where}`;
    const entry = selfUs.get(key) ?? { name, where, us: 0 };
    entry.us += us;
    selfUs.set(key, entry);
  });
  const entries = [...selfUs.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, count)
    .map(({ name, where, us }) => ({ name, where, selfMs: us / 1000, share: totalUs === 0 ? 0 : us / totalUs }));
  return { entries, totalMs: totalUs / 1000, idleMs: idleUs / 1000 };
}

export function formatTop(file: string, count: number): string {
  const { entries, totalMs, idleMs } = topSelfTime(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, count);
  const lines = entries.map(
    (entry) => `  ${entry.selfMs.toFixed(0).padStart(6)} ms ${(entry.share * 100).toFixed(1).padStart(5)}%  ${entry.name}  ${entry.where}`,
  );
  return [`  busy ${totalMs.toFixed(0)} ms, idle ${idleMs.toFixed(0)} ms; top ${entries.length} by self time:`, ...lines].join('\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [file, count] = process.argv.slice(2);
  if (!file) {
    console.error('usage: cpu-profile-top.ts file.cpuprofile [count]');
    process.exit(2);
  }
  console.log(formatTop(file, Number(count ?? 25)));
}
