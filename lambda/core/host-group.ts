/**
 * Host groups: a job's URLs are split by a hash of their host name, and each group's chunks are
 * fetched by one worker at a time (an SQS FIFO message group per job and group), so the limits
 * of one host hold across the whole fleet (docs/architecture.md, "Politeness").
 */

/** The host name of a URL as the engine's limiter counts it (WHATWG parsing, lower case). */
export function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return '';
  }
}

/** The group of a URL's host among `groups` (FNV-1a of the host name); 0 when there is one group. */
export function hostGroupOf(url: string, groups: number): number {
  if (groups <= 1) return 0;
  const host = hostOf(url);
  let hash = 0x811c9dc5;
  for (let i = 0; i < host.length; i += 1) {
    hash ^= host.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % groups;
}

/**
 * Host groups for a fleet of `maxWorkers` at once: twice as many, so hashing leaves no worker
 * idle while URLs wait, and at most 512, so a dispatcher filling one chunk per group holds at
 * most 512 chunks (128 MiB at the 256 KiB message cap). A job never has more than `maxWorkers`
 * groups in flight, and so never more workers on it.
 */
export function hostGroupsFor(maxWorkers: number): number {
  return Math.min(512, Math.max(1, 2 * maxWorkers));
}
