/**
 * Sample Dubbo frames for conformance suites, written with the package's own hessian2 writer
 * (test/fixtures/dubbo-frames.ts checks them against frames built with hessian.js).
 * Must never: be used on the request path.
 */
import { Hessian2Writer } from './hessian2-writer';
import { dubboCodec } from './codec';

const HEADER_LENGTH = 16;

function frame(flag: number, status: number, id: bigint, body: Buffer): Buffer {
  const out = Buffer.alloc(HEADER_LENGTH + body.length);
  out[0] = 0xda;
  out[1] = 0xbb;
  out[2] = flag;
  out[3] = status;
  out.writeBigUInt64BE(id, 4);
  out.writeUInt32BE(body.length, 12);
  body.copy(out, HEADER_LENGTH);
  return out;
}

/** Body of `com.example.Greeter:1.0.0 sayHello("world")` with a few attachments. */
export function sampleRequestBody(): Buffer {
  return new Hessian2Writer()
    .writeString('2.0.2')
    .writeString('com.example.Greeter')
    .writeString('1.0.0')
    .writeString('sayHello')
    .writeString('Ljava/lang/String;')
    .writeString('world')
    .writeStringMap(['group', 'blue', 'interface', 'com.example.Greeter', 'path', 'com.example.Greeter', 'version', '1.0.0'])
    .toBuffer();
}

export function buildSamples(): { request: Buffer; oneWay: Buffer; heartbeat: Buffer; response: Buffer } {
  const body = sampleRequestBody();
  return {
    request: frame(0xc2, 0, 1n, body),
    oneWay: frame(0x82, 0, 2n, body),
    heartbeat: dubboCodec.heartbeatRequest(3),
    // RESPONSE_VALUE (1) then the value "hello world"
    response: frame(0x02, 20, 1n, new Hessian2Writer().writeInt(1).writeString('hello world').toBuffer()),
  };
}
