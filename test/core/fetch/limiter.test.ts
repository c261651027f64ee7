import { describe, expect, it } from 'vitest';
import { ConcurrencyLimiter, type Release, type SlotWaiter } from '../../../lambda/core/fetch/limiter.js';
import { collectGarbage } from '../../hardening/fixtures/memory.js';
import { acquire } from './helpers.js';

const tick = () => new Promise((r) => setImmediate(r));

describe('ConcurrencyLimiter', () => {
  it('holds the per-host cap while other hosts proceed', async () => {
    const limiter = new ConcurrencyLimiter(4, 1);
    const a1 = await acquire(limiter, 'a');
    let a2: (() => void) | null = null;
    void acquire(limiter, 'a').then((r) => {
      a2 = r;
    });
    const b1 = await acquire(limiter, 'b');
    await tick();
    expect(a2).toBeNull();
    expect(limiter.inFlight).toBe(2);
    a1();
    await tick();
    expect(a2).not.toBeNull();
    b1();
  });

  it('holds the global cap', async () => {
    const limiter = new ConcurrencyLimiter(2, 2);
    const r1 = await acquire(limiter, 'a');
    await acquire(limiter, 'b');
    let third = false;
    void acquire(limiter, 'c').then(() => {
      third = true;
    });
    await tick();
    expect(third).toBe(false);
    r1();
    await tick();
    expect(third).toBe(true);
    expect(limiter.inFlight).toBe(2);
  });

  it('a waiter queued behind a busy host holds no global slot', async () => {
    const limiter = new ConcurrencyLimiter(2, 1);
    await acquire(limiter, 'busy');
    void acquire(limiter, 'busy');
    void acquire(limiter, 'busy');
    const other = await acquire(limiter, 'other');
    expect(limiter.inFlight).toBe(2);
    other();
  });

  it('an aborted wait leaves the queue and gives nothing back twice', async () => {
    const limiter = new ConcurrencyLimiter(1, 1);
    const first = await acquire(limiter, 'a');
    const controller = new AbortController();
    const waiting = acquire(limiter, 'a', controller.signal);
    controller.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
    first();
    first();
    expect(limiter.inFlight).toBe(0);
    const again = await acquire(limiter, 'a');
    expect(limiter.inFlight).toBe(1);
    again();
  });
});

describe('ConcurrencyLimiter without promises on the fast path', () => {
  it('tryAcquire takes a free slot at once, and none while others wait for it', async () => {
    const limiter = new ConcurrencyLimiter(2, 1);
    const first = limiter.tryAcquire('a');
    expect(first).not.toBeNull();
    expect(limiter.tryAcquire('a')).toBeNull();
    const queued = limiter.wait('a');
    first?.();
    const second = await queued.granted;
    // The slot went to the waiter, not to whoever asks next.
    expect(limiter.tryAcquire('a')).toBeNull();
    second();
    expect(limiter.tryAcquire('a')).not.toBeNull();
  });

  it('a cancelled wait that already held its host slot gives that slot to the next waiter', async () => {
    const limiter = new ConcurrencyLimiter(1, 1);
    const held = limiter.tryAcquire('a') as () => void;
    // Holds host b's slot, waits for the global one.
    const blocked = limiter.wait('b');
    const next = limiter.wait('b');
    blocked.cancel(new Error('stop'));
    await expect(blocked.granted).rejects.toThrow('stop');
    held();
    const release = await next.granted;
    expect(limiter.inFlight).toBe(1);
    release();
    expect(limiter.inFlight).toBe(0);
  });
});

describe('ConcurrencyLimiter memory', () => {
  it('lets go of a served waiter while others still queue behind it', async () => {
    const limiter = new ConcurrencyLimiter(1, 1);
    const held = limiter.tryAcquire('a') as Release;
    const releases: Release[] = [];
    const waiter = (): SlotWaiter => ({ granted: (release) => releases.push(release) });
    // Only a weak reference to the first waiter stays here, and no ticket.
    const first = ((w) => {
      limiter.enqueue('a', w);
      return new WeakRef(w);
    })(waiter());
    limiter.enqueue('a', waiter());
    limiter.enqueue('a', waiter());
    held();
    expect(releases).toHaveLength(1);
    await collectGarbage();
    expect(first.deref()).toBeUndefined();
    // The others are still served, in order.
    releases[0]?.();
    releases[1]?.();
    expect(releases).toHaveLength(3);
  });
});

describe('ConcurrencyLimiter adapts to descriptor exhaustion (AIMD)', () => {
  it('halves the global cap on backOff and grows it back by one per full cap of successes', async () => {
    const limiter = new ConcurrencyLimiter(8, 8);
    const slots = await Promise.all(Array.from({ length: 8 }, (_, i) => acquire(limiter, `h${i}`)));
    limiter.backOff();
    expect(limiter.limit).toBe(4);
    for (const release of slots) release();
    expect(limiter.inFlight).toBe(0);
    const held = await Promise.all(Array.from({ length: 4 }, (_, i) => acquire(limiter, `h${i}`)));
    let fifth = false;
    void acquire(limiter, 'h9').then(() => {
      fifth = true;
    });
    await tick();
    expect(fifth).toBe(false);
    for (let i = 0; i < 4; i += 1) limiter.recover();
    expect(limiter.limit).toBe(5);
    await tick();
    expect(fifth).toBe(true);
    for (const release of held) release();
  });

  it('never drops below one nor grows above the configured cap', () => {
    const limiter = new ConcurrencyLimiter(3, 3);
    for (let i = 0; i < 5; i += 1) limiter.backOff();
    expect(limiter.limit).toBe(1);
    for (let i = 0; i < 100; i += 1) limiter.recover();
    expect(limiter.limit).toBe(3);
  });
});
