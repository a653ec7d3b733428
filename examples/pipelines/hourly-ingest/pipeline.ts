import { hourly, pipeline, task } from 'sluice';

/**
 * Hourly ingestion from a metering source that is often briefly unavailable: the fetch retries on
 * `SourceUnavailableError` only, with exponential backoff and jitter.
 */
export default pipeline({
  name: 'hourly-ingest',
  description: 'Pulls each hour of meter readings from a flaky source and publishes hourly statistics',
  partitions: hourly({ start: '2024-01-01T00', timezone: 'UTC' }),
  schedule: { cron: '5 * * * *', timezone: 'UTC' },
  maxConcurrentRuns: 4,
  tasks: {
    fetch: task({
      handler: './fetch.ts',
      timeoutSeconds: 60,
      buckets: { write: ['raw'] },
      retry: { attempts: 4, intervalSeconds: 1, backoffRate: 2, maxDelaySeconds: 10, jitter: true, retryOn: ['SourceUnavailableError'] },
    }),
    stats: task({ handler: './stats.ts', after: ['fetch'], timeoutSeconds: 60, buckets: { read: ['raw'], write: ['curated'] } }),
  },
});
