import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { describe, expect, it } from 'vitest';
import { type PutEvent, startEventBridgeApi } from '../../../local/services/eventbridge-api';

describe('startEventBridgeApi', () => {
  it('puts the entries a role may put on their bus, and reports the others as failed entries with AWS’s denial', async () => {
    // Given a role allowed to put events on the sluice bus only
    const received: PutEvent[] = [];
    const api = await startEventBridgeApi({
      onEvent: (event) => received.push(event),
      environment: { region: 'eu-west-1', account: '123456789012' },
      authorize: ({ accessKeyId, action, resource }) =>
        accessKeyId === 'ASIAMONITOR' && action === 'events:PutEvents' && resource === 'arn:aws:events:eu-west-1:123456789012:event-bus/sluice-dev'
          ? undefined
          : `User is not authorized to perform: ${action} on resource: ${resource}`,
    });
    const client = new EventBridgeClient({
      endpoint: api.endpoint,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'ASIAMONITOR', secretAccessKey: 'local', sessionToken: 'local' },
    });
    try {
      // When it puts one event on that bus and one on the default bus
      const entry = { Source: 'sluice', DetailType: 'Partition Succeeded', Detail: JSON.stringify({ pipeline: 'sales' }) };
      const result = await client.send(new PutEventsCommand({ Entries: [{ ...entry, EventBusName: 'sluice-dev' }, { ...entry, EventBusName: 'default' }] }));

      // Then
      expect(result.FailedEntryCount).toBe(1);
      expect(result.Entries?.[1]).toMatchObject({ ErrorCode: 'AccessDeniedException', ErrorMessage: expect.stringContaining('event-bus/default') });
      expect(received.map((e) => e.eventBusName)).toStrictEqual(['sluice-dev']);
    } finally {
      client.destroy();
      await api.stop();
    }
  });
});
