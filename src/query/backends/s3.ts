/**
 * `--from s3://bucket/prefix`: an S3 archive written by the S3 sink or Firehose. The listing walks
 * the key hierarchy with `Delimiter: '/'` and prunes whole prefixes the query cannot match — time
 * (Hive `dt=`/`hour=`, Firehose `YYYY/MM/dd/HH/`) against `--start`/`--end`, and EKS component /
 * log stream against `@logStream` filters (e.g. `like /^kube-apiserver-audit/`) — so a narrow query
 * over a large archive lists and reads only what it needs. Objects are fetched whole by the main
 * thread (a few ahead) and scanned by the workers. Credentials and endpoint come from the usual
 * SDK chain via `clientConfig('s3')` (`LOGFERRY_S3_ENDPOINT` for emulators); reads keep SDK retries.
 */
import {
  GetObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  S3Client,
} from '@aws-sdk/client-s3';
import { clientConfig } from '../../aws/clients.js';
import { describeError, LogferryError } from '../../core/errors.js';
import type { Expr } from '../ast.js';
import { parseObjectKey } from './partition-path.js';
import { mayMatch } from './prune.js';
import type { ScanTarget } from './scan.js';
import type { TimeRange } from './time-range.js';

/** ListObjectsV2 returns at most 1,000 keys per page. https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html */
export const S3_LIST_PAGE_KEYS = 1000;
/** SDK attempts for reads (a query is interactive; there is no outer retry layer here). */
const READ_ATTEMPTS = 3;

export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!m) throw new LogferryError('CONFIG_INVALID', `--from ${url}: expected s3://bucket[/prefix]`);
  let prefix = m[2];
  if (prefix && !prefix.endsWith('/')) prefix += '/';
  return { bucket: m[1], prefix };
}

export interface S3ListOptions {
  filters: Expr[];
  range: TimeRange;
  slackMs: number;
  client?: S3Client;
  signal?: AbortSignal;
}

export async function listS3(
  url: string,
  opts: S3ListOptions,
): Promise<{ targets: ScanTarget[]; prunedPrefixes: number }> {
  const { bucket, prefix } = parseS3Url(url);
  const client = opts.client ?? new S3Client({ ...clientConfig('s3'), maxAttempts: READ_ATTEMPTS });
  const targets: ScanTarget[] = [];
  let prunedPrefixes = 0;
  const fetch = (key: string) => async (signal?: AbortSignal) => {
    const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), {
      abortSignal: signal,
    });
    if (!res.Body) return new Uint8Array();
    return res.Body.transformToByteArray();
  };
  const stream = (key: string) => async (signal?: AbortSignal) => {
    const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), {
      abortSignal: signal,
    });
    return (res.Body ?? []) as AsyncIterable<Uint8Array>;
  };
  const walk = async (p: string): Promise<void> => {
    let token: string | undefined;
    do {
      let page: ListObjectsV2CommandOutput;
      try {
        page = await client.send(
          new ListObjectsV2Command({
            Bucket: bucket,
            Prefix: p,
            Delimiter: '/',
            ContinuationToken: token,
            MaxKeys: S3_LIST_PAGE_KEYS,
          }),
          { abortSignal: opts.signal },
        );
      } catch (e) {
        const name = (e as { name?: string })?.name;
        const hint =
          name === 'NoSuchBucket'
            ? 'check the bucket name'
            : name === 'AccessDenied' || name === 'InvalidAccessKeyId' || name === 'SignatureDoesNotMatch'
              ? 'check your AWS credentials/profile and that they allow s3:ListBucket and s3:GetObject'
              : 'check AWS_REGION and network access (LOGFERRY_S3_ENDPOINT for a local emulator)';
        throw new LogferryError(
          'SOURCE_FAILED',
          `--from ${url}: cannot list s3://${bucket}/${p} (${describeError(e)}); ${hint}`,
          {
            cause: e,
          },
        );
      }
      for (const o of page.Contents ?? []) {
        if (!o.Key || o.Key.endsWith('/')) continue;
        const rel = o.Key.slice(prefix.length);
        if (rel.split('/').some((s) => s.startsWith('.')) || rel.startsWith('dead-letter/')) continue;
        targets.push({ info: parseObjectKey(rel), size: o.Size, fetch: fetch(o.Key), stream: stream(o.Key) });
      }
      for (const cp of page.CommonPrefixes ?? []) {
        if (!cp.Prefix) continue;
        const rel = cp.Prefix.slice(prefix.length);
        // What the prefix alone says (its segments are all directories: add a dummy file name).
        const info = { ...parseObjectKey(`${rel}_`), prefixOf: rel };
        if (!mayMatch(info, opts.filters, opts.range, opts.slackMs) || rel === 'dead-letter/') {
          prunedPrefixes++;
          continue;
        }
        await walk(cp.Prefix);
      }
      token = page.NextContinuationToken;
    } while (token);
  };
  await walk(prefix);
  return { targets, prunedPrefixes };
}
