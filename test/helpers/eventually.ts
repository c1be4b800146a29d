import assert from 'node:assert/strict';

/**
 * Retries `probe` until it neither throws nor returns `false`: for work a test cannot await (a
 * write the server makes after answering, a message on a later turn, a background checkpoint).
 * After `within` ms it fails with the probe's last error, or says what never happened.
 */
export async function eventually(
  probe: () => unknown,
  { within = 2000, every = 10, what = 'the condition' }: { within?: number; every?: number; what?: string } = {},
): Promise<void> {
  const deadline = Date.now() + within;
  for (;;) {
    let failure: unknown;
    try {
      if ((await probe()) !== false) return;
    } catch (err) {
      failure = err;
    }
    if (Date.now() > deadline) throw failure ?? new assert.AssertionError({ message: `timed out after ${within} ms waiting for ${what}` });
    await new Promise((resolve) => setTimeout(resolve, every));
  }
}
