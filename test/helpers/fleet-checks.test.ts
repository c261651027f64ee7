import { describe, expect, it } from 'vitest';
import { allAnsweredAt, answeredBy, hostMaxPerSecond, maxStartsPerWindow } from './fleet-checks.js';

describe('maxStartsPerWindow', () => {
  it.each([
    { starts: [], most: 0 },
    { starts: [5], most: 1 },
    { starts: [0, 999], most: 2 },
    { starts: [0, 1000], most: 1 },
    { starts: [0, 100, 200, 1100, 1150], most: 3 },
    { starts: [1150, 0, 1100, 200, 100], most: 3 },
    { starts: [0, 500, 900, 1400, 1450, 1499], most: 5 },
  ])('$starts → $most', ({ starts, most }) => {
    expect(maxStartsPerWindow(starts)).toBe(most);
  });

  it('takes another window length', () => {
    expect(maxStartsPerWindow([0, 100, 200, 300], 150)).toBe(2);
  });
});

const seen = [
  { host: 'big', path: '/p', at: 0, doneAt: 10 },
  { host: 'big', path: '/p', at: 5, doneAt: 40 },
  { host: 'big', path: '/p', at: 900, doneAt: 950 },
  { host: 'big', path: '/p', at: 1200, doneAt: 1300 },
  { host: 'a', path: '/p', at: 1, doneAt: 20 },
  { host: 'b', path: '/p', at: 2, doneAt: 30 },
];

describe('host checks', () => {
  it('counts one host’s starts per second', () => {
    expect(hostMaxPerSecond(seen, 'big')).toBe(3);
    expect(hostMaxPerSecond(seen, 'a')).toBe(1);
    expect(hostMaxPerSecond(seen, 'none')).toBe(0);
  });

  it('finds when a set of hosts was all answered, and how far another host had got by then', () => {
    const t = allAnsweredAt(seen, new Set(['a', 'b']));
    expect(t).toBe(30);
    expect(answeredBy(seen, 'big', t)).toBe(1);
    expect(answeredBy(seen, 'big', 40)).toBe(2);
  });

  it('has no time for hosts never asked, or asked and never answered', () => {
    expect(() => allAnsweredAt(seen, new Set(['c']))).toThrow(/no request to c/);
    expect(() => allAnsweredAt([{ host: 'c', path: '/x', at: 1 }], new Set(['c']))).toThrow(
      /c\/x was never answered/,
    );
  });
});
