import type { ChannelModel } from 'amqplib';

/**
 * amqplib's connection writes frames through a multiplexer (`Mux`, lib/mux.js) that, once per
 * event-loop turn, moves every frame its channels queued onto the socket — but with one
 * `socket.write` per frame, i.e. one `write(2)` per published message or ack. With TCP_NODELAY on
 * (amqp-transport.ts) each of those is its own packet, and on loopback every write that wakes
 * the broker costs tens of µs of CPU on both sides. The outbox relay publishes a whole batch in
 * one turn, so a batch of 50 rows was 50 writes (bench/README.md "Session 3").
 *
 * This corks the socket for the duration of each multiplexer pass, so the frames of one turn
 * leave in ONE writev — what the multiplexer would do if it batched. Nothing is delayed: the
 * pass itself is unchanged and the socket is uncorked at its end. Back-pressure is unchanged
 * too (a corked socket still reports its buffered length to `write()`). Heartbeats and the
 * connection's own frames do not go through the multiplexer and are not affected.
 *
 * It reaches into amqplib internals (`connection.muxer._readIncoming`, `connection.stream`), so
 * it checks their shape and does nothing when they are not what amqplib 2.x has: the publish
 * path then works exactly as before, one write per frame. Returns whether it was applied.
 */
export function coalesceMuxWrites(model: ChannelModel): boolean {
  const connection = (model as unknown as { connection?: unknown }).connection as
    | {
        muxer?: { _readIncoming?: () => void; __ecomCoalesced?: boolean };
        stream?: { cork?: () => void; uncork?: () => void };
      }
    | undefined;
  const mux = connection?.muxer;
  const stream = connection?.stream;
  if (
    !mux ||
    !stream ||
    typeof mux._readIncoming !== 'function' ||
    typeof stream.cork !== 'function' ||
    typeof stream.uncork !== 'function'
  ) {
    return false;
  }
  if (mux.__ecomCoalesced) return true;
  const pass = mux._readIncoming;
  const cork = stream.cork.bind(stream);
  const uncork = stream.uncork.bind(stream);
  mux._readIncoming = function coalescedPass(this: unknown) {
    cork();
    try {
      pass.call(this);
    } finally {
      uncork();
    }
  };
  mux.__ecomCoalesced = true;
  return true;
}
