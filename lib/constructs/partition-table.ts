import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { PARTITION_TABLE } from '../compile/contract';

/** Properties of a {@link PartitionTable}. */
export interface PartitionTableProps {
  /**
   * What happens to the table, and the run history in it, when it leaves the stack.
   * Use `RETAIN` wherever the history matters (production).
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * The table's name.
   *
   * @default - a name CloudFormation generates
   */
  readonly tableName?: string;
}

/**
 * The table of partition statuses: one item per (pipeline, partition), keyed as
 * {@link PARTITION_TABLE} says, with the sparse global secondary index of RUNNING partitions
 * that the launcher counts to enforce `maxConcurrentRuns`, and that of requested reruns that the
 * run monitor's reconciliation reads (keys only: a count or a key list needs nothing more). On-demand billing (idle costs nothing), point-in-time recovery, encrypted with an AWS
 * managed key so that Step Functions' direct DynamoDB integration needs no key grant, and
 * protected from deletion when retained.
 */
export class PartitionTable extends Construct {
  public readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: PartitionTableProps = {}) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      tableName: props.tableName,
      partitionKey: { name: PARTITION_TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: PARTITION_TABLE.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      // A retained table holds the history that matters: deleting it takes a deliberate step.
      deletionProtection: (props.removalPolicy ?? RemovalPolicy.RETAIN) === RemovalPolicy.RETAIN,
    });
    // Declared on the CloudFormation resource rather than with `addGlobalSecondaryIndex`: once the
    // L2 table knows of an index, each of its grants also covers `<table>/index/*`, a wildcard no
    // grantee needs. The readers of an index are granted it by name (see `grantLaunch` and
    // `RunMonitor`).
    const indexes = [PARTITION_TABLE.runningIndex, PARTITION_TABLE.rerunIndex];
    const cfn = this.table.node.defaultChild as dynamodb.CfnTable;
    cfn.attributeDefinitions = [
      { attributeName: PARTITION_TABLE.partitionKey, attributeType: 'S' },
      { attributeName: PARTITION_TABLE.sortKey, attributeType: 'S' },
      ...indexes.map((index) => ({ attributeName: index.partitionKey, attributeType: 'S' })),
    ];
    cfn.globalSecondaryIndexes = indexes.map((index) => ({
      indexName: index.name,
      keySchema: [
        { attributeName: index.partitionKey, keyType: 'HASH' },
        { attributeName: index.sortKey, keyType: 'RANGE' },
      ],
      projection: { projectionType: 'KEYS_ONLY' },
    }));
  }
}
