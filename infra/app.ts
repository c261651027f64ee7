import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { FanoutStack } from './fanout-stack.js';

const app = new App();
new FanoutStack(app, 'Fanout', {
  // fetcher: { maxWorkerConcurrency: 100, userAgent: 'fanout/0.1 (ops@example.com)' },
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
