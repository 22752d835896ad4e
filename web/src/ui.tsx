// Small shared pieces: loading data, running an action with a status or an error the admin can read.
import { type ReactNode, useCallback, useEffect, useId, useRef, useState } from 'react';
import { adviceOf } from './api';

export function Alert({ message }: { message: string | null }) {
  if (!message) return null;
  return (
    <div className="alert" role="alert">
      {message}
    </div>
  );
}

/** A polite live region that is always in the DOM, so screen readers announce changes. */
export function Status({ message }: { message: string | null }) {
  return (
    <p className="status" role="status" aria-live="polite">
      {message ?? ''}
    </p>
  );
}

export interface Loaded<T> {
  data: T | null;
  error: string | null;
  loading: boolean;
  reload: () => Promise<void>;
}

/** Loads on mount and whenever `key` changes (a string naming what the data depends on). */
export function useLoad<T>(load: () => Promise<T>, key = ''): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const loadRef = useRef(load);
  loadRef.current = load;
  const reload = useCallback(async () => {
    setLoading(true);
    try {
      setData(await loadRef.current());
      setError(null);
    } catch (e) {
      setError(adviceOf(e));
    } finally {
      setLoading(false);
    }
  }, []);
  // biome-ignore lint/correctness/useExhaustiveDependencies: key is how callers say the data must be read again
  useEffect(() => {
    void reload();
  }, [key, reload]);
  return { data, error, loading, reload };
}

/** Runs admin actions one at a time, with a status line on success and an alert on failure. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [status, setStatus] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const run = useCallback(async (what: () => Promise<string | undefined>) => {
    setBusy(true);
    setError(null);
    setStatus(null);
    try {
      const done = await what();
      if (done) setStatus(done);
    } catch (e) {
      setError(adviceOf(e));
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, status, error, run, setError, setStatus };
}

export function Field({ label, children, hint }: { label: string; hint?: string; children: (id: string, hintId?: string) => ReactNode }) {
  const id = useId();
  const hintId = hint ? `${id}-hint` : undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children(id, hintId)}
      {hint ? <small id={hintId}>{hint}</small> : null}
    </div>
  );
}

export function Page({ title, children, intro }: { title: string; intro?: string; children: ReactNode }) {
  const ref = useRef<HTMLHeadingElement>(null);
  // A new page moves focus to its heading, so keyboard and screen-reader users land on the content.
  useEffect(() => {
    ref.current?.focus();
  }, []);
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1} ref={ref}>
        {title}
      </h1>
      {intro ? <p className="intro">{intro}</p> : null}
      {children}
    </section>
  );
}

export const when = (iso: string | null | undefined) => {
  if (!iso || iso.startsWith('0001-')) return 'never';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
};
