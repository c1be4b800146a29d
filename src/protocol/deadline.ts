/** Deadlines: a timer aborts the request's signal; the wait ends at once, even if a handler ignores it. */
export class TimeoutError extends Error {
  override name = 'TimeoutError';
}

/** Resolves with the handler's value, or rejects as soon as the signal aborts. */
export function untilAborted<T>(value: T | Promise<T>, signal: AbortSignal): Promise<T> | T {
  if (!(value instanceof Promise)) return value;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    value.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
