import { bucketName, findText, putJson } from '../shared/storage';

export class SourceUnavailableError extends Error {
  override name = 'SourceUnavailableError';
}

/**
 * The metering source. It is unavailable for the first `outagesPerHour` requests for each hour
 * (counted in S3, so the count survives across the retried Lambda invocations), then serves a
 * deterministic set of readings for that hour.
 */
export async function readMeters(hour: string, outagesPerHour: number): Promise<{ meter: string; kwh: number }[]> {
  const counterKey = `ingest/_source-requests/${hour}.json`;
  const requests = Number((await findText(bucketName('raw'), counterKey)) ?? 0) + 1;
  await putJson(bucketName('raw'), counterKey, requests);
  if (requests <= outagesPerHour) {
    throw new SourceUnavailableError(`meter source unavailable for ${hour} (request ${requests})`);
  }
  let seed = [...hour].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7);
  const next = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  return Array.from({ length: 24 }, (_, i) => ({ meter: `m-${String(i).padStart(3, '0')}`, kwh: Math.round(next() * 5000) / 1000 }));
}
