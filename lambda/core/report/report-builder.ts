import type { ResultRecord } from '../record.js';
import { type HostRow, type HostStats, HostTable, hostOf, type OtherHosts } from './host-table.js';
import { truncate } from './html.js';
import { type ReportInput, renderReport } from './render.js';

/** How much a report keeps, whatever the job's size. */
export interface ReportLimits {
  /**
   * Hosts counted individually: the table holds up to twice this many and is cut
   * back to this many when full (see HostTable).
   * @default 500
   */
  hosts: number;
  /** Rows in each host ranking. @default 10 */
  hostRows: number;
  /** Failures kept, the first ones in record order. @default 25 */
  failures: number;
  /** A kept failure's URL is cut to this many characters. @default 500 */
  urlChars: number;
  /** A kept failure's message is cut to this many characters (an invalid line's too). @default 300 */
  messageChars: number;
  /** Invalid input lines shown for each of their codes, the first ones. @default 3 */
  invalidExamples: number;
}

/** The report's bounds, in one place. */
export const REPORT_LIMITS: Readonly<ReportLimits> = {
  hosts: 500,
  hostRows: 10,
  failures: 25,
  urlChars: 500,
  messageChars: 300,
  invalidExamples: 3,
};

/** A failed record as the report lists it. */
export interface FailureSample {
  line: number;
  url: string;
  code: string;
  message: string;
  status: number | null;
  attempts: number;
}

/** What the report knows beyond summary.json: hosts and the first failures. */
export interface ReportDetails {
  /** Records the builder saw. */
  records: number;
  /** Failed records the builder saw (the samples are the first of these). */
  failures: number;
  firstFailures: FailureSample[];
  hosts: {
    /** Hosts held at the end. */
    tracked: number;
    /** The table's bound (ReportLimits.hosts). */
    limit: number;
    /** True when hosts were dropped to stay in bounds: per-host numbers may then be lower bounds. */
    cut: boolean;
    other: OtherHosts;
    mostFailing: HostRow[];
    slowest: HostRow[];
  };
}

/**
 * What one part's records add to a report, computed by the worker that wrote the part;
 * finalize merges these in chunk order instead of reading every record again.
 */
export interface ReportPart {
  records: number;
  failures: number;
  /** The part's first failures, in record order, cut as the report cuts them. */
  firstFailures: FailureSample[];
  /** Every host of the part, uncut. */
  hosts: HostStats[];
}

/** A job builder's whole state (default limits), carried between finalize's invocations. */
export interface ReportState extends ReportPart {
  /** Records of hosts dropped to stay in bounds. */
  other: OtherHosts;
}

/**
 * Streams a job's result records into what report.html shows beyond summary.json.
 * Memory is bounded by ReportLimits (about 1 MB at the defaults), whatever the job's size.
 */
export class ReportBuilder {
  private readonly limits: ReportLimits;
  private readonly hosts: HostTable;
  private readonly samples: FailureSample[] = [];
  private records = 0;
  private failures = 0;

  /** A builder for one part of `records` records: it never cuts a host, so its part merges exactly. */
  static forPart(records: number): ReportBuilder {
    return new ReportBuilder({ hosts: Math.max(REPORT_LIMITS.hosts, Math.ceil(records / 2)) });
  }

  constructor(limits: Partial<ReportLimits> = {}) {
    this.limits = { ...REPORT_LIMITS, ...limits };
    this.hosts = new HostTable(this.limits.hosts);
  }

  /** Counts one result record; a CANCELLED one is not a host's failure nor a sample. */
  add(record: ResultRecord): void {
    this.records += 1;
    if (record.error?.code === 'CANCELLED') return;
    this.hosts.add(hostOf(record.url), record.timings.totalMs, record.error?.code ?? null);
    if (record.error === null) return;
    this.failures += 1;
    if (this.samples.length < this.limits.failures) {
      this.samples.push({
        line: record.line,
        url: truncate(record.url, this.limits.urlChars),
        code: record.error.code,
        message: truncate(record.error.message, this.limits.messageChars),
        status: record.status,
        attempts: record.attempts,
      });
    }
  }

  /**
   * The records added so far as a ReportPart. Exact only while no host was cut: build a
   * part's builder with `hosts` at least half its record count (see `forPart`).
   */
  toPart(): ReportPart {
    return {
      records: this.records,
      failures: this.failures,
      firstFailures: [...this.samples],
      hosts: this.hosts.entries(),
    };
  }

  /** The whole state of a builder with the default limits, as JSON. */
  toState(): ReportState {
    return { ...this.toPart(), other: this.hosts.otherHosts() };
  }

  /** The builder whose state `toState` gave: it goes on as the original would. */
  static fromState(state: ReportState): ReportBuilder {
    const builder = new ReportBuilder();
    builder.merge(state);
    builder.hosts.addOther(state.other);
    return builder;
  }

  /** Adds a part's contribution, as if its records had been added one by one. */
  merge(part: ReportPart): void {
    this.records += part.records;
    this.failures += part.failures;
    for (const sample of part.firstFailures) {
      if (this.samples.length >= this.limits.failures) break;
      this.samples.push(sample);
    }
    for (const host of part.hosts) this.hosts.merge(host);
  }

  /** What was gathered so far, ranked. */
  details(): ReportDetails {
    return {
      records: this.records,
      failures: this.failures,
      firstFailures: [...this.samples],
      hosts: {
        tracked: this.hosts.size,
        limit: this.limits.hosts,
        cut: this.hosts.cutOccurred,
        other: this.hosts.otherHosts(),
        mostFailing: this.hosts.mostFailing(this.limits.hostRows),
        slowest: this.hosts.slowest(this.limits.hostRows),
      },
    };
  }

  /**
   * report.html for the job whose records were added: one self-contained page, with the
   * job's request (source and options) and its invalid lines when given.
   */
  render(input: Omit<ReportInput, 'details' | 'generatedAt'> & { generatedAt?: string }): string {
    return renderReport({
      ...input,
      details: this.details(),
      generatedAt: input.generatedAt ?? new Date().toISOString(),
    });
  }
}
