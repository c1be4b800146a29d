import { GangwayConfigError } from '../errors.ts';

/**
 * Why an OpenAPI document (or a manifest) cannot be served. Thrown at import or start-up,
 * never while serving, so it is a configuration error with a stable code:
 *
 * - `GW_OPENAPI_PARSE`     not JSON or YAML, or not an object
 * - `GW_OPENAPI_VERSION`   not Swagger 2.0, OpenAPI 3.0.x or 3.1.x
 * - `GW_OPENAPI_REF`       an external `$ref`, a broken local one, or a `$ref` cycle outside schemas
 * - `GW_OPENAPI_INVALID`   a structural problem (paths not an object, a parameter without `in`...)
 * - `GW_OPENAPI_NAME`      an `x-mcp` / override name that is unsafe or used twice
 * - `GW_OPENAPI_OVERRIDE`  an `x-mcp` extension or `overrides` entry that is malformed or names nothing
 * - `GW_OPENAPI_SCHEMA`    a generated input schema that Ajv 2020-12 refuses
 * - `GW_OPENAPI_MANIFEST`  a manifest file that is missing, not JSON, or of another format
 * - `GW_OPENAPI_MODE`      a tools mode that cannot be built (unknown mode, curated name unknown)
 */
export type OpenApiErrorCode =
  | 'GW_OPENAPI_PARSE'
  | 'GW_OPENAPI_VERSION'
  | 'GW_OPENAPI_REF'
  | 'GW_OPENAPI_INVALID'
  | 'GW_OPENAPI_NAME'
  | 'GW_OPENAPI_OVERRIDE'
  | 'GW_OPENAPI_SCHEMA'
  | 'GW_OPENAPI_MANIFEST'
  | 'GW_OPENAPI_MODE';

export class OpenApiImportError extends GangwayConfigError {
  override name = 'OpenApiImportError';
  constructor(
    override readonly code: OpenApiErrorCode,
    message: string,
    /** JSON pointer into the document where the problem is, when there is one. */
    readonly at?: string,
  ) {
    super(code, at ? `${message} (at ${at})` : message);
  }
}
