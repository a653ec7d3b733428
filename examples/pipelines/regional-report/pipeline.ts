import { pipeline, s3Arrival, staticPartitions, task } from 'sluice';

/**
 * One partition per region: each region's inventory files are checked and summarised in
 * parallel, then published together.
 */
export default pipeline({
  name: 'regional-report',
  description: 'Summarises inventory per region (eu, us, apac) and publishes a stock report',
  partitions: staticPartitions(['apac', 'eu', 'us']),
  triggers: [
    s3Arrival({ bucket: 'raw', prefix: 'inventory/', suffix: '.csv', partitionFromKey: /^inventory\/(?<partition>[a-z]+)\// }),
  ],
  retry: { attempts: 2, intervalSeconds: 1 },
  tasks: {
    gather: task({ handler: './gather.ts', buckets: { read: ['raw'] } }),
    summarise: task({ handler: './summarise.ts', after: ['gather'], buckets: { read: ['raw'] } }),
    'check-stock': task({ handler: './check-stock.ts', after: ['gather'], buckets: { read: ['raw'] } }),
    publish: task({ handler: './publish.ts', after: ['summarise', 'check-stock'], buckets: { write: ['curated'] } }),
  },
});
