declare module 'dynalite' {
  import type { Server } from 'node:http';

  /** Options of dynalite 4 (in-memory unless `path` is set). */
  interface DynaliteOptions {
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
    maxItemSizeKb?: number;
    path?: string;
  }

  export default function dynalite(options?: DynaliteOptions): Server;
}
