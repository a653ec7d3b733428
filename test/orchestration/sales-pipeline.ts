import type { LauncherConfig } from '../../lib/compile/contract';

/** Deployed names of the logical buckets of {@link SALES}. */
export const BUCKETS = { raw: 'prod-raw-1a2b', landing: 'prod-landing-3c4d' };

/** A daily pipeline started by arrivals in two buckets, one with partitionFromKey. */
export const SALES: LauncherConfig = {
  name: 'daily-sales',
  tasks: [],
  maxConcurrentRuns: 10,
  partitions: { kind: 'daily', start: '2024-01-01', timezone: 'America/New_York' },
  triggers: [
    {
      kind: 's3Arrival',
      bucket: 'raw',
      prefix: 'sales/',
      suffix: '.csv',
      partitionFromKey: { source: '^sales\\/(?<partition>\\d{4}-\\d{2}-\\d{2})\\/', flags: '' },
    },
    { kind: 's3Arrival', bucket: 'landing', prefix: 'raw data/' },
  ],
};
