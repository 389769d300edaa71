import { describe, expect, it } from 'vitest';
import { createModifyTransform, modifySchema } from './modify.js';
import { issues, testRecord as rec } from './test-records.js';

const make = (operations: unknown[], ctx = {}) =>
  createModifyTransform(modifySchema.parse({ type: 'modify', operations }), ctx);

describe('modify transform', () => {
  it('add only when absent, set always, nested paths created', async () => {
    const t = await make([
      { add: 'env', value: 'prod' },
      { add: 'team', value: 'x' },
      { set: 'level', value: 'info' },
      { set: 'meta.labels', value: { a: [1] } },
    ]);
    const r = t.apply(rec({ team: 'payments', level: 'debug' })) as ReturnType<typeof rec>;
    expect(r.fields).toEqual({ team: 'payments', level: 'info', env: 'prod', meta: { labels: { a: [1] } } });
    // Static values are copied, never shared between records.
    const r2 = t.apply(rec({})) as ReturnType<typeof rec>;
    (r2.fields.meta as { labels: { a: number[] } }).labels.a.push(2);
    expect((t.apply(rec({})) as ReturnType<typeof rec>).fields.meta).toEqual({ labels: { a: [1] } });
  });

  it('add does not replace a non-object on the way; set does', async () => {
    const add = await make([{ add: 'a.b', value: 1 }]);
    expect((add.apply(rec({ a: 'text' })) as ReturnType<typeof rec>).fields).toEqual({ a: 'text' });
    const set = await make([{ set: 'a.b', value: 1 }]);
    expect((set.apply(rec({ a: 'text' })) as ReturnType<typeof rec>).fields).toEqual({ a: { b: 1 } });
  });

  it('rename and copy keep an existing target unless overwrite', async () => {
    const t = await make([
      { rename: 'msg', to: 'message' },
      { rename: 'lvl', to: 'level' },
      { rename: 'user.name', to: 'username', overwrite: true },
      { copy: 'src.ip', to: 'client.ip' },
      { copy: '@logStream', to: 'stream' },
    ]);
    const r = t.apply(
      rec({
        msg: 'hi',
        lvl: 'x',
        level: 'keep',
        user: { name: 'bob', id: 1 },
        username: 'old',
        src: { ip: '10.0.0.1' },
      }),
    ) as ReturnType<typeof rec>;
    expect(r.fields).toEqual({
      message: 'hi',
      lvl: 'x',
      level: 'keep',
      user: { id: 1 },
      username: 'bob',
      src: { ip: '10.0.0.1' },
      client: { ip: '10.0.0.1' },
      stream: 'kube-apiserver-audit-0123',
    });
    // Missing source: nothing happens.
    expect((t.apply(rec({})) as ReturnType<typeof rec>).fields).toEqual({
      stream: 'kube-apiserver-audit-0123',
    });
  });

  it('copy is deep: changing the copy leaves the original', async () => {
    const t = await make([{ copy: 'a', to: 'b' }]);
    const r = t.apply(rec({ a: { x: [1] } })) as ReturnType<typeof rec>;
    (r.fields.b as { x: number[] }).x.push(2);
    expect(r.fields.a).toEqual({ x: [1] });
  });

  it('remove one or several, nested or with dotted keys', async () => {
    const t = await make([{ remove: ['a.b', 'c', 'missing.x'] }, { remove: 'k8s.io/name' }]);
    const r = t.apply(rec({ a: { b: 1, c: 2 }, c: 3, d: 4, 'k8s.io/name': 'x' })) as ReturnType<typeof rec>;
    expect(r.fields).toEqual({ a: { c: 2 }, d: 4 });
  });

  it('hash in place or into another field; HMAC with a resolved key', async () => {
    const t = await make([{ hash: 'user.email' }, { hash: 'ip', to: 'ipHash' }]);
    const r = t.apply(rec({ user: { email: 'a@b.c' }, ip: '10.0.0.1' })) as ReturnType<typeof rec>;
    expect((r.fields.user as { email: string }).email).toMatch(/^[0-9a-f]{64}$/);
    expect(r.fields.ip).toBe('10.0.0.1');
    const { createHash, createHmac } = await import('node:crypto');
    expect(r.fields.ipHash).toBe(createHash('sha256').update('10.0.0.1').digest('hex'));
    const h = await make([{ hash: 'ip', key: 'env:SALT' }], {
      resolveSecret: async (ref: string) => (ref === 'env:SALT' ? 'pepper' : ''),
    });
    const r2 = h.apply(rec({ ip: '10.0.0.1' })) as ReturnType<typeof rec>;
    expect(r2.fields.ip).toBe(createHmac('sha256', 'pepper').update('10.0.0.1').digest('hex'));
    await expect(make([{ hash: 'ip', key: 'env:SALT' }])).rejects.toThrow(/key reference/);
  });

  it('each operation may have a condition, evaluated on the record as it is at that step', async () => {
    const t = await make([
      { set: 'audit', value: true, condition: '@logStream like /audit/' },
      { remove: 'requestObject', condition: 'verb = "get"' },
      { add: 'severity', value: 'high', condition: 'audit and responseObject.code >= 400' },
    ]);
    const a = t.apply(rec({ verb: 'get', requestObject: {}, responseObject: { code: 403 } })) as ReturnType<
      typeof rec
    >;
    expect(a.fields).toEqual({ verb: 'get', responseObject: { code: 403 }, audit: true, severity: 'high' });
    const b = t.apply(
      rec({ verb: 'create', requestObject: {} }, {}, { logStream: 'authenticator' }),
    ) as ReturnType<typeof rec>;
    expect(b.fields).toEqual({ verb: 'create', requestObject: {} });
  });

  it('refuses bad config, each problem at its path', () => {
    const bad = issues(
      modifySchema.safeParse({
        type: 'modify',
        operations: [
          { add: 'x' },
          { set: '@message', value: 1 },
          { rename: 'a' },
          { remove: [] },
          { hash: 'a', algo: 'md5' },
          { add: 'a', set: 'b', value: 1 },
          'remove x',
          { set: 'a.__proto__.b', value: 1 },
          { set: 'x', value: 1, condition: 'a = ' },
        ],
      }),
    );
    expect(bad).toEqual([
      'operations.0.value: expected a JSON value: text, number, true/false, null, a list or a map',
      'operations.1.set: system fields (@timestamp, @message, @logStream, @log, @id) are written only by sources',
      expect.stringMatching(/^operations\.2\.to: /),
      expect.stringMatching(/^operations\.3\.remove: /),
      expect.stringMatching(/^operations\.4: .*algo/),
      'operations.5: an operation does one thing; found add and set',
      'operations.6: an operation is an object with one of: add, set, rename, copy, remove, hash',
      'operations.7.set: a field path may not have empty parts or __proto__/constructor/prototype',
      expect.stringMatching(/^operations\.8\.condition: expression has a problem:\nline 1, column 4/),
    ]);
    expect(issues(modifySchema.safeParse({ type: 'modify', operations: [] }))).toEqual([
      'operations: modify needs at least one operation',
    ]);
  });
});
