import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DEFAULT_STACK_NAME } from '../lambda/core/contract.js';
import { FanoutStack } from './fanout-stack.js';

const app = new App();
new FanoutStack(app, DEFAULT_STACK_NAME, {
  // fetcher: { maxWorkerConcurrency: 100, userAgent: 'fanout/0.1 (ops@example.com)' },
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
