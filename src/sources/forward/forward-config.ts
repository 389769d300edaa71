/** The `forward` source's config and registry description, apart from its listener and msgpack codec (forward-source.ts). */
import * as z from 'zod';
import type { ComponentMeta } from '../../core/component.js';
import {
  DEFAULT_ADDRESS,
  maxDecodedBytesSchema,
  pendingShape,
  secretRefSchema,
  sourceName,
  tlsConfig,
} from '../listen.js';

export const forwardSourceConfig = z.strictObject({
  type: z.literal('forward'),
  name: sourceName,
  /** Interface to listen on (default 127.0.0.1: this machine only). */
  address: z.string().min(1).default(DEFAULT_ADDRESS),
  /** TCP port, and UDP port for heartbeats (0 = any free port). */
  port: z.number().int().min(0).max(65535).default(24224),
  /** Open TCP connections at most (more are refused until one closes). */
  maxConnections: z.number().int().min(1).default(1000),
  tls: tlsConfig.optional(),
  /** Shared key (secret reference) for the HELO/PING/PONG handshake; without it no handshake. */
  sharedKey: secretRefSchema('sharedKey').optional(),
  /** Host name sent in PONG (default: this machine's). */
  selfHostname: z.string().min(1).optional(),
  /** Answer UDP heartbeats on the same port. */
  heartbeat: z.boolean().default(true),
  /** Largest message accepted (a connection sending more is closed). */
  maxMessageBytes: z
    .number()
    .int()
    .min(1024)
    .max(1024 * 1024 * 1024)
    .default(64 * 1024 * 1024),
  /** Largest CompressedPackedForward entries after gunzip. */
  maxDecodedBytes: maxDecodedBytesSchema,
  ...pendingShape,
  /** Prefix added to every incoming tag (Fluent Bit's `tag_prefix`). */
  tagPrefix: z.string().optional(),
  /** `meta.logGroup` of every record (default: its tag). */
  logGroup: z.string().min(1).optional(),
});
export type ForwardSourceConfig = z.infer<typeof forwardSourceConfig>;

export const forwardSourceMeta: ComponentMeta<ForwardSourceConfig> = {
  type: 'forward',
  summary:
    'Fluent forward protocol v1 server (Fluent Bit/Fluentd forward output, FireLens): all four modes, chunk acks sent only after the records have an outcome, heartbeats, optional TLS and shared-key handshake.',
  schema: forwardSourceConfig,
  // Listens only; a shared key in SSM or Secrets Manager needs read access to that one secret.
  iam: [],
};
