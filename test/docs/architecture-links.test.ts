/** Issue 22, item 12: docs/architecture.md points only at files the repository holds. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli-harness.js';

const DOC = join(ROOT, 'docs/architecture.md');

describe('docs/architecture.md', () => {
  it('every relative link and every file path it quotes (`../x.md`, `docs/y.md`) exists', () => {
    const text = readFileSync(DOC, 'utf8');
    const links = [...text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)].map((m) => m[1] as string);
    const quoted = [...text.matchAll(/`([^`\s]*\.md)`/g)].map((m) => m[1] as string);
    const relative = [...links, ...quoted].filter((target) => !/^[a-z]+:/i.test(target));
    const missing = relative.filter((target) => {
      const fromDoc = resolve(dirname(DOC), target);
      return !existsSync(fromDoc) && !existsSync(resolve(ROOT, target));
    });
    expect(missing).toEqual([]);
  });
});
