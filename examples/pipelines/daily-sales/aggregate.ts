import type { TaskEvent } from 'sluice';
import { bucketName, putJson } from '../shared/storage';
import { readSales } from './sales';

/** Totals the day's valid sales by store and by product and writes the report. */
export const handler = async (event: TaskEvent) => {
  const { keys } = event.results.validate as { keys: string[] };
  const { sales } = await readSales(keys);
  const byStore: Record<string, number> = {};
  const byProduct: Record<string, { quantity: number; amount: number }> = {};
  for (const sale of sales) {
    byStore[sale.store] = round((byStore[sale.store] ?? 0) + sale.amount);
    const product = (byProduct[sale.product] ??= { quantity: 0, amount: 0 });
    product.quantity += sale.quantity;
    product.amount = round(product.amount + sale.amount);
  }
  const revenue = round(sales.reduce((sum, s) => sum + s.amount, 0));
  const key = `daily-sales/${event.partition}/report.json`;
  await putJson(bucketName('curated'), key, { date: event.partition, revenue, orders: sales.length, byStore, byProduct });
  return { report: key, revenue, orders: sales.length };
};

const round = (value: number) => Math.round(value * 100) / 100;
