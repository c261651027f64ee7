// mulberry32: a small seeded PRNG, so the cost model and the scale bench give the same numbers
// every run. Plain JavaScript, so both the unbundled cost model and the bundled benches import it.

/** A generator of numbers in [0, 1) from `seed`. */
export function seededRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
