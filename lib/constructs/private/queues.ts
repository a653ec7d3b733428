import { Duration, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/** How long undeliverable messages are kept for inspection and redrive: SQS's maximum. */
const DEAD_LETTER_RETENTION = Duration.days(14);

/**
 * A queue for what could not be delivered: encrypted, TLS only, kept 14 days. `deadLettersOf`
 * names what sends to it, for the record of why it has no dead-letter queue itself.
 */
export function deadLetterQueue(scope: Construct, id: string, deadLettersOf: string): sqs.Queue {
  const queue = new sqs.Queue(scope, id, {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: DEAD_LETTER_RETENTION,
  });
  Validations.of(queue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason: `This queue is itself the dead-letter queue of ${deadLettersOf}`,
  });
  return queue;
}
