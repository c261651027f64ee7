import { describe, expect, it, vi } from 'vitest';
import { DeadlineList, UrlRun } from '../../../lambda/core/fetch/url-run.js';

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('UrlRun and DeadlineList', () => {
  it('interrupts the wait of a run whose deadline passes, and names it DEADLINE', async () => {
    const run = new UrlRun(new DeadlineList(30));
    run.start();
    const interrupted = new Promise<Error>((resolve) => run.waitOn(resolve));
    await interrupted;
    expect(run.stopped).toBe(true);
    expect(run.classify(new Error('aborted'), 'http://x/').code).toBe('DEADLINE');
    expect(() => run.throwIfStopped()).toThrow();
    run.dispose();
  });

  it('expires runs oldest first, and never one that finished', async () => {
    const list = new DeadlineList(40);
    const first = new UrlRun(list);
    const finished = new UrlRun(list);
    const last = new UrlRun(list);
    first.start();
    finished.start();
    await sleep(15);
    last.start();
    finished.dispose();
    await sleep(35);
    expect([first.deadlineHit, finished.deadlineHit, last.deadlineHit]).toEqual([true, false, false]);
    await sleep(30);
    expect(last.deadlineHit).toBe(true);
    for (const run of [first, finished, last]) run.dispose();
  });

  it('a run started while another expires gets its full time, on one timer', async () => {
    const list = new DeadlineList(20);
    const first = new UrlRun(list);
    const later = new UrlRun(list);
    first.start();
    // What the engine does when a deadline frees a slot: the next URL starts at once.
    first.waitOn(() => later.start());
    const armed = vi.spyOn(globalThis, 'setTimeout');
    try {
      await sleep(35);
      expect([first.deadlineHit, later.deadlineHit]).toEqual([true, false]);
      // The timer for `later`, and no second one (other code in the process arms its own).
      expect(armed.mock.calls.filter(([callback]) => String(callback).includes('this.fire()'))).toHaveLength(
        1,
      );
    } finally {
      armed.mockRestore();
    }
    await sleep(20);
    expect(later.deadlineHit).toBe(true);
    first.dispose();
    later.dispose();
  });

  it('holds no timer once no run is under way', () => {
    const before = timers();
    const list = new DeadlineList(60_000);
    const a = new UrlRun(list);
    const b = new UrlRun(list);
    a.start();
    b.start();
    expect(timers()).toBe(before + 1);
    a.dispose();
    b.dispose();
    expect(timers()).toBe(before);
  });

  it('cancel interrupts the current wait and wins over the deadline in the record', () => {
    const run = new UrlRun(new DeadlineList(60_000));
    run.start();
    const reasons: Error[] = [];
    run.waitOn((reason) => reasons.push(reason));
    run.cancel();
    run.expire();
    expect(reasons).toHaveLength(1);
    expect(run.classify(new Error('x'), 'http://x/').code).toBe('CANCELLED');
    run.dispose();
  });

  it('a backoff pause ends early when the run is cancelled', async () => {
    const run = new UrlRun(new DeadlineList(60_000));
    const pause = run.pause(60_000);
    run.cancel();
    await expect(pause).rejects.toThrow();
    run.dispose();
  });
});
