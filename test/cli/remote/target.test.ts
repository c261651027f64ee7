/** How a remote command finds its target: flags and variables first, the stack's outputs for the rest, read once. */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RemoteError } from '../../../lambda/cli/remote/remote-error.js';
import { Target } from '../../../lambda/cli/remote/target.js';

const cloudformation = mockClient(CloudFormationClient);
const flags = { stack: 'Fanout', region: 'eu-west-1' };
const outputs = [
  { OutputKey: 'BucketName', OutputValue: 'the-bucket' },
  { OutputKey: 'ApiUrl', OutputValue: 'https://abc.execute-api.eu-west-1.amazonaws.com/v1/' },
  { OutputKey: 'TableName', OutputValue: 'the-table' },
];
const missingStack = Object.assign(new Error('Stack with id Fanout does not exist'), {
  name: 'ValidationError',
});

beforeEach(() => cloudformation.reset());
afterEach(() => cloudformation.reset());

describe('Target.resolve', () => {
  it('takes what flags give without reading the stack', async () => {
    const target = new Target({ ...flags, bucket: 'b', table: 't', api: 'https://x/v1/' });
    expect(await target.resolve(['bucket', 'table'], ['api'])).toEqual({
      bucket: 'b',
      table: 't',
      api: 'https://x/v1/',
    });
    expect(cloudformation.calls()).toHaveLength(0);
  });

  it('fills the rest from the outputs, describing the stack once however often it is asked', async () => {
    cloudformation
      .on(DescribeStacksCommand, { StackName: 'Fanout' })
      .resolves({ Stacks: [{ Outputs: outputs } as never] });
    const target = new Target({ ...flags, bucket: 'mine' });
    expect(await target.resolve(['bucket', 'table'])).toEqual({ bucket: 'mine', table: 'the-table' });
    expect(await target.resolve([], ['api'])).toEqual({ api: outputs[1]?.OutputValue });
    expect(cloudformation.calls()).toHaveLength(1);
  });

  it('a missing output is an error naming it, the flag and the variable (exit 2)', async () => {
    cloudformation
      .on(DescribeStacksCommand)
      .resolves({ Stacks: [{ Outputs: outputs.slice(0, 1) } as never] });
    const error = await new Target(flags).resolve(['bucket', 'table']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteError);
    expect(error).toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(
        /^stack Fanout has no TableName output; .*the job table: pass --table or set FANOUT_TABLE$/,
      ),
    });
  });

  it('an optional resource is simply absent when the stack is; a required one is an error', async () => {
    cloudformation.on(DescribeStacksCommand).rejects(missingStack);
    const target = new Target({ ...flags, table: 't' });
    expect(await target.resolve(['table'], ['api'])).toEqual({ table: 't' });
    await expect(target.resolve(['bucket'])).rejects.toThrow(
      /^stack Fanout does not exist in eu-west-1; .*the job bucket: pass --bucket or set FANOUT_BUCKET$/,
    );
  });
});
