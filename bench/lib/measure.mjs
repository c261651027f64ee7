// Runs one benchmark process under bench/rusage.py and returns what it cost.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const RUSAGE = fileURLToPath(new URL('../rusage.py', import.meta.url));

/**
 * Runs `command args` and resolves to {wall, user, sys, maxRssBytes, exitCode, stdout,
 * stderr}: wall and CPU seconds and peak RSS of that process, from the kernel (wait4).
 */
export function measure(command, args, { timeoutMs = 600_000, env } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', [RUSAGE, command, ...args], {
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      env: env ?? process.env,
    });
    const out = { stdout: '', stderr: '', usage: '' };
    child.stdout.on('data', (d) => {
      out.stdout += d;
    });
    child.stderr.on('data', (d) => {
      out.stderr += d;
    });
    child.stdio[3].on('data', (d) => {
      out.usage += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      try {
        const usage = JSON.parse(out.usage.trim());
        resolve({ ...usage, stdout: out.stdout, stderr: out.stderr });
      } catch {
        reject(new Error(`${command} ${args.join(' ')}: no usage report\n${out.stderr.slice(-2000)}`));
      }
    });
  });
}

/** The last line of `text` that parses as a JSON object. */
export function lastJson(text) {
  const lines = text.trim().split('\n').reverse();
  for (const line of lines) {
    if (!line.startsWith('{')) continue;
    try {
      return JSON.parse(line);
    } catch {
      // not this one
    }
  }
  return null;
}

/** The median of numbers (the mean of the middle two for an even count). */
export function median(values) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
