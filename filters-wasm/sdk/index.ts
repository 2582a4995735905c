// Switchyard proxy-wasm SDK: the public API filters import (`import { ... } from "../sdk"`).
// A filter's entry file must also `export * from "../sdk/exports"` so the ABI callbacks are exported.
// Owns no code; must never export the ABI callbacks itself (that's exports.ts).

export { Action, BufferType, LogLevel, MapType, MetricType, NO_GRPC_STATUS, PeerType, Status, StreamType } from "./types";
export { BaseContext, Context, RootContext, registerRootContext } from "./context";
export {
  ByteSet, HEADER_ABSENT, HeaderMap, HeaderPairs, Headers, NO_MATCH, httpCallResponseHeaders,
  httpCallResponseTrailers, requestHeaders, requestTrailers, responseHeaders, responseTrailers,
} from "./headers";
export {
  SharedValue, bufferSize, callStatus, closeStream, continueRequest, continueResponse, continueStream,
  currentTimeNanos, dequeueSharedQueue, done, enqueueSharedQueue, getBuffer, getBufferString, getProperty,
  getPropertyPath, getPropertyString, getSharedData, httpCallRaw, httpCallResponseBody, lastCallId, log,
  logDebug, logEnabled, logError, logInfo, logLevel, logTrace, logWarn, refreshLogLevel, registerSharedQueue,
  resolveSharedQueue, sendLocalResponse, sendLocalResponseBytes, setBuffer, setEffectiveContext, setProperty,
  setSharedData, setTickPeriod,
} from "./host";
export { Counter, Gauge, Histogram } from "./metrics";
export { JsonKind, JsonValue, parseJson, parseJsonString } from "./json";
export { readLatin1, textBytes } from "./memory";
