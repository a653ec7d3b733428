import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';

/**
 * S3 access for the example handlers. The endpoint comes from the SDK's own `AWS_ENDPOINT_URL_S3`
 * when the local runtime sets it; path-style addressing is what a loopback endpoint needs.
 */
const s3 = new S3Client({ forcePathStyle: process.env.SLUICE_S3_FORCE_PATH_STYLE === 'true' });

/** The deployed name of a logical bucket the task was granted (see `task({ buckets })`). */
export function bucketName(logical: string): string {
  const buckets = JSON.parse(process.env.SLUICE_BUCKETS ?? '{}') as Record<string, string>;
  const name = buckets[logical];
  if (!name) throw new Error(`bucket "${logical}" was not granted to this task; add it to task({ buckets })`);
  return name;
}

export async function listKeys(bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    keys.push(...(page.Contents ?? []).map((o) => o.Key!).filter(Boolean));
    token = page.NextContinuationToken;
  } while (token);
  return keys.sort();
}

export async function getText(bucket: string, key: string): Promise<string> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return object.Body!.transformToString('utf-8');
}

/** Reads an object, or `undefined` when it does not exist. */
export async function findText(bucket: string, key: string): Promise<string | undefined> {
  try {
    return await getText(bucket, key);
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
    throw error;
  }
}

export async function putJson(bucket: string, key: string, value: unknown): Promise<void> {
  await s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: key, Body: JSON.stringify(value, null, 2), ContentType: 'application/json' }),
  );
}

/** Parses a CSV with a header row into records; quoted fields with commas are supported. */
export function parseCsv(text: string): Record<string, string>[] {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '');
  if (lines.length === 0) return [];
  const header = splitCsvLine(lines[0]).map((h) => h.trim());
  return lines.slice(1).map((line) => {
    const cells = splitCsvLine(line);
    return Object.fromEntries(header.map((h, i) => [h, (cells[i] ?? '').trim()]));
  });
}

function splitCsvLine(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted && c === '"' && line[i + 1] === '"') {
      cell += '"';
      i++;
    } else if (c === '"') {
      quoted = !quoted;
    } else if (c === ',' && !quoted) {
      cells.push(cell);
      cell = '';
    } else {
      cell += c;
    }
  }
  cells.push(cell);
  return cells;
}
