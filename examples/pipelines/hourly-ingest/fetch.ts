import type { TaskEvent } from 'sluice';
import { bucketName, putJson } from '../shared/storage';
import { readMeters } from './source';

/** Copies the hour's readings to the raw bucket; the source fails transiently twice per hour. */
export const handler = async (event: TaskEvent) => {
  const readings = await readMeters(event.partition, Number(process.env.SOURCE_OUTAGES_PER_HOUR ?? 2));
  const key = `ingest/meters/${event.partition}.json`;
  await putJson(bucketName('raw'), key, readings);
  return { key, readings: readings.length };
};
