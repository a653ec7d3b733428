import { daily, pipeline, s3Arrival, task } from 'sluice';

/**
 * Daily sales: store systems drop CSV files under `sales/<date>/` in the raw bucket; each drop
 * (re)builds that day's report in the curated bucket.
 */
export default pipeline({
  name: 'daily-sales',
  description: 'Validates and aggregates the CSV sales drops of one day into a report',
  partitions: daily({ start: '2024-01-01', timezone: 'America/New_York' }),
  schedule: { cron: '0 6 * * *', timezone: 'America/New_York' },
  triggers: [
    s3Arrival({
      bucket: 'raw',
      prefix: 'sales/',
      suffix: '.csv',
      partitionFromKey: /^sales\/(?<partition>\d{4}-\d{2}-\d{2})\//,
    }),
  ],
  retry: { attempts: 3, intervalSeconds: 1, backoffRate: 2, maxDelaySeconds: 30, jitter: true, nonRetryableErrors: ['DataQualityError'] },
  tasks: {
    extract: task({ handler: './extract.ts', timeoutSeconds: 60, buckets: { read: ['raw'] } }),
    validate: task({ handler: './validate.ts', after: ['extract'], timeoutSeconds: 120, buckets: { read: ['raw'], write: ['curated'] } }),
    aggregate: task({
      handler: './aggregate.ts',
      after: ['validate'],
      timeoutSeconds: 300,
      memoryMb: 1024,
      buckets: { read: ['raw'], write: ['curated'] },
      retry: { attempts: 5 },
    }),
  },
});
