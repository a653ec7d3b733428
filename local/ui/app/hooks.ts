import { useEffect, useState } from 'preact/hooks';
import { get, onChange } from './api';
import type { ChangeEvent } from '../views';

/** State of a fetched resource. */
export type Loaded<T> = { readonly data?: T; readonly error?: string; readonly loading: boolean };

/**
 * Fetches `url` and fetches it again (no more than every 300 ms) whenever the server reports a
 * change that `relevant` accepts: the page updates live, without reloading.
 */
export function useLive<T>(url: string | undefined, relevant: (event: ChangeEvent) => boolean = () => true): Loaded<T> & { reload(): void } {
  const [state, setState] = useState<Loaded<T>>({ loading: true });
  const [version, setVersion] = useState(0);
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const off = onChange((event) => {
      if (!relevant(event) || timer) return;
      timer = setTimeout(() => {
        timer = undefined;
        setVersion((v) => v + 1);
      }, 300);
    });
    return () => {
      off();
      if (timer) clearTimeout(timer);
    };
  }, [url]);
  useEffect(() => {
    if (!url) return;
    let current = true;
    get<T>(url).then(
      (data) => current && setState({ data, loading: false }),
      (error: Error) => current && setState((s) => ({ data: s.data, error: error.message, loading: false })),
    );
    return () => {
      current = false;
    };
  }, [url, version]);
  return { ...state, reload: () => setVersion((v) => v + 1) };
}
