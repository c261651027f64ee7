import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/** What the alarms watch. */
export interface AlarmTargets {
  deadLetterQueue: sqs.IQueue;
  dispatchFailureQueue: sqs.IQueue;
  worker: lambda.IFunction;
  dispatcher: lambda.IFunction;
}

/**
 * The deployment's alarms, in `scope`: dead chunks, a dead-letter backlog, failed dispatches
 * and fan-ins, worker and dispatcher errors. Each fires at one event in 5 minutes and runs `actions`.
 */
export function createAlarms(
  scope: Construct,
  targets: AlarmTargets,
  actions: cloudwatch.IAlarmAction[],
): cloudwatch.Alarm[] {
  const period = Duration.minutes(5);
  const { deadLetterQueue, dispatchFailureQueue, worker, dispatcher } = targets;
  // [id, description, metric, evaluation periods]
  const alarms: Array<[string, string, cloudwatch.IMetric, number]> = [
    [
      'DeadChunksAlarm',
      'A chunk failed every delivery and reached the dead-letter queue: its job has failed.',
      deadLetterQueue.metricNumberOfMessagesReceived({ period, statistic: 'Sum' }),
      1,
    ],
    [
      'DeadLetterBacklogAlarm',
      'Messages wait in the chunk dead-letter queue for 15 minutes: the dead-letter handler is failing.',
      deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Minimum' }),
      3,
    ],
    [
      'DispatchFailuresAlarm',
      'A dispatch or a fan-in (finalize) failed every retry; the failed invocation waits in the dispatch failure queue.',
      dispatchFailureQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
      1,
    ],
    [
      'WorkerErrorsAlarm',
      'Worker invocations failed (a crash or a timeout, not a URL error).',
      worker.metricErrors({ period, statistic: 'Sum' }),
      1,
    ],
    [
      'DispatcherErrorsAlarm',
      'Dispatcher invocations (dispatches and fan-ins) failed; Lambda retries them, from their checkpoints.',
      dispatcher.metricErrors({ period, statistic: 'Sum' }),
      1,
    ],
  ];
  return alarms.map(([id, alarmDescription, metric, evaluationPeriods]) => {
    const alarm = new cloudwatch.Alarm(scope, id, {
      alarmDescription,
      metric,
      threshold: 1,
      evaluationPeriods,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(...actions);
    return alarm;
  });
}
