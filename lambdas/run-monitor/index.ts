import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
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

/** The run monitor's core: records the failed run, alerts, and logs what it did. */
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
  logger: new Logger({ serviceName: 'sluice-run-monitor' }),
});
