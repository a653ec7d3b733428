import type { Server } from 'node:http';

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
