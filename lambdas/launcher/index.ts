/** The launcher function's entry: its clients and environment, created once per container. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DeadLetters } from '../../orchestration/dead-letters';
import { readLauncherEnvironment } from '../../orchestration/environment';
import { PartitionStore } from '../../orchestration/partition-store';
import { SDK_RETRY } from '../../orchestration/retry';
import { RunResults } from '../../orchestration/run-results';
import { launcherHandler } from './handler';

const environment = readLauncherEnvironment(process.env);
const logger = new Logger({ serviceName: 'sluice-launcher', persistentKeys: { pipeline: environment.config.name } });

const dynamodb = new DynamoDBClient(SDK_RETRY);
export const handler = launcherHandler({
  env: environment,
  store: new PartitionStore(dynamodb, environment.tableName),
  results: new RunResults(dynamodb, environment.tableName),
  sfn: new SFNClient(SDK_RETRY),
  // Queue URLs are built from ARNs: the client's endpoint (regional, or AWS_ENDPOINT_URL_SQS) serves them.
  deadLetters: new DeadLetters(new SQSClient({ ...SDK_RETRY, useQueueUrlAsEndpoint: false })),
  logger,
  // The namespace comes from POWERTOOLS_METRICS_NAMESPACE, set by the Launcher construct.
  metrics: new Metrics({
    serviceName: 'sluice-launcher',
    defaultDimensions: { pipeline: environment.config.name },
  }),
  clock: () => new Date(),
});
