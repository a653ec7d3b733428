import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { Logger } from '@aws-lambda-powertools/logger';
import {
  type ExecutionStatusChangeEvent,
  handleStatusChange,
  PartitionStore,
  readRunMonitorEnvironment,
  type RunMonitorDeps,
  type StatusChangeResult,
} from '../../runtime';

/**
 * The run monitor's core: records a failed run and alerts, starts the rerun an S3 arrival
 * requested during the run, and logs what it did. An error (a rerun deferred at the pipeline's
 * limit included) fails the invocation, so that it is retried.
 */
export function runMonitorHandler(deps: RunMonitorDeps & { readonly logger: Pick<Logger, 'info'> }) {
  return async (event: ExecutionStatusChangeEvent): Promise<StatusChangeResult> => {
    const result = await handleStatusChange(event, deps);
    deps.logger.info('Execution status change handled', { executionArn: event.detail?.executionArn, result });
    return result;
  };
}

const environment = readRunMonitorEnvironment(process.env);

export const handler = runMonitorHandler({
  store: new PartitionStore(new DynamoDBClient({}), environment.tableName),
  sns: new SNSClient({}),
  topicArn: environment.alertTopicArn,
  region: environment.region,
  config: environment.config,
  sfn: new SFNClient({}),
  stateMachineArn: environment.stateMachineArn,
  clock: () => new Date(),
  logger: new Logger({ serviceName: 'sluice-run-monitor', persistentKeys: { pipeline: environment.config.name } }),
});
