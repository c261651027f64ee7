import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import type { FanoutFetcher } from './fanout-fetcher.js';

/** Properties of {@link FanoutDashboard}. */
export interface FanoutDashboardProps {
  /** The deployment to show. */
  readonly fetcher: FanoutFetcher;
  /** Period of every graph. @default Duration.minutes(5) */
  readonly period?: Duration;
}

/**
 * One CloudWatch dashboard for a fanout deployment: the handlers' metrics (URLs fetched, errors
 * by code, chunk durations, jobs finished by status) next to the queues', Lambdas' and API's own.
 */
export class FanoutDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: FanoutDashboardProps) {
    super(scope, id);
    const { fetcher } = props;
    const period = props.period ?? Duration.minutes(5);
    const namespace = fetcher.settings.metricsNamespace;
    const custom = (metricName: string, statistic: string, label?: string) =>
      new cloudwatch.Metric({ namespace, metricName, statistic, period, ...(label && { label }) });
    // One line per value of the dimension, whatever values the handlers emit.
    const byDimension = (metricName: string, dimension: string, label: string) =>
      new cloudwatch.MathExpression({
        expression: `SEARCH('{"${namespace}",${dimension}} MetricName="${metricName}"', 'Sum', ${period.toSeconds()})`,
        label,
        period,
      });
    const graph = (title: string, left: cloudwatch.IMetric[], width = 8) =>
      new cloudwatch.GraphWidget({ title, left, width, height: 6 });
    const lambdaRow = (title: string, fn: FanoutFetcher['worker']) =>
      graph(title, [
        fn.metricInvocations({ period }),
        fn.metricErrors({ period }),
        fn.metricThrottles({ period }),
        fn.metric('ConcurrentExecutions', { period, statistic: 'Maximum' }),
      ]);

    this.dashboard = new cloudwatch.Dashboard(this, 'Resource', { defaultInterval: Duration.hours(3) });
    this.dashboard.addWidgets(
      graph('URLs fetched', [custom('UrlsFetched', 'Sum', 'URLs')]),
      graph('URL errors by code', [byDimension('UrlErrors', 'ErrorCode', 'errors')]),
      graph('Jobs finished by status', [byDimension('JobsFinished', 'Status', 'jobs')]),
    );
    this.dashboard.addWidgets(
      graph('Chunk duration (ms)', [
        custom('ChunkDuration', 'p50', 'p50'),
        custom('ChunkDuration', 'p90', 'p90'),
        custom('ChunkDuration', 'p99', 'p99'),
        custom('ChunkDuration', 'Maximum', 'max'),
      ]),
      graph('Chunk queue', [
        fetcher.chunkQueue.metricApproximateNumberOfMessagesVisible({ period, label: 'waiting' }),
        fetcher.chunkQueue.metricApproximateNumberOfMessagesNotVisible({ period, label: 'in flight' }),
        fetcher.chunkQueue.metricApproximateAgeOfOldestMessage({ period, label: 'oldest (s)' }),
      ]),
      graph('Dead letters and failed dispatches', [
        fetcher.deadLetterQueue.metricNumberOfMessagesReceived({ period, label: 'dead chunks' }),
        fetcher.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period,
          label: 'dead-letter backlog',
        }),
        fetcher.dispatchFailureQueue.metricApproximateNumberOfMessagesVisible({
          period,
          label: 'failed dispatches',
        }),
      ]),
    );
    const rows = [lambdaRow('Worker', fetcher.worker), lambdaRow('Dispatcher', fetcher.dispatcher)];
    if (fetcher.api) {
      const api = fetcher.api;
      rows.push(
        graph('API', [
          api.metricCount({ period }),
          api.metricClientError({ period }),
          api.metricServerError({ period }),
          api.metricLatency({ period, statistic: 'p99' }),
        ]),
      );
    }
    this.dashboard.addWidgets(...rows);
  }
}
