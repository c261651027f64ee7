import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { STACK_OUTPUTS } from '../lambda/core/contract.js';
import { FanoutFetcher, type FanoutFetcherProps } from './fanout-fetcher.js';

/** Properties of {@link FanoutStack}. */
export interface FanoutStackProps extends StackProps {
  /** The deployment's settings. @default the FanoutFetcher's defaults */
  readonly fetcher?: FanoutFetcherProps;
}

/** fanout as one stack: the FanoutFetcher, and outputs for what a user reaches for. */
export class FanoutStack extends Stack {
  readonly fetcher: FanoutFetcher;

  constructor(scope: Construct, id: string, props: FanoutStackProps = {}) {
    super(scope, id, {
      description: 'fanout: fetch large lists of URLs with Lambda, results in S3',
      ...props,
    });
    this.fetcher = new FanoutFetcher(this, 'Fanout', props.fetcher);
    const { bucket, table, chunkQueue, deadLetterQueue, api } = this.fetcher;
    const output = (id: string, value: string, description: string) =>
      new CfnOutput(this, id, { value, description });
    output(
      STACK_OUTPUTS.bucket,
      bucket.bucketName,
      'Job bucket: upload lists to inputs/, results land in jobs/<jobId>/',
    );
    if (api) {
      output(STACK_OUTPUTS.api, api.url, 'Jobs API (IAM-signed): POST jobs, GET jobs/{id}, DELETE jobs/{id}');
    }
    output(STACK_OUTPUTS.chunkQueue, chunkQueue.queueUrl, 'Queue of chunk messages');
    output(STACK_OUTPUTS.deadLetterQueue, deadLetterQueue.queueUrl, 'Chunks that failed every delivery');
    output(STACK_OUTPUTS.table, table.tableName, 'Job table');
  }
}
