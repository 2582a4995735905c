/**
 * The `tcp` health check: the endpoint passes when a TCP connection to it is established — on a
 * TLS cluster, when the handshake and certificate verification passed (the checker's timeout
 * bounds the attempt). The connection is closed at once.
 * Must never: send bytes or keep the socket.
 */
import { connectEndpoint } from '../connect';
import { OneShot, type ProbeDone, type ProbeHandle, type Prober, type ProbeTarget } from './probe';

export const tcpProber: Prober = {
  type: 'tcp',
  start(target: ProbeTarget, done: ProbeDone): ProbeHandle {
    const { socket: sock, readyEvent } = connectEndpoint(target.host, target.port, target.tls ?? null);
    sock.setNoDelay(true);
    const shot = new OneShot(done, () => sock.destroy());
    sock.once(readyEvent, () => shot.finish(true));
    sock.once('error', (err: Error) => shot.finish(false, err.message));
    sock.once('close', () => shot.finish(false, 'connection closed'));
    return shot;
  },
};
