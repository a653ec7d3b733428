declare module 'dynalite' {
  import type { Server } from 'node:http';

  /** Options of dynalite 4 (in-memory unless `path` is set). */
  interface DynaliteOptions {
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
    maxItemSizeKb?: number;
    /** Directory of the LevelDB store. */
    path?: string;
  }

  /** An HTTP server speaking the DynamoDB API; `close()` also closes the store. */
  export default function dynalite(options?: DynaliteOptions): Server;
}
