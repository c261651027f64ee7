import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import { JOB_TABLE, type TableKey } from '../lambda/core/contract.js';

const attribute = (key: TableKey): dynamodb.Attribute => ({
  name: key.name,
  type: key.type as dynamodb.AttributeType,
});

/**
 * The job table, in `scope`, from the contract's JOB_TABLE (keys, indexes, TTL attribute):
 * on demand, with point-in-time recovery, protected from deletion while it is retained.
 */
export function createJobTable(scope: Construct, removalPolicy: RemovalPolicy): dynamodb.Table {
  const table = new dynamodb.Table(scope, 'Jobs', {
    partitionKey: attribute(JOB_TABLE.partitionKey),
    ...(JOB_TABLE.sortKey && { sortKey: attribute(JOB_TABLE.sortKey) }),
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    timeToLiveAttribute: JOB_TABLE.ttlAttribute,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    deletionProtection: removalPolicy === RemovalPolicy.RETAIN,
    removalPolicy,
  });
  for (const index of JOB_TABLE.indexes) {
    table.addGlobalSecondaryIndex({
      indexName: index.indexName,
      partitionKey: attribute(index.partitionKey),
      ...(index.sortKey && { sortKey: attribute(index.sortKey) }),
      projectionType: dynamodb.ProjectionType.ALL,
    });
  }
  return table;
}
