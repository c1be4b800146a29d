/**
 * One Gangway process for the multi-process tests: run with `node --import tsx`, configured by the
 * GW_PROCESS environment variable (JSON), it prints `listening <port>` once it serves and closes
 * gracefully on SIGTERM. The configuration is what a product would deploy: API keys and OAuth,
 * a destructive tool, the default 60-a-minute limit, and its stores on Postgres and Redis.
 */
import { createGangway, defineTool } from '../../src/index.ts';

interface ProcessConfig {
  store: string;
  ephemeral: string;
  publicUrl: string;
  secret: string;
  cacheMs: number;
}

const c = JSON.parse(process.env.GW_PROCESS ?? '{}') as ProcessConfig;

const app = createGangway({
  name: 'multi-process',
  version: '1.0.0',
  secret: c.secret,
  store: c.store,
  ephemeral: c.ephemeral,
  logger: { level: process.env.GW_PROCESS_LOG ?? 'silent' },
  http: { publicUrl: c.publicUrl, sessions: { revalidateMs: 1000 } },
  auth: {
    scopes: { 'notes:read': 'Read your notes', 'notes:write': 'Change your notes' },
    // The product's sign-in: the user a test header names.
    signIn: (request) => {
      const who = request.headers.get('x-test-user') ?? 'alice';
      return { subject: who, tenant: `${who}-co` };
    },
    oauth: {},
    cacheMs: c.cacheMs,
  },
  tools: [
    defineTool<{ n: string }>({
      name: 'echo',
      description: 'Echoes n, and says which process answered',
      input: { type: 'object', properties: { n: { type: 'string' } }, required: ['n'] },
      handler: ({ n }) => `${n} from ${process.pid}`,
    }),
    defineTool<{ id: string }>({
      name: 'delete_note',
      description: 'Deletes a note',
      destructive: true,
      scopes: ['notes:write'],
      resourceId: 'id',
      input: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
      handler: ({ id }) => `deleted ${id} in ${process.pid}`,
    }),
  ],
});

const { port } = await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`listening ${port}\n`);
process.once('SIGTERM', () => {
  void app.close().then(() => process.exit(0));
});
