import { isObject, type Json } from './document.ts';
import { derefObject } from './pointer.ts';

/** The document's security schemes (3.x components.securitySchemes, 2.0 securityDefinitions), dereferenced. */
export function securitySchemes(doc: Json, v2: boolean): Record<string, Json> {
  const raw = v2 ? doc.securityDefinitions : isObject(doc.components) ? doc.components.securitySchemes : undefined;
  const out: Record<string, Json> = {};
  if (!isObject(raw)) return out;
  for (const [name, scheme] of Object.entries(raw)) {
    const { value } = derefObject(doc, scheme, `/components/securitySchemes/${name}`);
    if (isObject(value)) out[name] = value;
  }
  return out;
}

/**
 * Scopes an operation needs, from its `security` (else the document's). A list of requirement
 * objects is an OR; we take the first, as operation.ts documents, and keep only OAuth 2 and
 * OpenID Connect scopes (3.1 allows role names for other schemes; they are not OAuth scopes).
 */
export function operationScopes(op: Json, doc: Json, schemes: Record<string, Json>): string[] {
  const requirements = Array.isArray(op.security) ? op.security : Array.isArray(doc.security) ? doc.security : [];
  const first = requirements[0];
  if (!isObject(first)) return [];
  const scopes = new Set<string>();
  for (const [name, list] of Object.entries(first)) {
    const type = schemes[name]?.type;
    if ((type === 'oauth2' || type === 'openIdConnect') && Array.isArray(list)) {
      for (const s of list) if (typeof s === 'string' && s) scopes.add(s);
    }
  }
  return [...scopes].sort();
}

/**
 * `location:name` of every API key scheme: a parameter that repeats one is the credential itself,
 * which comes from the server's upstream credential hook, never from a model's arguments.
 * Header names are compared case-insensitively (RFC 9110 5.1).
 */
export function apiKeyParameters(schemes: Record<string, Json>): Set<string> {
  const out = new Set<string>();
  for (const s of Object.values(schemes)) {
    if (s.type === 'apiKey' && typeof s.name === 'string' && typeof s.in === 'string') {
      out.add(`${s.in}:${s.in === 'header' ? s.name.toLowerCase() : s.name}`);
    }
  }
  return out;
}
