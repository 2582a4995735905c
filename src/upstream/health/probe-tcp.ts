/**
 * The `tcp` health check: the endpoint passes when a TCP connection to it is established — on a
 * TLS cluster, when the handshake and certificate verification passed (the checker's timeout
 * bounds the attempt). The connection is closed at once.
 * Must never: send bytes or keep the socket.
 */
import { openProbeSocket, type ProbeDone, type ProbeHandle, type Prober, type ProbeTarget } from './probe';

export const tcpProber: Prober = {
  type: 'tcp',
  start(target: ProbeTarget, done: ProbeDone): ProbeHandle {
    const { sock, readyEvent, shot } = openProbeSocket(target, done, 'connection closed');
    sock.once(readyEvent, () => shot.finish(true));
    return shot;
  },
};
