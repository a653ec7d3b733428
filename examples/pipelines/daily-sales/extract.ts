import type { TaskEvent } from 'sluice';
import { bucketName, listKeys } from '../shared/storage';

/** Finds the day's CSV drops. Returns their keys, not their content (payloads stay small). */
export const handler = async (event: TaskEvent) => {
  const keys = (await listKeys(bucketName('raw'), `sales/${event.partition}/`)).filter((k) => k.endsWith('.csv'));
  if (keys.length === 0) throw new Error(`no sales files under sales/${event.partition}/`);
  return { keys };
};
