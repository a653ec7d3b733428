import type { TaskEvent } from 'sluice';
import { bucketName, getText, putJson } from '../shared/storage';

/** Publishes the hour's total, mean and peak consumption. */
export const handler = async (event: TaskEvent) => {
  const { key } = event.results.fetch as { key: string };
  const readings = JSON.parse(await getText(bucketName('raw'), key)) as { meter: string; kwh: number }[];
  const total = readings.reduce((sum, r) => sum + r.kwh, 0);
  const peak = readings.reduce((max, r) => (r.kwh > max.kwh ? r : max), readings[0]);
  const out = `ingest/stats/${event.partition}.json`;
  await putJson(bucketName('curated'), out, {
    hour: event.partition,
    meters: readings.length,
    totalKwh: Math.round(total * 1000) / 1000,
    meanKwh: Math.round((total / readings.length) * 1000) / 1000,
    peak,
  });
  return { stats: out };
};
