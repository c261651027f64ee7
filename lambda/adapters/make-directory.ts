import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

const codeOf = (err: unknown) => (err as NodeJS.ErrnoException).code;

/**
 * Makes a folder and its missing parents, like `mkdir -p`, but always ends. Node's own
 * `mkdir(path, { recursive: true })` tries again for ever where a folder exists but
 * answers ENOENT for a child (anything under /proc or /sys, a dangling symbolic link):
 * `--out /proc/nope` spun at full CPU. Here a child still missing once its parent exists
 * is an error: ENOENT, naming the child.
 */
export async function makeDirectory(path: string): Promise<void> {
  try {
    await mkdir(path);
    return;
  } catch (err) {
    const parent = dirname(path);
    if (codeOf(err) === 'EEXIST') return;
    if (codeOf(err) !== 'ENOENT' || parent === path) throw err;
    await makeDirectory(parent);
  }
  try {
    await mkdir(path);
  } catch (err) {
    if (codeOf(err) !== 'EEXIST') throw err;
  }
}
