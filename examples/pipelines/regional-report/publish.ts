import type { TaskEvent } from 'sluice';
import { bucketName, putJson } from '../shared/storage';

export const handler = async (event: TaskEvent) => {
  const { byWarehouse } = event.results.summarise as { byWarehouse: Record<string, number> };
  const { reorder } = event.results['check-stock'] as { reorder: string[] };
  const key = `regional-report/${event.partition}/stock.json`;
  await putJson(bucketName('curated'), key, { region: event.partition, byWarehouse, reorder });
  return { report: key, reorder: reorder.length };
};
