import { useEffect, useState } from 'preact/hooks';
import { get, onChange } from './api';
import type { ChangeEvent } from '../views';

/** State of a fetched resource. */
export type Loaded<T> = { readonly data?: T; readonly error?: string; readonly loading: boolean };

/** How often a page polls what changes without an event (a backfill's counts) while it is running. */
const POLL_MS = 1_000;

/**
 * Fetches `url` and fetches it again (no more than every 300 ms) whenever the server reports a
 * change that `relevant` accepts: the page updates live, without reloading. While `pollWhile`
 * holds of the data, it is also fetched every second.
 */
export function useLive<T>(
  url: string | undefined,
  relevant: (event: ChangeEvent) => boolean = () => true,
  pollWhile?: (data: T) => boolean,
): Loaded<T> & { reload(): void } {
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
  const polling = state.data !== undefined && pollWhile !== undefined && pollWhile(state.data);
  useEffect(() => {
    if (!polling) return;
    const timer = setTimeout(() => setVersion((v) => v + 1), POLL_MS);
    return () => clearTimeout(timer);
  }, [polling, state]);
  return { ...state, reload: () => setVersion((v) => v + 1) };
}

/** What an action answered: shown next to its button. */
export type Outcome = { readonly text: string; readonly bad: boolean };

/**
 * Runs an action (a POST) at most once at a time: `busy` while it runs, then its outcome, the
 * text it returns or the server's one-line error.
 */
export function useAction(): { busy: boolean; outcome?: Outcome; act(action: () => Promise<string>): Promise<void> } {
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | undefined>();
  const act = async (action: () => Promise<string>) => {
    setBusy(true);
    try {
      setOutcome({ text: await action(), bad: false });
    } catch (error) {
      setOutcome({ text: (error as Error).message, bad: true });
    } finally {
      setBusy(false);
    }
  };
  return { busy, outcome, act };
}
