/**
 * A mergeable latency histogram with bounded relative error (the DDSketch idea):
 * values fall into logarithmic buckets, so two histograms merge by adding counts and
 * the merge of per-part histograms equals the histogram of all records, exactly.
 */

/** Relative accuracy of reported quantiles. */
const RELATIVE_ACCURACY = 0.01;
const GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY);
const LOG_GAMMA = Math.log(GAMMA);
/** Values at or below this (ms) count in the zero bucket. */
const MIN_VALUE = 0.001;

/** The serialised form kept in summary.json. */
export interface HistogramJSON {
  count: number;
  sumMicros: number;
  min: number | null;
  max: number | null;
  zeros: number;
  /** Bucket index → count. */
  buckets: Record<string, number>;
}

/** A log-bucketed histogram of non-negative values. */
export class Histogram {
  count = 0;
  /** Sum in integer microseconds, so merged sums are exact. */
  sumMicros = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;
  private zeros = 0;
  private readonly buckets = new Map<number, number>();

  /** Adds one value (negative values count as zero). */
  record(value: number): void {
    const v = Number.isFinite(value) && value > 0 ? value : 0;
    this.count += 1;
    this.sumMicros += Math.round(v * 1000);
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    if (v <= MIN_VALUE) {
      this.zeros += 1;
      return;
    }
    const index = Math.ceil(Math.log(v) / LOG_GAMMA);
    this.buckets.set(index, (this.buckets.get(index) ?? 0) + 1);
  }

  /** Adds every value of another histogram to this one. */
  merge(other: Histogram): this {
    if (other.count === 0) return this;
    this.count += other.count;
    this.sumMicros += other.sumMicros;
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
    this.zeros += other.zeros;
    for (const [index, n] of other.buckets) this.buckets.set(index, (this.buckets.get(index) ?? 0) + n);
    return this;
  }

  /** The value at quantile q (0..1), within 1% relative error; null when empty. */
  quantile(q: number): number | null {
    if (this.count === 0) return null;
    if (q >= 1) return this.max;
    if (q <= 0) return this.min;
    const rank = Math.min(this.count - 1, Math.max(0, Math.floor(q * (this.count - 1))));
    if (rank < this.zeros) return 0;
    let seen = this.zeros;
    for (const index of [...this.buckets.keys()].sort((a, b) => a - b)) {
      seen += this.buckets.get(index) ?? 0;
      if (seen > rank) {
        const estimate = (2 * GAMMA ** index) / (GAMMA + 1);
        return Math.min(this.max, Math.max(this.min, estimate));
      }
    }
    return this.max;
  }

  /** Arithmetic mean; null when empty. */
  mean(): number | null {
    return this.count === 0 ? null : this.sumMicros / 1000 / this.count;
  }

  toJSON(): HistogramJSON {
    const buckets: Record<string, number> = {};
    for (const index of [...this.buckets.keys()].sort((a, b) => a - b))
      buckets[index] = this.buckets.get(index) ?? 0;
    return {
      count: this.count,
      sumMicros: this.sumMicros,
      min: this.count ? this.min : null,
      max: this.count ? this.max : null,
      zeros: this.zeros,
      buckets,
    };
  }

  /** Rebuilds a histogram from its serialised form. */
  static fromJSON(json: HistogramJSON): Histogram {
    const h = new Histogram();
    h.count = json.count;
    h.sumMicros = json.sumMicros;
    h.min = json.min ?? Number.POSITIVE_INFINITY;
    h.max = json.max ?? Number.NEGATIVE_INFINITY;
    h.zeros = json.zeros;
    for (const [index, n] of Object.entries(json.buckets)) h.buckets.set(Number(index), n);
    return h;
  }
}
