import type { TaskEvent } from 'sluice';
import { readInventory } from './inventory';

/** SKUs at or below their reorder point. */
export const handler = async (event: TaskEvent) => {
  const { keys } = event.results.gather as { keys: string[] };
  const reorder = (await readInventory(keys)).filter((l) => l.onHand <= l.reorderAt).map((l) => `${l.warehouse}/${l.sku}`);
  return { reorder };
};
