import type { SQSRecord } from 'aws-lambda';

/** An SQS record of the arrivals queue, as Lambda delivers it. */
export function record(messageId: string, body: string): SQSRecord {
  return {
    messageId,
    receiptHandle: `handle-${messageId}`,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '1704164645000',
      SenderId: 'AIDAEXAMPLE',
      ApproximateFirstReceiveTimestamp: '1704164645000',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:daily-sales-arrivals',
    awsRegion: 'us-east-1',
  };
}

/** An EventBridge `Object Created` event of bucket `prod-raw-1a2b`, as the queue holds it. */
export function objectCreated(key: string): string {
  return JSON.stringify({
    version: '0',
    id: 'e1',
    'detail-type': 'Object Created',
    source: 'aws.s3',
    account: '123456789012',
    time: '2024-01-02T03:04:05Z',
    region: 'us-east-1',
    resources: [],
    detail: { version: '0', bucket: { name: 'prod-raw-1a2b' }, object: { key, size: 1, etag: 'e', sequencer: '01' } },
  });
}
