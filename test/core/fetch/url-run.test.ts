import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DeadlineList, RunsBySignal, UrlRun } from '../../../lambda/core/fetch/url-run.js';

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

/** The deadline timers DeadlineList armed, among everything setTimeout was asked for. */
const deadlineTimers = (armed: { mock: { calls: unknown[][] } }) =>
  armed.mock.calls.filter(([callback]) => String(callback).includes('this.fire()'));

// Deadlines run on a fake clock (setTimeout and performance.now): the tests step time
// to a millisecond before and at each deadline, whatever the machine's load.
describe('UrlRun and DeadlineList, on a fake clock', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance', 'Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('interrupts the wait of a run whose deadline passes, and names it DEADLINE', () => {
    const run = new UrlRun(new DeadlineList(30));
    run.start();
    const reasons: Error[] = [];
    run.waitOn((reason) => reasons.push(reason));
    vi.advanceTimersByTime(29);
    expect(run.stopped).toBe(false);
    expect(run.remainingMs()).toBe(1);
    vi.advanceTimersByTime(1);
    expect(reasons).toHaveLength(1);
    expect(run.stopped).toBe(true);
    expect(run.classify(new Error('aborted'), 'http://x/').code).toBe('DEADLINE');
    expect(() => run.throwIfStopped()).toThrow();
    run.dispose();
  });

  it('expires runs oldest first, and never one that finished', () => {
    const list = new DeadlineList(40);
    const first = new UrlRun(list);
    const finished = new UrlRun(list);
    const last = new UrlRun(list);
    first.start();
    finished.start();
    vi.advanceTimersByTime(15);
    last.start();
    finished.dispose();
    vi.advanceTimersByTime(25); // t = 40: first's deadline
    expect([first.deadlineHit, finished.deadlineHit, last.deadlineHit]).toEqual([true, false, false]);
    vi.advanceTimersByTime(14);
    expect(last.deadlineHit).toBe(false);
    vi.advanceTimersByTime(1); // t = 55: last's deadline
    expect(last.deadlineHit).toBe(true);
    for (const run of [first, finished, last]) run.dispose();
  });

  it('a run started while another expires gets its full time, on one timer', () => {
    const list = new DeadlineList(20);
    const first = new UrlRun(list);
    const later = new UrlRun(list);
    first.start();
    // What the engine does when a deadline frees a slot: the next URL starts at once.
    first.waitOn(() => later.start());
    const armed = vi.spyOn(globalThis, 'setTimeout');
    try {
      vi.advanceTimersByTime(20);
      expect([first.deadlineHit, later.deadlineHit]).toEqual([true, false]);
      // The timer for `later`, and no second one.
      expect(deadlineTimers(armed)).toHaveLength(1);
      vi.advanceTimersByTime(19);
      expect(later.deadlineHit).toBe(false);
      vi.advanceTimersByTime(1);
      expect(later.deadlineHit).toBe(true);
      expect(deadlineTimers(armed)).toHaveLength(1);
    } finally {
      armed.mockRestore();
    }
    first.dispose();
    later.dispose();
  });

  it('a backoff pause waits its time, and ends early when the run is cancelled', async () => {
    const run = new UrlRun(new DeadlineList(60_000));
    let paused = false;
    const pause = run.pause(100).then(() => {
      paused = true;
    });
    await vi.advanceTimersByTimeAsync(99);
    expect(paused).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await pause;
    expect(paused).toBe(true);

    const cancelled = run.pause(60_000);
    run.cancel();
    await expect(cancelled).rejects.toThrow();
    run.dispose();
  });
});

describe('UrlRun and DeadlineList, without waiting', () => {
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
});

describe('RunsBySignal', () => {
  it('cancels the runs under way when their signal aborts, with one listener per signal', () => {
    const controller = new AbortController();
    const added = vi.spyOn(controller.signal, 'addEventListener');
    const registry = new RunsBySignal();
    const list = new DeadlineList(60_000);
    const [a, b, done] = [new UrlRun(list), new UrlRun(list), new UrlRun(list)];
    for (const run of [a, b, done]) registry.runsOf(controller.signal).add(run);
    registry.runsOf(controller.signal).delete(done);
    expect(added).toHaveBeenCalledTimes(1);
    const other = new AbortController();
    const elsewhere = new UrlRun(list);
    registry.runsOf(other.signal).add(elsewhere);
    controller.abort();
    expect([a.cancelled, b.cancelled, done.cancelled, elsewhere.cancelled]).toEqual([
      true,
      true,
      false,
      false,
    ]);
    expect(registry.runsOf(controller.signal).size).toBe(0);
  });
});
