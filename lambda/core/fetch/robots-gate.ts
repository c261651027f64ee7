import { jobKeys } from '../job/keys.js';
import type { ObjectStore } from '../ports.js';
import { RobotsRules, type RobotsVerdict } from './robots.js';

/** Where a job's robots.txt verdicts are kept for every worker: the job's object store. */
export interface RobotsStore {
  /** The verdict kept for `origin`; null when none is. */
  get(origin: string): Promise<RobotsVerdict | null>;
  /** Keeps `verdict` unless one is kept already; returns the one kept (the first writer's). */
  keep(origin: string, verdict: RobotsVerdict): Promise<RobotsVerdict>;
}

/** A job's robots.txt verdicts in its object store, one object per origin (jobKeys.robots). */
export function objectRobotsStore(store: ObjectStore, jobId: string): RobotsStore {
  const read = async (origin: string): Promise<RobotsVerdict | null> => {
    const body = await store.get(jobKeys.robots(jobId, origin));
    return body === null ? null : (JSON.parse(body.toString('utf8')) as RobotsVerdict);
  };
  return {
    get: read,
    async keep(origin, verdict) {
      const key = jobKeys.robots(jobId, origin);
      if (await store.putIfAbsent(key, Buffer.from(JSON.stringify(verdict)), 'application/json'))
        return verdict;
      return (await read(origin)) ?? verdict;
    },
  };
}

/** Whoever waits for an origin's robots.txt: told once, when its rules are known. */
export interface RobotsWaiter {
  known(): void;
}

/** A place among an origin's waiters; `cancel` leaves (false when the rules were already known). */
export interface RobotsTicket {
  cancel(): boolean;
}

export interface RobotsGateSettings {
  /** The product token the rules are matched on (robots.ts productToken). */
  token: string;
  /** Fetches an origin's robots.txt; never throws. */
  fetch: (origin: string) => Promise<RobotsVerdict>;
  /** The job's verdicts, shared by its workers; without it, each gate fetches for itself. */
  store?: RobotsStore | undefined;
  /** Told each origin's rules once they are known (its Crawl-delay). */
  onRules?: (origin: URL, rules: RobotsRules) => void;
}

/**
 * Origins whose rules a gate keeps in memory; past this the longest known are dropped
 * (asked of the store again if their URLs come back), so a list over millions of hosts
 * does not grow a worker's memory without bound.
 */
const KEPT_ORIGINS = 10_000;

interface OriginEntry {
  rules: RobotsRules | null;
  waiters: Set<RobotsWaiter>;
}

/**
 * robots.txt for one job in one engine: each origin's rules, asked of the job's store
 * and fetched (then kept there) when nobody has yet, once per origin. URLs of an origin
 * whose rules are not known yet wait in that origin's set of waiters: a waiting URL is one
 * small object, no promise or timer.
 */
export class RobotsGate {
  private readonly origins = new Map<string, OriginEntry>();

  constructor(private readonly settings: RobotsGateSettings) {}

  /** The rules of `url`'s origin when they are known. */
  rulesFor(url: URL): RobotsRules | null {
    return this.origins.get(url.origin)?.rules ?? null;
  }

  /** Calls `waiter.known()` once the rules of `url`'s origin are known (at once when they are). */
  wait(url: URL, waiter: RobotsWaiter): RobotsTicket {
    let entry = this.origins.get(url.origin);
    if (!entry) {
      entry = { rules: null, waiters: new Set() };
      this.origins.set(url.origin, entry);
      void this.load(url, entry);
    }
    if (entry.rules) {
      waiter.known();
      return NOT_WAITING;
    }
    const { waiters } = entry;
    waiters.add(waiter);
    return { cancel: () => waiters.delete(waiter) };
  }

  /** The rules of `url`'s origin, as a promise; `cancel` rejects it with `reason` instead. */
  rules(url: URL): { known: Promise<RobotsRules>; cancel(reason: unknown): void } {
    let ticket: RobotsTicket = NOT_WAITING;
    let reject!: (reason: unknown) => void;
    const known = new Promise<RobotsRules>((resolve, fail) => {
      reject = fail;
      ticket = this.wait(url, { known: () => resolve(this.rulesFor(url) as RobotsRules) });
    });
    return {
      known,
      cancel: (reason) => {
        if (ticket.cancel()) reject(reason);
      },
    };
  }

  private async load(url: URL, entry: OriginEntry): Promise<void> {
    const verdict = await this.verdictOf(url.origin);
    entry.rules = new RobotsRules(verdict, this.settings.token);
    this.settings.onRules?.(url, entry.rules);
    const waiters = [...entry.waiters];
    entry.waiters.clear();
    for (const waiter of waiters) waiter.known();
    if (this.origins.size > KEPT_ORIGINS) this.forgetOldest();
  }

  /** Drops the longest-known origins nobody waits for, down to KEPT_ORIGINS. */
  private forgetOldest(): void {
    let excess = this.origins.size - KEPT_ORIGINS;
    for (const [origin, entry] of this.origins) {
      if (excess <= 0) break;
      if (entry.rules === null) continue;
      this.origins.delete(origin);
      excess -= 1;
    }
  }

  /** The job's verdict: the store's, else a fresh fetch kept there (the first writer's wins). */
  private async verdictOf(origin: string): Promise<RobotsVerdict> {
    const { store, fetch } = this.settings;
    // The store failing costs only the sharing: this engine fetches for itself.
    const kept = store ? await store.get(origin).catch(() => null) : null;
    if (kept) return kept;
    const fetched = await fetch(origin);
    return store ? store.keep(origin, fetched).catch(() => fetched) : fetched;
  }
}

const NOT_WAITING: RobotsTicket = { cancel: () => false };
