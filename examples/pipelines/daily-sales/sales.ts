import { bucketName, getText, parseCsv } from '../shared/storage';

export interface Sale {
  readonly store: string;
  readonly product: string;
  readonly quantity: number;
  readonly amount: number;
}

export interface Rejection {
  readonly key: string;
  readonly line: number;
  readonly reason: string;
}

/** Reads the day's files and splits their rows into valid sales and rejected rows. */
export async function readSales(keys: readonly string[]): Promise<{ sales: Sale[]; rejected: Rejection[] }> {
  const sales: Sale[] = [];
  const rejected: Rejection[] = [];
  for (const key of keys) {
    parseCsv(await getText(bucketName('raw'), key)).forEach((row, index) => {
      const quantity = Number(row.quantity);
      const amount = Number(row.amount);
      const reason = !row.store
        ? 'missing store'
        : !row.product
          ? 'missing product'
          : !Number.isInteger(quantity) || quantity <= 0
            ? `bad quantity ${JSON.stringify(row.quantity)}`
            : !Number.isFinite(amount) || amount < 0
              ? `bad amount ${JSON.stringify(row.amount)}`
              : undefined;
      if (reason) rejected.push({ key, line: index + 2, reason });
      else sales.push({ store: row.store, product: row.product, quantity, amount });
    });
  }
  return { sales, rejected };
}
