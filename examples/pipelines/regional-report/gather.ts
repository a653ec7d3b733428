import type { TaskEvent } from 'sluice';
import { bucketName, listKeys } from '../shared/storage';

export const handler = async (event: TaskEvent) => {
  const keys = await listKeys(bucketName('raw'), `inventory/${event.partition}/`);
  if (keys.length === 0) throw new Error(`no inventory files under inventory/${event.partition}/`);
  return { keys };
};
