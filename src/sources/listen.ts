/**
 * What the listening sources (`http`, `forward`, `syslog`) share: the listen address (127.0.0.1
 * unless configured — nothing listens beyond the machine by default), optional TLS from PEM files,
 * the bounds of what they hold before pushing back, shared secrets given only as references
 * (`env:NAME`, `ssm:/name`, `secretsmanager:id[#jsonKey]`, resolved and registered for masking by
 * src/aws/secrets.ts) and a constant-time comparison for them.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import * as z from 'zod';
import type { BuildContext } from '../core/component.js';
import { LogferryError } from '../core/errors.js';

export const DEFAULT_ADDRESS = '127.0.0.1';

export const sourceName = z
  .string()
  .regex(/^[A-Za-z0-9_.-]+$/, 'name may hold only letters, digits, `_`, `.` and `-`')
  .optional();

export const tlsConfig = z.strictObject({
  /** PEM certificate chain file. */
  cert: z.string().min(1),
  /** PEM private key file. */
  key: z.string().min(1),
  /** PEM CA bundle: when set, clients must present a certificate it signed (mutual TLS). */
  ca: z.string().min(1).optional(),
});
export type TlsConfig = z.infer<typeof tlsConfig>;

const SECRET_REF = /^(ssm:.+|secretsmanager:.+|env:[A-Za-z_][A-Za-z0-9_]*)$/;
/** A secret given by reference only: a literal key in config is refused. */
export const secretRefSchema = (what: string) =>
  z.string().refine((s) => SECRET_REF.test(s), {
    message: `${what} must be a secret reference (env:NAME, ssm:/name or secretsmanager:<id>[#key]), never a literal value in config`,
  });

/** Bounds shared by listening sources (records and bytes handed over and not yet acknowledged). */
export const pendingShape = {
  maxPendingRecords: z.number().int().min(1).default(100_000),
  maxPendingBytes: z
    .number()
    .int()
    .min(1024)
    .default(256 * 1024 * 1024),
};

/** Largest body/entry after decompression (refuses gzip bombs); 256 MiB by default, at most 4 GiB. */
export const maxDecodedBytesSchema = z
  .number()
  .int()
  .min(1024)
  .max(4 * 1024 * 1024 * 1024)
  .default(256 * 1024 * 1024);

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
}

export async function loadTls(tls: TlsConfig | undefined, cwd: string): Promise<TlsMaterial | undefined> {
  if (!tls) return undefined;
  const read = async (what: string, p: string) => {
    try {
      return await readFile(resolve(cwd, p));
    } catch (e) {
      throw new LogferryError('CONFIG_INVALID', `tls.${what}: cannot read ${p}: ${(e as Error).message}`);
    }
  };
  return {
    cert: await read('cert', tls.cert),
    key: await read('key', tls.key),
    ...(tls.ca ? { ca: await read('ca', tls.ca) } : {}),
  };
}

/** Resolves a secret reference through the build context (or the process-wide resolver). */
export async function resolveSecretRef(ref: string, ctx: BuildContext): Promise<string> {
  if (ctx.resolveSecret) return ctx.resolveSecret(ref);
  const { sharedSecretResolver } = await import('../aws/secrets.js');
  return sharedSecretResolver(ctx.env ?? process.env).resolve(ref);
}

/** Compares a presented credential with the expected one in constant time (hashes equalise lengths). */
export function sameSecret(presented: string | undefined, expected: string): boolean {
  if (presented === undefined) return false;
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b) && presented.length === expected.length;
}

/** `host:port` as written in messages (IPv6 in brackets). */
export function formatAddress(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** A listen failure as a sentence (address in use, not permitted). */
export function listenError(what: string, address: string, port: number, e: unknown): LogferryError {
  const err = e as NodeJS.ErrnoException;
  const why =
    err.code === 'EADDRINUSE'
      ? 'the address is already in use'
      : err.code === 'EACCES'
        ? 'permission denied (ports below 1024 need privileges)'
        : err.code === 'EADDRNOTAVAIL'
          ? 'no interface has this address'
          : err.message;
  return new LogferryError(
    'SOURCE_FAILED',
    `${what}: cannot listen on ${formatAddress(address, port)}: ${why}`,
    {
      cause: e,
    },
  );
}
