import { randomUUID } from 'node:crypto';
import { defineConfig, ToolError } from 'gangway';

/**
 * The demo: a small digital-goods shop (in the spirit of seed 004), served by Gangway on the
 * embedded default (SQLite under ./data). Point Claude, Cursor or the MCP Inspector at it.
 */
interface Product {
  merchant_id: string;
  sku: string;
  name: string;
  description: string;
  price_cents: number;
  currency: 'EUR' | 'USD';
}

const PRODUCTS: Product[] = [
  { merchant_id: 'indie-dev-42', sku: 'mdx-pro', name: 'MDX Pro: Markdown CLI', description: 'Terminal markdown editor with live preview', price_cents: 1200, currency: 'EUR' },
  { merchant_id: 'indie-dev-42', sku: 'git-companion', name: 'Git Companion Pro', description: 'Commit message and review helper', price_cents: 900, currency: 'EUR' },
  { merchant_id: 'acme-corp', sku: 'json-wizard', name: 'JSON Wizard CLI', description: 'Query, diff and fix JSON files', price_cents: 1500, currency: 'USD' },
  { merchant_id: 'acme-corp', sku: 'mcp-server-license', name: 'MCP Server License', description: 'One production MCP server licence', price_cents: 4900, currency: 'USD' },
];
// Orders belong to the caller's tenant (from the verified credential): another tenant's id reads as not found.
const orders = new Map<string, { id: string; tenant: string | null; sku: string; status: 'pending' | 'cancelled'; created_at: string }>();
const own = (order_id: string, tenant: string | null) => {
  const o = orders.get(order_id);
  if (!o || o.tenant !== tenant) throw new ToolError('Order not found');
  return o;
};

const price = (p: Product) => `${(p.price_cents / 100).toFixed(2)} ${p.currency}`;
const find = (merchant_id: string, sku: string) => {
  const p = PRODUCTS.find((x) => x.merchant_id === merchant_id && x.sku === sku);
  if (!p) throw new ToolError(`Product not found: ${sku}`);
  return p;
};

export default defineConfig({
  name: 'gangway-demo-shop',
  title: 'Gangway demo shop',
  version: '0.1.0',
  instructions: 'A small shop. Use search_products to find products, then get_product or create_order.',
  store: 'sqlite:./data/gangway.db',
  http: { port: 3000 },
  // Browsing is open to anyone (seed 004); orders need a signed-in user. Clients sign in through
  // OAuth (email sign-in, the address is the identity) or use an API key from /settings/tokens.
  auth: {
    scopes: { 'orders:read': 'See your orders', 'orders:write': 'Create and cancel orders' },
    signIn: 'email', // demo only: refused unless bound to loopback
    oauth: true,
  },
  // Guard rails (seed 003): 60 requests a minute per credential (the default), a monthly quota per
  // workspace, and get_api_usage to read it. cancel_order is destructive: it runs only once the
  // operator confirms (a form in clients that can show one, else confirm_destructive_action).
  policy: { quotas: { plans: { default: 10_000 } }, usageTool: true },
  tools: [
    {
      name: 'search_products',
      title: 'Search products',
      description: 'Search the catalog by keyword. Returns up to `limit` products with prices.',
      input: {
        type: 'object',
        properties: {
          query: { type: 'string', minLength: 1, description: 'Keywords, e.g. "markdown" or "cli"' },
          limit: { type: 'integer', minimum: 1, maximum: 50, default: 10 },
        },
        required: ['query'],
        additionalProperties: false,
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
      anonymous: true,
      handler: ({ query, limit }: { query: string; limit: number }) => {
        const words = query.toLowerCase().split(/\s+/);
        const results = PRODUCTS.filter((p) => words.some((w) => `${p.name} ${p.description}`.toLowerCase().includes(w)))
          .slice(0, limit)
          .map((p) => ({ ...p, price: price(p) }));
        return { results, total: results.length };
      },
    },
    {
      name: 'get_product',
      title: 'Get a product',
      description: 'Full details of one product, by merchant id and SKU (both from search_products).',
      input: {
        type: 'object',
        properties: { merchant_id: { type: 'string' }, sku: { type: 'string' } },
        required: ['merchant_id', 'sku'],
        additionalProperties: false,
      },
      annotations: { readOnlyHint: true },
      anonymous: true,
      handler: ({ merchant_id, sku }: { merchant_id: string; sku: string }) => ({ ...find(merchant_id, sku) }),
    },
    {
      name: 'create_order',
      title: 'Create an order',
      description: 'Start an order for a product. Returns the order id to check its status later.',
      input: {
        type: 'object',
        properties: { merchant_id: { type: 'string' }, sku: { type: 'string' } },
        required: ['merchant_id', 'sku'],
        additionalProperties: false,
      },
      output: {
        type: 'object',
        properties: { order_id: { type: 'string' }, status: { type: 'string' } },
        required: ['order_id', 'status'],
      },
      scopes: ['orders:write'],
      handler: async ({ merchant_id, sku }: { merchant_id: string; sku: string }, ctx) => {
        find(merchant_id, sku);
        ctx.progress(1, 2, 'reserving licence');
        const id = `ord_${randomUUID().slice(0, 8)}`;
        orders.set(id, { id, tenant: ctx.principal.tenant, sku, status: 'pending', created_at: new Date().toISOString() });
        ctx.progress(2, 2, 'done');
        return { order_id: id, status: 'pending' };
      },
    },
    {
      name: 'get_order_status',
      title: 'Order status',
      description: 'Status of an order created with create_order.',
      input: { type: 'object', properties: { order_id: { type: 'string' } }, required: ['order_id'] },
      annotations: { readOnlyHint: true },
      scopes: ['orders:read'],
      handler: ({ order_id }: { order_id: string }, ctx) => {
        const { tenant: _tenant, ...o } = own(order_id, ctx.principal.tenant);
        return o;
      },
    },
    {
      name: 'cancel_order',
      title: 'Cancel an order',
      description: 'Cancel a pending order. Destructive: the order cannot be restored.',
      input: { type: 'object', properties: { order_id: { type: 'string' } }, required: ['order_id'] },
      destructive: true,
      scopes: ['orders:write'],
      handler: ({ order_id }: { order_id: string }, ctx) => {
        const o = own(order_id, ctx.principal.tenant);
        o.status = 'cancelled';
        return { order_id, status: o.status };
      },
    },
  ],
  resources: [
    {
      uri: 'shop://catalog',
      name: 'catalog',
      title: 'Product catalog',
      description: 'Every product as JSON',
      mimeType: 'application/json',
      anonymous: true,
      read: () => JSON.stringify({ products: PRODUCTS, total: PRODUCTS.length, generated_at: new Date().toISOString() }),
    },
  ],
  resourceTemplates: [
    {
      uriTemplate: 'shop://products/{merchant_id}/{sku}',
      name: 'product',
      title: 'One product',
      mimeType: 'application/json',
      anonymous: true,
      complete: {
        merchant_id: (value) => [...new Set(PRODUCTS.map((p) => p.merchant_id))].filter((m) => m.startsWith(value)),
        sku: (value, { arguments: args }) =>
          PRODUCTS.filter((p) => !args.merchant_id || p.merchant_id === args.merchant_id)
            .map((p) => p.sku)
            .filter((s) => s.startsWith(value)),
      },
      read: (_uri, { merchant_id, sku }) => {
        const p = PRODUCTS.find((x) => x.merchant_id === merchant_id && x.sku === sku);
        return p ? JSON.stringify(p) : null;
      },
    },
  ],
  prompts: [
    {
      name: 'shop_buy',
      title: 'Help me buy',
      description: 'Help the user find and order a specific product',
      anonymous: true,
      arguments: [
        {
          name: 'product_name',
          description: 'What the user wants',
          required: false,
          complete: (value) => PRODUCTS.map((p) => p.name).filter((n) => n.toLowerCase().startsWith(value.toLowerCase())),
        },
      ],
      get: ({ product_name }) =>
        `Find ${product_name ? `"${product_name}"` : 'a product the user wants'} with search_products, show the price, and create_order only after the user confirms.`,
    },
    {
      name: 'shop_catalog',
      title: 'Browse the catalog',
      description: 'Present the catalog grouped by merchant',
      anonymous: true,
      get: () => [
        { role: 'user', content: { type: 'resource', resource: { uri: 'shop://catalog', mimeType: 'application/json', text: JSON.stringify(PRODUCTS) } } },
        { role: 'user', content: { type: 'text', text: 'Present this catalog grouped by merchant, with prices.' } },
      ],
    },
  ],
});
