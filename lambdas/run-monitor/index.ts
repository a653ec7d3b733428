/** The run monitor function's entry: its clients and environment, created once per container. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { Logger } from '@aws-lambda-powertools/logger';
import { readRunMonitorEnvironment } from '../../orchestration/environment';
import { PartitionStore } from '../../orchestration/partition-store';
import { SDK_RETRY } from '../../orchestration/retry';
import { runMonitorHandler } from './handler';

const environment = readRunMonitorEnvironment(process.env);

export const handler = runMonitorHandler({
  store: new PartitionStore(new DynamoDBClient(SDK_RETRY), environment.tableName),
  sns: new SNSClient(SDK_RETRY),
  topicArn: environment.alertTopicArn,
  region: environment.region,
  config: environment.config,
  sfn: new SFNClient(SDK_RETRY),
  stateMachineArn: environment.stateMachineArn,
  events: { client: new EventBridgeClient({}), busName: environment.eventBusName },
  clock: () => new Date(),
  logger: new Logger({ serviceName: 'sluice-run-monitor', persistentKeys: { pipeline: environment.config.name } }),
});
