// Summarises a V8 .cpuprofile (from `node --cpu-prof`): the top functions by self time
// and by total (inclusive) time, and self time per source file.
//
//   node --cpu-prof --cpu-prof-dir=/tmp/prof dist/cli.js run urls.txt …
//   node bench/cpu-profile.mjs /tmp/prof/CPU.*.cpuprofile [--top 30]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '30' } },
});
const top = Number(values.top);

for (const path of positionals) {
  const profile = JSON.parse(readFileSync(path, 'utf8'));
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  // Sample counts per node, weighted by the time deltas between samples.
  const selfUs = new Map();
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const totalUs = profile.endTime - profile.startTime;

  const label = (n) => {
    const f = n.callFrame;
    const file = f.url ? f.url.replace(/^.*\/(node_modules\/)?/, '$1') : '';
    return `${f.functionName || '(anonymous)'} ${file}:${f.lineNumber + 1}`;
  };
  const fileOf = (n) => {
    const url = n.callFrame.url;
    if (!url) return `(${n.callFrame.functionName || 'native'})`;
    const m = /node_modules\/([^/]+(?:\/[^/]+)?)/.exec(url);
    if (m && !m[1].startsWith('@')) return `npm:${m[1].split('/')[0]}`;
    if (m) return `npm:${m[1]}`;
    return url.replace(/^.*\//, '');
  };

  const bySelf = new Map();
  const byFile = new Map();
  const byTotal = new Map();
  for (const [id, us] of selfUs) {
    const n = nodes.get(id);
    const key = label(n);
    bySelf.set(key, (bySelf.get(key) ?? 0) + us);
    byFile.set(fileOf(n), (byFile.get(fileOf(n)) ?? 0) + us);
    // Inclusive: credit every distinct function on the stack once.
    const seen = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const k = label(nodes.get(at));
      if (seen.has(k)) continue;
      seen.add(k);
      byTotal.set(k, (byTotal.get(k) ?? 0) + us);
    }
  }
  const print = (title, map) => {
    console.log(`\n${title}`);
    for (const [k, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      console.log(
        `${((us / totalUs) * 100).toFixed(1).padStart(6)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`,
      );
    }
  };
  console.log(`${path}: ${(totalUs / 1000).toFixed(0)} ms profiled`);
  print('self time by function', bySelf);
  print('self time by file', byFile);
  print('total time by function', byTotal);
}
