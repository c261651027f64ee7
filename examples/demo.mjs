// `npm run demo`: serves the demo site on 127.0.0.1 and runs the real `fanout run` on it.
// Loopback is blocked by default; this example lifts the block for 127.0.0.1 only (--allow).
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoList, startDemoSite } from './demo-site.mjs';

const site = await startDemoSite();
const dir = await mkdtemp(join(tmpdir(), 'fanout-demo-'));
const list = join(dir, 'demo-urls.txt');
await writeFile(list, demoList(site.origin));
console.error(`demo site on ${site.origin}; URL list at ${list}`);

const args = [
  'dist/cli.js',
  'run',
  list,
  '--allow',
  '127.0.0.1/32',
  '--out',
  'fanout-out',
  '--job-id',
  'demo',
  ...process.argv.slice(2),
];
console.error(`$ fanout ${args.slice(1).join(' ')}`);
const child = spawn(process.execPath, args, { stdio: 'inherit' });
const code = await new Promise((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
await site.close();
// Exit code 1 means "finished, some URLs failed": the demo list has failures on purpose.
process.exitCode = code === 1 ? 0 : code;
