import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { PARTITION_TABLE } from '../../compile/contract';
import { deadLetterQueue } from './queues';

/**
 * What `launchRun` (orchestration/launch.ts) needs: read and claim partition items, count the running
 * ones through the table's index of running partitions (that index only), and start the
 * pipeline's own state machine.
 */
export function grantLaunch(fn: lambda.IFunction, table: dynamodb.ITable, stateMachine: sfn.IStateMachine): void {
  table.grant(fn, 'dynamodb:GetItem', 'dynamodb:UpdateItem');
  iam.Grant.addToPrincipal({
    grantee: fn,
    actions: ['dynamodb:Query'],
    resourceArns: [`${table.tableArn}/index/${PARTITION_TABLE.runningIndex.name}`],
  });
  stateMachine.grantStartExecution(fn);
}

/**
 * Asynchronous invocations that fail are retried twice by Lambda, then kept in the returned
 * queue for inspection and redrive instead of being dropped.
 *
 * @see https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
 */
export function retainFailedInvocations(scope: Construct, fn: lambda.Function, what: string): sqs.Queue {
  const queue = deadLetterQueue(scope, 'FailedInvocations', what);
  fn.configureAsyncInvoke({
    onFailure: new destinations.SqsDestination(queue),
    retryAttempts: 2,
    maxEventAge: Duration.hours(6),
  });
  return queue;
}
