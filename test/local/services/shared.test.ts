import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ObjectCreatedEvent } from '../../../local/services/s3';
import { useSharedServices } from '../../../local/services/shared';

describe('useSharedServices', () => {
  let home: string;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'sluice-shared-'));
  });
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('lets a process that subscribes after other uploads flush without waiting for their events', async () => {
    // Given a process that received the events of some uploads, and then went away
    const first = await useSharedServices({ home, idleMs: 2_000 });
    const seen: ObjectCreatedEvent[] = [];
    first.s3.onObjectCreated((event) => seen.push(event));
    await first.s3.listening();
    await first.s3.client().send(new CreateBucketCommand({ Bucket: 'raw' }));
    for (const key of ['a.csv', 'b.csv']) await first.s3.client().send(new PutObjectCommand({ Bucket: 'raw', Key: key, Body: 'x' }));
    await first.s3.flush();
    expect(seen.map((e) => e.detail.object.key)).toEqual(['a.csv', 'b.csv']);

    // When a second process subscribes to the same services (a restarted `sluice dev`) and flushes
    const second = await useSharedServices({ home, idleMs: 2_000 });
    await first.release();
    const later: ObjectCreatedEvent[] = [];
    second.s3.onObjectCreated((event) => later.push(event));
    await second.s3.listening();
    const flushed = await Promise.race([second.s3.flush().then(() => 'flushed'), new Promise((resolve) => setTimeout(() => resolve('still waiting'), 5_000))]);

    // Then it does not wait for events that were sent before it subscribed, and receives later ones
    expect(flushed).toBe('flushed');
    await second.s3.client().send(new PutObjectCommand({ Bucket: 'raw', Key: 'c.csv', Body: 'x' }));
    await second.s3.flush();
    expect(later.map((e) => e.detail.object.key)).toEqual(['c.csv']);
    await second.release();
  });
});
