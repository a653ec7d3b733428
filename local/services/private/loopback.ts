import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const LOCAL_REGION = 'us-east-1';

/** The one key pair s3rver accepts (dynalite accepts any). */
export const LOCAL_ACCESS_KEY = 'S3RVER';

/** A fresh object per client: the SDK annotates the credentials it is given. */
export function localCredentials(): { accessKeyId: string; secretAccessKey: string } {
  return { accessKeyId: LOCAL_ACCESS_KEY, secretAccessKey: LOCAL_ACCESS_KEY };
}

/** Listens on 127.0.0.1 only: local stand-ins are never reachable from the network. */
export function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
}

/**
 * Serves an HTTP API on loopback (`port` 0 picks a free one): its endpoint URL, and `stop`,
 * which drops open connections and closes the server.
 */
export async function serveOnLoopback(server: Server, port: number): Promise<{ endpoint: string; stop(): Promise<void> }> {
  await listen(server, port);
  const { port: bound } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${bound}`,
    stop: () => {
      server.closeAllConnections();
      return closeServer(server);
    },
  };
}
