// Runs a query when its inputs change, optionally again every `pollMs` while `poll` holds.
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, request } from './client';

export interface QueryState<T> {
  data: T | undefined;
  error: ApiError | Error | undefined;
  loading: boolean;
  // True while `data` answers earlier variables (kept so lists do not blink while a filter changes).
  stale: boolean;
  reload(): void;
}

export function useQuery<TData, TVars extends object>(
  query: string,
  variables: TVars,
  options: { pollMs?: number; poll?: (data: TData) => boolean; skip?: boolean } = {},
): QueryState<TData> {
  const [answer, setAnswer] = useState<{ data: TData; key: string }>();
  const [error, setError] = useState<Error>();
  const [loading, setLoading] = useState(!options.skip);
  const [tick, setTick] = useState(0);
  const key = JSON.stringify(variables);
  const pollRef = useRef(options.poll);
  pollRef.current = options.poll;

  useEffect(() => {
    if (options.skip) return;
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let polling = false;
    const load = () => {
      request<TData, TVars>(query, JSON.parse(key) as TVars).then(
        (d) => {
          if (!live) return;
          setAnswer({ data: d, key });
          setError(undefined);
          setLoading(false);
          polling = !!options.pollMs && !!pollRef.current?.(d);
          if (polling) timer = setTimeout(load, options.pollMs);
        },
        (e: Error) => {
          if (!live) return;
          setError(e);
          setLoading(false);
          // A refused poll (rate limit, restart) is retried more slowly rather than ending live updates.
          if (options.pollMs && polling) timer = setTimeout(load, options.pollMs * 5);
        },
      );
    };
    setLoading(true);
    load();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [query, key, tick, options.pollMs, options.skip]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data: answer?.data, error, loading, stale: !!answer && answer.key !== key, reload };
}
