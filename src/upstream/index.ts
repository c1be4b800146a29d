export { buildRequest, type BuildOptions, type UpstreamRequest } from './build-request.ts';
export { mapResponse, type MapLimits, type UpstreamResponse } from './map-response.ts';
export { createUpstream, type Upstream, type UpstreamOptions } from './upstream.ts';
