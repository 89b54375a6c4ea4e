import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { asPolling } from "./api.js";

/** Runs `load(signal)` when `deps` change: `{data, error, loading, reload, setData}`. */
export function useAsync(load, deps) {
  const [state, setState] = useState({ data: undefined, error: null, loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const controller = new AbortController();
    setState((s) => ({ ...s, loading: true, error: null }));
    load(controller.signal).then(
      (data) => controller.signal.aborted || setState({ data, error: null, loading: false }),
      (error) => controller.signal.aborted || setState({ data: undefined, error, loading: false }),
    );
    return () => controller.abort();
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  const setData = useCallback((data) => setState({ data, error: null, loading: false }), []);
  return { ...state, reload, setData };
}

/**
 * Calls `fn` every `ms` while `active`. The reads `fn` starts are marked as the console's own
 * polling (see `asPolling` in api.js), so the activity views can leave them out.
 */
export function usePoll(fn, ms, active) {
  const saved = useRef(fn);
  saved.current = fn;
  useEffect(() => {
    if (!active) return undefined;
    let stopped = false;
    let timer;
    const run = async () => {
      try {
        await asPolling(() => saved.current());
      } finally {
        if (!stopped) timer = setTimeout(run, ms);
      }
    };
    timer = setTimeout(run, ms);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [ms, active]);
}

/** `[busy, run]`: run an action once at a time, reporting failures through `onError`. */
export function useAction(onError) {
  const [busy, setBusy] = useState(false);
  const run = useCallback(
    async (action) => {
      setBusy(true);
      try {
        return await action();
      } catch (error) {
        onError(error);
        return undefined;
      } finally {
        setBusy(false);
      }
    },
    [onError],
  );
  return [busy, run];
}
