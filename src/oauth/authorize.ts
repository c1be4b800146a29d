import type { WebHandler } from '../auth/web-context.ts';

// Placeholder until built.
export const authorizeRoute: WebHandler = async () => new Response('not built yet', { status: 501 });
