/** The `syslog` source's config and registry description, apart from its listeners (syslog.ts). */
import * as z from 'zod';
import type { ComponentMeta } from '../core/component.js';
import { parseOffset } from '../parsers/strptime.js';
import { DEFAULT_ADDRESS, pendingShape, sourceName, tlsConfig } from './listen.js';

export const syslogSourceConfig = z
  .strictObject({
    type: z.literal('syslog'),
    name: sourceName,
    /** Transports to listen on (the same port number for both). */
    mode: z.enum(['udp', 'tcp', 'both']).default('both'),
    /** Interface to listen on (default 127.0.0.1: this machine only). */
    address: z.string().min(1).default(DEFAULT_ADDRESS),
    /** Port (0 = any free port; with `both`, TCP's port is used for UDP too). */
    port: z.number().int().min(0).max(65535).default(5140),
    /** Open TCP connections at most (more are refused until one closes). */
    maxConnections: z.number().int().min(1).default(1000),
    /** TLS on TCP (RFC 5425). */
    tls: tlsConfig.optional(),
    /** Message format: told apart per message, or required. */
    format: z.enum(['auto', 'rfc5424', 'rfc3164']).default('auto'),
    /** TCP framing: octet counting (RFC 6587 3.4.1), newline (3.4.2), or told apart per message. */
    framing: z.enum(['auto', 'octet-counting', 'newline']).default('auto'),
    /** Zone of RFC 3164 times, which carry none (`+0200`); default UTC. */
    timeOffset: z.string().optional(),
    maxMessageBytes: z
      .number()
      .int()
      .min(480)
      .max(16 * 1024 * 1024)
      .default(256 * 1024),
    ...pendingShape,
    /** `meta.logGroup` of every record (default: the source name). */
    logGroup: z.string().min(1).optional(),
    /** Tag (`fields.tag`) of every record. */
    tag: z.string().min(1).optional(),
  })
  .superRefine((c, ctx) => {
    if (c.tls && c.mode === 'udp')
      ctx.addIssue({ code: 'custom', path: ['tls'], message: 'tls needs mode tcp or both (UDP has no TLS)' });
    if (c.timeOffset !== undefined && parseOffset(c.timeOffset) === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['timeOffset'],
        message: 'timeOffset is a fixed offset such as +0200 or -06:00',
      });
  });
export type SyslogSourceConfig = z.infer<typeof syslogSourceConfig>;

export const syslogSourceMeta: ComponentMeta<SyslogSourceConfig> = {
  type: 'syslog',
  summary:
    'Receives RFC 5424/3164 syslog over UDP and TCP (octet counting or newline framing, optional TLS), parsed into fields; TCP is flow-controlled, UDP cannot be acknowledged (overflow counted).',
  schema: syslogSourceConfig,
  iam: [],
};
