import { describe, expect, it } from 'vitest';
import { HOST_BACKOFF, HostPacer } from '../../../lambda/core/fetch/host-pace.js';

/** A pacer on a clock the test moves. */
function pacer(perHost: number, hostRate: number) {
  const clock = { now: 1_000_000 };
  return { clock, pace: new HostPacer({ perHost, hostRate, now: () => clock.now }) };
}

/** Books `n` starts the way the engine does (each waits what book says) and returns their times. */
function starts(pace: HostPacer, clock: { now: number }, host: string, n: number): number[] {
  const at: number[] = [];
  for (let i = 0; i < n; i += 1) {
    clock.now += pace.book(host);
    at.push(clock.now);
  }
  return at;
}

/** The most starts in any one-second window. */
function busiestSecond(at: number[]): number {
  let most = 0;
  for (let i = 0; i < at.length; i += 1) {
    const inWindow = at.filter((t) => t >= (at[i] as number) && t < (at[i] as number) + 1000).length;
    most = Math.max(most, inWindow);
  }
  return most;
}

describe('HostPacer', () => {
  it('without a rate, books every start at once and keeps no entry', () => {
    const { clock, pace } = pacer(8, 0);
    expect(starts(pace, clock, 'a', 50).every((t) => t === 1_000_000)).toBe(true);
    expect(pace.snapshot()).toEqual({});
    expect(pace.capOf('a')).toBe(8);
  });

  it('spaces starts by the rate: any one-second window holds at most hostRate + 1', () => {
    const { clock, pace } = pacer(8, 4);
    const at = starts(pace, clock, 'a', 40);
    // 1000 / 4, rounded up to whole milliseconds, plus one.
    expect(at[1]! - at[0]!).toBe(251);
    expect(busiestSecond(at)).toBeLessThanOrEqual(5);
    // Another host is paced on its own.
    expect(pace.book('b')).toBe(0);
  });

  it('a paced host gets no more slots than it may start in a second', () => {
    expect(pacer(8, 2).pace.capOf('a')).toBe(2);
    expect(pacer(8, 0.5).pace.capOf('a')).toBe(1);
    expect(pacer(8, 100).pace.capOf('a')).toBe(8);
  });

  it('429/503 halve the cap and double the spacing; plain answers bring it back', () => {
    const { clock, pace } = pacer(8, 0);
    expect(pace.slowDown('a', null)).toBe(true);
    expect(pace.capOf('a')).toBe(4); // 8 → 4, paced at 250 ms: at most 4 a second
    pace.slowDown('a', null);
    pace.slowDown('a', null);
    const state = pace.snapshot().a;
    expect(state?.cap).toBe(1);
    expect(state?.backoffMs).toBe(HOST_BACKOFF.firstSpacingMs * 4);
    const at = starts(pace, clock, 'a', 3);
    expect(at[2]! - at[1]!).toBe(1000);
    // Recovery: each round of `cap` plain answers raises the cap by one and halves the spacing.
    for (let i = 0; i < 100 && Object.keys(pace.snapshot()).length > 0; i += 1) {
      pace.answered('a');
      clock.now += 1000;
    }
    expect(pace.snapshot()).toEqual({});
    expect(pace.capOf('a')).toBe(8);
  });

  it('the spacing never grows past its maximum', () => {
    const { pace } = pacer(8, 0);
    for (let i = 0; i < 40; i += 1) pace.slowDown('a', null);
    expect(pace.snapshot().a?.backoffMs).toBe(HOST_BACKOFF.maxSpacingMs);
  });

  it('a Retry-After holds every start to the host until it has passed', () => {
    const { pace } = pacer(8, 0);
    pace.slowDown('a', 5000);
    expect(pace.book('a')).toBe(5000);
  });

  it('Crawl-delay spaces starts like a rate', () => {
    const { clock, pace } = pacer(8, 0);
    pace.setCrawlDelay('a', 2000);
    const at = starts(pace, clock, 'a', 3);
    expect(at[1]! - at[0]!).toBe(2000);
    expect(pace.capOf('a')).toBe(1);
  });

  it("the next owner goes on from the last one's pace, spacing included", () => {
    const first = pacer(8, 2);
    first.pace.slowDown('a', null);
    first.pace.book('a');
    const saved = JSON.parse(JSON.stringify(first.pace.snapshot(['a', 'b'])));
    expect(Object.keys(saved)).toEqual(['a']);
    const next = new HostPacer({ perHost: 8, hostRate: 2, now: () => first.clock.now });
    next.restore(saved);
    expect(next.capOf('a')).toBe(first.pace.capOf('a'));
    // The last start booked by the first owner still spaces the next one's first start.
    expect(next.book('a')).toBeGreaterThan(0);
  });

  it('forgets hosts back at the plain pace, so memory follows the hosts in play', () => {
    const { clock, pace } = pacer(8, 1000);
    for (let i = 0; i < 10_000; i += 1) pace.book(`h${i}`);
    clock.now += 10;
    for (let i = 0; i < 5000; i += 1) pace.book('x');
    // Every 4096 bookings, entries whose last start is behind us go.
    expect(Object.keys(pace.snapshot()).length).toBeLessThan(100);
    expect((pace as unknown as { hosts: Map<string, unknown> }).hosts.size).toBeLessThan(100);
  });
});

describe('HostPacer, once per round', () => {
  it('answers to requests sent before the last slow-down do not slow the host again', () => {
    const clock = { now: 1_000_000 };
    const pace = new HostPacer({ perHost: 8, hostRate: 0, now: () => clock.now });
    const sent = clock.now;
    clock.now += 100;
    // Eight requests were in flight together when the host started to struggle: one round.
    for (let i = 0; i < 8; i += 1) pace.slowDown('a', null, sent);
    expect(pace.snapshot().a).toMatchObject({ cap: 4, backoffMs: HOST_BACKOFF.firstSpacingMs });
    // A request sent after that slow-down counts again.
    clock.now += 100;
    pace.slowDown('a', null, clock.now);
    expect(pace.snapshot().a).toMatchObject({ cap: 2, backoffMs: 2 * HOST_BACKOFF.firstSpacingMs });
  });

  it('a Retry-After still holds the host even from an answer of the same round', () => {
    const clock = { now: 1_000_000 };
    const pace = new HostPacer({ perHost: 8, hostRate: 0, now: () => clock.now });
    pace.slowDown('a', null, clock.now);
    pace.slowDown('a', 3000, clock.now - 1);
    expect(pace.book('a')).toBe(3000);
  });
});
