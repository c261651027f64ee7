/**
 * Pure checks over what a target server recorded (TargetServer.requests): how a fleet of
 * workers treated each host. Times are the server's own clock, compared with each other only.
 */

/** One request as the target server saw it: its host, when it started, and when its answer ended. */
export interface SeenRequest {
  host: string;
  path: string;
  at: number;
  doneAt?: number;
}

/** The most requests started in any window of `windowMs` (a start at t and one at t + windowMs are not in one window). */
export function maxStartsPerWindow(starts: readonly number[], windowMs = 1000): number {
  const sorted = [...starts].sort((a, b) => a - b);
  let most = 0;
  let first = 0;
  for (let last = 0; last < sorted.length; last += 1) {
    while ((sorted[last] as number) - (sorted[first] as number) >= windowMs) first += 1;
    most = Math.max(most, last - first + 1);
  }
  return most;
}

/** The most requests one host started in any one-second window. */
export function hostMaxPerSecond(requests: readonly SeenRequest[], host: string): number {
  return maxStartsPerWindow(requests.filter((r) => r.host === host).map((r) => r.at));
}

/**
 * When the last request to any of `hosts` was answered (the server's clock); throws when one
 * of them never was, since "all answered" has no time then.
 */
export function allAnsweredAt(requests: readonly SeenRequest[], hosts: ReadonlySet<string>): number {
  let last = Number.NEGATIVE_INFINITY;
  for (const r of requests) {
    if (!hosts.has(r.host)) continue;
    if (r.doneAt === undefined) throw new Error(`a request to ${r.host}${r.path} was never answered`);
    last = Math.max(last, r.doneAt);
  }
  if (last === Number.NEGATIVE_INFINITY) throw new Error(`no request to ${[...hosts].join(', ')}`);
  return last;
}

/** How many of `host`'s requests had been answered by time `t` (inclusive). */
export function answeredBy(requests: readonly SeenRequest[], host: string, t: number): number {
  return requests.filter((r) => r.host === host && r.doneAt !== undefined && r.doneAt <= t).length;
}
