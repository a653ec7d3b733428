import { bucketName, getText, parseCsv } from '../shared/storage';

export interface StockLine {
  readonly sku: string;
  readonly warehouse: string;
  readonly onHand: number;
  readonly reorderAt: number;
}

export async function readInventory(keys: readonly string[]): Promise<StockLine[]> {
  const lines: StockLine[] = [];
  for (const key of keys) {
    for (const row of parseCsv(await getText(bucketName('raw'), key))) {
      lines.push({ sku: row.sku, warehouse: row.warehouse, onHand: Number(row.on_hand), reorderAt: Number(row.reorder_at) });
    }
  }
  return lines;
}
