import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setLogSink } from '../../lambda/handlers/log.js';
import { emitMetrics, type Metric } from '../../lambda/handlers/metrics.js';

const AT = new Date('2026-03-04T05:06:07.089Z');
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(AT);
});
afterEach(() => {
  vi.useRealTimers();
});

/** The lines emitMetrics writes, parsed. */
function emitted(
  metrics: readonly Metric[],
  dimensions?: Record<string, string>,
): { lines: string[]; entries: Array<Record<string, unknown>> } {
  const lines: string[] = [];
  emitMetrics('Fanout', metrics, dimensions, (line) => lines.push(line));
  return { lines, entries: lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

describe('emitMetrics', () => {
  it('writes one EMF line: namespace, dimension set, metrics with units; values and dimensions at the top', () => {
    const { lines, entries } = emitted(
      [
        { name: 'UrlsFetched', value: 250, unit: 'Count' },
        { name: 'ChunkMilliseconds', value: 1234, unit: 'Milliseconds' },
      ],
      { Function: 'worker', JobId: 'job-1' },
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]?.endsWith('\n')).toBe(true);
    expect(lines[0]?.slice(0, -1)).not.toContain('\n');
    expect(entries[0]).toEqual({
      _aws: {
        Timestamp: AT.getTime(),
        CloudWatchMetrics: [
          {
            Namespace: 'Fanout',
            Dimensions: [['Function', 'JobId']],
            Metrics: [
              { Name: 'UrlsFetched', Unit: 'Count' },
              { Name: 'ChunkMilliseconds', Unit: 'Milliseconds' },
            ],
          },
        ],
      },
      Function: 'worker',
      JobId: 'job-1',
      UrlsFetched: 250,
      ChunkMilliseconds: 1234,
    });
  });

  it('every metric and dimension the directive names has a top-level member of the right type', () => {
    const { entries } = emitted(
      [
        { name: 'A', value: 0, unit: 'Count' },
        { name: 'B', value: 1.5, unit: 'Milliseconds' },
      ],
      { Stage: 'prod' },
    );
    const entry = entries[0] as Record<string, unknown> & {
      _aws: {
        Timestamp: unknown;
        CloudWatchMetrics: Array<{ Dimensions: string[][]; Metrics: Array<{ Name: string }> }>;
      };
    };
    expect(Number.isInteger(entry._aws.Timestamp)).toBe(true);
    for (const directive of entry._aws.CloudWatchMetrics) {
      for (const { Name } of directive.Metrics) expect(typeof entry[Name]).toBe('number');
      for (const set of directive.Dimensions) for (const key of set) expect(typeof entry[key]).toBe('string');
    }
    expect(entry.A).toBe(0);
  });

  it('without dimensions: one empty dimension set, and no extra top-level members', () => {
    const { entries } = emitted([{ name: 'JobsFinished', value: 1, unit: 'Count' }]);
    expect(entries[0]).toEqual({
      _aws: {
        Timestamp: AT.getTime(),
        CloudWatchMetrics: [
          { Namespace: 'Fanout', Dimensions: [[]], Metrics: [{ Name: 'JobsFinished', Unit: 'Count' }] },
        ],
      },
      JobsFinished: 1,
    });
  });

  it('writes nothing for no metrics', () => {
    const { lines } = emitted([], { Function: 'worker' });
    expect(lines).toEqual([]);
  });

  it('by default writes through the handlers’ log sink, as a metric line', () => {
    const written: Array<[string, string]> = [];
    setLogSink((line, level) => written.push([line, level]));
    try {
      emitMetrics('NS', [{ name: 'X', value: 2, unit: 'Count' }]);
    } finally {
      setLogSink();
    }
    expect(written).toHaveLength(1);
    const [line, level] = written[0] ?? ['', ''];
    expect(level).toBe('metric');
    expect(JSON.parse(line)).toMatchObject({ _aws: { CloudWatchMetrics: [{ Namespace: 'NS' }] }, X: 2 });
  });
});
