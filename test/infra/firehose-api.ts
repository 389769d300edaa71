/**
 * A small Firehose `PutRecordBatch` endpoint on 127.0.0.1 for failure paths moto cannot produce:
 * whole-call throttling, partial failures (`FailedPutCount` with per-entry `ErrorCode`) and permanent
 * errors. A `plan` decides each call's answer; every entry received and every entry accepted is
 * recorded so tests can prove that only failed entries were sent again.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type CallAnswer =
  | { kind: 'ok' }
  /** Whole call fails with this AWS error type and HTTP status. */
  | { kind: 'error'; type: string; status: number }
  /** These entry positions fail with ServiceUnavailableException; the rest are accepted. */
  | { kind: 'partial'; fail: (index: number, data: Buffer) => boolean };

export interface FirehoseApi {
  url: string;
  /** Data of every entry of every call, in order (entry = base64-decoded record data). */
  calls: { stream: string; entries: Buffer[]; answer: CallAnswer['kind'] }[];
  /** Entries the endpoint acknowledged, in order. */
  accepted: Buffer[];
  close(): Promise<void>;
}

export async function startFirehoseApi(
  plan: (call: number, entries: Buffer[]) => CallAnswer,
): Promise<FirehoseApi> {
  const api: FirehoseApi = { url: '', calls: [], accepted: [], close: async () => {} };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      if (!target.endsWith('.PutRecordBatch')) {
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify({ __type: 'InvalidArgumentException', message: `unsupported ${target}` }));
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        DeliveryStreamName: string;
        Records: { Data: string }[];
      };
      const entries = body.Records.map((r) => Buffer.from(r.Data, 'base64'));
      const answer = plan(api.calls.length, entries);
      api.calls.push({ stream: body.DeliveryStreamName, entries, answer: answer.kind });
      if (answer.kind === 'error') {
        res.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify({ __type: answer.type, message: 'injected failure' }));
        return;
      }
      let failed = 0;
      const responses = entries.map((e, i) => {
        if (answer.kind === 'partial' && answer.fail(i, e)) {
          failed++;
          return { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' };
        }
        api.accepted.push(e);
        return { RecordId: `rec-${api.accepted.length}` };
      });
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify({ FailedPutCount: failed, Encrypted: false, RequestResponses: responses }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  api.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  api.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return api;
}
