/**
 * Metrics as CloudWatch Embedded Metric Format: one structured log line per event, which
 * CloudWatch turns into metrics without an API call (and which stays readable as a log).
 */
import { writeLine } from './log.js';

export type MetricUnit = 'Count' | 'Milliseconds';

export interface Metric {
  name: string;
  value: number;
  unit: MetricUnit;
}

/** Writes one EMF line: the metrics, under the given dimensions (values are strings). */
export function emitMetrics(
  namespace: string,
  metrics: readonly Metric[],
  dimensions: Record<string, string> = {},
  write: (line: string) => void = (line) => writeLine(line, 'metric'),
): void {
  if (metrics.length === 0) return;
  const entry: Record<string, unknown> = {
    _aws: {
      Timestamp: Date.now(),
      CloudWatchMetrics: [
        {
          Namespace: namespace,
          Dimensions: [Object.keys(dimensions)],
          Metrics: metrics.map(({ name, unit }) => ({ Name: name, Unit: unit })),
        },
      ],
    },
    ...dimensions,
  };
  for (const { name, value } of metrics) entry[name] = value;
  write(`${JSON.stringify(entry)}\n`);
}
