/**
 * Router: route tables compiled from config. Owns: the public surface of src/router.
 * Must never: export the internal matcher structures as a stable API.
 */
export { compileRouteTable, type RouteTable, type RouteTableOptions } from './table';
export { type CompiledRoute, type RouteAction, type DirectResponse, type RedirectResult } from './route';
export { percentDecode, parseQuery } from './match';
