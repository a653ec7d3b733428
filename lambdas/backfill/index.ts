import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { type BackfillStep, backfillSteps } from '../../orchestration/backfill';
import { BackfillStore } from '../../orchestration/backfill-store';
import { readBackfillEnvironment } from '../../orchestration/environment';
import { PartitionStore } from '../../orchestration/partition-store';

const environment = readBackfillEnvironment(process.env);
const logger = new Logger({ serviceName: 'sluice-backfill', persistentKeys: { pipeline: environment.config.name } });
const client = new DynamoDBClient({});
const steps = backfillSteps({
  config: environment.config,
  partitions: new PartitionStore(client, environment.tableName),
  backfills: new BackfillStore(client, environment.tableName),
  clock: () => new Date(),
});

/** One step of the pipeline's backfill state machine (see `BackfillStep`). */
export const handler = async (step: BackfillStep): Promise<unknown> => {
  const result = await steps(step);
  if (step.action === 'plan' || step.action === 'finish') logger.info(`Backfill ${step.action}`, { backfillId: step.backfillId, result });
  return result;
};
