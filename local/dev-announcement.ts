/**
 * How a running `sluice dev` tells later commands on the same `SLUICE_HOME` which local services
 * it serves, so that they use those instead of their own.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { processExists } from './process';
import { accepts } from './services/shared';

/** The file in `SLUICE_HOME` where `sluice dev` announces its services. */
export const DEV_FILE = 'dev.json';

/** What `sluice dev` writes to {@link DEV_FILE}: the shared services it uses. */
export interface DevAnnouncement {
  /** The `sluice dev` process; the file is stale once it is gone. */
  readonly pid: number;
  readonly endpoints: { readonly s3: string; readonly dynamodb: string };
  /** Environment of SDK clients of the S3 endpoint (see `LocalS3.clientEnvironment`). */
  readonly s3ClientEnvironment: Readonly<Record<string, string>>;
}

/** Thrown when a runtime would announce its services on a home a live process already serves. */
export class DevAlreadyRunningError extends Error {
  constructor(
    readonly home: string,
    readonly pid: number,
  ) {
    super(`sluice dev already runs on ${home} (pid ${pid}); stop it first, or give this one another SLUICE_HOME`);
    this.name = 'DevAlreadyRunningError';
  }
}

/**
 * The live `sluice dev` of `home`, if any: its announcement, when the process exists and its
 * DynamoDB endpoint accepts connections (a pid can be reused after a crash).
 */
export async function findLiveDev(home: string): Promise<DevAnnouncement | undefined> {
  const file = join(home, DEV_FILE);
  if (!existsSync(file)) return undefined;
  let announced: DevAnnouncement;
  try {
    announced = JSON.parse(readFileSync(file, 'utf8')) as DevAnnouncement;
  } catch {
    return undefined;
  }
  if (!Number.isInteger(announced.pid) || announced.pid === process.pid || !processExists(announced.pid)) return undefined;
  return (await accepts(announced.endpoints?.dynamodb)) ? announced : undefined;
}
