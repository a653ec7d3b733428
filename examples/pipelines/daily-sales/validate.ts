import type { TaskEvent } from 'sluice';
import { bucketName, putJson } from '../shared/storage';
import { readSales } from './sales';

class DataQualityError extends Error {
  override name = 'DataQualityError';
}

/** Rejects rows that fail the checks, records them, and fails the run if too many are bad. */
export const handler = async (event: TaskEvent) => {
  const { keys } = event.results.extract as { keys: string[] };
  const { sales, rejected } = await readSales(keys);
  await putJson(bucketName('curated'), `daily-sales/${event.partition}/rejected.json`, rejected);
  const total = sales.length + rejected.length;
  if (total === 0 || rejected.length / total > 0.2) {
    throw new DataQualityError(`${rejected.length} of ${total} rows rejected for ${event.partition} (limit 20%)`);
  }
  return { keys, valid: sales.length, rejected: rejected.length };
};
