import type { TaskEvent } from 'sluice';
import { readInventory } from './inventory';

/** Units on hand per warehouse. */
export const handler = async (event: TaskEvent) => {
  const { keys } = event.results.gather as { keys: string[] };
  const byWarehouse: Record<string, number> = {};
  for (const line of await readInventory(keys)) byWarehouse[line.warehouse] = (byWarehouse[line.warehouse] ?? 0) + line.onHand;
  return { byWarehouse };
};
