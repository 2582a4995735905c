/**
 * Typed access to the engine's WebAssembly API: the project's TypeScript lib (ES2022, no DOM)
 * does not declare it, so this module declares the small part the host uses, locally.
 * Must never: add behaviour.
 */
export interface WaModule {
  readonly __brand?: 'WebAssembly.Module';
}
export interface WaMemory {
  readonly buffer: ArrayBuffer;
}
export interface WaInstance {
  readonly exports: Record<string, unknown>;
}
export interface WaDescriptor {
  module: string;
  name: string;
  kind: 'function' | 'table' | 'memory' | 'global' | 'tag';
}

interface WaApi {
  compile(bytes: Uint8Array): Promise<WaModule>;
  Module: { new (bytes: Uint8Array): WaModule; imports(m: WaModule): WaDescriptor[]; exports(m: WaModule): { name: string; kind: string }[] };
  Instance: new (m: WaModule, imports: Record<string, Record<string, unknown>>) => WaInstance;
  RuntimeError: new (...a: unknown[]) => Error;
  CompileError: new (...a: unknown[]) => Error;
  LinkError: new (...a: unknown[]) => Error;
}

export const WA = (globalThis as unknown as { WebAssembly: WaApi }).WebAssembly;
